//! The msgpack encoding Terraform uses for `DynamicValue`s (cty's wire format).
//!
//! Facts of the format that shape this code:
//! - any msgpack extension value is an unknown (plain unknowns are fixext1 type 0; refined
//!   unknowns carry a payload we do not need);
//! - numbers arrive as integers, floats, or decimal strings when neither is exact;
//! - a value at a `dynamic` position is a two-element array `[type JSON, value]`;
//! - objects are maps keyed by attribute name, sets are arrays.

use std::collections::BTreeMap;
use std::fmt;

use super::{Number, Type, Value};
use crate::path::{AttributePath, PathStep};

/// Deeper nesting than this is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    pub path: AttributePath,
    pub message: String,
}

impl CodecError {
    fn new(message: impl Into<String>) -> Self {
        CodecError {
            path: AttributePath::root(),
            message: message.into(),
        }
    }

    fn within(mut self, step: PathStep) -> Self {
        self.path.prepend(step);
        self
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for CodecError {}

pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, CodecError> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(ty, 0)?;
    if reader.at != bytes.len() {
        return Err(CodecError::new("trailing bytes after the value"));
    }
    Ok(value)
}

pub fn encode(ty: &Type, value: &Value) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    write_value(&mut out, ty, value, 0)?;
    Ok(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

enum Head {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext(usize),
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| CodecError::new("msgpack data ends early"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, n: usize) -> Result<u64, CodecError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn len(&mut self, n: usize) -> Result<usize, CodecError> {
        usize::try_from(self.be(n)?).map_err(|_| CodecError::new("msgpack length too large"))
    }

    fn peek(&self) -> Result<u8, CodecError> {
        self.bytes
            .get(self.at)
            .copied()
            .ok_or_else(|| CodecError::new("msgpack data ends early"))
    }

    fn head(&mut self) -> Result<Head, CodecError> {
        let marker = self.byte()?;
        Ok(match marker {
            0x00..=0x7f => Head::Int(i64::from(marker)),
            0x80..=0x8f => Head::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => Head::Str(usize::from(marker & 0x1f)),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.len(1)?),
            0xc5 => Head::Bin(self.len(2)?),
            0xc6 => Head::Bin(self.len(4)?),
            0xc7 => {
                let n = self.len(1)?;
                Head::Ext(n + 1)
            }
            0xc8 => {
                let n = self.len(2)?;
                Head::Ext(n + 1)
            }
            0xc9 => {
                let n = self.len(4)?;
                Head::Ext(n.saturating_add(1))
            }
            0xca => Head::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => Head::Float(f64::from_bits(self.be(8)?)),
            0xcc => Head::Uint(self.be(1)?),
            0xcd => Head::Uint(self.be(2)?),
            0xce => Head::Uint(self.be(4)?),
            0xcf => Head::Uint(self.be(8)?),
            0xd0 => Head::Int(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Head::Int(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Head::Int(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Head::Int(self.be(8)? as i64),
            0xd4 => Head::Ext(2),
            0xd5 => Head::Ext(3),
            0xd6 => Head::Ext(5),
            0xd7 => Head::Ext(9),
            0xd8 => Head::Ext(17),
            0xd9 => Head::Str(self.len(1)?),
            0xda => Head::Str(self.len(2)?),
            0xdb => Head::Str(self.len(4)?),
            0xdc => Head::Array(self.len(2)?),
            0xdd => Head::Array(self.len(4)?),
            0xde => Head::Map(self.len(2)?),
            0xdf => Head::Map(self.len(4)?),
            0xe0..=0xff => Head::Int(i64::from(marker as i8)),
            0xc1 => return Err(CodecError::new("invalid msgpack marker 0xc1")),
        })
    }

    fn is_ext(marker: u8) -> bool {
        matches!(marker, 0xc7..=0xc9 | 0xd4..=0xd8)
    }

    fn text(&mut self, len: usize) -> Result<String, CodecError> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| CodecError::new("string is not UTF-8"))
    }

    fn skip(&mut self, depth: usize) -> Result<(), CodecError> {
        if depth > MAX_DEPTH {
            return Err(CodecError::new("value nested too deeply"));
        }
        match self.head()? {
            Head::Str(n) | Head::Bin(n) | Head::Ext(n) => {
                self.take(n)?;
            }
            Head::Array(n) => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            Head::Map(n) => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, CodecError> {
        if depth > MAX_DEPTH {
            return Err(CodecError::new("value nested too deeply"));
        }
        if Self::is_ext(self.peek()?) {
            self.skip(depth)?;
            return Ok(Value::Unknown);
        }
        if *ty == Type::Dynamic {
            return self.dynamic(depth);
        }
        let head = self.head()?;
        if let Head::Nil = head {
            return Ok(Value::Null);
        }
        let mismatch =
            |found: &str| CodecError::new(format!("expected {ty}, found msgpack {found}"));
        match ty {
            Type::Bool => match head {
                Head::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(mismatch("non-bool")),
            },
            Type::Number => match head {
                Head::Int(i) => Ok(Value::Number(Number::from_i64(i))),
                Head::Uint(u) => Ok(Value::Number(Number::from_u64(u))),
                Head::Float(f) => Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| CodecError::new("number is not finite")),
                Head::Str(n) => {
                    let text = self.text(n)?;
                    Number::parse(&text)
                        .map(Value::Number)
                        .map_err(|e| CodecError::new(e.to_string()))
                }
                _ => Err(mismatch("non-number")),
            },
            Type::String => match head {
                Head::Str(n) => Ok(Value::String(self.text(n)?)),
                _ => Err(mismatch("non-string")),
            },
            Type::List(element) | Type::Set(element) => {
                let Head::Array(n) = head else {
                    return Err(mismatch("non-array"));
                };
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for i in 0..n {
                    let item = self
                        .value(element, depth + 1)
                        .map_err(|e| e.within(PathStep::Index(i as i64)))?;
                    items.push(item);
                }
                Ok(match ty {
                    Type::Set(_) => Value::Set(items),
                    _ => Value::List(items),
                })
            }
            Type::Tuple(elements) => {
                let Head::Array(n) = head else {
                    return Err(mismatch("non-array"));
                };
                if n != elements.len() {
                    return Err(CodecError::new(format!(
                        "expected a tuple of {} elements, found {n}",
                        elements.len()
                    )));
                }
                let mut items = Vec::with_capacity(n);
                for (i, element) in elements.iter().enumerate() {
                    items.push(
                        self.value(element, depth + 1)
                            .map_err(|e| e.within(PathStep::Index(i as i64)))?,
                    );
                }
                Ok(Value::Tuple(items))
            }
            Type::Map(element) => {
                let Head::Map(n) = head else {
                    return Err(mismatch("non-map"));
                };
                let mut fields = BTreeMap::new();
                for _ in 0..n {
                    let key = self.key()?;
                    let item = self
                        .value(element, depth + 1)
                        .map_err(|e| e.within(PathStep::Key(key.clone())))?;
                    fields.insert(key, item);
                }
                Ok(Value::Map(fields))
            }
            Type::Object(attributes) => {
                let Head::Map(n) = head else {
                    return Err(mismatch("non-map"));
                };
                let mut fields = BTreeMap::new();
                for _ in 0..n {
                    let key = self.key()?;
                    match attributes.get(&key) {
                        Some(attr_ty) => {
                            let item = self
                                .value(attr_ty, depth + 1)
                                .map_err(|e| e.within(PathStep::Attribute(key.clone())))?;
                            fields.insert(key, item);
                        }
                        // An attribute the schema no longer has: dropping it is what the
                        // schema asks for.
                        None => self.skip(depth + 1)?,
                    }
                }
                for name in attributes.keys() {
                    fields.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(fields))
            }
            Type::Dynamic => unreachable_dynamic(),
        }
    }

    fn key(&mut self) -> Result<String, CodecError> {
        match self.head()? {
            Head::Str(n) => self.text(n),
            _ => Err(CodecError::new("map key is not a string")),
        }
    }

    fn dynamic(&mut self, depth: usize) -> Result<Value, CodecError> {
        match self.head()? {
            Head::Nil => Ok(Value::Null),
            Head::Array(2) => {
                let type_json = match self.head()? {
                    Head::Bin(n) | Head::Str(n) => self.take(n)?,
                    _ => return Err(CodecError::new("dynamic value without a type")),
                };
                let ty =
                    Type::from_json_bytes(type_json).map_err(|e| CodecError::new(e.to_string()))?;
                let inner = self.value(&ty, depth + 1)?;
                Ok(match inner {
                    // Null and unknown carry no type information worth keeping.
                    Value::Null | Value::Unknown => inner,
                    known => Value::Dynamic(Box::new(ty), Box::new(known)),
                })
            }
            _ => Err(CodecError::new("dynamic value is not a [type, value] pair")),
        }
    }
}

/// `Reader::value` answers `Type::Dynamic` before matching on the type; this keeps the match
/// exhaustive without a panic path.
fn unreachable_dynamic() -> Result<Value, CodecError> {
    Err(CodecError::new(
        "internal: dynamic type reached typed decoding",
    ))
}

fn write_len(out: &mut Vec<u8>, n: usize, fix: Option<(u8, usize)>, markers: [u8; 3]) {
    match fix {
        Some((base, max)) if n <= max => out.push(base | n as u8),
        _ if n <= 0xff && markers[0] != 0 => {
            out.push(markers[0]);
            out.push(n as u8);
        }
        _ if n <= 0xffff => {
            out.push(markers[1]);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(markers[2]);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    write_len(out, text.len(), Some((0xa0, 31)), [0xd9, 0xda, 0xdb]);
    out.extend_from_slice(text.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, bytes: &[u8]) {
    write_len(out, bytes.len(), None, [0xc4, 0xc5, 0xc6]);
    out.extend_from_slice(bytes);
}

fn write_array_len(out: &mut Vec<u8>, n: usize) {
    write_len(out, n, Some((0x90, 15)), [0, 0xdc, 0xdd]);
}

fn write_map_len(out: &mut Vec<u8>, n: usize) {
    write_len(out, n, Some((0x80, 15)), [0, 0xde, 0xdf]);
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    match i {
        0..=0x7f => out.push(i as u8),
        -32..=-1 => out.push(i as i8 as u8),
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.to_i64() {
        write_int(out, i);
    } else if let Some(f) = n.to_f64_exact() {
        out.push(0xcb);
        out.extend_from_slice(&f.to_bits().to_be_bytes());
    } else {
        write_str(out, &n.to_string());
    }
}

fn write_value(
    out: &mut Vec<u8>,
    ty: &Type,
    value: &Value,
    depth: usize,
) -> Result<(), CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new("value nested too deeply"));
    }
    match value {
        Value::Unknown => {
            out.extend_from_slice(&[0xd4, 0, 0]);
            return Ok(());
        }
        Value::Null => {
            out.push(0xc0);
            return Ok(());
        }
        _ => {}
    }
    if *ty == Type::Dynamic {
        let (concrete, inner) = match value {
            Value::Dynamic(concrete, inner) => ((**concrete).clone(), &**inner),
            other => (other.infer_type(), other),
        };
        write_array_len(out, 2);
        write_bin(out, &concrete.to_json_bytes());
        return write_value(out, &concrete, inner, depth + 1);
    }
    let mismatch = || {
        CodecError::new(format!(
            "the provider produced a {} where the schema says {ty}",
            value.kind()
        ))
    };
    match (ty, value.unwrap_dynamic()) {
        (_, Value::Null) => out.push(0xc0),
        (_, Value::Unknown) => out.extend_from_slice(&[0xd4, 0, 0]),
        (Type::Bool, Value::Bool(b)) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Type::Number, Value::Number(n)) => write_number(out, n),
        (Type::String, Value::String(s)) => write_str(out, s),
        (
            Type::List(element) | Type::Set(element),
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
        ) => {
            write_array_len(out, items.len());
            let mut ordered: Vec<(usize, &Value)> = items.iter().enumerate().collect();
            if matches!(ty, Type::Set(_)) {
                ordered.sort_by(|a, b| a.1.canonical_cmp(b.1));
            }
            for (i, item) in ordered {
                write_value(out, element, item, depth + 1)
                    .map_err(|e| e.within(PathStep::Index(i as i64)))?;
            }
        }
        (Type::Tuple(elements), Value::List(items) | Value::Tuple(items)) => {
            if elements.len() != items.len() {
                return Err(mismatch());
            }
            write_array_len(out, items.len());
            for (i, (element, item)) in elements.iter().zip(items).enumerate() {
                write_value(out, element, item, depth + 1)
                    .map_err(|e| e.within(PathStep::Index(i as i64)))?;
            }
        }
        (Type::Map(element), Value::Map(fields) | Value::Object(fields)) => {
            write_map_len(out, fields.len());
            for (key, item) in fields {
                write_str(out, key);
                write_value(out, element, item, depth + 1)
                    .map_err(|e| e.within(PathStep::Key(key.clone())))?;
            }
        }
        (Type::Object(attributes), Value::Object(fields) | Value::Map(fields)) => {
            if let Some(extra) = fields.keys().find(|k| !attributes.contains_key(*k)) {
                return Err(CodecError::new(format!(
                    "the provider produced attribute {extra:?}, which the schema does not have"
                )));
            }
            write_map_len(out, attributes.len());
            for (name, attr_ty) in attributes {
                write_str(out, name);
                let item = fields.get(name).unwrap_or(&Value::Null);
                write_value(out, attr_ty, item, depth + 1)
                    .map_err(|e| e.within(PathStep::Attribute(name.clone())))?;
            }
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// Re-types a value against `ty`: sequences and maps get the kinds the type names, missing
/// object attributes become null, sets get a canonical order. Used on values a resource built
/// by hand before comparing or sending them.
pub fn conform(ty: &Type, value: &Value) -> Result<Value, CodecError> {
    decode(ty, &encode(ty, value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(ty: &Type, value: &Value) -> Value {
        decode(ty, &encode(ty, value).unwrap()).unwrap()
    }

    fn sample_type() -> Type {
        Type::object([
            ("name", Type::String),
            ("count", Type::Number),
            ("enabled", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("regions", Type::set(Type::String)),
            (
                "rules",
                Type::list(Type::object([("action", Type::String)])),
            ),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("anything", Type::Dynamic),
        ])
    }

    fn sample_value() -> Value {
        Value::object([
            ("name", Value::from("dev")),
            ("count", Value::from(3)),
            ("enabled", Value::Bool(true)),
            (
                "tags",
                Value::Map([("Team".to_owned(), Value::from("ops"))].into()),
            ),
            (
                "regions",
                Value::set(["us-east-1".into(), "eu-west-1".into()]),
            ),
            (
                "rules",
                Value::List(vec![Value::object([(
                    "action",
                    Value::from("s3:GetObject"),
                )])]),
            ),
            ("pair", Value::Tuple(vec!["a".into(), Value::from(-7)])),
            (
                "anything",
                Value::Dynamic(
                    Box::new(Type::list(Type::String)),
                    Box::new(Value::List(vec!["x".into()])),
                ),
            ),
        ])
    }

    #[test]
    fn full_object_round_trips() {
        let ty = sample_type();
        let value = sample_value();
        assert_eq!(round_trip(&ty, &value), value);
    }

    #[test]
    fn unknown_and_null_round_trip_at_every_level() {
        let ty = sample_type();
        assert_eq!(round_trip(&ty, &Value::Unknown), Value::Unknown);
        assert_eq!(round_trip(&ty, &Value::Null), Value::Null);
        let Value::Object(fields) = sample_value() else {
            unreachable!()
        };
        for name in fields.keys() {
            for replacement in [Value::Unknown, Value::Null] {
                let mut value = sample_value();
                value.set_attribute(name, replacement.clone());
                assert_eq!(round_trip(&ty, &value), value, "{name} = {replacement:?}");
            }
        }
        let nested = Value::object([
            (
                "tags",
                Value::Map([("k".to_owned(), Value::Unknown)].into()),
            ),
            ("regions", Value::set([Value::Unknown, Value::Unknown])),
            (
                "rules",
                Value::List(vec![Value::object([("action", Value::Unknown)])]),
            ),
            ("pair", Value::Tuple(vec![Value::Unknown, Value::Null])),
        ]);
        let decoded = round_trip(&ty, &nested);
        assert_eq!(decoded.attribute("tags"), nested.attribute("tags"));
        assert_eq!(decoded.attribute("regions"), nested.attribute("regions"));
        assert_eq!(decoded.attribute("rules"), nested.attribute("rules"));
        assert_eq!(decoded.attribute("pair"), nested.attribute("pair"));
        assert_eq!(decoded.attribute("name"), Some(&Value::Null));
    }

    #[test]
    fn any_extension_is_unknown() {
        // A refined unknown: ext8 with a payload.
        let refined = [0xc7, 3, 12, 0x81, 0x01, 0xc3];
        assert_eq!(decode(&Type::String, &refined).unwrap(), Value::Unknown);
        assert_eq!(
            decode(&Type::Dynamic, &[0xd4, 0, 0]).unwrap(),
            Value::Unknown
        );
        assert_eq!(
            decode(&Type::list(Type::Number), &[0x91, 0xd5, 1, 2, 3]).unwrap(),
            Value::List(vec![Value::Unknown])
        );
    }

    #[test]
    fn numbers_in_every_wire_form() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0x05], "5"),
            (vec![0xff], "-1"),
            (vec![0xcc, 200], "200"),
            (vec![0xd0, 0x80], "-128"),
            (
                vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                "18446744073709551615",
            ),
            (
                [vec![0xcb], 1.5f64.to_bits().to_be_bytes().to_vec()].concat(),
                "1.5",
            ),
            (
                [vec![0xca], 0.25f32.to_bits().to_be_bytes().to_vec()].concat(),
                "0.25",
            ),
        ];
        for (bytes, expected) in cases {
            let value = decode(&Type::Number, &bytes).unwrap();
            assert_eq!(value, Value::Number(Number::parse(expected).unwrap()));
        }
        let big = "123456789012345678901234567890.125";
        let mut bytes = vec![0xd9, big.len() as u8];
        bytes.extend_from_slice(big.as_bytes());
        let value = decode(&Type::Number, &bytes).unwrap();
        assert_eq!(value, Value::Number(Number::parse(big).unwrap()));
        assert_eq!(encode(&Type::Number, &value).unwrap(), bytes);
        // Integers go back as integers, exact floats as floats.
        assert_eq!(encode(&Type::Number, &Value::from(5)).unwrap(), [0x05]);
        let half = Value::Number(Number::parse("0.5").unwrap());
        assert_eq!(encode(&Type::Number, &half).unwrap()[0], 0xcb);
    }

    #[test]
    fn dynamic_values_keep_their_type() {
        let ty = Type::Dynamic;
        for (concrete, value) in [
            (Type::String, Value::from("x")),
            (
                Type::object([("a", Type::Number)]),
                Value::object([("a", Value::from(1))]),
            ),
            (Type::list(Type::Dynamic), Value::List(vec![])),
        ] {
            let wrapped = Value::Dynamic(Box::new(concrete), Box::new(value));
            assert_eq!(round_trip(&ty, &wrapped), wrapped);
        }
        // A type sent as a msgpack string instead of bytes is accepted too.
        let bytes = [&[0x92, 0xa8][..], b"\"string\"", &[0xa1, b'z']].concat();
        assert_eq!(
            decode(&ty, &bytes).unwrap(),
            Value::Dynamic(Box::new(Type::String), Box::new("z".into()))
        );
    }

    #[test]
    fn sets_encode_in_canonical_order() {
        let ty = Type::set(Type::String);
        let a = encode(&ty, &Value::set(["b".into(), "a".into()])).unwrap();
        let b = encode(&ty, &Value::set(["a".into(), "b".into()])).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn long_strings_and_collections() {
        let text = "x".repeat(70_000);
        let ty = Type::list(Type::String);
        let value = Value::List(vec![Value::String(text); 20]);
        assert_eq!(round_trip(&ty, &value), value);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = sample_type();
        for bytes in [
            &[][..],
            &[0xc1],
            &[0x81],
            &[0x81, 0xa4, b'n', b'a', b'm', b'e'],
            &[0xdf, 0xff, 0xff, 0xff, 0xff],
            &[0x81, 0xa4, b'n', b'a', b'm', b'e', 0x05],
            &[0xc0, 0xc0],
            &[0xdb, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(decode(&ty, bytes).is_err(), "{bytes:?}");
        }
        let deep = [vec![0x91; 10_000], vec![0xc0]].concat();
        let mut deep_ty = Type::String;
        for _ in 0..300 {
            deep_ty = Type::list(deep_ty);
        }
        assert!(decode(&deep_ty, &deep).is_err());
        assert!(decode(&Type::Dynamic, &[0x92, 0xa1, b'[', 0xc0]).is_err());
    }

    #[test]
    fn errors_name_the_path() {
        let ty = sample_type();
        let mut value = sample_value();
        value.set_attribute(
            "rules",
            Value::List(vec![Value::object([("action", Value::Bool(true))])]),
        );
        let err = encode(&ty, &value).unwrap_err();
        assert_eq!(err.path.to_string(), "rules[0].action");
    }

    #[test]
    fn conform_fixes_collection_kinds() {
        let ty = Type::object([("ids", Type::set(Type::String))]);
        let value = Value::object([("ids", Value::List(vec!["b".into(), "a".into()]))]);
        let conformed = conform(&ty, &value).unwrap();
        assert_eq!(
            conformed,
            Value::object([("ids", Value::set(["a".into(), "b".into()]))])
        );
    }
}
