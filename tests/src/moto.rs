//! The moto emulator on loopback, with LocalOps' patches (`tests/moto/launcher.py`).
//!
//! ```no_run
//! let moto = localops_tests::moto::MotoServer::start()?;
//! let mut cmd = std::process::Command::new("aws");
//! moto.configure(&mut cmd); // credentials "testing", us-east-1, AWS_ENDPOINT_URL=moto
//! # Ok::<(), localops_tests::moto::MotoError>(())
//! ```
//!
//! Nothing global is changed: clients get the endpoint through [`MotoServer::client_env`] /
//! [`MotoServer::configure`]. Each server is its own process with its own state; dropping the
//! [`MotoServer`] stops it (and the launcher also exits when its stdin closes, so a killed test
//! never leaks one).

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long [`MotoServer::start`] waits for the `ready` line.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(15);

/// Environment variable naming the Python to run the launcher with (default: the venv's).
pub const PYTHON_ENV: &str = "LOCALOPS_TEST_PYTHON";

/// Credential/config variables removed from a client's environment so nothing real is used.
pub const REMOVED_CLIENT_ENV: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// A failure to find or start the emulator.
#[derive(Debug)]
pub struct MotoError(pub String);

impl fmt::Display for MotoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MotoError {}

pub type Result<T> = std::result::Result<T, MotoError>;

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `<workspace>/target/localops-venv`, installed by `tests/setup-env.sh`.
pub fn venv_dir() -> PathBuf {
    workspace_root().join("target").join("localops-venv")
}

/// A tool from the venv (`python`, `cfn-lint`, ...), or an error telling how to install it.
pub fn venv_tool(name: &str) -> Result<PathBuf> {
    let path = venv_dir().join("bin").join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(MotoError(format!(
            "{} is missing: run `bash tests/setup-env.sh` from the workspace root first (it installs moto and cfn-lint into target/localops-venv)",
            path.display()
        )))
    }
}

/// The Python that runs the launcher and the Python self-tests: `$LOCALOPS_TEST_PYTHON`, or
/// the venv's.
pub fn python() -> Result<PathBuf> {
    match std::env::var_os(PYTHON_ENV) {
        Some(p) if !p.is_empty() => {
            let path = PathBuf::from(p);
            if path.is_file() {
                Ok(path)
            } else {
                Err(MotoError(format!(
                    "{PYTHON_ENV}={} does not exist",
                    path.display()
                )))
            }
        }
        _ => venv_tool("python"),
    }
}

/// `tests/moto/launcher.py`.
pub fn launcher_path() -> PathBuf {
    workspace_root()
        .join("tests")
        .join("moto")
        .join("launcher.py")
}

/// A unique path in the system temp directory (not created).
pub fn unique_temp_path(prefix: &str, suffix: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "{prefix}-{}-{n}-{nanos}{suffix}",
        std::process::id()
    ))
}

/// A running moto server on `127.0.0.1:<port>`.
pub struct MotoServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    log_path: PathBuf,
}

impl MotoServer {
    /// Starts a server on a free port and waits (up to [`DEFAULT_START_TIMEOUT`]) until it
    /// serves.
    pub fn start() -> Result<MotoServer> {
        Self::start_with_timeout(DEFAULT_START_TIMEOUT)
    }

    /// [`MotoServer::start`] with another timeout.
    pub fn start_with_timeout(timeout: Duration) -> Result<MotoServer> {
        let python = python()?;
        let launcher = launcher_path();
        if !launcher.is_file() {
            return Err(MotoError(format!("{} is missing", launcher.display())));
        }
        let log_path = unique_temp_path("localops-moto", ".log");
        let log = File::create(&log_path)
            .map_err(|e| MotoError(format!("cannot create {}: {e}", log_path.display())))?;
        let mut cmd = Command::new(&python);
        cmd.arg(&launcher)
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        for var in REMOVED_CLIENT_ENV {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().map_err(|e| {
            MotoError(format!(
                "cannot run {} {}: {e}",
                python.display(),
                launcher.display()
            ))
        })?;
        let stdin = child.stdin.take();
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(MotoError("launcher stdout was not captured".into()));
        };

        // Read the ready line on a thread (reads block), then keep draining stdout so the
        // launcher can never block on a full pipe.
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            if reader.read_line(&mut line).is_ok() {
                let _ = tx.send(line);
            }
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });

        let deadline = Instant::now() + timeout;
        let outcome = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break parse_ready(&line),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Err("the launcher exited before it was ready".to_string());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        break Err(format!("the launcher exited with {status}"));
                    }
                    if Instant::now() >= deadline {
                        break Err(format!("no ready line within {timeout:?}"));
                    }
                }
            }
        };
        match outcome {
            Ok(port) => Ok(MotoServer {
                child,
                stdin,
                port,
                log_path,
            }),
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let _ = std::fs::remove_file(&log_path);
                Err(MotoError(format!(
                    "moto did not start: {why}\n--- launcher stderr ---\n{}",
                    tail(&log, 4000)
                )))
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The launcher's stderr so far (moto's warnings and tracebacks).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Variables to set for an AWS client (SDK, CLI, terraform provider) talking to this
    /// server. Also remove [`REMOVED_CLIENT_ENV`] (see [`MotoServer::configure`]).
    pub fn client_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Sets [`MotoServer::client_env`] on `cmd` and removes [`REMOVED_CLIENT_ENV`].
    pub fn configure<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for var in REMOVED_CLIENT_ENV {
            cmd.env_remove(var);
        }
        cmd.envs(self.client_env())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing stdin asks the launcher to stop; kill it if it has not within a moment.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        let _ = std::fs::remove_file(&self.log_path);
    }
}

fn parse_ready(line: &str) -> std::result::Result<u16, String> {
    let line = line.trim();
    line.strip_prefix("ready http://127.0.0.1:")
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("unexpected first line from the launcher: {line:?}"))
}

fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line_parsing() {
        assert_eq!(parse_ready("ready http://127.0.0.1:4566\n"), Ok(4566));
        assert!(parse_ready("ready http://0.0.0.0:4566").is_err());
        assert!(parse_ready("ready http://127.0.0.1:0").is_err());
        assert!(parse_ready("").is_err());
    }

    #[test]
    fn tail_keeps_char_boundaries() {
        assert_eq!(tail("abc", 10), "abc");
        assert_eq!(tail("aé", 1), "");
        assert_eq!(tail("abcdef", 2), "ef");
    }
}
