//! The protocol layer (crate `tfplugin`) as Terraform and go-plugin see it: the handshake,
//! TLS, signals, and value/schema round trips through the real terraform CLI, using the
//! layer's own test provider (`terraform-provider-tfplugintest`).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use localops_tests::terraform::{
    PROVIDER_ADDRESS, Workspace, built_binary, planned_change, provider_binary, wait_with_timeout,
};
use serde_json::{Value, json};

const MAGIC_COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);
const TEST_PROVIDER_ADDRESS: &str = "registry.terraform.io/localops/tfplugintest";

fn test_provider() -> PathBuf {
    built_binary("terraform-provider-tfplugintest")
}

fn test_workspace(name: &str, config: &str) -> Workspace {
    let ws = Workspace::with_overrides(
        name,
        &[
            (PROVIDER_ADDRESS, provider_binary()),
            (TEST_PROVIDER_ADDRESS, test_provider()),
        ],
    );
    ws.write_file(
        "versions.tf",
        "terraform {\n  required_providers {\n    tfplugintest = {\n      source = \"localops/tfplugintest\"\n    }\n  }\n}\n",
    );
    ws.write_config(config);
    ws
}

/// The provider started the way go-plugin starts it, minus Terraform.
fn plugin_command(extra_env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(provider_binary());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(MAGIC_COOKIE.0, MAGIC_COOKIE.1)
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Starts the plugin and returns it with its handshake line.
fn start_plugin(extra_env: &[(&str, &str)]) -> (std::process::Child, String) {
    let mut child = plugin_command(extra_env)
        .spawn()
        .expect("start the provider");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let _ = sender.send(first);
        // Anything after the handshake would break go-plugin: collect it for the assertion.
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        assert!(rest.is_empty(), "stdout after the handshake: {rest:?}");
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("a handshake line");
    (child, line)
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), "--", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

fn exits_within(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("did not exit within {limit:?}");
}

#[test]
fn run_by_hand_it_explains_itself() {
    let output = Command::new(provider_binary())
        .env_remove(MAGIC_COOKIE.0)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("plugin for Terraform"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let version = Command::new(provider_binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("terraform-provider-localops "));
}

#[test]
fn refuses_a_host_without_protocol_6() {
    let output = plugin_command(&[("PLUGIN_PROTOCOL_VERSIONS", "4,5")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("protocol 6"));
}

#[test]
fn plaintext_handshake_honours_the_port_range_and_exits_on_sigterm() {
    let port = {
        // A port that is free right now; the plugin must pick exactly it.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port().to_string()
    };
    let (mut child, line) = start_plugin(&[
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
        ("PLUGIN_MIN_PORT", &port),
        ("PLUGIN_MAX_PORT", &port),
    ]);
    assert_eq!(line, format!("1|6|tcp|127.0.0.1:{port}|grpc|"));
    // Ctrl-C reaches plugins too; Terraform handles it through StopProvider, so the plugin
    // must survive it.
    signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "plugin died on SIGINT"
    );
    signal(child.id(), "TERM");
    assert_eq!(exits_within(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn auto_mtls_handshake_sends_the_server_certificate() {
    // Any certificate will do for the handshake itself; Terraform's own (P-521) is exercised
    // by every terraform test, which runs with AutoMTLS.
    let client_cert = "-----BEGIN CERTIFICATE-----\nMIIBeTCCAR+gAwIBAgIUaWR8GHr1zSefNFHgJvYRAZyJ/xswCgYIKoZIzj0EAwIw\nFDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI0MDEwMTAwMDAwMFoXDTM0MDEwMTAw\nMDAwMFowFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0D\nAQcDQgAE0Cc5S9bXX3e9wD0Ww3T1kQpbDqKrU+0yj1Dd3wJqE0F0kq2nV8cGJ3yQ\nH8C3oK2I4d5w2Jm4nY6PZ1l4bW7k7qNTMFEwHQYDVR0OBBYEFJ4p7Q8gN6n0c3pX\n5x0l0oHh2Q9fMB8GA1UdIwQYMBaAFJ4p7Q8gN6n0c3pX5x0l0oHh2Q9fMA8GA1Ud\nEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAN0y0Qb2Lx0m6r1bJxg1m7Rz\nGmW3m5cTQf5j2h2Qb6u2AiAqRZb6G9F8i3cWk2s2ZlQ2m1yJ2E6c4m1q0mS2Q0xY\nBw==\n-----END CERTIFICATE-----\n";
    let (mut child, line) = start_plugin(&[("PLUGIN_CLIENT_CERT", client_cert)]);
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts[..3], ["1", "6", "tcp"]);
    assert!(parts[3].starts_with("127.0.0.1:"));
    assert_eq!(parts[4], "grpc");
    // base64 without padding of a DER certificate (a SEQUENCE: 0x30 → "M").
    assert!(parts[5].len() > 50 && parts[5].starts_with('M') && !parts[5].contains('='));
    signal(child.id(), "TERM");
    assert_eq!(exits_within(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn terraform_talks_to_the_provider_with_and_without_tls() {
    let mut ws = test_workspace("tls", r#"resource "tfplugintest_echo" "x" { zone = "a" }"#);
    ws.set_env("TF_LOG", "debug");
    let with_tls = ws.plan();
    with_tls
        .assert_success()
        .assert_contains(&["configuring client automatic mTLS"]);
    ws.set_env("TF_DISABLE_PLUGIN_TLS", "1");
    let plain = ws.plan();
    plain.assert_success();
    assert!(
        !plain
            .combined()
            .contains("configuring client automatic mTLS")
    );
}

const ECHO_CONFIG: &str = r#"
resource "tfplugintest_echo" "x" {
  zone     = "a"
  number   = 123456789012345678901234567890.125
  flag     = true
  tags     = { b = "2", a = "1" }
  names    = ["z", "y"]
  anything = { list = [1, 2], text = "t" }
  secret   = "hush"
  password_wo = "never stored"
  single   = { text = "s" }
  list     = [{ text = "l0" }, { count = 2 }]
  set      = [{ text = "s1" }, { text = "s2" }]
  map      = { k = { count = 1.5 } }
  block_single {
    text = "bs"
  }
  block_list {
    text = "bl"
  }
  block_set {
    count = 3
  }
  block_map "m" {
    text = "bm"
  }
}
output "number_text" { value = tfplugintest_echo.x.number_text }
output "anything_type" { value = tfplugintest_echo.x.anything_type }
"#;

#[test]
fn every_value_shape_round_trips_exactly() {
    let ws = test_workspace("round-trip", ECHO_CONFIG);
    ws.apply().assert_success();
    let outputs = ws.outputs();
    assert_eq!(
        outputs["number_text"]["value"],
        "123456789012345678901234567890.125"
    );
    let anything_type: Value =
        serde_json::from_str(outputs["anything_type"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(anything_type[0], "object");
    // The nested computed attributes were filled in at apply.
    let state = ws.state_values("tfplugintest_echo.x");
    assert_eq!(state["single"]["generated"], "generated");
    assert_eq!(state["list"][1]["count"], 2);
    assert_eq!(state["block_map"]["m"]["text"], "bm");
    assert_eq!(state["block_group"]["text"], Value::Null);
    assert_eq!(state["id"], "echo-1");
    // Write-only values reach the provider but never state.
    assert_eq!(state["password_wo"], Value::Null);
    assert!(!ws.show_json(&[]).to_string().contains("never stored"));
    let second = ws.plan_detailed();
    assert_eq!(
        second.code(),
        Some(0),
        "second plan must be empty:\n{second}"
    );
}

#[test]
fn force_new_attributes_replace_and_others_update_in_place() {
    let ws = test_workspace(
        "replace",
        r#"resource "tfplugintest_echo" "x" {
  zone = "a"
  flag = true
}"#,
    );
    ws.apply().assert_success();
    let first = ws.state_values("tfplugintest_echo.x");

    ws.write_config(
        r#"resource "tfplugintest_echo" "x" {
  zone = "a"
  flag = false
}"#,
    );
    let plan = ws.plan_json();
    let change = planned_change(&plan, "tfplugintest_echo.x").unwrap();
    assert_eq!(change["actions"], json!(["update"]));
    // use_state_for_unknown keeps `id`; `revision` may change, so it is unknown.
    assert_eq!(change["after"]["id"], first["id"]);
    assert_eq!(change["after_unknown"]["revision"], true);
    ws.apply().assert_success();
    assert_eq!(ws.state_values("tfplugintest_echo.x")["revision"], "2");

    ws.write_config(
        r#"resource "tfplugintest_echo" "x" {
  zone = "b"
  flag = false
}"#,
    );
    let plan = ws.plan_json();
    let change = plan["resource_changes"][0].clone();
    assert_eq!(change["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(change["change"]["replace_paths"], json!([["zone"]]));
}

#[test]
fn plan_warnings_reach_the_user_with_their_attribute() {
    let ws = test_workspace(
        "warning",
        r#"resource "tfplugintest_echo" "x" {
  warn = "heads up"
}"#,
    );
    ws.plan().assert_success().assert_contains(&[
        "Warning: Echo warning",
        "heads up",
        "warn = \"heads up\"",
    ]);
}

#[test]
fn a_provider_panic_is_an_error_not_a_crash() {
    let ws = test_workspace("panic", r#"resource "tfplugintest_panic" "x" {}"#);
    let output = ws.plan();
    output
        .assert_failure()
        .assert_contains(&["Provider internal error", "PlanResourceChange"]);
    let all = output.combined();
    assert!(!all.contains("plugin crashed"), "{output}");
    assert!(!all.contains("panicked at"), "{output}");
    assert!(!all.contains("stack backtrace"), "{output}");
}

#[test]
fn ctrl_c_during_a_long_apply_returns_quickly_and_keeps_state() {
    let ws = test_workspace(
        "interrupt",
        r#"resource "tfplugintest_slow" "x" { seconds = 120 }"#,
    );
    let mut command = ws.command(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    // Like a terminal: Ctrl-C goes to Terraform and its plugins, one process group.
    command
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start terraform apply");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("Creating...") {
                let _ = sender.send(None);
            }
        }
        let _ = sender.send(Some(seen));
    });
    assert_eq!(
        receiver.recv_timeout(Duration::from_secs(60)).ok(),
        Some(None),
        "apply never started creating"
    );
    std::thread::sleep(Duration::from_millis(500));
    let interrupted = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    child.stdout = None;
    let (code, _, stderr) = wait_with_timeout(child, Duration::from_secs(30));
    let took = interrupted.elapsed();
    let stdout = receiver
        .recv_timeout(Duration::from_secs(5))
        .ok()
        .flatten()
        .unwrap_or_default();
    assert!(
        took < Duration::from_secs(3),
        "terraform took {took:?} to return after Ctrl-C\n{stdout}\n{stderr}"
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Creation interrupted"),
        "{stdout}\n{stderr}"
    );
    // What was created is in state (tainted), not orphaned.
    let state = ws.state_values("tfplugintest_slow.x");
    assert_eq!(state["status"], "interrupted");
    assert_eq!(state["id"], "slow-1");
}
