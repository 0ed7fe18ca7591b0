//! Policy documents (JSON) to compiled [`Policy`] values, with precise errors.

use crate::action::ActionPattern;
use crate::conditions;
use crate::error::PolicyError;
use crate::policy::{Actions, Effect, Policy, Principals, Resources, Statement};
use crate::principal::{PrincipalSet, string_list};
use crate::resource::ResourcePattern;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The policy language version that introduced policy variables.
pub(crate) const VERSION_2012: &str = "2012-10-17";
const VERSION_2008: &str = "2008-10-17";

/// Name of a JSON type for error messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn policy(value: &Value) -> Result<Policy, PolicyError> {
    let Value::Object(doc) = value else {
        return Err(PolicyError::document(format!(
            "a policy document is a JSON object with Version and Statement, got {}",
            json_type(value)
        )));
    };
    for key in doc.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(PolicyError::field(
                key.as_str(),
                "unknown top-level element: accepted elements are Version, Id and Statement \
                 (case-sensitive)",
            ));
        }
    }
    let version = match doc.get("Version") {
        None => None,
        Some(Value::String(v)) if v == VERSION_2012 || v == VERSION_2008 => Some(v.clone()),
        Some(other) => {
            return Err(PolicyError::field(
                "Version",
                format!(
                    "expected \"{VERSION_2012}\" or \"{VERSION_2008}\", got {}",
                    show(other)
                ),
            ));
        }
    };
    let id = match doc.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(PolicyError::field(
                "Id",
                format!("expected a string, got {}", json_type(other)),
            ));
        }
    };
    let variables = version.as_deref() == Some(VERSION_2012);
    let statements = match doc.get("Statement") {
        None => return Err(PolicyError::field("Statement", "missing (required)")),
        Some(Value::Object(s)) => vec![statement(0, s, variables)?],
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(PolicyError::field(
                    "Statement",
                    "the statement array is empty",
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(s) => statement(i, s, variables),
                    other => Err(PolicyError::document(format!(
                        "a statement is a JSON object, got {}",
                        json_type(other)
                    ))
                    .in_statement(i, None)),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Some(other) => {
            return Err(PolicyError::field(
                "Statement",
                format!(
                    "expected an object or an array of objects, got {}",
                    json_type(other)
                ),
            ));
        }
    };
    let index = crate::policy::ActionIndex::build(&statements);
    Ok(Policy {
        version,
        id,
        statements,
        index,
    })
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => json_type(other).to_owned(),
    }
}

const STATEMENT_KEYS: &str = "Sid, Effect, Action, NotAction, Resource, NotResource, Principal, \
                              NotPrincipal, Condition";

fn statement(
    index: usize,
    s: &Map<String, Value>,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(other) => {
            return Err(PolicyError::field(
                "Sid",
                format!("expected a string, got {}", json_type(other)),
            )
            .in_statement(index, None));
        }
    };
    let at = |e: PolicyError| e.in_statement(index, sid.as_deref());
    let field = |f: &str, msg: String| at(PolicyError::field(f, msg));
    for key in s.keys() {
        let known = matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Principal"
                | "NotPrincipal"
                | "Condition"
        );
        if !known {
            return Err(field(
                key,
                format!(
                    "unknown statement element: accepted elements are {STATEMENT_KEYS} (case-sensitive)"
                ),
            ));
        }
    }
    let effect = match s.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(field(
                "Effect",
                format!(
                    "expected \"Allow\" or \"Deny\" (case-sensitive), got {}",
                    show(other)
                ),
            ));
        }
        None => {
            return Err(field(
                "Effect",
                "missing (required: \"Allow\" or \"Deny\")".into(),
            ));
        }
    };
    let (negated, name, value) = exactly_one(s, "Action", "NotAction")
        .map_err(|m| field("Action", m))?
        .ok_or_else(|| {
            field(
                "Action",
                "missing: a statement needs Action or NotAction".into(),
            )
        })?;
    let patterns = string_list(value)
        .map_err(|m| field(name, m))?
        .into_iter()
        .map(ActionPattern::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| field(name, m))?;
    let actions = Actions { negated, patterns };

    let resources =
        match exactly_one(s, "Resource", "NotResource").map_err(|m| field("Resource", m))? {
            None => None,
            Some((negated, name, value)) => {
                let patterns = string_list(value)
                    .map_err(|m| field(name, m))?
                    .into_iter()
                    .map(|r| ResourcePattern::parse(r, variables))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|m| field(name, m))?;
                Some(Resources { negated, patterns })
            }
        };
    let principals =
        match exactly_one(s, "Principal", "NotPrincipal").map_err(|m| field("Principal", m))? {
            None => None,
            Some((negated, name, value)) => Some(Principals {
                negated,
                set: PrincipalSet::parse(value).map_err(|m| field(name, m))?,
            }),
        };
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(block) => {
            conditions::parse_block(block, variables).map_err(|(path, m)| field(&path, m))?
        }
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
        json: Arc::new(Value::Object(s.clone())),
    })
}

/// The element among a positive/negated pair, erroring when both are present.
fn exactly_one<'a>(
    s: &'a Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
) -> Result<Option<(bool, &'static str, &'a Value)>, String> {
    match (s.get(positive), s.get(negative)) {
        (Some(_), Some(_)) => Err(format!(
            "a statement has {positive} or {negative}, not both"
        )),
        (Some(v), None) => Ok(Some((false, positive, v))),
        (None, Some(v)) => Ok(Some((true, negative, v))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::Policy;

    fn err(text: &str) -> String {
        Policy::parse(text).expect_err("malformed").to_string()
    }

    #[test]
    fn statement_object_or_array() {
        let one = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .expect("valid");
        assert_eq!(one.len(), 1);
        let two = Policy::parse(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:*"],"Resource":"*"},
                {"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b"}]}"#,
        )
        .expect("valid");
        assert_eq!(two.len(), 2);
        assert_eq!(two.statement_sid(0), Some("A"));
        assert_eq!(two.version(), None);
    }

    #[test]
    fn precise_errors() {
        let cases = [
            ("[]", "a policy document is a JSON object"),
            (
                "{\"Statement\": [], \"Version\": \"2012-10-17\"}",
                "Statement: the statement array is empty",
            ),
            ("{\"Version\": \"2012-10-17\"}", "Statement: missing"),
            (
                "{\"Version\": \"2013-01-01\", \"Statement\": {}}",
                "Version: expected \"2012-10-17\"",
            ),
            (
                "{\"Statement\": {}, \"Foo\": 1}",
                "Foo: unknown top-level element",
            ),
            (
                "{\"Statement\": [1]}",
                "statement 0: a statement is a JSON object",
            ),
            (
                "{\"Statement\": {\"Sid\": \"S\", \"Effect\": \"allow\", \"Action\": \"s3:*\"}}",
                "statement 0 (Sid \"S\"): Effect: expected \"Allow\" or \"Deny\" (case-sensitive), got \"allow\"",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\"}}",
                "statement 0: Action: missing",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"NotAction\": \"x:y\"}}",
                "Action: a statement has Action or NotAction, not both",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3\"}}",
                "statement 0: Action: invalid action \"s3\"",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"bucket\"}}",
                "Resource: invalid resource \"bucket\"",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resources\": \"*\"}}",
                "Resources: unknown statement element",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Condition\": {\"StringEquals\": {\"k\": {}}}}}",
                "Condition.StringEquals.k: expected a string, number or boolean",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Effect\": \"Deny\", \"Action\": \"s3:*\"}}",
                "duplicate key \"Effect\"",
            ),
            ("{\"Statement\": ", "not valid JSON"),
        ];
        for (text, needle) in cases {
            let e = err(text);
            assert!(e.contains(needle), "{text}\n  got: {e}\n  want: {needle}");
        }
    }

    #[test]
    fn validate_for_kind() {
        use crate::PolicyKind;
        let identity =
            Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#)
                .expect("valid");
        assert!(identity.validate_for(PolicyKind::Identity).is_ok());
        let e = identity
            .validate_for(PolicyKind::ResourceBased)
            .expect_err("needs principal");
        assert!(e.to_string().contains("Principal"), "{e}");
        let trust = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
        )
        .expect("valid");
        assert!(trust.validate_for(PolicyKind::ResourceBased).is_ok());
        let e = trust
            .validate_for(PolicyKind::Identity)
            .expect_err("no principal allowed");
        assert!(
            e.to_string()
                .contains("statement 0: Principal: not allowed"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod index_tests {
    use crate::Policy;

    #[test]
    fn action_index_keeps_document_order() {
        let p = Policy::parse(
            r#"{"Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "S3:Put*"], "Resource": "*"},
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"},
                {"Effect": "Allow", "Action": ["s3:List*", "ec2:Describe*"], "Resource": "*"},
                {"Effect": "Allow", "Action": "s?:GetObject", "Resource": "*"}
            ]}"#,
        )
        .expect("valid");
        let c = |s: &str| {
            p.index
                .candidates(s, crate::hash::fnv1a(s))
                .collect::<Vec<usize>>()
        };
        let s3 = c("s3");
        assert_eq!(s3, [0, 1, 3, 4, 5]);
        let ec2 = c("ec2");
        assert_eq!(ec2, [1, 2, 3, 4, 5]);
        let other = c("kms");
        assert_eq!(other, [1, 3, 5]);
    }
}
