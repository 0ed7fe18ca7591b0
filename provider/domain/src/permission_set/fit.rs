//! Fitting statements into customer managed policies of limited size.
//!
//! Size is measured as the UTF-8 length of the compact JSON that is emitted. IAM counts
//! characters without whitespace, so this never undercounts: a document this module accepts is
//! within IAM's limit.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub(crate) type Statement = Map<String, Value>;

/// IAM policy language version of every document.
pub(crate) const POLICY_VERSION: &str = "2012-10-17";

/// Compact JSON of a value (infallible for JSON values, whose keys are strings).
pub(crate) fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn statement_len(s: &Statement) -> usize {
    compact(&Value::Object(s.clone())).len()
}

/// A policy document holding these statements.
pub(crate) fn document(statements: &[Statement]) -> Value {
    let mut doc = Map::new();
    doc.insert(
        "Version".to_owned(),
        Value::String(POLICY_VERSION.to_owned()),
    );
    doc.insert(
        "Statement".to_owned(),
        Value::Array(statements.iter().cloned().map(Value::Object).collect()),
    );
    Value::Object(doc)
}

/// Size of a document with no statement: what every document costs besides its statements.
pub(crate) fn document_overhead() -> usize {
    compact(&document(&[])).len()
}

/// A statement that is too large for a policy on its own and cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsplittable {
    /// Index in the input of [`split_oversized`].
    pub index: usize,
    pub size: usize,
    pub why: &'static str,
}

/// Splits every statement larger than `max_statement` into several with the same effect: an
/// Action list is divided among statements with the same Resource and Condition (Allow and Deny
/// both distribute over actions), and a Resource list likewise. Parts get the Sid of the original
/// with `Part1`, `Part2`, ... appended (skipping any Sid already used). NotAction lists and
/// NotResource lists cannot be divided.
pub(crate) fn split_oversized(
    statements: Vec<Statement>,
    max_statement: usize,
) -> Result<Vec<Statement>, Unsplittable> {
    let mut used_sids: BTreeSet<String> = statements
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut out = Vec::new();
    for (index, statement) in statements.into_iter().enumerate() {
        let size = statement_len(&statement);
        if size <= max_statement {
            out.push(statement);
            continue;
        }
        let sid = statement
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // Budget for the longest suffix parts can get.
        let mut probe = statement.clone();
        if let Some(sid) = &sid {
            probe.insert("Sid".to_owned(), Value::String(format!("{sid}Part9999")));
        }
        let parts = split_list(&probe, "Action", max_statement)
            .into_iter()
            .flat_map(|part| split_list(&part, "Resource", max_statement))
            .collect::<Vec<_>>();
        if parts.iter().any(|p| statement_len(p) > max_statement) {
            let list_len = |key: &str| match statement.get(key) {
                Some(v @ Value::Array(items)) if items.len() > 1 => compact(v).len(),
                _ => 0,
            };
            let (not_action, not_resource) = (list_len("NotAction"), list_len("NotResource"));
            let why = if not_action == 0 && not_resource == 0 {
                "even a single action and resource of it is too large"
            } else if not_action >= not_resource {
                "its NotAction list cannot be divided"
            } else {
                "its NotResource list cannot be divided"
            };
            return Err(Unsplittable { index, size, why });
        }
        let mut counter = 0usize;
        for mut part in parts {
            if let Some(sid) = &sid {
                let new_sid = loop {
                    counter += 1;
                    let candidate = format!("{sid}Part{counter}");
                    if used_sids.insert(candidate.clone()) {
                        break candidate;
                    }
                };
                part.insert("Sid".to_owned(), Value::String(new_sid));
            }
            out.push(part);
        }
    }
    Ok(out)
}

/// Divides the array under `key` among as few copies of `statement` as fit `max_statement`, in
/// order. Returns the statement unchanged when it fits or has no such array to divide.
fn split_list(statement: &Statement, key: &str, max_statement: usize) -> Vec<Statement> {
    let items = match statement.get(key) {
        Some(Value::Array(items)) if items.len() > 1 => items.clone(),
        _ => return vec![statement.clone()],
    };
    if statement_len(statement) <= max_statement {
        return vec![statement.clone()];
    }
    let mut empty = statement.clone();
    empty.insert(key.to_owned(), Value::Array(Vec::new()));
    let base = statement_len(&empty);
    let mut parts = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut current_len = base;
    for item in items {
        let cost = compact(&item).len() + usize::from(!current.is_empty());
        if !current.is_empty() && current_len + cost > max_statement {
            let mut part = statement.clone();
            part.insert(key.to_owned(), Value::Array(std::mem::take(&mut current)));
            parts.push(part);
            current_len = base;
        }
        current_len += compact(&item).len() + usize::from(!current.is_empty());
        current.push(item);
    }
    if !current.is_empty() {
        let mut part = statement.clone();
        part.insert(key.to_owned(), Value::Array(current));
        parts.push(part);
    }
    parts
}

/// Packs statements into documents of at most `max_document` bytes, first fit in order: each
/// statement goes into the first document with room for it, so statements keep their relative
/// order within a document. Every statement must fit an empty document on its own
/// ([`split_oversized`] sees to that).
pub(crate) fn pack(statements: Vec<Statement>, max_document: usize) -> Vec<Vec<Statement>> {
    let overhead = document_overhead();
    let mut documents: Vec<(Vec<Statement>, usize)> = Vec::new();
    for statement in statements {
        let len = statement_len(&statement);
        let slot = documents
            .iter()
            .position(|(stmts, size)| size + len + usize::from(!stmts.is_empty()) <= max_document);
        match slot {
            Some(i) => {
                let (stmts, size) = &mut documents[i];
                *size += len + usize::from(!stmts.is_empty());
                stmts.push(statement);
            }
            None => documents.push((vec![statement], overhead + len)),
        }
    }
    documents.into_iter().map(|(stmts, _)| stmts).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn st(v: Value) -> Statement {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn overhead_matches_serialization() {
        assert_eq!(
            document_overhead(),
            r#"{"Version":"2012-10-17","Statement":[]}"#.len()
        );
        let docs = pack(
            vec![
                st(json!({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"})),
                st(json!({"Effect":"Allow","Action":"s3:PutObject","Resource":"*"})),
            ],
            6144,
        );
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].len(), 2);
    }

    #[test]
    fn splits_actions_and_numbers_sids() {
        let actions: Vec<String> = (0..400).map(|i| format!("s3:Action{i:04}")).collect();
        let big = st(json!({"Sid":"Big","Effect":"Allow","Action":actions,"Resource":"*"}));
        let other =
            st(json!({"Sid":"BigPart2","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}));
        let parts = split_oversized(vec![big, other], 1000).unwrap();
        assert!(parts.len() > 3);
        let mut seen = Vec::new();
        let mut all_actions = Vec::new();
        for part in &parts {
            assert!(statement_len(part) <= 1000);
            seen.push(part["Sid"].as_str().unwrap().to_owned());
            if let Value::Array(a) = &part["Action"] {
                all_actions.extend(a.iter().map(|v| v.as_str().unwrap().to_owned()));
            }
        }
        assert_eq!(all_actions, actions);
        assert_eq!(seen[0], "BigPart1");
        assert_eq!(seen[1], "BigPart3", "BigPart2 is taken");
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len());
    }

    #[test]
    fn splits_resources_when_one_action_remains() {
        let resources: Vec<String> = (0..100)
            .map(|i| format!("arn:aws:s3:::bucket-number-{i:04}/*"))
            .collect();
        let big = st(json!({"Effect":"Deny","Action":["s3:GetObject"],"Resource":resources}));
        let parts = split_oversized(vec![big], 800).unwrap();
        assert!(parts.len() > 2);
        assert!(
            parts
                .iter()
                .all(|p| statement_len(p) <= 800 && p.get("Sid").is_none())
        );
    }

    #[test]
    fn not_action_cannot_be_split() {
        let actions: Vec<String> = (0..400).map(|i| format!("s3:Action{i:04}")).collect();
        let big = st(json!({"Effect":"Deny","NotAction":actions,"Resource":"*"}));
        let small = st(json!({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}));
        let err = split_oversized(vec![small, big], 1000).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.size > 1000);
        assert!(err.why.contains("NotAction"));
    }

    #[test]
    fn first_fit_keeps_order_within_documents() {
        let pad = |n: usize| "x".repeat(n);
        let s = |sid: &str, n: usize| {
            st(
                json!({"Sid":sid,"Effect":"Allow","Action":"s3:GetObject","Resource":format!("arn:aws:s3:::{}", pad(n))}),
            )
        };
        // A (600) and B (600) do not share a 1,000-byte document; C (100) fits after A.
        let docs = pack(vec![s("A", 600), s("B", 600), s("C", 100)], 1000);
        let sids: Vec<Vec<&str>> = docs
            .iter()
            .map(|d| d.iter().map(|s| s["Sid"].as_str().unwrap()).collect())
            .collect();
        assert_eq!(sids, [vec!["A", "C"], vec!["B"]]);
        for d in &docs {
            assert!(compact(&document(d)).len() <= 1000);
        }
    }
}
