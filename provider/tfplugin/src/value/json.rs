//! The JSON encoding of values: how Terraform stores state (`RawState.json` in
//! UpgradeResourceState) and the alternative `DynamicValue.json` field.
//!
//! Parsed by hand rather than through `serde_json::Value` because numbers must stay exact
//! decimals, which `serde_json` only does with a crate-wide feature that would change every
//! other user of it in the workspace. JSON cannot express unknown values; encoding one is an
//! error.

use std::collections::BTreeMap;

use super::msgpack::CodecError;
use super::{Number, Type, Value};
use crate::path::{AttributePath, PathStep};

const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

fn error(message: impl Into<String>) -> CodecError {
    CodecError {
        path: AttributePath::root(),
        message: message.into(),
    }
}

fn within(mut e: CodecError, step: PathStep) -> CodecError {
    e.path.prepend(step);
    e
}

pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, CodecError> {
    let text = std::str::from_utf8(bytes).map_err(|_| error("JSON is not UTF-8"))?;
    let mut parser = Parser {
        text: text.as_bytes(),
        at: 0,
    };
    parser.whitespace();
    let node = parser.node(0)?;
    parser.whitespace();
    if parser.at != parser.text.len() {
        return Err(error("trailing characters after the JSON value"));
    }
    typed(ty, &node)
}

fn typed(ty: &Type, node: &Node) -> Result<Value, CodecError> {
    if let Node::Null = node {
        return Ok(Value::Null);
    }
    let mismatch = || error(format!("expected {ty} in JSON"));
    match (ty, node) {
        (Type::Bool, Node::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Number, Node::Number(text) | Node::String(text)) => Number::parse(text)
            .map(Value::Number)
            .map_err(|e| error(e.to_string())),
        (Type::String, Node::String(s)) => Ok(Value::String(s.clone())),
        // cty's JSON writes primitives as strings when the type says string.
        (Type::String, Node::Number(n)) => Ok(Value::String(n.clone())),
        (Type::String, Node::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::List(element) | Type::Set(element), Node::Array(items)) => {
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    typed(element, item).map_err(|e| within(e, PathStep::Index(i as i64)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        (Type::Tuple(elements), Node::Array(items)) if elements.len() == items.len() => {
            Ok(Value::Tuple(
                elements
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (t, n))| {
                        typed(t, n).map_err(|e| within(e, PathStep::Index(i as i64)))
                    })
                    .collect::<Result<_, _>>()?,
            ))
        }
        (Type::Map(element), Node::Object(fields)) => Ok(Value::Map(
            fields
                .iter()
                .map(|(k, n)| {
                    Ok((
                        k.clone(),
                        typed(element, n).map_err(|e| within(e, PathStep::Key(k.clone())))?,
                    ))
                })
                .collect::<Result<_, CodecError>>()?,
        )),
        (Type::Object(attributes), Node::Object(fields)) => {
            let mut values: BTreeMap<String, Value> = attributes
                .keys()
                .map(|name| (name.clone(), Value::Null))
                .collect();
            for (name, n) in fields {
                // Attributes the schema no longer has are dropped, as the schema asks.
                if let Some(attr_ty) = attributes.get(name) {
                    let value = typed(attr_ty, n)
                        .map_err(|e| within(e, PathStep::Attribute(name.clone())))?;
                    values.insert(name.clone(), value);
                }
            }
            Ok(Value::Object(values))
        }
        (Type::Dynamic, Node::Object(fields)) => {
            let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let (Some(type_node), Some(value_node)) = (field("type"), field("value")) else {
                return Err(error("dynamic value needs \"type\" and \"value\""));
            };
            let concrete =
                Type::from_json(&node_to_serde(type_node)).map_err(|e| error(e.to_string()))?;
            let inner = typed(&concrete, value_node)?;
            Ok(match inner {
                Value::Null => Value::Null,
                known => Value::Dynamic(Box::new(concrete), Box::new(known)),
            })
        }
        _ => Err(mismatch()),
    }
}

fn node_to_serde(node: &Node) -> serde_json::Value {
    match node {
        Node::Null => serde_json::Value::Null,
        Node::Bool(b) => serde_json::Value::Bool(*b),
        Node::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::Null),
        Node::String(s) => serde_json::Value::String(s.clone()),
        Node::Array(items) => serde_json::Value::Array(items.iter().map(node_to_serde).collect()),
        Node::Object(fields) => serde_json::Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), node_to_serde(v)))
                .collect(),
        ),
    }
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn whitespace(&mut self) {
        while matches!(self.text.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &str, node: Node) -> Result<Node, CodecError> {
        if self.text[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(node)
        } else {
            Err(error("invalid JSON literal"))
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, CodecError> {
        if depth > MAX_DEPTH {
            return Err(error("JSON nested too deeply"));
        }
        match self.text.get(self.at) {
            None => Err(error("JSON ends early")),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.whitespace();
                if self.text.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Node::Array(items));
                }
                loop {
                    self.whitespace();
                    items.push(self.node(depth + 1)?);
                    self.whitespace();
                    match self.text.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Node::Array(items));
                        }
                        _ => return Err(error("expected , or ] in JSON array")),
                    }
                }
            }
            Some(b'{') => {
                self.at += 1;
                let mut fields = Vec::new();
                self.whitespace();
                if self.text.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Node::Object(fields));
                }
                loop {
                    self.whitespace();
                    if self.text.get(self.at) != Some(&b'"') {
                        return Err(error("expected a string key in JSON object"));
                    }
                    let key = self.string()?;
                    self.whitespace();
                    if self.text.get(self.at) != Some(&b':') {
                        return Err(error("expected : in JSON object"));
                    }
                    self.at += 1;
                    self.whitespace();
                    fields.push((key, self.node(depth + 1)?));
                    self.whitespace();
                    match self.text.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Node::Object(fields));
                        }
                        _ => return Err(error("expected , or } in JSON object")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                while matches!(
                    self.text.get(self.at),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.text[start..self.at])
                    .map_err(|_| error("invalid JSON number"))?;
                Number::parse(text).map_err(|e| error(e.to_string()))?;
                Ok(Node::Number(text.to_owned()))
            }
            Some(_) => Err(error("unexpected character in JSON")),
        }
    }

    fn hex4(&mut self) -> Result<u32, CodecError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .ok_or_else(|| error("JSON ends inside a \\u escape"))?;
        self.at += 4;
        let text = std::str::from_utf8(digits).map_err(|_| error("invalid \\u escape"))?;
        u32::from_str_radix(text, 16).map_err(|_| error("invalid \\u escape"))
    }

    fn string(&mut self) -> Result<String, CodecError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(self.text.get(self.at), None | Some(b'"' | b'\\')) {
                self.at += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.text[start..self.at])
                    .map_err(|_| error("JSON string is not UTF-8"))?,
            );
            match self.text.get(self.at) {
                None => return Err(error("JSON ends inside a string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                _ => {
                    self.at += 1;
                    let escape = *self
                        .text
                        .get(self.at)
                        .ok_or_else(|| error("JSON ends inside a string"))?;
                    self.at += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&first)
                                && self.text[self.at..].starts_with(b"\\u")
                            {
                                self.at += 2;
                                let second = self.hex4()?;
                                0x10000
                                    + ((first - 0xd800) << 10)
                                    + (second.wrapping_sub(0xdc00) & 0x3ff)
                            } else {
                                first
                            };
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(error("invalid escape in JSON string")),
                    }
                }
            }
        }
    }
}

pub fn encode(ty: &Type, value: &Value) -> Result<Vec<u8>, CodecError> {
    let mut out = String::new();
    write(&mut out, ty, value)?;
    Ok(out.into_bytes())
}

fn write_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::Value::from(text).to_string());
}

fn write_seq<'v>(
    out: &mut String,
    items: impl Iterator<Item = (&'v Type, &'v Value)>,
) -> Result<(), CodecError> {
    out.push('[');
    for (i, (ty, item)) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, ty, item).map_err(|e| within(e, PathStep::Index(i as i64)))?;
    }
    out.push(']');
    Ok(())
}

/// Written by hand so that numbers keep their exact decimal text.
fn write(out: &mut String, ty: &Type, value: &Value) -> Result<(), CodecError> {
    let mismatch = || error(format!("a {} cannot be written as {ty}", value.kind()));
    if *ty == Type::Dynamic {
        let (concrete, inner) = match value {
            Value::Null => {
                out.push_str("null");
                return Ok(());
            }
            Value::Unknown => return Err(error("unknown values cannot be written as JSON")),
            Value::Dynamic(concrete, inner) => ((**concrete).clone(), &**inner),
            other => (other.infer_type(), other),
        };
        out.push_str("{\"value\":");
        write(out, &concrete, inner)?;
        out.push_str(",\"type\":");
        out.push_str(&concrete.to_json().to_string());
        out.push('}');
        return Ok(());
    }
    match (ty, value.unwrap_dynamic()) {
        (_, Value::Null) => out.push_str("null"),
        (_, Value::Unknown) => return Err(error("unknown values cannot be written as JSON")),
        (Type::Bool, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (Type::Number, Value::Number(n)) => out.push_str(&n.to_string()),
        (Type::String, Value::String(s)) => write_string(out, s),
        (
            Type::List(element) | Type::Set(element),
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
        ) => {
            let mut ordered: Vec<&Value> = items.iter().collect();
            if matches!(ty, Type::Set(_)) {
                ordered.sort_by(|a, b| a.canonical_cmp(b));
            }
            write_seq(out, ordered.into_iter().map(|v| (&**element, v)))?;
        }
        (Type::Tuple(elements), Value::List(items) | Value::Tuple(items))
            if elements.len() == items.len() =>
        {
            write_seq(out, elements.iter().zip(items))?;
        }
        (Type::Map(element), Value::Map(fields) | Value::Object(fields)) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write(out, element, item).map_err(|e| within(e, PathStep::Key(key.clone())))?;
            }
            out.push('}');
        }
        (Type::Object(attributes), Value::Object(fields) | Value::Map(fields)) => {
            out.push('{');
            for (i, (name, attr_ty)) in attributes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                let item = fields.get(name).unwrap_or(&Value::Null);
                write(out, attr_ty, item)
                    .map_err(|e| within(e, PathStep::Attribute(name.clone())))?;
            }
            out.push('}');
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_json_decodes_with_schema() {
        let ty = Type::object([
            ("name", Type::String),
            ("big", Type::Number),
            ("ids", Type::set(Type::String)),
            ("tags", Type::map(Type::String)),
            ("any", Type::Dynamic),
        ]);
        let json = br#"{"name":"a\"b\u00e9\ud83d\ude00","big":123456789012345678901234567890.5,
            "ids":["x","y"],"tags":{"k":"v"},"removed_attr":true,
            "any":{"value":["p"],"type":["list","string"]}}"#;
        let value = decode(&ty, json).unwrap();
        assert_eq!(value.attribute("name"), Some(&Value::from("a\"bé😀")));
        assert_eq!(
            value.attribute("big"),
            Some(&Value::Number(
                Number::parse("123456789012345678901234567890.5").unwrap()
            ))
        );
        assert_eq!(
            value.attribute("any"),
            Some(&Value::Dynamic(
                Box::new(Type::list(Type::String)),
                Box::new(Value::List(vec!["p".into()]))
            ))
        );
        let again = decode(&ty, &encode(&ty, &value).unwrap()).unwrap();
        assert_eq!(again, value);
    }

    #[test]
    fn unknown_cannot_be_json() {
        assert!(encode(&Type::String, &Value::Unknown).is_err());
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            &b""[..],
            b"{",
            b"[1,",
            b"{\"a\" 1}",
            b"\"abc",
            b"nul",
            b"1 2",
            b"[\"\\x\"]",
        ] {
            assert!(
                decode(&Type::Dynamic, bad).is_err()
                    || decode(&Type::list(Type::String), bad).is_err()
            );
        }
        let deep = "[".repeat(5000);
        assert!(decode(&Type::list(Type::String), deep.as_bytes()).is_err());
    }
}
