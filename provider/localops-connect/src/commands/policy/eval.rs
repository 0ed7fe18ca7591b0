//! `localops-connect policy eval --jsonl`.
//!
//! Input, one JSON object per line:
//! `{"id": any, "identityPolicies": [<policy> | {"name": str, "policy": <policy>}],
//!   "trustPolicy": <policy> | null, "permissionsBoundary": [...], "scps": [...],
//!   "request": {"principal": str, "action": str, "resource": str,
//!               "context": {key: value | [values]}, "resourceAccount": str}}`
//! where `<policy>` is a JSON object or a string holding the document.
//!
//! Output, one line per non-blank input line, same order:
//! `{"id": ..., "decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied", "detail": {...}}`
//! or `{"id": ..., "decision": "Error", "detail": {"message": "..."}}` for an invalid line.

use iam_policy::{Context, EvaluationInput, NamedPolicy, Policy, PolicyKind, Request, evaluate};
use serde_json::{Map, Value, json};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct EvalArgs {
    /// Read JSON Lines requests on stdin and answer JSON Lines on stdout (required).
    #[arg(long)]
    jsonl: bool,
}

pub(crate) fn run(args: &EvalArgs) -> ExitCode {
    if !args.jsonl {
        crate::usage_error(
            "policy eval needs --jsonl (JSON Lines on stdin and stdout is the only format)",
        );
        return ExitCode::from(crate::USAGE);
    }
    let stdin = io::stdin();
    let stdout = io::stdout();
    match process(stdin.lock(), stdout.lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("localops-connect: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Answers every line of `input` on `output`, flushing after each answer.
pub(crate) fn process(mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let answer = match std::str::from_utf8(&buf) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => answer_line(line),
            Err(_) => error_answer(Value::Null, "the line is not valid UTF-8".to_owned()),
        };
        serde_json::to_writer(&mut output, &answer)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
}

fn error_answer(id: Value, message: String) -> Value {
    json!({"id": id, "decision": "Error", "detail": {"message": message}})
}

/// The answer to one input line.
pub(crate) fn answer_line(line: &str) -> Value {
    let value = match iam_policy::parse_json_strict(line) {
        Ok(v) => v,
        Err(e) => {
            // Still echo the id when the line is JSON that only the strict reading refuses
            // (a repeated key).
            let id = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .unwrap_or(Value::Null);
            return error_answer(id, format!("invalid JSON: {e}"));
        }
    };
    let Value::Object(obj) = value else {
        return error_answer(Value::Null, "each line must be a JSON object".to_owned());
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    match evaluate_line(&obj) {
        Ok(answer) => json!({
            "id": id,
            "decision": answer.kind.as_str(),
            "detail": answer.to_json(),
        }),
        Err(message) => error_answer(id, message),
    }
}

const LINE_KEYS: [&str; 6] = [
    "id",
    "identityPolicies",
    "trustPolicy",
    "permissionsBoundary",
    "scps",
    "request",
];

fn evaluate_line(obj: &Map<String, Value>) -> Result<iam_policy::Decision, String> {
    for key in obj.keys() {
        if !LINE_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "unknown field {key:?}; accepted fields: {}",
                LINE_KEYS.join(", ")
            ));
        }
    }
    let identity = policy_list(obj, "identityPolicies", PolicyKind::Identity)?;
    let boundary = policy_list(obj, "permissionsBoundary", PolicyKind::PermissionsBoundary)?;
    let scps = policy_list(obj, "scps", PolicyKind::ServiceControl)?;
    let trust = match obj.get("trustPolicy") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            policy_document(v, PolicyKind::ResourceBased)
                .map_err(|e| format!("trustPolicy: {e}"))?,
        ),
    };
    let request = request(obj.get("request"))?;
    let mut input = EvaluationInput::new(&request)
        .identity_policies(&identity)
        .permissions_boundary(&boundary)
        .scps(&scps);
    if let Some(t) = &trust {
        input = input.trust_policy(t);
    }
    Ok(evaluate(&input))
}

/// A policy given as a JSON object or as a string holding the document.
fn policy_document(v: &Value, kind: PolicyKind) -> Result<Policy, String> {
    let policy = match v {
        Value::Object(_) => Policy::from_value(v),
        Value::String(text) => Policy::parse(text),
        other => {
            return Err(format!(
                "expected a policy document (a JSON object or a string holding one), got {}",
                type_name(other)
            ));
        }
    }
    .map_err(|e| e.to_string())?;
    policy.validate_for(kind).map_err(|e| e.to_string())?;
    Ok(policy)
}

fn policy_list(
    obj: &Map<String, Value>,
    field: &str,
    kind: PolicyKind,
) -> Result<Vec<NamedPolicy>, String> {
    let items: Vec<&Value> = match obj.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => {
            return Err(format!(
                "{field}: expected an array of policies, got {}",
                type_name(other)
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| named_policy(item, kind).map_err(|e| format!("{field}[{i}]{e}")))
        .collect()
}

/// `<policy>` or `{"name": str, "policy": <policy>}`. Errors start with the name, if any.
fn named_policy(item: &Value, kind: PolicyKind) -> Result<NamedPolicy, String> {
    if let Value::Object(map) = item
        && let Some(inner) = map.get("policy")
        && !map.contains_key("Statement")
    {
        for key in map.keys() {
            if key != "name" && key != "policy" {
                return Err(format!(
                    ": unknown field {key:?} (a named policy has \"name\" and \"policy\")"
                ));
            }
        }
        let name = match map.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(format!(
                    ".name: expected a string, got {}",
                    type_name(other)
                ));
            }
        };
        let label = name
            .as_deref()
            .map(|n| format!(" ({n:?})"))
            .unwrap_or_default();
        let policy = policy_document(inner, kind).map_err(|e| format!("{label}: {e}"))?;
        return Ok(NamedPolicy { name, policy });
    }
    policy_document(item, kind)
        .map(NamedPolicy::unnamed)
        .map_err(|e| format!(": {e}"))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const REQUEST_KEYS: [&str; 5] = [
    "principal",
    "action",
    "resource",
    "context",
    "resourceAccount",
];

fn request(v: Option<&Value>) -> Result<Request, String> {
    let obj = match v {
        Some(Value::Object(obj)) => obj,
        None => return Err("missing field \"request\"".to_owned()),
        Some(other) => {
            return Err(format!(
                "request: expected an object, got {}",
                type_name(other)
            ));
        }
    };
    for key in obj.keys() {
        if !REQUEST_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "request: unknown field {key:?}; accepted fields: {}",
                REQUEST_KEYS.join(", ")
            ));
        }
    }
    let text = |field: &str| -> Result<String, String> {
        match obj.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(format!("request.{field}: must not be empty")),
            None => Err(format!("request: missing field {field:?}")),
            Some(other) => Err(format!(
                "request.{field}: expected a string, got {}",
                type_name(other)
            )),
        }
    };
    let principal = text("principal")?;
    let action = text("action")?;
    match action.split_once(':') {
        Some((svc, name)) if !svc.is_empty() && !name.is_empty() && !name.contains(':') => {}
        _ => {
            return Err(format!(
                "request.action: expected \"service:Action\" (such as \"sts:AssumeRole\"), got {action:?}"
            ));
        }
    }
    let resource = text("resource")?;
    if resource != "*" && iam_policy::split_arn(&resource).is_none() {
        return Err(format!(
            "request.resource: expected \"*\" or an ARN (arn:partition:service:region:account:resource), got {resource:?}"
        ));
    }
    let mut req = Request::new(principal, action, resource);
    match obj.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ctx)) => req.context = context(ctx)?,
        Some(other) => {
            return Err(format!(
                "request.context: expected an object of keys to a value or a list of values, got {}",
                type_name(other)
            ));
        }
    }
    match obj.get("resourceAccount") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req.resource_account = Some(s.clone()),
        Some(other) => {
            return Err(format!(
                "request.resourceAccount: expected a string, got {}",
                type_name(other)
            ));
        }
    }
    Ok(req)
}

/// Context values: strings; numbers and booleans read as their text; a list is a
/// multi-valued key.
fn context(obj: &Map<String, Value>) -> Result<Context, String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    let mut ctx = Context::new();
    for (key, v) in obj {
        let bad = |what: &Value| {
            format!(
                "request.context.{key}: expected a string, number, boolean or a list of them, got {}",
                type_name(what)
            )
        };
        match v {
            Value::Array(items) => {
                let values = items
                    .iter()
                    .map(|i| scalar(i).ok_or_else(|| bad(i)))
                    .collect::<Result<Vec<_>, _>>()?;
                ctx.insert_multi(key.clone(), values);
            }
            other => ctx.insert(key.clone(), scalar(other).ok_or_else(|| bad(other))?),
        }
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(v: Value) -> Value {
        answer_line(&v.to_string())
    }

    #[test]
    fn errors_keep_the_id() {
        let a = answer(
            json!({"id": 7, "request": {"principal": "x", "action": "bad", "resource": "*"}}),
        );
        assert_eq!(a["id"], 7);
        assert_eq!(a["decision"], "Error");
        assert!(
            a["detail"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("request.action")
        );
        let a = answer_line(r#"{"id": "d", "id": "e"}"#);
        assert_eq!(a["decision"], "Error");
        assert!(
            a["detail"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("duplicate key")
        );
        let a = answer_line("[1]");
        assert_eq!(a["id"], Value::Null);
    }

    #[test]
    fn policy_errors_name_the_policy() {
        let a = answer(json!({
            "id": 1,
            "identityPolicies": [{"name": "ops", "policy": {"Statement": {"Effect": "Allow", "Action": "s3"}}}],
            "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject", "resource": "*"}
        }));
        let msg = a["detail"]["message"].as_str().unwrap_or("").to_owned();
        assert!(
            msg.starts_with("identityPolicies[0] (\"ops\"): statement 0: Action"),
            "{msg}"
        );
    }

    #[test]
    fn policy_as_string_and_context_lists() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
            "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]},"Bool":{"aws:SecureTransport":true}}}}"#;
        let a = answer(json!({
            "id": "x",
            "identityPolicies": [doc],
            "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject",
                        "resource": "*", "context": {"aws:TagKeys": ["a"], "aws:SecureTransport": true}}
        }));
        assert_eq!(a["decision"], "Allowed", "{a}");
    }

    #[test]
    fn process_skips_blank_lines() {
        let input = b"\n{\"id\":1,\"request\":{\"principal\":\"p\",\"action\":\"s3:X\",\"resource\":\"*\"}}\n  \n";
        let mut out = Vec::new();
        process(&input[..], &mut out).expect("io");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"ImplicitlyDenied\""));
    }
}
