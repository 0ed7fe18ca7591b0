//! Property tests (proptest, fixed seed so runs are reproducible).

mod common;

use iam_policy::{Context, DecisionKind, EvaluationInput, NamedPolicy, Policy, Request, evaluate};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x10CA_1095),
        failure_persistence: None,
        ..Config::default()
    }
}

fn actions() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "ec2:RunInstances",
        "ec2:DescribeVpcs",
        "iam:CreateUser",
        "kms:Decrypt",
        "sts:AssumeRole",
    ])
    .prop_map(str::to_owned)
}

fn resources() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "arn:aws:s3:::data/report.txt",
        "arn:aws:s3:::data",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
        "arn:aws:iam::111122223333:role/target",
        "arn:aws:kms:eu-west-1:111122223333:key/k1",
        "*",
    ])
    .prop_map(str::to_owned)
}

fn action_patterns() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(vec![
            "*",
            "s3:*",
            "s3:Get*",
            "ec2:*",
            "ec2:Describe*",
            "iam:Create?ser",
            "kms:Decrypt",
            "sts:*",
            "*:GetObject",
        ])
        .prop_map(str::to_owned),
        1..3,
    )
}

fn resource_patterns() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(vec![
            "*",
            "arn:aws:s3:::data/*",
            "arn:aws:s3:::data",
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:iam::*:role/*",
            "arn:aws:kms:*:111122223333:key/*",
        ])
        .prop_map(str::to_owned),
        1..3,
    )
}

fn conditions() -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(
        0.4,
        prop::sample::select(vec![
            json!({"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}),
            json!({"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}),
            json!({"Bool": {"aws:SecureTransport": true}}),
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            json!({"Null": {"aws:TokenIssueTime": "true"}}),
            json!({"ForAllValues:StringLike": {"aws:TagKeys": ["env*", "team"]}}),
        ]),
    )
}

fn statement(effect: &'static str) -> impl Strategy<Value = Value> {
    (action_patterns(), resource_patterns(), conditions()).prop_map(move |(a, r, c)| {
        let mut s = json!({"Effect": effect, "Action": a, "Resource": r});
        if let Some(c) = c {
            s["Condition"] = c;
        }
        s
    })
}

fn any_statement() -> impl Strategy<Value = Value> {
    prop_oneof![3 => statement("Allow"), 1 => statement("Deny")]
}

fn policy_docs() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        prop::collection::vec(any_statement(), 1..4)
            .prop_map(|s| json!({"Version": "2012-10-17", "Statement": s})),
        0..4,
    )
}

fn context() -> impl Strategy<Value = Context> {
    (
        prop::sample::select(vec!["eu-west-1", "us-east-1", "ap-south-1"]),
        prop::option::of(prop::sample::select(vec!["ops", "dev"])),
        prop::sample::select(vec!["true", "false"]),
        prop::sample::select(vec!["10.1.2.3", "192.0.2.1"]),
        prop::collection::vec(
            prop::sample::select(vec!["env", "environment", "team", "cost"]),
            0..3,
        ),
    )
        .prop_map(|(region, team, tls, ip, tags)| {
            let mut c = Context::new()
                .with("aws:RequestedRegion", region)
                .with("aws:SecureTransport", tls)
                .with("aws:SourceIp", ip)
                .with_multi("aws:TagKeys", tags);
            if let Some(t) = team {
                c.insert("aws:PrincipalTag/team", t);
            }
            c
        })
}

fn named(docs: &[Value]) -> Vec<NamedPolicy> {
    docs.iter()
        .map(|d| NamedPolicy::unnamed(Policy::from_value(d).expect("generated policy is valid")))
        .collect()
}

fn decide(docs: &[Value], req: &Request) -> DecisionKind {
    let policies = named(docs);
    evaluate(&EvaluationInput::new(req).identity_policies(&policies)).kind
}

proptest! {
    #![proptest_config(config())]

    /// An applicable Deny wins over any set of allows.
    #[test]
    fn deny_always_wins(docs in policy_docs(), action in actions(), resource in resources(), ctx in context()) {
        let req = Request::new(ALICE, &action, &resource).with_context(ctx);
        let mut with_deny = docs.clone();
        with_deny.push(json!({"Statement": {"Effect": "Deny", "Action": action, "Resource": "*"}}));
        prop_assert_eq!(decide(&with_deny, &req), DecisionKind::ExplicitlyDenied);
    }

    /// Adding an Allow statement never turns Allowed into a denial, nor removes an explicit deny.
    #[test]
    fn adding_an_allow_is_monotonic(docs in policy_docs(), extra in statement("Allow"),
                                   action in actions(), resource in resources(), ctx in context()) {
        let req = Request::new(ALICE, &action, &resource).with_context(ctx);
        let before = decide(&docs, &req);
        let mut more = docs.clone();
        more.push(json!({"Version": "2012-10-17", "Statement": extra}));
        let after = decide(&more, &req);
        if before == DecisionKind::Allowed {
            prop_assert_eq!(after, DecisionKind::Allowed);
        }
        if before == DecisionKind::ExplicitlyDenied {
            prop_assert_eq!(after, DecisionKind::ExplicitlyDenied);
        }
    }

    /// Action names compare case-insensitively, on either side.
    #[test]
    fn action_matching_is_case_insensitive(docs in policy_docs(), action in actions(),
                                           flips in prop::collection::vec(any::<bool>(), 32),
                                           resource in resources(), ctx in context()) {
        let mangled: String = action
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let a = Request::new(ALICE, &action, &resource).with_context(ctx.clone());
        let b = Request::new(ALICE, &mangled, &resource).with_context(ctx);
        prop_assert_eq!(decide(&docs, &a), decide(&docs, &b));
    }

    /// `Action: "*"` with `Resource: "*"` allows any request.
    #[test]
    fn star_allows_everything(svc in "[a-z][a-z0-9-]{0,12}", name in "[A-Za-z]{1,20}",
                              resource in "(\\*|arn:aws:[a-z0-9]{1,8}:[a-z0-9-]{0,9}:[0-9]{0,12}:[ -~]{0,30})") {
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        let req = Request::new(ALICE, format!("{svc}:{name}"), resource);
        prop_assert_eq!(decide(&[doc], &req), DecisionKind::Allowed);
    }

    /// On a present key, a Not operator decides the opposite of its positive operator.
    #[test]
    fn not_operator_negates_positive(
        pair in prop::sample::select(vec![
            ("StringEquals", "StringNotEquals"),
            ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"),
            ("StringLike", "StringNotLike"),
            ("NumericEquals", "NumericNotEquals"),
            ("DateEquals", "DateNotEquals"),
            ("IpAddress", "NotIpAddress"),
            ("ArnLike", "ArnNotLike"),
            ("ArnEquals", "ArnNotEquals"),
        ]),
        policy_values in prop::collection::vec(prop::sample::select(vec![
            "a", "A", "a*", "?", "10", "10.0", "2020-01-01", "1577836800", "10.0.0.0/8",
            "arn:aws:s3:::a*", "arn:aws:iam::*:role/r", "b",
        ]), 1..4),
        actual in prop::collection::vec(prop::sample::select(vec![
            "a", "A", "ab", "10", "1e1", "2020-01-01T00:00:00Z", "1577836800", "10.2.3.4",
            "arn:aws:s3:::abc", "arn:aws:iam::1:role/r", "arn:aws:iam::1:x:role/r", "b", "",
        ]), 1..3),
    ) {
        let (positive, negative) = pair;
        let run = |op: &str| {
            let doc = json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                              "Condition": {op: {"k": policy_values.clone()}}}});
            let Ok(policy) = Policy::from_value(&doc) else { return None };
            let policies = [NamedPolicy::unnamed(policy)];
            let req = Request::new(ALICE, "s3:GetObject", "*")
                .with_context(Context::new().with_multi("k", actual.clone()));
            Some(evaluate(&EvaluationInput::new(&req).identity_policies(&policies)).kind)
        };
        // Values invalid for the operator (a non-number for Numeric...) are parse errors for both.
        match (run(positive), run(negative)) {
            (Some(p), Some(n)) => prop_assert_ne!(p == DecisionKind::Allowed, n == DecisionKind::Allowed),
            (None, None) => {}
            (p, n) => prop_assert!(false, "only one parsed: {:?} {:?}", p, n),
        }
    }

    /// A StringLike pattern made by replacing runs of a value with `*` matches the value.
    #[test]
    fn star_runs_match_their_source(value in "[a-z/:._-]{0,24}", cuts in prop::collection::vec((0usize..25, 0usize..6), 0..4)) {
        let mut chars: Vec<String> = value.chars().map(String::from).collect();
        for (at, len) in cuts {
            let at = at.min(chars.len());
            let end = (at + len).min(chars.len());
            chars.splice(at..end, [String::from("*")]);
        }
        let pattern: String = chars.concat();
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
                          "Condition": {"StringLike": {"k": pattern}}}});
        let req = Request::new(ALICE, "s3:GetObject", "*").with_context(Context::new().with("k", value));
        prop_assert_eq!(decide(&[doc], &req), DecisionKind::Allowed);
    }

    /// Evaluation is deterministic, explanation included.
    #[test]
    fn deterministic(docs in policy_docs(), action in actions(), resource in resources(), ctx in context()) {
        let req = Request::new(ALICE, &action, &resource).with_context(ctx);
        let policies = named(&docs);
        let a = evaluate(&EvaluationInput::new(&req).identity_policies(&policies));
        let b = evaluate(&EvaluationInput::new(&req).identity_policies(&policies));
        prop_assert_eq!(a.to_string(), b.to_string());
        prop_assert_eq!(a.to_json(), b.to_json());
    }

    /// Any text is answered by a policy or an error, never a panic.
    #[test]
    fn parse_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::parse(&text);
    }

    /// Policy-shaped JSON with arbitrary values is answered by a policy or an error.
    #[test]
    fn parse_never_panics_on_policy_shapes(doc in policy_shaped()) {
        if let Ok(p) = Policy::from_value(&doc) {
            let req = Request::new(ALICE, "s3:GetObject", "arn:aws:s3:::b/k");
            let policies = [NamedPolicy::unnamed(p)];
            let _ = evaluate(&EvaluationInput::new(&req).identity_policies(&policies)).to_string();
        }
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "*",
            "Allow",
            "Deny",
            "s3:*",
            "arn:aws:s3:::b/*",
            "${aws:username}",
            "${",
            "arn:",
            "2012-10-17",
            "10.0.0.0/8",
            "true",
        ])
        .prop_map(Value::from),
    ]
}

fn policy_shaped() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "Version",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "Sid",
        "AWS",
        "Federated",
        "StringEquals",
        "ForAllValues:StringLike",
        "NumericLessThan",
        "Null",
        "ArnLike",
        "IpAddress",
        "k",
    ]);
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

#[test]
fn common_helpers_are_used() {
    // Keeps the shared helper module exercised from this test crate too.
    let case = json!({"request": {"action": "sts:GetCallerIdentity"}});
    assert_eq!(common::kind(&case), DecisionKind::Allowed);
}
