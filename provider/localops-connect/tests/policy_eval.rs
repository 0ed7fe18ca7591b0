//! Runs the built `localops-connect` binary: `policy eval --jsonl` and usage errors.

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_localops-connect");
const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com";
const ROLE: &str = "arn:aws:iam::111122223333:role/localops";

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn localops-connect");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn answers(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

fn trust() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowLocalOps", "Effect": "Allow", "Principal": {"Federated": OIDC},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"oidc.example.com:aud": "sts.amazonaws.com",
                                            "oidc.example.com:sub": "system:serviceaccount:ops:agent"}}},
            {"Sid": "DenyIntruder", "Effect": "Deny", "Principal": {"Federated": OIDC},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"oidc.example.com:sub": "system:serviceaccount:ops:intruder"}}}
        ]
    })
}

fn web_line(id: Value, principal: &str, sub: &str) -> String {
    json!({
        "id": id,
        "identityPolicies": [],
        "trustPolicy": trust(),
        "request": {"principal": principal, "action": "sts:AssumeRoleWithWebIdentity", "resource": ROLE,
                    "context": {"oidc.example.com:aud": "sts.amazonaws.com", "oidc.example.com:sub": sub}}
    })
    .to_string()
}

#[test]
fn answers_in_order_with_an_invalid_line() {
    let permission = json!({
        "id": {"check": "s3"},
        "identityPolicies": [
            {"name": "ops", "policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::data/*",
                 "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}}]}},
            "{\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::data/secret\"}}"
        ],
        "trustPolicy": null,
        "request": {"principal": "arn:aws:sts::111122223333:assumed-role/localops/s", "action": "s3:GetObject",
                    "resource": "arn:aws:s3:::data/report", "context": {"aws:RequestedRegion": "eu-west-1"}}
    });
    let mut secret = permission.clone();
    secret["id"] = json!(5);
    secret["request"]["resource"] = json!("arn:aws:s3:::data/secret");
    let input = [
        web_line(json!(1), OIDC, "system:serviceaccount:ops:agent"),
        web_line(json!("two"), OIDC, "system:serviceaccount:ops:other"),
        "{\"id\": 3, \"request\": {\"principal\": \"x\"}".to_owned(),
        String::new(),
        web_line(json!(4), OIDC, "system:serviceaccount:ops:intruder"),
        "   ".to_owned(),
        permission.to_string(),
        secret.to_string(),
        json!({"id": 6, "trustPolicy": {"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}},
               "request": {"principal": "p", "action": "sts:AssumeRole", "resource": ROLE}})
        .to_string(),
        web_line(json!(7), &format!("{OIDC}.evil.net"), "system:serviceaccount:ops:agent"),
    ]
    .join("\n");
    let out = run(&["policy", "eval", "--jsonl"], &input);
    assert!(out.status.success(), "{:?}", out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = answers(&out.stdout);
    let ids: Vec<Value> = a.iter().map(|x| x["id"].clone()).collect();
    assert_eq!(
        ids,
        [
            json!(1),
            json!("two"),
            Value::Null,
            json!(4),
            json!({"check": "s3"}),
            json!(5),
            json!(6),
            json!(7)
        ]
    );
    let decisions: Vec<&str> = a
        .iter()
        .map(|x| x["decision"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        decisions,
        [
            "Allowed",
            "ImplicitlyDenied",
            "Error",
            "ExplicitlyDenied",
            "Allowed",
            "ExplicitlyDenied",
            "Error",
            "ImplicitlyDenied"
        ]
    );
    // Allowed: the deciding statement is quoted.
    assert_eq!(a[0]["detail"]["deciding"]["sid"], "AllowLocalOps");
    assert_eq!(a[0]["detail"]["deciding"]["layer"], "trust");
    // Implicit deny: the failed condition of the statement that would allow it.
    let failed = &a[1]["detail"]["failedConditions"][0];
    assert_eq!(failed["operator"], "StringEquals");
    assert_eq!(failed["key"], "oidc.example.com:sub");
    assert_eq!(
        failed["expected"],
        json!(["system:serviceaccount:ops:agent"])
    );
    assert_eq!(failed["actual"], json!(["system:serviceaccount:ops:other"]));
    // Invalid JSON line.
    assert!(
        a[2]["detail"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("invalid JSON")
    );
    // Explicit deny names the Deny statement.
    assert_eq!(a[3]["detail"]["deciding"]["sid"], "DenyIntruder");
    assert_eq!(a[3]["detail"]["deciding"]["statementIndex"], 1);
    // The string-encoded policy is the second identity policy.
    assert_eq!(a[5]["detail"]["deciding"]["policyIndex"], 1);
    // A trust policy without Principal is a malformed input.
    let msg = a[6]["detail"]["message"].as_str().unwrap_or("");
    assert!(
        msg.starts_with("trustPolicy: statement 0: Principal"),
        "{msg}"
    );
    // The provider ARN is matched exactly, never by prefix.
    assert_eq!(a[7]["detail"]["nearMisses"][0]["principalMismatch"], true);
}

#[test]
fn empty_input_exits_zero() {
    let out = run(&["policy", "eval", "--jsonl"], "");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn answers_are_flushed_line_by_line() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(BIN)
        .args(["policy", "eval", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    for id in 0..3 {
        writeln!(
            stdin,
            "{}",
            web_line(json!(id), OIDC, "system:serviceaccount:ops:agent")
        )
        .expect("write");
        stdin.flush().expect("flush");
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read answer before closing stdin");
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["id"], id);
    }
    drop(stdin);
    assert!(child.wait().expect("wait").success());
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    for args in [
        &[][..],
        &["policy"][..],
        &["policy", "eval"][..],
        &["policy", "eval", "--jsonl", "extra"][..],
        &["nope"][..],
    ] {
        let out = run(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("localops-connect: error: "), "{err}");
    }
}

#[test]
fn help_lists_subcommands() {
    let out = run(&["--help"], "");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("policy"), "{text}");
    let out = run(&["policy", "--help"], "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("eval"));
}
