//! Driving the real `terraform` against the built provider.
//!
//! Each [`Workspace`] is its own temporary directory with a CLI configuration whose
//! `dev_overrides` point Terraform at the built provider binary, so no `terraform init` and no
//! registry are needed (built-in providers such as `terraform_data` need none either). Tests
//! can therefore run in parallel, each in its own workspace.
//!
//! ```no_run
//! use localops_tests::terraform::Workspace;
//! let ws = Workspace::new("example");
//! ws.write_config(r#"resource "localops_permission_set" "x" { name = "dev" }"#);
//! ws.apply().assert_success();
//! assert_eq!(ws.plan_detailed().code(), Some(0));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Registry address of our provider, as configurations name it (`localops/localops`).
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/localops/localops";

/// The provider binary's file name.
pub const PROVIDER_BINARY: &str = "terraform-provider-localops";

/// Longest a single terraform command may take before the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// Environment that would change what Terraform does if inherited from the developer's shell.
const CLEARED_ENV: &[&str] = &[
    "TF_LOG",
    "TF_LOG_PROVIDER",
    "TF_LOG_CORE",
    "TF_LOG_PATH",
    "TF_REATTACH_PROVIDERS",
    "TF_CLI_ARGS",
    "TF_CLI_ARGS_plan",
    "TF_CLI_ARGS_apply",
    "TF_CLI_ARGS_destroy",
    "TF_WORKSPACE",
    "TF_DATA_DIR",
    "TF_PLUGIN_CACHE_DIR",
    "TF_DISABLE_PLUGIN_TLS",
];

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    let tests_crate = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    tests_crate
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(tests_crate)
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` when set, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// A binary built by `cargo build --workspace --bins` (debug profile).
///
/// Panics with instructions when it has not been built: every end-to-end test needs it.
pub fn built_binary(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
    assert!(
        path.is_file(),
        "{} is not built. Build the binaries first: cargo build --workspace --bins \
         (tests/run-all.sh does), with the same CARGO_TARGET_DIR as the tests.",
        path.display()
    );
    path
}

pub fn provider_binary() -> PathBuf {
    built_binary(PROVIDER_BINARY)
}

/// What a terraform command did.
#[derive(Clone)]
pub struct TfOutput {
    pub args: Vec<String>,
    /// `None` when it was killed (timeout or signal).
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl TfOutput {
    pub fn code(&self) -> Option<i32> {
        self.status
    }

    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// Stdout and stderr together (Terraform splits diagnostics and progress between them).
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "expected success:\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            self.status.is_some() && !self.success(),
            "expected a failure:\n{self}"
        );
        self
    }

    /// Asserts every fragment appears in the output.
    #[track_caller]
    pub fn assert_contains(&self, fragments: &[&str]) -> &Self {
        let all = self.combined();
        for fragment in fragments {
            assert!(
                all.contains(fragment),
                "expected {fragment:?} in the output:\n{self}"
            );
        }
        self
    }
}

impl fmt::Display for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "$ terraform {}  => {:?} in {:.1?}",
            self.args.join(" "),
            self.status,
            self.duration
        )?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

impl fmt::Debug for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A temporary Terraform working directory. Removed on drop unless `LOCALOPS_KEEP_WORK` is
/// set (then its path is printed).
pub struct Workspace {
    dir: PathBuf,
    env: BTreeMap<String, String>,
    timeout: Duration,
}

fn unique_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir().join(format!(
        "localops-tf-{safe}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

impl Workspace {
    /// A workspace using the built provider through `dev_overrides`.
    pub fn new(name: &str) -> Workspace {
        Workspace::with_overrides(name, &[(PROVIDER_ADDRESS, provider_binary())])
    }

    /// A workspace whose CLI configuration overrides each `(address, binary)` with the
    /// binary's directory.
    pub fn with_overrides(name: &str, overrides: &[(&str, PathBuf)]) -> Workspace {
        let dir = unique_dir(name);
        std::fs::create_dir_all(&dir).expect("create the workspace directory");
        let mut lines = String::new();
        for (address, binary) in overrides {
            let binary_dir = binary.parent().unwrap_or(Path::new("."));
            lines.push_str(&format!(
                "    {address:?} = {:?}\n",
                binary_dir.display().to_string()
            ));
        }
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n{lines}  }}\n  direct {{}}\n}}\n"
        );
        std::fs::write(dir.join("cli.tfrc"), cli_config).expect("write the CLI configuration");
        let mut env = BTreeMap::new();
        env.insert(
            "TF_CLI_CONFIG_FILE".to_owned(),
            dir.join("cli.tfrc").display().to_string(),
        );
        env.insert("TF_IN_AUTOMATION".to_owned(), "1".to_owned());
        env.insert("CHECKPOINT_DISABLE".to_owned(), "1".to_owned());
        // Tests talk to loopback only: never let the AWS credential chain probe the instance
        // metadata address.
        env.insert("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned());
        let workspace = Workspace {
            dir,
            env,
            timeout: DEFAULT_TIMEOUT,
        };
        workspace.write_file(
            "versions.tf",
            "terraform {\n  required_providers {\n    localops = {\n      source = \"localops/localops\"\n    }\n  }\n}\n",
        );
        workspace
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `main.tf` (the `required_providers` block is in `versions.tf` already).
    pub fn write_config(&self, hcl: &str) {
        self.write_file("main.tf", hcl);
    }

    pub fn write_file(&self, name: &str, contents: &str) {
        std::fs::write(self.dir.join(name), contents)
            .unwrap_or_else(|e| panic!("write {name}: {e}"));
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.env.remove(key);
        self
    }

    pub fn set_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// The command `terraform <args>` would run, with the workspace's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("terraform");
        command
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        for key in CLEARED_ENV {
            command.env_remove(key);
        }
        command.envs(&self.env);
        command
    }

    /// Runs `terraform <args>` exactly as given.
    pub fn run_raw(&self, args: &[&str]) -> TfOutput {
        let started = Instant::now();
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run terraform (is it on PATH?): {e}"));
        let (status, stdout, stderr) = wait_with_timeout(child, self.timeout);
        TfOutput {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            status,
            stdout,
            stderr,
            duration: started.elapsed(),
        }
    }

    /// Runs `terraform <command> <flags> <rest>`, adding `-no-color` and, for commands that
    /// accept it, `-input=false`.
    pub fn run(&self, args: &[&str]) -> TfOutput {
        let Some((command, rest)) = args.split_first() else {
            return self.run_raw(args);
        };
        let mut full = vec![*command];
        match *command {
            "plan" | "apply" | "destroy" | "import" | "refresh" | "init" => {
                full.extend(["-no-color", "-input=false"])
            }
            "validate" | "show" | "output" | "providers" => full.push("-no-color"),
            _ => {}
        }
        full.extend(rest);
        self.run_raw(&full)
    }

    pub fn validate(&self) -> TfOutput {
        self.run(&["validate"])
    }

    pub fn plan(&self) -> TfOutput {
        self.run(&["plan"])
    }

    /// `plan -detailed-exitcode`: code 0 means no changes, 2 means changes, 1 an error.
    pub fn plan_detailed(&self) -> TfOutput {
        self.run(&["plan", "-detailed-exitcode"])
    }

    /// Plans to a file and returns `terraform show -json` of it (panics if planning fails).
    #[track_caller]
    pub fn plan_json(&self) -> serde_json::Value {
        self.run(&["plan", "-out=tfplan"]).assert_success();
        self.show_json(&["tfplan"])
    }

    pub fn apply(&self) -> TfOutput {
        self.run(&["apply", "-auto-approve"])
    }

    pub fn destroy(&self) -> TfOutput {
        self.run(&["destroy", "-auto-approve"])
    }

    pub fn state_show(&self, address: &str) -> TfOutput {
        self.run(&["state", "show", address])
    }

    pub fn state_list(&self) -> Vec<String> {
        let output = self.run(&["state", "list"]);
        output
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `terraform show -json [args]` parsed.
    #[track_caller]
    pub fn show_json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["show", "-json"];
        full.extend(args);
        let output = self.run(&full);
        output.assert_success();
        serde_json::from_str(&output.stdout)
            .unwrap_or_else(|e| panic!("show -json is not JSON ({e}):\n{output}"))
    }

    /// The attribute values of a resource in the current state.
    #[track_caller]
    pub fn state_values(&self, address: &str) -> serde_json::Value {
        let state = self.show_json(&[]);
        find_resource(&state["values"]["root_module"], address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} is not in state: {state:#}"))
    }

    /// `terraform output -json` parsed.
    #[track_caller]
    pub fn outputs(&self) -> serde_json::Value {
        let output = self.run(&["output", "-json"]);
        output.assert_success();
        serde_json::from_str(&output.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// Starts `terraform <args>` without waiting (for interrupting it, for instance).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run terraform: {e}"))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if std::env::var_os("LOCALOPS_KEEP_WORK").is_some() {
            eprintln!("keeping workspace {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A resource in `show -json` output, by address.
pub fn find_resource<'a>(
    module: &'a serde_json::Value,
    address: &str,
) -> Option<&'a serde_json::Value> {
    module["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
}

/// The change planned for a resource in `show -json` of a plan.
pub fn planned_change<'a>(
    plan: &'a serde_json::Value,
    address: &str,
) -> Option<&'a serde_json::Value> {
    plan["resource_changes"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| &r["change"])
}

fn read_all(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let _ = sender.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    receiver
}

/// Waits for a child, killing it after `timeout`. Returns its exit code (None if killed) and
/// everything it printed.
pub fn wait_with_timeout(mut child: Child, timeout: Duration) -> (Option<i32>, String, String) {
    let stdout = child.stdout.take().map(read_all);
    let stderr = child.stderr.take().map(read_all);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let collect = |receiver: Option<mpsc::Receiver<String>>| {
        receiver
            .and_then(|r| r.recv_timeout(Duration::from_secs(10)).ok())
            .unwrap_or_default()
    };
    (status, collect(stdout), collect(stderr))
}

/// A provider started with `--debug`, for Terraform to attach to through
/// `TF_REATTACH_PROVIDERS`. Killed on drop.
pub struct DebugProvider {
    child: Child,
    /// The `TF_REATTACH_PROVIDERS` value the provider printed.
    pub reattach: String,
    /// Everything it printed on stdout up to that line.
    pub banner: String,
}

impl DebugProvider {
    #[track_caller]
    pub fn start(binary: &Path) -> DebugProvider {
        let mut child = Command::new(binary)
            .arg("--debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                banner.push_str(&line);
                banner.push('\n');
                if let Some(at) = line.find("TF_REATTACH_PROVIDERS=") {
                    let value = line[at + "TF_REATTACH_PROVIDERS=".len()..]
                        .trim()
                        .trim_matches('\'')
                        .to_owned();
                    let _ = sender.send((value, banner.clone()));
                    // Keep draining so the provider never blocks on a full pipe.
                }
            }
        });
        match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok((reattach, banner)) => DebugProvider {
                child,
                reattach,
                banner,
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} --debug printed no TF_REATTACH_PROVIDERS line",
                    binary.display()
                );
            }
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DebugProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
