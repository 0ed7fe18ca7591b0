//! Runs `tests/moto/test_launcher.py` (unittest + boto3) against a `MotoServer`, with templates
//! rendered by `localops_domain::template`: create, update (trust, session length, tags, policy
//! documents added/changed/removed, role rename, provider switch), delete, failure rollbacks and
//! parameter constraints.

mod template_fixtures;

use std::process::Command;
use std::time::Instant;

use localops_domain::template::{oidc_provider_arn, trust_policy};
use localops_tests::moto::{MotoServer, python, workspace_root};
use template_fixtures::{ISSUER, TempDir, malformed_policy, render, write_variants};

#[test]
fn launcher_self_test_passes() {
    let python = match python() {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let dir = TempDir::new("localops-moto-self-test");
    write_variants(&dir.0);
    std::fs::write(
        dir.0.join("malformed-policy.json"),
        render(&malformed_policy()).body,
    )
    .unwrap();
    let provider = oidc_provider_arn("123456789012", ISSUER).unwrap();
    let expected = trust_policy(ISSUER, &provider, "sts.amazonaws.com", "connection:acme");
    let expected_path = dir.0.join("expected-trust.json");
    std::fs::write(&expected_path, serde_json::to_string(&expected).unwrap()).unwrap();

    let started = Instant::now();
    let moto = match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let ready = started.elapsed();
    let mut cmd = Command::new(&python);
    moto.configure(&mut cmd)
        .arg(workspace_root().join("tests/moto/test_launcher.py"))
        .env("LOCALOPS_TEMPLATE_DIR", &dir.0)
        .env("LOCALOPS_ISSUER_URL", ISSUER)
        .env("LOCALOPS_EXPECTED_TRUST", &expected_path)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let output = cmd.output().expect("run the python self-test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python self-test failed ({}):\n{stdout}\n{stderr}\n--- moto log ---\n{}",
        output.status,
        moto.log()
    );
    eprintln!(
        "moto ready in {ready:?}; self-test took {:?}\n{stderr}",
        started.elapsed() - ready
    );
}

#[test]
fn server_stops_when_dropped() {
    let moto = match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let port = moto.port();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
    let env = moto.client_env();
    assert!(env.contains(&("AWS_ENDPOINT_URL".to_string(), moto.endpoint())));
    assert!(env.contains(&("AWS_REGION".to_string(), "us-east-1".to_string())));
    drop(moto);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
