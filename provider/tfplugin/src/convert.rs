//! Typed access to values: resources read configuration into Rust types and build state from
//! them, instead of walking raw [`Value`]s.
//!
//! Nulls map to `Option`, unknowns to [`MaybeUnknown`]; reading a null or unknown into a type
//! that cannot hold it is a [`ValueError`] naming the attribute path, which becomes a
//! diagnostic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::diagnostics::Diagnostic;
use crate::path::{AttributePath, PathStep};
use crate::value::{Number, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueErrorKind {
    /// The value is (or contains) an unknown, and the target type cannot hold one.
    Unknown,
    /// The value is null, and the target type is not an `Option`.
    Null,
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    /// Right kind, unacceptable content (a number out of range, ...).
    Invalid(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// Relative to the value being read; [`ValueError::at`] anchors it.
    pub path: AttributePath,
    pub kind: ValueErrorKind,
}

impl ValueError {
    pub fn new(kind: ValueErrorKind) -> Self {
        ValueError {
            path: AttributePath::root(),
            kind,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ValueError::new(ValueErrorKind::Invalid(message.into()))
    }

    fn wrong_kind(expected: &'static str, found: &Value) -> Self {
        ValueError::new(ValueErrorKind::WrongKind {
            expected,
            found: found.kind(),
        })
    }

    pub fn within(mut self, step: PathStep) -> Self {
        self.path.prepend(step);
        self
    }

    /// Places the error under `prefix` (for example the attribute that was being read).
    pub fn at(mut self, prefix: &AttributePath) -> Self {
        self.path = self.path.under(prefix);
        self
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let (summary, detail) = match &self.kind {
            ValueErrorKind::Unknown => (
                "Value not yet known",
                "This value is only known after apply, but the provider needs it now.".to_owned(),
            ),
            ValueErrorKind::Null => (
                "Missing value",
                "A value is required here, but it is null.".to_owned(),
            ),
            ValueErrorKind::WrongKind { expected, found } => (
                "Wrong value type",
                format!("Expected a {expected}, but got a {found}."),
            ),
            ValueErrorKind::Invalid(message) => ("Invalid value", message.clone()),
        };
        let diagnostic = Diagnostic::error(summary, detail);
        if self.path.is_root() {
            diagnostic
        } else {
            diagnostic.at(self.path.clone())
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.to_diagnostic();
        if self.path.is_root() {
            write!(f, "{}: {}", d.summary, d.detail)
        } else {
            write!(f, "{}: {}: {}", self.path, d.summary, d.detail)
        }
    }
}

impl std::error::Error for ValueError {}

impl From<ValueError> for Diagnostic {
    fn from(e: ValueError) -> Self {
        e.to_diagnostic()
    }
}

pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, ValueError>;
}

pub trait IntoValue {
    fn into_value(self) -> Value;
}

/// Reads and writes everything in a value's known parts; the first null or unknown found
/// where the type cannot hold it is reported with its path.
fn known(value: &Value) -> Result<&Value, ValueError> {
    match value.unwrap_dynamic() {
        Value::Null => Err(ValueError::new(ValueErrorKind::Null)),
        Value::Unknown => Err(ValueError::new(ValueErrorKind::Unknown)),
        other => Ok(other),
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        Ok(value.clone())
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match known(value)? {
            Value::Bool(b) => Ok(*b),
            other => Err(ValueError::wrong_kind("bool", other)),
        }
    }
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match known(value)? {
            Value::String(s) => Ok(s.clone()),
            other => Err(ValueError::wrong_kind("string", other)),
        }
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::String(self.to_owned())
    }
}

impl FromValue for Number {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match known(value)? {
            Value::Number(n) => Ok(n.clone()),
            other => Err(ValueError::wrong_kind("number", other)),
        }
    }
}

impl IntoValue for Number {
    fn into_value(self) -> Value {
        Value::Number(self)
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        let n = Number::from_value(value)?;
        n.to_i64().ok_or_else(|| {
            ValueError::invalid(format!(
                "Expected a whole number between {} and {}, but got {n}.",
                i64::MIN,
                i64::MAX
            ))
        })
    }
}

impl IntoValue for i64 {
    fn into_value(self) -> Value {
        Value::Number(Number::from_i64(self))
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        let n = Number::from_value(value)?;
        let f = n.to_f64();
        if f.is_finite() {
            Ok(f)
        } else {
            Err(ValueError::invalid(format!("{n} is too large.")))
        }
    }
}

/// NaN and infinities have no Terraform representation; they become null.
impl IntoValue for f64 {
    fn into_value(self) -> Value {
        Number::from_f64(self).map_or(Value::Null, Value::Number)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match value.unwrap_dynamic() {
            Value::Null => Ok(None),
            _ => T::from_value(value).map(Some),
        }
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

/// A value that may not be known until apply.
///
/// Reading succeeds with `Unknown` when the value, or anything inside it that `T` would need,
/// is unknown. Wrap elements too (`MaybeUnknown<Vec<MaybeUnknown<String>>>`) to still see the
/// known elements of a partly-known collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaybeUnknown<T> {
    Known(T),
    Unknown,
}

impl<T> MaybeUnknown<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            MaybeUnknown::Known(v) => Some(v),
            MaybeUnknown::Unknown => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            MaybeUnknown::Known(v) => Some(v),
            MaybeUnknown::Unknown => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, MaybeUnknown::Unknown)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> MaybeUnknown<U> {
        match self {
            MaybeUnknown::Known(v) => MaybeUnknown::Known(f(v)),
            MaybeUnknown::Unknown => MaybeUnknown::Unknown,
        }
    }
}

impl<T: FromValue> FromValue for MaybeUnknown<T> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        if value.is_unknown() {
            return Ok(MaybeUnknown::Unknown);
        }
        match T::from_value(value) {
            Ok(v) => Ok(MaybeUnknown::Known(v)),
            Err(ValueError {
                kind: ValueErrorKind::Unknown,
                ..
            }) => Ok(MaybeUnknown::Unknown),
            Err(e) => Err(e),
        }
    }
}

impl<T: IntoValue> IntoValue for MaybeUnknown<T> {
    fn into_value(self) -> Value {
        match self {
            MaybeUnknown::Known(v) => v.into_value(),
            MaybeUnknown::Unknown => Value::Unknown,
        }
    }
}

fn elements(value: &Value) -> Result<&[Value], ValueError> {
    match known(value)? {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Ok(items),
        other => Err(ValueError::wrong_kind("list or set", other)),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        elements(value)?
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_value(item).map_err(|e| e.within(PathStep::Index(i as i64))))
            .collect()
    }
}

/// Becomes a list; where the schema says set, the layer converts it.
impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        Ok(Vec::<T>::from_value(value)?.into_iter().collect())
    }
}

impl<T: IntoValue> IntoValue for BTreeSet<T> {
    fn into_value(self) -> Value {
        Value::Set(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(value: &Value) -> Result<Self, ValueError> {
        match known(value)? {
            Value::Map(fields) | Value::Object(fields) => fields
                .iter()
                .map(|(k, v)| {
                    T::from_value(v)
                        .map(|t| (k.clone(), t))
                        .map_err(|e| e.within(PathStep::Key(k.clone())))
                })
                .collect(),
            other => Err(ValueError::wrong_kind("map", other)),
        }
    }
}

impl<T: IntoValue> IntoValue for BTreeMap<String, T> {
    fn into_value(self) -> Value {
        Value::Map(self.into_iter().map(|(k, v)| (k, v.into_value())).collect())
    }
}

/// Reads the attributes of an object value one by one, each error carrying its attribute
/// name:
///
/// ```
/// # use tfplugin::{ObjectReader, Value, ValueError};
/// struct Endpoint { url: String, insecure: Option<bool> }
/// fn read(value: &Value) -> Result<Endpoint, ValueError> {
///     let object = ObjectReader::new(value)?;
///     Ok(Endpoint { url: object.get("url")?, insecure: object.get("insecure")? })
/// }
/// # let v = Value::object([("url", Value::from("http://x"))]);
/// # assert_eq!(read(&v).unwrap().url, "http://x");
/// ```
pub struct ObjectReader<'a> {
    fields: &'a BTreeMap<String, Value>,
}

impl<'a> ObjectReader<'a> {
    pub fn new(value: &'a Value) -> Result<Self, ValueError> {
        match known(value)? {
            Value::Object(fields) | Value::Map(fields) => Ok(ObjectReader { fields }),
            other => Err(ValueError::wrong_kind("object", other)),
        }
    }

    /// A missing attribute reads as null.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T, ValueError> {
        T::from_value(self.raw(name)).map_err(|e| e.within(PathStep::Attribute(name.to_owned())))
    }

    pub fn raw(&self, name: &str) -> &'a Value {
        self.fields.get(name).unwrap_or(&Value::Null)
    }
}

/// Builds an object value from typed fields.
#[derive(Default)]
pub struct ObjectBuilder {
    fields: BTreeMap<String, Value>,
}

impl ObjectBuilder {
    pub fn new() -> Self {
        ObjectBuilder::default()
    }

    pub fn field(mut self, name: &str, value: impl IntoValue) -> Self {
        self.fields.insert(name.to_owned(), value.into_value());
        self
    }

    pub fn build(self) -> Value {
        Value::Object(self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_and_options() {
        assert_eq!(String::from_value(&"x".into()), Ok("x".to_owned()));
        assert_eq!(Option::<String>::from_value(&Value::Null), Ok(None));
        assert_eq!(i64::from_value(&Value::from(42)), Ok(42));
        assert_eq!(f64::from_value(&Value::from(2)), Ok(2.0));
        let err = String::from_value(&Value::Null).unwrap_err();
        assert_eq!(err.kind, ValueErrorKind::Null);
        let err = bool::from_value(&"x".into()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Expected a bool, but got a string")
        );
        let big = Value::Number(Number::parse("1e30").unwrap());
        assert!(i64::from_value(&big).is_err());
    }

    #[test]
    fn unknown_handling_is_explicit() {
        assert_eq!(
            String::from_value(&Value::Unknown).unwrap_err().kind,
            ValueErrorKind::Unknown
        );
        assert_eq!(
            MaybeUnknown::<String>::from_value(&Value::Unknown),
            Ok(MaybeUnknown::Unknown)
        );
        let partly = Value::set(["a".into(), Value::Unknown]);
        assert_eq!(
            MaybeUnknown::<BTreeSet<String>>::from_value(&partly),
            Ok(MaybeUnknown::Unknown)
        );
        let elements = Vec::<MaybeUnknown<String>>::from_value(&partly).unwrap();
        assert_eq!(elements.len(), 2);
        assert!(elements.contains(&MaybeUnknown::Known("a".into())));
    }

    #[test]
    fn errors_carry_paths() {
        let value = Value::object([(
            "rules",
            Value::List(vec![Value::object([(
                "ports",
                Value::List(vec!["x".into()]),
            )])]),
        )]);
        let object = ObjectReader::new(&value).unwrap();
        let err = object
            .get::<Vec<BTreeMap<String, Vec<i64>>>>("rules")
            .unwrap_err();
        assert_eq!(err.path.to_string(), "rules[0][\"ports\"][0]");
        let diagnostic = err.to_diagnostic();
        assert_eq!(diagnostic.attribute, Some(err.path.clone()));
    }

    #[test]
    fn builds_objects() {
        let value = ObjectBuilder::new()
            .field("name", "dev")
            .field("count", 2i64)
            .field("tags", BTreeMap::from([("a".to_owned(), "b")]))
            .field("missing", Option::<String>::None)
            .build();
        assert_eq!(value.attribute("name"), Some(&Value::from("dev")));
        assert_eq!(value.attribute("missing"), Some(&Value::Null));
    }
}
