//! Terraform values: what configuration, plans and state are made of.
//!
//! A [`Value`] does not carry its type; the schema does. Encoding and decoding are therefore
//! type-directed ([`msgpack`], [`json`]), and a value at a `dynamic` position keeps the concrete
//! type it arrived with ([`Value::Dynamic`]) so it can be sent back unchanged.

pub mod json;
pub mod msgpack;
mod number;
mod types;

use std::cmp::Ordering;
use std::collections::BTreeMap;

pub use number::{Number, NumberParseError};
pub use types::{Type, TypeJsonError};

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. Unknown values of any type look alike: the schema gives the type.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in no particular order; equality ignores order. Duplicates can only be
    /// unknowns that may later turn out distinct.
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    /// A known value at a position whose schema type is `dynamic`, with its concrete type.
    Dynamic(Box<Type>, Box<Value>),
}

impl Value {
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn set(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(elements.into_iter().collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when no unknown appears anywhere inside.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_fully_known)
            }
            Value::Map(fields) | Value::Object(fields) => {
                fields.values().all(Value::is_fully_known)
            }
            Value::Dynamic(_, inner) => inner.is_fully_known(),
            _ => true,
        }
    }

    /// Looks through a [`Value::Dynamic`] wrapper.
    pub fn unwrap_dynamic(&self) -> &Value {
        match self {
            Value::Dynamic(_, inner) => inner.unwrap_dynamic(),
            other => other,
        }
    }

    /// An attribute of an object value; `None` when this is not an object or has no such
    /// attribute.
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Object(fields) => fields.get(name),
            _ => None,
        }
    }

    /// Sets an attribute of an object value; does nothing on other values.
    pub fn set_attribute(&mut self, name: &str, value: Value) {
        if let Value::Object(fields) = self {
            fields.insert(name.to_owned(), value);
        }
    }

    /// A short name for messages: "string", "list", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown value",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Dynamic(_, inner) => inner.kind(),
        }
    }

    /// The type this value would have at a `dynamic` position, as far as the value shows it.
    /// Empty collections and nulls give no hint and are typed `dynamic` inside.
    pub fn infer_type(&self) -> Type {
        fn common(items: &[Value]) -> Type {
            let mut types = items
                .iter()
                .filter(|v| !matches!(v, Value::Null | Value::Unknown));
            match types.next() {
                Some(first) => first.infer_type(),
                None => Type::Dynamic,
            }
        }
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::list(common(items)),
            Value::Set(items) => Type::set(common(items)),
            Value::Tuple(items) => Type::Tuple(items.iter().map(Value::infer_type).collect()),
            Value::Map(fields) => Type::map(common(&fields.values().cloned().collect::<Vec<_>>())),
            Value::Object(fields) => Type::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.infer_type()))
                    .collect(),
            ),
            Value::Dynamic(ty, _) => (**ty).clone(),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Unknown => 1,
            Value::Bool(_) => 2,
            Value::Number(_) => 3,
            Value::String(_) => 4,
            Value::List(_) => 5,
            Value::Set(_) => 6,
            Value::Tuple(_) => 7,
            Value::Map(_) => 8,
            Value::Object(_) => 9,
            Value::Dynamic(..) => 10,
        }
    }

    /// A total order used to put set elements in a deterministic order.
    pub fn canonical_cmp(&self, other: &Value) -> Ordering {
        fn seq(a: &[Value], b: &[Value]) -> Ordering {
            for (x, y) in a.iter().zip(b) {
                let o = x.canonical_cmp(y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.len().cmp(&b.len())
        }
        fn sorted(items: &[Value]) -> Vec<&Value> {
            let mut refs: Vec<&Value> = items.iter().collect();
            refs.sort_by(|a, b| a.canonical_cmp(b));
            refs
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => seq(a, b),
            (Value::Set(a), Value::Set(b)) => {
                let (a, b) = (sorted(a), sorted(b));
                for (x, y) in a.iter().zip(&b) {
                    let o = x.canonical_cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    let o = ka.cmp(kb).then_with(|| va.canonical_cmp(vb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => {
                ta.cmp(tb).then_with(|| a.canonical_cmp(b))
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.canonical_cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(text)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from_i64(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::set(["x".into(), "y".into()]);
        let b = Value::set(["y".into(), "x".into()]);
        assert_eq!(a, b);
        assert_ne!(a, Value::set(["x".into()]));
        assert_ne!(a, Value::List(vec!["x".into(), "y".into()]));
    }

    #[test]
    fn unknown_is_found_at_any_depth() {
        let v = Value::object([("a", Value::List(vec![Value::set([Value::Unknown])]))]);
        assert!(!v.is_fully_known());
        assert!(Value::object([("a", Value::Null)]).is_fully_known());
    }
}
