//! Known ways to get IAM evaluation wrong, one test each.

mod common;

use common::kind;
use iam_policy::DecisionKind::{Allowed, ImplicitlyDenied};
use iam_policy::Policy;
use serde_json::json;

const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com";
const ROLE: &str = "arn:aws:iam::111122223333:role/localops";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn web_trust() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Federated": OIDC},
           "Action": "sts:AssumeRoleWithWebIdentity"}})
}

#[test]
fn federated_principal_is_never_a_prefix_match() {
    for (principal, want) in [
        (OIDC.to_owned(), Allowed),
        (format!("{OIDC}.evil.net"), ImplicitlyDenied),
        (format!("{OIDC}/extra"), ImplicitlyDenied),
        (
            "arn:aws:iam::111122223333:oidc-provider/oidc.example".to_owned(),
            ImplicitlyDenied,
        ),
        (OIDC.to_uppercase(), ImplicitlyDenied),
    ] {
        let case = json!({"trust": web_trust(), "request": {"principal": principal,
                          "action": "sts:AssumeRoleWithWebIdentity", "resource": ROLE}});
        assert_eq!(kind(&case), want, "{principal}");
    }
    // A wildcard inside a principal is refused when the policy is read.
    let bad = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": format!("{OIDC}*")},
                     "Action": "sts:AssumeRoleWithWebIdentity"}});
    let err = Policy::from_value(&bad).expect_err("wildcard principal");
    assert!(
        err.to_string().contains("wildcards are not allowed"),
        "{err}"
    );
}

#[test]
fn absent_policy_variable_is_not_an_empty_string() {
    // In a condition value: `k` is empty and aws:username is absent; "" must not equal ${aws:username}.
    let cond = |op: &str, value: &str| {
        json!({"identity": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
               "Condition": {op: {"s3:prefix": value}}}},
               "request": {"principal": ALICE, "action": "s3:ListBucket", "resource": "arn:aws:s3:::b",
                           "context": {"s3:prefix": ""}}})
    };
    assert_eq!(
        kind(&cond("StringEquals", "${aws:username}")),
        ImplicitlyDenied
    );
    assert_eq!(
        kind(&cond("StringLike", "${aws:username}*")),
        ImplicitlyDenied
    );
    assert_eq!(
        kind(&cond("StringEquals", "home/${aws:username}")),
        ImplicitlyDenied
    );
    // With the key present the same policies behave as written.
    let mut present = cond("StringEquals", "${aws:username}");
    present["request"]["context"]["aws:username"] = json!("");
    assert_eq!(kind(&present), Allowed);
    // In the Resource element: `arn:aws:s3:::b/${aws:username}*` must not become `arn:aws:s3:::b/*`.
    let res = json!({"identity": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::b/${aws:username}*"}},
                     "request": {"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/anyone"}});
    assert_eq!(kind(&res), ImplicitlyDenied);
}

#[test]
fn arn_like_is_per_segment_not_one_glob() {
    let case = |pattern: &str, value: &str| {
        json!({"identity": {"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*",
               "Condition": {"ArnLike": {"aws:PrincipalArn": pattern}}}},
               "request": {"principal": ALICE, "action": "sts:AssumeRole", "resource": ROLE,
                           "context": {"aws:PrincipalArn": value}}})
    };
    assert_eq!(
        kind(&case(
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::123456789012:role/x"
        )),
        Allowed
    );
    // One glob over the whole text would let `*` eat "123456789012:extra".
    assert_eq!(
        kind(&case(
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::123456789012:extra:role/x"
        )),
        ImplicitlyDenied
    );
    assert_eq!(
        kind(&case(
            "arn:aws:iam::*:role/x",
            "arn:aws:iam:us-east-1:1:role/x"
        )),
        ImplicitlyDenied
    );
    // The same holds for the Resource element.
    let res = json!({"identity": {"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/x"}},
                     "request": {"principal": ALICE, "action": "sts:AssumeRole", "resource": "arn:aws:iam::123456789012:extra:role/x"}});
    assert_eq!(kind(&res), ImplicitlyDenied);
}

#[test]
fn json_booleans_and_numbers_as_condition_values() {
    let case = |cond: serde_json::Value, ctx: serde_json::Value| {
        json!({"identity": {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": cond}},
               "request": {"principal": ALICE, "action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": ctx}})
    };
    assert_eq!(
        kind(&case(
            json!({"Bool": {"aws:SecureTransport": true}}),
            json!({"aws:SecureTransport": "true"})
        )),
        Allowed
    );
    assert_eq!(
        kind(&case(
            json!({"Bool": {"aws:SecureTransport": false}}),
            json!({"aws:SecureTransport": "true"})
        )),
        ImplicitlyDenied
    );
    assert_eq!(
        kind(&case(
            json!({"NumericLessThanEquals": {"s3:max-keys": 10}}),
            json!({"s3:max-keys": "10"})
        )),
        Allowed
    );
    assert_eq!(
        kind(&case(
            json!({"NumericEquals": {"s3:max-keys": 10.5}}),
            json!({"s3:max-keys": "10.50"})
        )),
        Allowed
    );
    assert_eq!(
        kind(&case(
            json!({"StringEquals": {"s3:max-keys": 10}}),
            json!({"s3:max-keys": "10"})
        )),
        Allowed
    );
    assert_eq!(
        kind(&case(
            json!({"StringEquals": {"k": [true, 7]}}),
            json!({"k": "7"})
        )),
        Allowed
    );
    assert_eq!(
        kind(&case(json!({"Null": {"k": true}}), json!({}))),
        Allowed
    );
    assert_eq!(
        kind(&case(
            json!({"DateGreaterThan": {"aws:EpochTime": 1600000000}}),
            json!({"aws:EpochTime": "1700000000"})
        )),
        Allowed
    );
}

#[test]
fn wildcards_in_every_arn_segment() {
    let resource = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc";
    for (pattern, want) in [
        ("arn:*:ec2:us-east-1:111122223333:instance/*", Allowed),
        ("arn:aws:*:us-east-1:111122223333:instance/*", Allowed),
        ("arn:aws:ec2:*:111122223333:instance/*", Allowed),
        ("arn:aws:ec2:us-east-?:111122223333:instance/*", Allowed),
        ("arn:aws:ec2:us-east-1:*:instance/*", Allowed),
        ("arn:aws:ec2:us-east-1:1111222233??:instance/i-*", Allowed),
        ("arn:aws:ec2:us-east-1:111122223333:*", Allowed),
        ("arn:*:*:*:*:*", Allowed),
        (
            "arn:aws:ec2:us-west-?:111122223333:instance/*",
            ImplicitlyDenied,
        ),
        (
            "arn:aws:ec2:us-east-1:444455556666:instance/*",
            ImplicitlyDenied,
        ),
        (
            "arn:aws:ec2:us-east-1:111122223333:volume/*",
            ImplicitlyDenied,
        ),
        (
            "arn:aws:ec2:us-east-1:111122223333:instance/I-*",
            ImplicitlyDenied,
        ),
        ("arn:aws-cn:*:*:*:*", ImplicitlyDenied),
    ] {
        let case = json!({"identity": {"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": pattern}},
                          "request": {"principal": ALICE, "action": "ec2:StartInstances", "resource": resource}});
        assert_eq!(kind(&case), want, "{pattern}");
    }
}

#[test]
fn any_matching_principal_type_admits() {
    let trust = json!({"Statement": {"Effect": "Allow",
        "Principal": {"Federated": OIDC, "AWS": [ALICE, "arn:aws:iam::444455556666:root"], "Service": ["ec2.amazonaws.com"]},
        "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}});
    let identity =
        json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}});
    for (principal, action, want) in [
        (OIDC, "sts:AssumeRoleWithWebIdentity", Allowed),
        (ALICE, "sts:AssumeRole", Allowed),
        (
            "arn:aws:iam::444455556666:user/bob",
            "sts:AssumeRole",
            Allowed,
        ),
        ("ec2.amazonaws.com", "sts:AssumeRole", Allowed),
        ("lambda.amazonaws.com", "sts:AssumeRole", ImplicitlyDenied),
        (
            "arn:aws:iam::777788889999:user/eve",
            "sts:AssumeRole",
            ImplicitlyDenied,
        ),
    ] {
        let case = json!({"trust": trust, "identity": identity,
                          "request": {"principal": principal, "action": action, "resource": ROLE}});
        assert_eq!(kind(&case), want, "{principal}");
    }
}

#[test]
fn repeated_json_keys_are_refused() {
    let text =
        r#"{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
    let err = Policy::parse(text).expect_err("duplicate Effect");
    assert!(
        err.to_string().contains("duplicate key \"Effect\""),
        "{err}"
    );
}
