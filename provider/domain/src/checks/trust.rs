//! The trust policy: LocalOps may assume the role; nobody else may.

use iam_policy::{
    Context, Decision, DecisionKind, EvaluationInput, NamedPolicy, Policy, PolicyKind, Request,
    StatementRef, evaluate,
};
use serde_json::Value;

use super::{CheckField, Finding, Mode, StaticCheckInput, iam_policy_chars};

const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";

/// Host of the issuer used to probe that another identity provider is refused.
const OTHER_ISSUER_HOST: &str = "oidc.other-issuer.example";

/// What to evaluate.
pub(super) struct TrustSetup<'a> {
    pub mode: Mode,
    pub input: &'a StaticCheckInput,
    /// The trust policy document (JSON).
    pub document: &'a str,
    /// The OIDC provider STS presents as the principal.
    pub provider_arn: &'a str,
    pub role_arn: String,
    /// Size limit to check (static only: IAM enforces it on what is deployed).
    pub max_chars: Option<usize>,
}

/// The web identity request STS evaluates for a token of `host` with these claims.
fn web_request(provider_arn: &str, role_arn: &str, host: &str, aud: &str, sub: &str) -> Request {
    Request::new(provider_arn, WEB_IDENTITY, role_arn).with_context(
        Context::new()
            .with(format!("{host}:aud"), aud)
            .with(format!("{host}:sub"), sub)
            .with("aws:FederatedProvider", provider_arn),
    )
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The operators of a statement's conditions on `key` (case-insensitive), as written.
fn operators_on(statement: &Value, key: &str) -> Vec<String> {
    let Some(ops) = statement.get("Condition").and_then(Value::as_object) else {
        return Vec::new();
    };
    ops.iter()
        .filter(|(_, block)| {
            block
                .as_object()
                .is_some_and(|b| b.keys().any(|k| k.eq_ignore_ascii_case(key)))
        })
        .map(|(op, _)| op.clone())
        .collect()
}

fn statement_text(s: &StatementRef) -> String {
    format!("{s}: {}", compact(&s.statement))
}

/// What decided `d`: the deciding statement with its text, or the decision itself when no
/// single statement did.
fn decided_by(d: &Decision) -> String {
    d.deciding
        .as_ref()
        .map(statement_text)
        .unwrap_or_else(|| d.to_string())
}

/// Which connection setting a failed trust evaluation points at.
fn field_of(decision: &Decision, host: &str) -> CheckField {
    let sub = format!("{host}:sub").to_ascii_lowercase();
    let aud = format!("{host}:aud").to_ascii_lowercase();
    if let Some(miss) = decision.near_misses.first() {
        if miss.principal_mismatch {
            return CheckField::OidcProvider;
        }
        let keys: Vec<String> = miss
            .failed_conditions
            .iter()
            .map(|c| c.key.to_ascii_lowercase())
            .collect();
        if keys.iter().all(|k| *k == sub) && !keys.is_empty() {
            return CheckField::Subject;
        }
        if keys.iter().all(|k| *k == aud) && !keys.is_empty() {
            return CheckField::Audience;
        }
    }
    CheckField::TrustPolicy
}

pub(super) fn check(setup: &TrustSetup<'_>, out: &mut Vec<Finding>) {
    let noun = setup.mode.trust_noun();
    let input = setup.input;
    if let Some(max) = setup.max_chars {
        let n = iam_policy_chars(setup.document);
        if n > max {
            out.push(Finding::error(
                CheckField::TrustPolicy,
                format!("{noun} has {n} characters, more than IAM's limit of {max}"),
                "IAM counts a role trust policy's characters without whitespace; the default \
                     quota is 2,048 and it can be raised to 4,096 through Service Quotas \
                     (\"Role trust policy length\"). Creating the role would fail."
                    .to_owned(),
            ));
        }
    }
    let policy = match Policy::parse_as(setup.document, PolicyKind::ResourceBased) {
        Ok(p) => p,
        Err(e) => {
            out.push(Finding::error(
                CheckField::TrustPolicy,
                format!("{noun} is not a valid IAM policy"),
                format!("{e}."),
            ));
            return;
        }
    };
    let host = input.issuer_host();
    let role_arn = setup.role_arn.as_str();
    let partition = iam_policy::split_arn(role_arn)
        .map(|p| p[1].to_owned())
        .unwrap_or_else(|| input.permissions.partition.clone());
    let account = iam_policy::arn_account(role_arn)
        .unwrap_or(input.account())
        .to_owned();
    let trust_eval = |req: &Request| evaluate(&EvaluationInput::new(req).trust_policy(&policy));

    // LocalOps itself.
    let request = web_request(
        setup.provider_arn,
        role_arn,
        &host,
        &input.audience,
        &input.subject,
    );
    let decision = trust_eval(&request);
    if !decision.is_allowed() {
        let how = if decision.kind == DecisionKind::ExplicitlyDenied {
            "explicitly denies"
        } else {
            "does not allow"
        };
        let mut detail = format!(
            "{decision}. LocalOps' token has iss {}, aud {:?} and sub {:?}; STS evaluates it as \
             {} calling {WEB_IDENTITY} on {role_arn} with {host}:aud and {host}:sub.",
            input.issuer_url, input.audience, input.subject, setup.provider_arn
        );
        if !decision.failed_conditions.is_empty() {
            let failed: Vec<String> = decision
                .failed_conditions
                .iter()
                .map(ToString::to_string)
                .collect();
            detail.push_str(&format!(" Failed: {}.", failed.join("; ")));
        }
        if setup.mode == Mode::Live {
            detail.push_str(
                " The trust policy was changed outside Terraform; applying restores the \
                 connection's.",
            );
        }
        out.push(Finding::error(
            field_of(&decision, &host),
            format!("LocalOps cannot assume the role: {noun} {how} its token"),
            detail,
        ));
    }

    // Other subjects of the same issuer (the confused-deputy guard): made-up ones, and every
    // value the document's own conditions on the subject name.
    let sub_key = format!("{host}:sub");
    let document: Value = serde_json::from_str(setup.document).unwrap_or(Value::Null);
    let (sub_tested, sub_values) = allow_condition_values(&document, &sub_key);
    let listed_values: Vec<String> = sub_values
        .iter()
        .filter(|v| !v.contains(['*', '?']))
        .cloned()
        .collect();
    let subjects = distinct_probes(
        &input.subject,
        [
            format!("{}-other", input.subject),
            format!("other-{}", input.subject),
            "connection:someone-else".to_owned(),
        ]
        .into_iter()
        .chain(sub_values.iter().map(|v| fill_wildcards(v))),
    );
    let admitted: Vec<(String, Decision)> = subjects
        .into_iter()
        .map(|s| {
            let d = trust_eval(&web_request(
                setup.provider_arn,
                role_arn,
                &host,
                &input.audience,
                &s,
            ));
            (s, d)
        })
        .filter(|(_, d)| d.is_allowed())
        .collect();
    if let Some((_, first)) = admitted.first() {
        let names: Vec<String> = admitted.iter().map(|(s, _)| format!("{s:?}")).collect();
        let key = &sub_key;
        let stmt = first.deciding.as_ref();
        let ops = stmt
            .map(|s| operators_on(&s.statement, key))
            .unwrap_or_default();
        let by = decided_by(first);
        let live = if setup.mode == Mode::Live {
            " The trust policy was changed outside Terraform; applying restores the connection's."
        } else {
            ""
        };
        if ops.is_empty() {
            out.push(Finding::error(
                CheckField::TrustPolicy,
                format!("{noun} does not test the subject ({key}): any identity of the issuer can assume the role"),
                format!(
                    "Tokens of {} with sub {} are allowed by {by}. Every connection of every \
                     LocalOps customer gets tokens from this issuer; only a condition \
                     StringEquals {key} = {:?} keeps the others out.{live}",
                    input.issuer_url,
                    names.join(", "),
                    input.subject
                ),
            ));
        } else {
            let like = ops
                .iter()
                .any(|o| o.to_ascii_lowercase().contains("stringlike"));
            let also: Vec<String> = admitted
                .iter()
                .filter(|(s, _)| listed_values.contains(s))
                .map(|(s, _)| format!("{s:?}"))
                .collect();
            let hint = if like {
                format!(
                    "Its condition on {key} uses StringLike, whose * and ? match other subjects; \
                     use StringEquals with the exact subject {:?}.",
                    input.subject
                )
            } else if !also.is_empty() {
                let lists = if sub_values.contains(&input.subject) {
                    "also lists"
                } else {
                    "lists"
                };
                format!(
                    "Its condition on {key} {lists} {}; only {:?} is LocalOps' subject for this \
                     connection, and any other subject belongs to another connection.",
                    also.join(", "),
                    input.subject
                )
            } else {
                format!(
                    "Its condition on {key} ({}) matches more than {:?}; use StringEquals with \
                     the exact subject.",
                    ops.join(", "),
                    input.subject
                )
            };
            out.push(Finding::error(
                CheckField::Subject,
                format!("{noun} lets other subjects of the issuer assume the role"),
                format!(
                    "Tokens with sub {} are allowed by {by}. {hint}{live}",
                    names.join(", ")
                ),
            ));
        }
    } else if !sub_tested {
        out.push(Finding::error(
            CheckField::TrustPolicy,
            format!(
                "{noun} does not test the subject ({sub_key}): any identity of the issuer can \
                 assume the role"
            ),
            format!(
                "No Allow statement of {noun} has a condition on {sub_key}. Every connection of \
                 every LocalOps customer gets tokens from {}; only a condition StringEquals \
                 {sub_key} = {:?} keeps the others out.",
                input.issuer_url, input.subject
            ),
        ));
    }

    // Other audiences.
    let audiences = distinct_probes(
        &input.audience,
        [
            format!("{}-other", input.audience),
            "other-audience".to_owned(),
        ],
    );
    let admitted: Vec<(String, Decision)> = audiences
        .into_iter()
        .map(|a| {
            let d = trust_eval(&web_request(
                setup.provider_arn,
                role_arn,
                &host,
                &a,
                &input.subject,
            ));
            (a, d)
        })
        .filter(|(_, d)| d.is_allowed())
        .collect();
    if let Some((_, first)) = admitted.first() {
        let names: Vec<String> = admitted.iter().map(|(a, _)| format!("{a:?}")).collect();
        let key = format!("{host}:aud");
        let stmt = first.deciding.as_ref();
        let tested = stmt.is_some_and(|s| !operators_on(&s.statement, &key).is_empty());
        let by = decided_by(first);
        let summary = if tested {
            format!("{noun} lets tokens for other audiences assume the role")
        } else {
            format!("{noun} does not test the audience ({key})")
        };
        out.push(Finding::error(
            CheckField::Audience,
            summary,
            format!(
                "Tokens with aud {} are allowed by {by}. Tokens meant for another client of the \
                 issuer must not open this role: test StringEquals {key} = {:?}.",
                names.join(", "),
                input.audience
            ),
        ));
    }

    // Another identity provider.
    let other_host = if host == OTHER_ISSUER_HOST {
        "oidc.another-issuer.example"
    } else {
        OTHER_ISSUER_HOST
    };
    let other_provider = format!("arn:{partition}:iam::{account}:oidc-provider/{other_host}");
    let d = trust_eval(&web_request(
        &other_provider,
        role_arn,
        other_host,
        &input.audience,
        &input.subject,
    ));
    if d.is_allowed() {
        let by = decided_by(&d);
        out.push(Finding::error(
            CheckField::TrustPolicy,
            format!("{noun} lets another identity provider's tokens assume the role"),
            format!(
                "A token of {other_host} (principal {other_provider}) is allowed by {by}. Name \
                 only LocalOps' OIDC provider {} as the Federated principal.",
                setup.provider_arn
            ),
        ));
    }

    // A principal of another AWS account.
    let other_account = if account == "999999999999" {
        "888888888888"
    } else {
        "999999999999"
    };
    let outsider = format!("arn:{partition}:sts::{other_account}:assumed-role/someone/probe");
    let allow_all = allow_everything();
    let request = Request::new(&outsider, "sts:AssumeRole", role_arn);
    let d = evaluate(
        &EvaluationInput::new(&request)
            .trust_policy(&policy)
            .identity_policies(&allow_all),
    );
    if d.is_allowed() {
        let by = decided_by(&d);
        out.push(Finding::error(
            CheckField::TrustPolicy,
            format!("{noun} lets principals of other AWS accounts assume the role"),
            format!(
                "{outsider} may call sts:AssumeRole on {role_arn}: allowed by {by}. LocalOps \
                 needs only {WEB_IDENTITY} from its OIDC provider."
            ),
        ));
    }
}

/// An identity policy allowing everything (what an outsider grants itself).
fn allow_everything() -> Vec<NamedPolicy> {
    Policy::parse(super::ADMINISTRATOR_ACCESS_DOCUMENT)
        .map(|p| vec![NamedPolicy::new("outsider", p)])
        .unwrap_or_default()
}

/// Most probe values tried per claim.
const MAX_PROBES: usize = 24;

/// The probe values that differ from `actual`, without repeats, in order.
fn distinct_probes(actual: &str, probes: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in probes {
        if out.len() == MAX_PROBES {
            break;
        }
        if p != actual && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn fill_wildcards(s: &str) -> String {
    s.replace('*', "localops").replace('?', "x")
}

/// Whether an Allow statement of the document has a condition on `key` (any operator, key
/// compared case-insensitively), and the string values those conditions name, in order.
fn allow_condition_values(document: &Value, key: &str) -> (bool, Vec<String>) {
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => Vec::new(),
    };
    let mut tested = false;
    let mut values = Vec::new();
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let Some(ops) = st.get("Condition").and_then(Value::as_object) else {
            continue;
        };
        for block in ops.values().filter_map(Value::as_object) {
            for (k, v) in block {
                if !k.eq_ignore_ascii_case(key) {
                    continue;
                }
                tested = true;
                match v {
                    Value::String(s) => values.push(s.clone()),
                    Value::Array(items) => {
                        values.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                    }
                    _ => {}
                }
            }
        }
    }
    (tested, values)
}
