//! Differential test: the engine against a simple reference evaluator
//! (`differential/reference.rs`) on many generated cases (seeded, deterministic).

mod common;
#[path = "differential/generate.rs"]
mod generate;
#[path = "differential/reference.rs"]
mod reference;

use iam_policy::DecisionKind;
use reference::Outcome;
use serde_json::Value;

const CASES: u64 = 20_000;
const SEED: u64 = 0x1A4_B0C5;

fn as_list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

#[test]
fn engine_agrees_with_reference() {
    let mut rng = generate::Rng::new(SEED);
    let mut counts = [0usize; 3];
    let mut failures = Vec::new();
    for n in 0..CASES {
        let case = generate::case(&mut rng);
        let got = common::eval(&case);
        let r = &case["request"];
        let ctx = reference::Ctx::from_json(&r["context"]);
        let req = reference::Req {
            principal: r["principal"].as_str().unwrap_or_default(),
            action: r["action"].as_str().unwrap_or_default(),
            resource: r["resource"].as_str().unwrap_or_default(),
            ctx: &ctx,
        };
        let trust = match &case["trust"] {
            Value::Null => None,
            t => Some(t),
        };
        let want = reference::decide(
            &as_list(&case["identity"]),
            trust,
            &as_list(&case["boundary"]),
            &as_list(&case["scps"]),
            &req,
        );
        let got_outcome = match got.kind {
            DecisionKind::Allowed => Outcome::Allowed,
            DecisionKind::ImplicitlyDenied => Outcome::ImplicitlyDenied,
            DecisionKind::ExplicitlyDenied => Outcome::ExplicitlyDenied,
        };
        counts[got_outcome as usize] += 1;
        if got_outcome != want {
            failures.push(format!(
                "case {n}: engine {got_outcome:?}, reference {want:?}\n  {case}\n  {got}"
            ));
            continue;
        }
        // An explicit deny must name a Deny statement that the reference finds applicable.
        if let (DecisionKind::ExplicitlyDenied, Some(d)) = (got.kind, &got.deciding) {
            let layer_policies = match d.layer {
                iam_policy::PolicyLayer::Identity => as_list(&case["identity"]),
                iam_policy::PolicyLayer::PermissionsBoundary => as_list(&case["boundary"]),
                iam_policy::PolicyLayer::Scp => as_list(&case["scps"]),
                iam_policy::PolicyLayer::Trust => vec![case["trust"].clone()],
            };
            let layer = reference::layer(&layer_policies, &req);
            if !layer
                .denied_by
                .contains(&(d.policy_index, d.statement_index))
            {
                failures.push(format!(
                    "case {n}: deciding statement {d} is not an applicable Deny\n  {case}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CASES} cases disagree; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The generator must exercise every outcome.
    for (i, c) in counts.iter().enumerate() {
        assert!(
            *c as u64 > CASES / 20,
            "outcome {i} seen only {c} times: {counts:?}"
        );
    }
    eprintln!("differential: {CASES} cases agree; allowed/implicit/explicit = {counts:?}");
}
