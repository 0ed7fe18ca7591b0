//! Policy documents as compared in plans: a canonical text (object keys sorted, compact) and
//! a semantic equality that ignores what IAM treats as the same (key order, whitespace, a
//! one-element list versus its element).

use serde_json::{Map, Value};

/// Keys sorted recursively, compact. Text that is not JSON is returned as it is.
pub fn canonical(document: &str) -> String {
    match serde_json::from_str::<Value>(document) {
        Ok(value) => serde_json::to_string(&sorted(&value)).unwrap_or_else(|_| document.to_owned()),
        Err(_) => document.to_owned(),
    }
}

/// The canonical text of a JSON value.
pub fn canonical_value(value: &Value) -> String {
    serde_json::to_string(&sorted(value)).unwrap_or_default()
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                if let Some(v) = fields.get(key) {
                    out.insert(key.clone(), sorted(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// One-element lists become their element, recursively.
fn loose(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), loose(v))).collect())
        }
        Value::Array(items) if items.len() == 1 => loose(&items[0]),
        Value::Array(items) => Value::Array(items.iter().map(loose).collect()),
        other => other.clone(),
    }
}

/// True when both documents say the same to IAM (or, when either is not JSON, are the same
/// text).
pub fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => loose(&a) == loose(&b),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_and_compacts() {
        assert_eq!(
            canonical(r#"{ "b": 1, "a": {"d": [2], "c": 3} }"#),
            r#"{"a":{"c":3,"d":[2]},"b":1}"#
        );
        assert_eq!(canonical("not json"), "not json");
    }

    #[test]
    fn semantic_equality() {
        assert!(same_document(
            r#"{"Statement":[{"Action":"sts:X","Effect":"Allow"}],"Version":"2012-10-17"}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["sts:X"]}}"#
        ));
        assert!(!same_document(r#"{"a":"x"}"#, r#"{"a":"y"}"#));
        assert!(!same_document("", r#"{"a":"y"}"#));
    }
}
