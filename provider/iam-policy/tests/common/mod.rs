//! Helpers shared by the integration tests: build an evaluation from JSON.

#![allow(dead_code)]

use iam_policy::{Context, Decision, DecisionKind, EvaluationInput, NamedPolicy, Policy, Request};
use serde_json::Value;

pub fn policy(v: &Value) -> Policy {
    Policy::from_value(v).unwrap_or_else(|e| panic!("invalid test policy {v}: {e}"))
}

pub fn policies(v: &Value) -> Vec<NamedPolicy> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|p| NamedPolicy::unnamed(policy(p)))
            .collect(),
        single => vec![NamedPolicy::unnamed(policy(single))],
    }
}

pub fn context(v: &Value) -> Context {
    let mut ctx = Context::new();
    if let Value::Object(map) = v {
        for (k, val) in map {
            match val {
                Value::Array(items) => ctx.insert_multi(
                    k.clone(),
                    items
                        .iter()
                        .map(|i| i.as_str().unwrap_or_default().to_owned()),
                ),
                Value::String(s) => ctx.insert(k.clone(), s.clone()),
                other => ctx.insert(k.clone(), other.to_string()),
            }
        }
    }
    ctx
}

/// Evaluates a case written as
/// `{"identity": .., "trust": .., "boundary": .., "scps": .., "request": {principal, action,
/// resource, context, resourceAccount}}`.
pub fn eval(case: &Value) -> Decision {
    let r = &case["request"];
    let mut request = Request::new(
        r["principal"]
            .as_str()
            .unwrap_or("arn:aws:iam::111122223333:user/alice"),
        r["action"].as_str().expect("action"),
        r["resource"].as_str().unwrap_or("*"),
    )
    .with_context(context(&r["context"]));
    if let Some(acct) = r["resourceAccount"].as_str() {
        request = request.with_resource_account(acct);
    }
    let identity = policies(&case["identity"]);
    let boundary = policies(&case["boundary"]);
    let scps = policies(&case["scps"]);
    let trust = match &case["trust"] {
        Value::Null => None,
        t => Some(policy(t)),
    };
    let mut input = EvaluationInput::new(&request)
        .identity_policies(&identity)
        .permissions_boundary(&boundary)
        .scps(&scps);
    if let Some(t) = &trust {
        input = input.trust_policy(t);
    }
    iam_policy::evaluate(&input)
}

pub fn kind(case: &Value) -> DecisionKind {
    eval(case).kind
}
