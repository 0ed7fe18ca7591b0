use super::*;
use crate::{NamedPolicy, Policy, Request};
use serde_json::json;

const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com";
const ROLE: &str = "arn:aws:iam::111122223333:role/localops";
const SUB: &str = "system:serviceaccount:ops:agent";

fn policy(v: serde_json::Value) -> Policy {
    Policy::from_value(&v).expect("valid policy")
}

fn named(v: serde_json::Value) -> Vec<NamedPolicy> {
    vec![NamedPolicy::new("p", policy(v))]
}

fn web_identity_trust() -> Policy {
    policy(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowLocalOps",
                "Effect": "Allow",
                "Principal": {"Federated": OIDC},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    "oidc.example.com:aud": "sts.amazonaws.com",
                    "oidc.example.com:sub": SUB
                }}
            },
            {
                "Sid": "DenyIntruder",
                "Effect": "Deny",
                "Principal": {"Federated": OIDC},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"oidc.example.com:sub": "system:serviceaccount:ops:intruder"}}
            }
        ]
    }))
}

fn web_request(principal: &str, sub: &str) -> Request {
    Request::new(principal, "sts:AssumeRoleWithWebIdentity", ROLE).with_context(
        Context::new()
            .with("oidc.example.com:aud", "sts.amazonaws.com")
            .with("oidc.example.com:sub", sub),
    )
}

#[test]
fn web_identity_allowed() {
    let trust = web_identity_trust();
    let req = web_request(OIDC, SUB);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::Allowed, "{d}");
    assert_eq!(d.reason, Reason::AllowedByTrust);
    let deciding = d.deciding.expect("deciding");
    assert_eq!(deciding.layer, PolicyLayer::Trust);
    assert_eq!(deciding.statement_index, 0);
    assert_eq!(deciding.sid.as_deref(), Some("AllowLocalOps"));
}

#[test]
fn web_identity_wrong_subject_reports_failed_condition() {
    let trust = web_identity_trust();
    let req = web_request(OIDC, "system:serviceaccount:other:sa");
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    assert_eq!(d.reason, Reason::NoAllow(PolicyLayer::Trust));
    assert_eq!(d.failed_conditions.len(), 1);
    let f = &d.failed_conditions[0];
    assert_eq!(f.operator, "StringEquals");
    assert_eq!(f.key, "oidc.example.com:sub");
    assert_eq!(f.expected, [SUB]);
    let text = d.to_string();
    assert!(
        text.contains("failed StringEquals on oidc.example.com:sub"),
        "{text}"
    );
    assert!(text.contains("Sid \"AllowLocalOps\""), "{text}");
}

#[test]
fn web_identity_deny_wins() {
    let mut trust_json = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": OIDC},
             "Action": "sts:AssumeRoleWithWebIdentity"},
            {"Sid": "NoIntruder", "Effect": "Deny", "Principal": {"Federated": OIDC},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"oidc.example.com:sub": "intruder"}}}
        ]
    });
    let trust = policy(trust_json.take());
    let req = web_request(OIDC, "intruder");
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::ExplicitlyDenied);
    let deciding = d.deciding.clone().expect("deny statement");
    assert_eq!(deciding.statement_index, 1);
    assert_eq!(deciding.sid.as_deref(), Some("NoIntruder"));
    assert!(d.to_string().contains("\"Effect\":\"Deny\""));
}

#[test]
fn federated_principal_is_not_a_prefix_match() {
    let trust = web_identity_trust();
    let evil = format!("{OIDC}.evil.net");
    let req = web_request(&evil, SUB);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    assert!(d.near_misses[0].principal_mismatch);
    assert!(d.to_string().contains("does not name this principal"));
}

#[test]
fn identity_policies_ignored_for_federated_principal() {
    let trust = web_identity_trust();
    let req = web_request(OIDC, SUB);
    let deny_all = named(json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}));
    let d = evaluate(
        &EvaluationInput::new(&req)
            .trust_policy(&trust)
            .identity_policies(&deny_all),
    );
    assert_eq!(d.kind, DecisionKind::Allowed);
    assert_eq!(d.notes.len(), 1, "{:?}", d.notes);
}

fn assume_trust(principal: serde_json::Value) -> Policy {
    policy(json!({
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    }))
}

fn allow_assume() -> Vec<NamedPolicy> {
    named(json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}}))
}

#[test]
fn same_account_user_named_directly_needs_no_identity_policy() {
    let user = "arn:aws:iam::111122223333:user/alice";
    let trust = assume_trust(json!(user));
    let req = Request::new(user, "sts:AssumeRole", ROLE);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::Allowed, "{d}");
    assert_eq!(d.reason, Reason::AllowedByTrustAlone);
    // Nor does a boundary that does not allow it limit it.
    let boundary =
        named(json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}));
    let d = evaluate(
        &EvaluationInput::new(&req)
            .trust_policy(&trust)
            .permissions_boundary(&boundary),
    );
    assert_eq!(d.kind, DecisionKind::Allowed, "{d}");
}

#[test]
fn same_account_account_named_needs_identity_policy() {
    let user = "arn:aws:iam::111122223333:user/alice";
    let trust = assume_trust(json!("arn:aws:iam::111122223333:root"));
    let req = Request::new(user, "sts:AssumeRole", ROLE);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    assert_eq!(d.reason, Reason::NoAllow(PolicyLayer::Identity));
    let identity = allow_assume();
    let d = evaluate(
        &EvaluationInput::new(&req)
            .trust_policy(&trust)
            .identity_policies(&identity),
    );
    assert_eq!(d.kind, DecisionKind::Allowed);
    assert_eq!(
        d.reason,
        Reason::AllowedByTrustAndIdentity {
            cross_account: false
        }
    );
    assert_eq!(d.allowing.len(), 2);
}

#[test]
fn same_account_role_named_for_session_is_limited_by_boundary() {
    let session = "arn:aws:sts::111122223333:assumed-role/Deployer/ci";
    let trust = assume_trust(json!("arn:aws:iam::111122223333:role/Deployer"));
    let req = Request::new(session, "sts:AssumeRole", ROLE);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::Allowed, "{d}");
    assert_eq!(d.reason, Reason::AllowedByTrustAndBoundary);
    let boundary =
        named(json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}));
    let d = evaluate(
        &EvaluationInput::new(&req)
            .trust_policy(&trust)
            .permissions_boundary(&boundary),
    );
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    assert_eq!(d.reason, Reason::NoAllow(PolicyLayer::PermissionsBoundary));
}

#[test]
fn cross_account_needs_both() {
    let user = "arn:aws:iam::444455556666:user/bob";
    let trust = assume_trust(json!(user));
    let req = Request::new(user, "sts:AssumeRole", ROLE);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    assert_eq!(d.reason, Reason::NoAllow(PolicyLayer::Identity));
    let identity = allow_assume();
    let d = evaluate(
        &EvaluationInput::new(&req)
            .trust_policy(&trust)
            .identity_policies(&identity),
    );
    assert_eq!(d.kind, DecisionKind::Allowed);
    assert_eq!(
        d.reason,
        Reason::AllowedByTrustAndIdentity {
            cross_account: true
        }
    );
    // An identity allow without a trust allow is not enough.
    let other_trust = assume_trust(json!("arn:aws:iam::444455556666:user/carol"));
    let d = evaluate(
        &EvaluationInput::new(&req)
            .trust_policy(&other_trust)
            .identity_policies(&identity),
    );
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    assert_eq!(d.reason, Reason::NoAllow(PolicyLayer::Trust));
}

#[test]
fn boundary_and_scp_intersect() {
    let user = "arn:aws:iam::111122223333:user/alice";
    let identity = named(json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
    let boundary = named(
        json!({"Statement": {"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}}),
    );
    let scps = named(
        json!({"Statement": {"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}}),
    );
    let input = |req| {
        evaluate(
            &EvaluationInput::new(req)
                .identity_policies(&identity)
                .permissions_boundary(&boundary)
                .scps(&scps),
        )
    };
    let s3 = Request::new(user, "s3:GetObject", "arn:aws:s3:::b/k");
    let d = input(&s3);
    assert_eq!(d.kind, DecisionKind::Allowed);
    assert_eq!(d.allowing.len(), 3);
    let ec2 = Request::new(user, "ec2:RunInstances", "*");
    assert_eq!(input(&ec2).reason, Reason::NoAllow(PolicyLayer::Scp));
    let iam = Request::new(user, "iam:CreateUser", "*");
    assert_eq!(
        input(&iam).reason,
        Reason::NoAllow(PolicyLayer::PermissionsBoundary)
    );
    // An explicit deny in the boundary wins.
    let deny_boundary = named(json!({"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
    ]}));
    let d = evaluate(
        &EvaluationInput::new(&s3)
            .identity_policies(&identity)
            .permissions_boundary(&deny_boundary),
    );
    assert_eq!(d.kind, DecisionKind::ExplicitlyDenied);
    assert_eq!(
        d.reason,
        Reason::ExplicitDeny(PolicyLayer::PermissionsBoundary)
    );
}

#[test]
fn get_caller_identity_is_always_allowed() {
    let deny = named(json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}));
    let req = Request::new(
        "arn:aws:iam::111122223333:user/alice",
        "STS:GetCallerIdentity",
        "*",
    );
    let d = evaluate(&EvaluationInput::new(&req).identity_policies(&deny));
    assert_eq!(d.kind, DecisionKind::Allowed);
    assert!(matches!(d.reason, Reason::ServiceFact(_)));
    assert!(d.to_string().contains("needs no permission"));
}

#[test]
fn not_action_and_not_resource() {
    let p = named(json!({"Statement": [
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::allowed/*"}
    ]}));
    let user = "arn:aws:iam::111122223333:user/alice";
    let eval = |a: &str, r: &str| {
        let req = Request::new(user, a, r);
        evaluate(&EvaluationInput::new(&req).identity_policies(&p)).kind
    };
    assert_eq!(eval("ec2:RunInstances", "*"), DecisionKind::Allowed);
    assert_eq!(eval("iam:CreateUser", "*"), DecisionKind::ImplicitlyDenied);
    assert_eq!(
        eval("s3:GetObject", "arn:aws:s3:::allowed/k"),
        DecisionKind::Allowed
    );
    assert_eq!(
        eval("s3:GetObject", "arn:aws:s3:::other/k"),
        DecisionKind::ExplicitlyDenied
    );
}

#[test]
fn unresolved_variable_in_resource_does_not_match() {
    let p = named(json!({"Version": "2012-10-17", "Statement":
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}*"}}));
    let role = "arn:aws:sts::111122223333:assumed-role/R/s";
    let req = Request::new(role, "s3:GetObject", "arn:aws:s3:::home/anything");
    let d = evaluate(&EvaluationInput::new(&req).identity_policies(&p));
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
    let req = req.with_context(Context::new().with("aws:username", "any"));
    let d = evaluate(&EvaluationInput::new(&req).identity_policies(&p));
    assert_eq!(d.kind, DecisionKind::Allowed);
}

#[test]
fn decision_json_has_detail() {
    let trust = web_identity_trust();
    let req = web_request(OIDC, "nope");
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    let j = d.to_json();
    assert_eq!(j["reason"], "noAllow");
    assert_eq!(j["layer"], "trust");
    assert_eq!(j["failedConditions"][0]["key"], "oidc.example.com:sub");
    assert_eq!(j["failedConditions"][0]["actual"][0], "nope");
    assert_eq!(j["nearMisses"][0]["statement"]["sid"], "AllowLocalOps");
    assert_eq!(
        j["nearMisses"][0]["statement"]["statement"]["Effect"],
        "Allow"
    );
}

#[test]
fn statement_principal_with_several_types() {
    let trust = policy(json!({"Statement": {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice", "Federated": OIDC, "Service": "ec2.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]
    }}));
    for (principal, action) in [
        ("arn:aws:iam::111122223333:user/alice", "sts:AssumeRole"),
        (OIDC, "sts:AssumeRoleWithWebIdentity"),
        ("ec2.amazonaws.com", "sts:AssumeRole"),
    ] {
        let req = Request::new(principal, action, ROLE);
        let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
        assert_eq!(d.kind, DecisionKind::Allowed, "{principal}: {d}");
    }
    let req = Request::new("lambda.amazonaws.com", "sts:AssumeRole", ROLE);
    let d = evaluate(&EvaluationInput::new(&req).trust_policy(&trust));
    assert_eq!(d.kind, DecisionKind::ImplicitlyDenied);
}
