//! Canonical form of policy documents, to compare what is deployed with what is expected by
//! meaning rather than by bytes.
//!
//! Objects get sorted keys; a single `Statement` object becomes a one-element array and the
//! statements are sorted; `Action`, `NotAction`, `Resource`, `NotResource`, each principal
//! type's list and each condition key's values become sorted arrays of unique strings (a
//! single string and a one-element array mean the same to IAM, and so do `true` and
//! `"true"`); a bare 12-digit account in `Principal.AWS` becomes its `:root` ARN (IAM stores
//! it so). Everything else is kept as is.

use serde_json::{Map, Value};

/// The canonical JSON text of a policy document, or `None` when it is not JSON.
pub(crate) fn canonical_policy(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    serde_json::to_string(&canonical_document(&v)).ok()
}

fn sorted_object(map: &Map<String, Value>, f: impl Fn(&str, &Value) -> Value) -> Value {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = map.get(k) {
            out.insert(k.clone(), f(k, v));
        }
    }
    Value::Object(out)
}

/// Sorted keys all the way down, arrays kept in order.
fn sorted_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => sorted_object(m, |_, v| sorted_keys(v)),
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(&sorted_keys(other)).unwrap_or_default(),
    }
}

/// A string or an array of scalars as a sorted array of unique strings.
fn string_set(v: &Value, map: impl Fn(String) -> String) -> Value {
    let mut items: Vec<String> = match v {
        Value::Array(items) => items.iter().map(scalar_text).map(&map).collect(),
        other => vec![map(scalar_text(other))],
    };
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

fn account_root(s: String) -> String {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("arn:aws:iam::{s}:root")
    } else {
        s
    }
}

fn canonical_principal(v: &Value) -> Value {
    match v {
        Value::Object(m) => sorted_object(m, |k, v| {
            if k == "AWS" {
                string_set(v, account_root)
            } else {
                string_set(v, |s| s)
            }
        }),
        other => sorted_keys(other),
    }
}

fn canonical_condition(v: &Value) -> Value {
    match v {
        Value::Object(ops) => sorted_object(ops, |_, block| match block {
            Value::Object(keys) => sorted_object(keys, |_, values| string_set(values, |s| s)),
            other => sorted_keys(other),
        }),
        other => sorted_keys(other),
    }
}

fn canonical_statement(v: &Value) -> Value {
    match v {
        Value::Object(m) => sorted_object(m, |k, v| match k {
            "Action" | "NotAction" | "Resource" | "NotResource" => string_set(v, |s| s),
            "Principal" | "NotPrincipal" => canonical_principal(v),
            "Condition" => canonical_condition(v),
            _ => sorted_keys(v),
        }),
        other => sorted_keys(other),
    }
}

fn canonical_document(v: &Value) -> Value {
    match v {
        Value::Object(m) => sorted_object(m, |k, v| {
            if k != "Statement" {
                return sorted_keys(v);
            }
            let statements: Vec<&Value> = match v {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let mut canon: Vec<(String, Value)> = statements
                .into_iter()
                .map(|s| {
                    let c = canonical_statement(s);
                    (serde_json::to_string(&c).unwrap_or_default(), c)
                })
                .collect();
            canon.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Array(canon.into_iter().map(|(_, c)| c).collect())
        }),
        other => sorted_keys(other),
    }
}

/// Whether two policy documents mean the same (canonical forms equal; texts that are not JSON
/// compare trimmed).
pub(crate) fn same_policy(a: &str, b: &str) -> bool {
    match (canonical_policy(a), canonical_policy(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}
