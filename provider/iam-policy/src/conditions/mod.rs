//! The `Condition` element: operators, keys, values, and their evaluation.
//!
//! Semantics (AWS's documented condition logic):
//! * Several operators in a block, and several keys under an operator, are ANDed.
//! * Several values for one key are ORed for positive operators; for negated operators
//!   (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) the condition holds when the
//!   request value matches *none* of the values.
//! * A key absent from the request (or present with no value) makes a positive operator
//!   false and a negated operator true; `...IfExists` makes it true; `Null` tests presence.
//! * `ForAnyValue:` holds when at least one request value satisfies the operator (false for
//!   an absent key or an empty set, true with `IfExists`); `ForAllValues:` holds when every
//!   request value does (true for an absent key or an empty set). With a negated operator
//!   each request value must match none of the policy values.
//! * Without a set qualifier a multi-valued key is tested as a set: a positive operator holds
//!   when some request value matches some policy value, a negated one when none does.
//! * Key names are case-insensitive; operator names are accepted in any case.
//! * JSON booleans and numbers are accepted as values and read as their text (`true`, `10`).
//! * Request values that cannot be read for the operator (a non-number for a Numeric
//!   operator, ...) match no policy value.

mod binary;
mod date;
mod ip;
mod numeric;
mod string;

use crate::context::Context;
use crate::decision::ConditionFailure;
use crate::variables::Unresolved;
use ip::Cidr;
use numeric::Cmp;
use serde_json::Value;
use string::{StrOp, StrValue};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetOp {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Clone, Debug)]
enum Values {
    Str(StrOp, Vec<StrValue>),
    Num(Cmp, Vec<f64>),
    Date(Cmp, Vec<i128>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    Null(Vec<bool>),
}

/// One `operator: { key: values }` test.
#[derive(Clone, Debug)]
pub(crate) struct Condition {
    operator: String,
    key: String,
    key_lower: String,
    key_hash: u64,
    negated: bool,
    if_exists: bool,
    set: SetOp,
    values: Values,
    raw_values: Vec<String>,
    dynamic: bool,
}

/// Family and negation of a base operator name (lowercase).
fn base_operator(name: &str) -> Option<(Family, bool)> {
    use Family::*;
    Some(match name {
        "stringequals" => (Str(StrOp::Equals), false),
        "stringnotequals" => (Str(StrOp::Equals), true),
        "stringequalsignorecase" => (Str(StrOp::EqualsIgnoreCase), false),
        "stringnotequalsignorecase" => (Str(StrOp::EqualsIgnoreCase), true),
        "stringlike" => (Str(StrOp::Like), false),
        "stringnotlike" => (Str(StrOp::Like), true),
        "numericequals" => (Num(Cmp::Eq), false),
        "numericnotequals" => (Num(Cmp::Eq), true),
        "numericlessthan" => (Num(Cmp::Lt), false),
        "numericlessthanequals" => (Num(Cmp::Le), false),
        "numericgreaterthan" => (Num(Cmp::Gt), false),
        "numericgreaterthanequals" => (Num(Cmp::Ge), false),
        "dateequals" => (Date(Cmp::Eq), false),
        "datenotequals" => (Date(Cmp::Eq), true),
        "datelessthan" => (Date(Cmp::Lt), false),
        "datelessthanequals" => (Date(Cmp::Le), false),
        "dategreaterthan" => (Date(Cmp::Gt), false),
        "dategreaterthanequals" => (Date(Cmp::Ge), false),
        "bool" => (Bool, false),
        "binaryequals" => (Binary, false),
        "ipaddress" => (Ip, false),
        "notipaddress" => (Ip, true),
        "arnequals" | "arnlike" => (Str(StrOp::Arn), false),
        "arnnotequals" | "arnnotlike" => (Str(StrOp::Arn), true),
        "null" => (Null, false),
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug)]
enum Family {
    Str(StrOp),
    Num(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Null,
}

const OPERATORS: &str = "accepted operators: StringEquals, StringNotEquals, \
    StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, NumericEquals, \
    NumericNotEquals, NumericLessThan, NumericLessThanEquals, NumericGreaterThan, \
    NumericGreaterThanEquals, DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, \
    DateGreaterThan, DateGreaterThanEquals, Bool, BinaryEquals, IpAddress, NotIpAddress, \
    ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Null; each but Null may end in IfExists and \
    start with ForAnyValue: or ForAllValues:";

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

fn parse_operator(text: &str) -> Result<(Family, bool, bool, SetOp), String> {
    let (set, rest) = if let Some(r) = strip_prefix_ci(text, "ForAnyValue:") {
        (SetOp::ForAnyValue, r)
    } else if let Some(r) = strip_prefix_ci(text, "ForAllValues:") {
        (SetOp::ForAllValues, r)
    } else {
        (SetOp::Single, text)
    };
    let lower = rest.to_ascii_lowercase();
    let (base, if_exists) = match base_operator(&lower) {
        Some(b) => (b, false),
        None => match strip_suffix_ci(&lower, "IfExists").and_then(base_operator) {
            Some(b) => (b, true),
            None => return Err(format!("unknown condition operator {text:?}; {OPERATORS}")),
        },
    };
    let (family, negated) = base;
    if matches!(family, Family::Null) && (if_exists || set != SetOp::Single) {
        return Err(format!(
            "condition operator {text:?}: Null takes neither IfExists nor ForAnyValue:/ForAllValues:"
        ));
    }
    Ok((family, negated, if_exists, set))
}

/// Reads a condition value list: a string, number or boolean, or a non-empty array of them.
fn value_list(v: &Value) -> Result<Vec<String>, String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    let expected = "expected a string, number or boolean, or a non-empty array of them";
    match v {
        Value::Array(items) if items.is_empty() => Err(format!("{expected}, got an empty array")),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                scalar(item).ok_or_else(|| {
                    format!(
                        "item {i}: {expected}, got {}",
                        crate::parse::json_type(item)
                    )
                })
            })
            .collect(),
        other => scalar(other)
            .map(|s| vec![s])
            .ok_or_else(|| format!("{expected}, got {}", crate::parse::json_type(other))),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn each<T>(raw: &[String], f: impl Fn(&str) -> Option<T>, what: &str) -> Result<Vec<T>, String> {
    raw.iter()
        .map(|s| f(s).ok_or_else(|| format!("{s:?} is not {what}")))
        .collect()
}

/// Parses a `Condition` block. Errors carry the field path (`Condition.Op.key`).
pub(crate) fn parse_block(
    block: &Value,
    variables: bool,
) -> Result<Vec<Condition>, (String, String)> {
    let Value::Object(ops) = block else {
        return Err((
            "Condition".into(),
            format!(
                "expected an object {{\"Operator\": {{\"key\": value}}}}, got {}",
                crate::parse::json_type(block)
            ),
        ));
    };
    let mut out = Vec::new();
    for (op_text, keys) in ops {
        let path = format!("Condition.{op_text}");
        let (family, negated, if_exists, set) =
            parse_operator(op_text).map_err(|e| (path.clone(), e))?;
        let Value::Object(keys) = keys else {
            return Err((
                path,
                format!(
                    "expected an object mapping condition keys to values, got {}",
                    crate::parse::json_type(keys)
                ),
            ));
        };
        if keys.is_empty() {
            return Err((path, "no condition key under this operator".into()));
        }
        for (key, vals) in keys {
            let kpath = format!("{path}.{key}");
            if key.trim().is_empty() {
                return Err((path, "empty condition key".into()));
            }
            let raw = value_list(vals).map_err(|e| (kpath.clone(), e))?;
            let values = parse_values(family, &raw, variables).map_err(|e| (kpath.clone(), e))?;
            let dynamic = match &values {
                Values::Str(_, v) => v.iter().any(|s| s.is_dynamic()),
                _ => false,
            };
            out.push(Condition {
                operator: op_text.clone(),
                key: key.clone(),
                key_lower: key.to_lowercase(),
                key_hash: crate::hash::fnv1a(&key.to_lowercase()),
                negated,
                if_exists,
                set,
                values,
                raw_values: raw,
                dynamic,
            });
        }
    }
    Ok(out)
}

fn parse_values(family: Family, raw: &[String], variables: bool) -> Result<Values, String> {
    Ok(match family {
        Family::Str(op) => Values::Str(
            op,
            raw.iter()
                .map(|s| StrValue::parse(op, s, variables))
                .collect::<Result<_, _>>()?,
        ),
        Family::Num(c) => Values::Num(
            c,
            each(
                raw,
                numeric::parse,
                "a number (an integer or a decimal such as 10 or 2.5)",
            )?,
        ),
        Family::Date(c) => Values::Date(
            c,
            each(
                raw,
                date::parse,
                "a date (ISO 8601 such as 2020-01-01 or 2020-01-01T00:00:00Z, or epoch seconds)",
            )?,
        ),
        Family::Bool => Values::Bool(each(raw, parse_bool, "a boolean (\"true\" or \"false\")")?),
        Family::Binary => Values::Binary(each(raw, binary::decode, "base64-encoded binary data")?),
        Family::Ip => Values::Ip(each(
            raw,
            Cidr::parse,
            "an IP address or CIDR block (such as 203.0.113.0/24 or 2001:db8::/32)",
        )?),
        Family::Null => Values::Null(each(raw, parse_bool, "\"true\" or \"false\"")?),
    })
}

impl Condition {
    /// True when the condition holds for the request context.
    pub(crate) fn holds(&self, ctx: &Context) -> bool {
        self.eval(ctx, None)
    }

    /// When the condition does not hold, what failed.
    pub(crate) fn failure(&self, ctx: &Context) -> Option<ConditionFailure> {
        let mut unresolved = Vec::new();
        if self.eval(ctx, Some(&mut unresolved)) {
            return None;
        }
        let actual = ctx
            .get_hashed(self.key_hash, &self.key_lower)
            .filter(|v| !v.is_empty())
            .map(<[String]>::to_vec);
        let unresolved_variables: Vec<String> = unresolved
            .iter()
            .map(|u| {
                if u.multi_valued {
                    format!("${{{}}} (the key has several values)", u.key)
                } else {
                    format!("${{{}}} (the key is not in the request context)", u.key)
                }
            })
            .collect();
        let explanation = self.explain(actual.as_deref(), &unresolved_variables);
        Some(ConditionFailure {
            operator: self.operator.clone(),
            key: self.key.clone(),
            expected: self.raw_values.clone(),
            actual,
            unresolved_variables,
            explanation,
        })
    }

    fn explain(&self, actual: Option<&[String]>, unresolved: &[String]) -> String {
        let list = |v: &[String]| -> String {
            if v.len() == 1 {
                format!("{:?}", v[0])
            } else {
                format!("{v:?}")
            }
        };
        let head = format!("{} on {}", self.operator, self.key);
        let mut s = if let Values::Null(_) = self.values {
            let want_absent = self
                .raw_values
                .iter()
                .all(|v| v.eq_ignore_ascii_case("true"));
            match actual {
                Some(a) if want_absent => {
                    format!(
                        "{head}: expected the key to be absent, but it is {}",
                        list(a)
                    )
                }
                _ => format!("{head}: expected the key to be present, but it is absent"),
            }
        } else {
            let verb = if self.negated { "none of" } else { "one of" };
            let expected = if self.raw_values.len() == 1 && !self.negated {
                list(&self.raw_values)
            } else {
                format!("{verb} {:?}", self.raw_values)
            };
            let quant = match self.set {
                SetOp::Single => "",
                SetOp::ForAnyValue => "at least one value to be ",
                SetOp::ForAllValues => "every value to be ",
            };
            match actual {
                Some(a) => format!("{head}: expected {quant}{expected}, got {}", list(a)),
                None => format!(
                    "{head}: expected {quant}{expected}, but the key is not in the request context"
                ),
            }
        };
        if !unresolved.is_empty() {
            s.push_str("; unresolved policy variable ");
            s.push_str(&unresolved.join(", "));
        }
        s
    }

    fn eval(&self, ctx: &Context, unresolved: Option<&mut Vec<Unresolved>>) -> bool {
        let actual = ctx
            .get_hashed(self.key_hash, &self.key_lower)
            .filter(|v| !v.is_empty());
        if let Values::Null(wants) = &self.values {
            let absent = actual.is_none();
            return wants.contains(&absent);
        }
        let Some(actual) = actual else {
            return match self.set {
                SetOp::ForAllValues => true,
                SetOp::ForAnyValue => self.if_exists,
                SetOp::Single => self.if_exists || self.negated,
            };
        };
        match &self.values {
            Values::Str(op, vals) => {
                if self.dynamic {
                    let resolved: Vec<_> = vals.iter().map(|v| v.resolve(*op, ctx)).collect();
                    if let Some(out) = unresolved {
                        out.extend(resolved.iter().filter_map(|r| r.as_ref().err().cloned()));
                    }
                    self.quantify(actual, |a| {
                        resolved
                            .iter()
                            .any(|r| r.as_ref().is_ok_and(|c| string::matches(*op, c, a)))
                    })
                } else {
                    self.quantify(actual, |a| {
                        vals.iter().any(|v| {
                            v.static_compiled()
                                .is_some_and(|c| string::matches(*op, c, a))
                        })
                    })
                }
            }
            Values::Num(cmp, vals) => self.quantify(actual, |a| {
                numeric::parse(a).is_some_and(|x| vals.iter().any(|&p| cmp.holds(x, p)))
            }),
            Values::Date(cmp, vals) => self.quantify(actual, |a| {
                date::parse(a).is_some_and(|x| vals.iter().any(|&p| cmp.holds(x, p)))
            }),
            Values::Bool(vals) => {
                self.quantify(actual, |a| parse_bool(a).is_some_and(|x| vals.contains(&x)))
            }
            Values::Binary(vals) => self.quantify(actual, |a| {
                binary::decode(a).is_some_and(|x| vals.contains(&x))
            }),
            Values::Ip(vals) => self.quantify(actual, |a| vals.iter().any(|c| c.contains_text(a))),
            Values::Null(_) => false,
        }
    }

    /// Applies the set qualifier and negation to a per-request-value test that is true when
    /// the request value matches one of the policy values.
    fn quantify(&self, actual: &[String], one: impl Fn(&str) -> bool) -> bool {
        match self.set {
            SetOp::Single => actual.iter().any(|a| one(a)) != self.negated,
            SetOp::ForAnyValue => actual.iter().any(|a| one(a) != self.negated),
            SetOp::ForAllValues => actual.iter().all(|a| one(a) != self.negated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(block: Value) -> Vec<Condition> {
        parse_block(&block, true).expect("valid condition")
    }

    fn holds(block: Value, ctx: &Context) -> bool {
        cond(block).iter().all(|c| c.holds(ctx))
    }

    #[test]
    fn missing_keys() {
        let empty = Context::new();
        assert!(!holds(json!({"StringEquals": {"k": "v"}}), &empty));
        assert!(holds(json!({"StringNotEquals": {"k": "v"}}), &empty));
        assert!(holds(json!({"StringEqualsIfExists": {"k": "v"}}), &empty));
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"k": "v"}}),
            &empty
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"k": "v"}}),
            &empty
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringNotEquals": {"k": "v"}}),
            &empty
        ));
        assert!(holds(
            json!({"ForAnyValue:StringEqualsIfExists": {"k": "v"}}),
            &empty
        ));
        assert!(holds(json!({"Null": {"k": "true"}}), &empty));
        assert!(!holds(json!({"Null": {"k": false}}), &empty));
        let blank = Context::new().with_multi("k", Vec::<String>::new());
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"k": "v"}}),
            &blank
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"k": "v"}}),
            &blank
        ));
    }

    #[test]
    fn values_or_keys_and() {
        let c = Context::new().with("a", "2").with("b", "x");
        assert!(holds(json!({"StringEquals": {"a": ["1", "2"]}}), &c));
        assert!(!holds(json!({"StringNotEquals": {"a": ["1", "2"]}}), &c));
        assert!(holds(json!({"StringNotEquals": {"a": ["1", "3"]}}), &c));
        assert!(!holds(json!({"StringEquals": {"a": "2", "b": "y"}}), &c));
        assert!(holds(
            json!({"StringEquals": {"a": "2"}, "StringLike": {"b": "*"}}),
            &c
        ));
    }

    #[test]
    fn json_scalars_as_values() {
        let c = Context::new()
            .with("aws:SecureTransport", "true")
            .with("s3:max-keys", "10");
        assert!(holds(json!({"Bool": {"aws:SecureTransport": true}}), &c));
        assert!(holds(
            json!({"StringEquals": {"aws:SecureTransport": true}}),
            &c
        ));
        assert!(holds(
            json!({"NumericLessThanEquals": {"s3:max-keys": 10}}),
            &c
        ));
        assert!(holds(json!({"StringEquals": {"s3:max-keys": 10}}), &c));
        assert!(!holds(json!({"NumericLessThan": {"s3:max-keys": 10}}), &c));
    }

    #[test]
    fn set_operators() {
        let c = Context::new().with_multi("aws:TagKeys", ["env", "team"]);
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "x"]}}),
            &c
        ));
        assert!(!holds(
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
            &c
        ));
        assert!(holds(
            json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}),
            &c
        ));
        assert!(holds(
            json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            &c
        ));
        assert!(!holds(
            json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}),
            &c
        ));
    }

    #[test]
    fn families() {
        let c = Context::new()
            .with("aws:SourceIp", "203.0.113.9")
            .with("aws:CurrentTime", "2024-06-01T00:00:00Z")
            .with("aws:EpochTime", "1717200000")
            .with("bin", "QmluYXJ5")
            .with("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic");
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            &c
        ));
        assert!(!holds(
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            &c
        ));
        assert!(holds(
            json!({"DateLessThan": {"aws:CurrentTime": "2025-01-01"}}),
            &c
        ));
        assert!(holds(
            json!({"DateGreaterThan": {"aws:EpochTime": "2024-01-01T00:00:00Z"}}),
            &c
        ));
        assert!(holds(
            json!({"DateEquals": {"aws:EpochTime": 1717200000}}),
            &c
        ));
        assert!(holds(json!({"BinaryEquals": {"bin": "QmluYXJ5"}}), &c));
        assert!(holds(
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}),
            &c
        ));
        assert!(holds(
            json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:*:444455556666:*"}}),
            &c
        ));
        assert!(holds(
            json!({"stringequals": {"AWS:SOURCEIP": "203.0.113.9"}}),
            &c
        ));
    }

    #[test]
    fn failure_details() {
        let c = Context::new().with("oidc.example.com:sub", "repo:evil");
        let conds = cond(json!({"StringEquals": {"oidc.example.com:sub": "repo:good"}}));
        let f = conds[0].failure(&c).expect("fails");
        assert_eq!(f.operator, "StringEquals");
        assert_eq!(f.key, "oidc.example.com:sub");
        assert_eq!(f.expected, ["repo:good"]);
        assert_eq!(f.actual.as_deref(), Some(&["repo:evil".to_owned()][..]));
        assert!(
            f.explanation
                .contains("expected \"repo:good\", got \"repo:evil\""),
            "{}",
            f.explanation
        );
        let conds = cond(json!({"StringEquals": {"k": "${aws:username}"}}));
        let f = conds[0]
            .failure(&Context::new().with("k", ""))
            .expect("fails");
        assert_eq!(f.unresolved_variables.len(), 1);
        assert!(conds[0].failure(&Context::new().with("k", "")).is_some());
    }

    #[test]
    fn malformed() {
        for (block, needle) in [
            (
                json!({"StringEqual": {"k": "v"}}),
                "unknown condition operator",
            ),
            (json!({"NullIfExists": {"k": "true"}}), "Null takes"),
            (json!({"NumericEquals": {"k": "ten"}}), "is not a number"),
            (json!({"DateEquals": {"k": "soon"}}), "is not a date"),
            (json!({"Bool": {"k": "yes"}}), "is not a boolean"),
            (json!({"IpAddress": {"k": "1.2.3.4/40"}}), "IP address"),
            (json!({"StringEquals": {"k": []}}), "empty array"),
            (json!({"StringEquals": {"k": null}}), "got null"),
            (json!({"StringEquals": {"k": [{"a": 1}]}}), "item 0"),
            (json!({"StringEquals": {}}), "no condition key"),
            (json!({"StringEquals": "k"}), "expected an object"),
            (json!(["x"]), "expected an object"),
            (json!({"StringLike": {"k": "${oops"}}), "unterminated"),
        ] {
            let err = parse_block(&block, true).expect_err("malformed");
            assert!(err.1.contains(needle), "{block}: {err:?}");
        }
    }
}
