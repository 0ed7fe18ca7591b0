//! Terraform (cty) types and their JSON form, as used in schemas and dynamic values.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type, decided per value (`any` in Terraform's language).
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.into(), ty))
                .collect(),
        )
    }

    pub fn to_json(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(element) => Json::Array(vec!["list".into(), element.to_json()]),
            Type::Set(element) => Json::Array(vec!["set".into(), element.to_json()]),
            Type::Map(element) => Json::Array(vec!["map".into(), element.to_json()]),
            Type::Object(attributes) => {
                let fields = attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json()))
                    .collect();
                Json::Array(vec!["object".into(), Json::Object(fields)])
            }
            Type::Tuple(elements) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elements.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The bytes Terraform expects in `Schema.Attribute.type`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    pub fn from_json(json: &Json) -> Result<Type, TypeJsonError> {
        let bad = || TypeJsonError(json.to_string());
        match json {
            Json::String(name) => match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            Json::Array(parts) => {
                let (Some(Json::String(kind)), Some(argument)) = (parts.first(), parts.get(1))
                else {
                    return Err(bad());
                };
                match (kind.as_str(), argument) {
                    ("list", element) => Ok(Type::list(Type::from_json(element)?)),
                    ("set", element) => Ok(Type::set(Type::from_json(element)?)),
                    ("map", element) => Ok(Type::map(Type::from_json(element)?)),
                    // A third element (optional attribute names) only matters for type
                    // constraints, never for values, so it is accepted and ignored.
                    ("object", Json::Object(fields)) => Ok(Type::Object(
                        fields
                            .iter()
                            .map(|(name, ty)| Ok((name.clone(), Type::from_json(ty)?)))
                            .collect::<Result<_, TypeJsonError>>()?,
                    )),
                    ("tuple", Json::Array(elements)) => Ok(Type::Tuple(
                        elements
                            .iter()
                            .map(Type::from_json)
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeJsonError> {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|_| TypeJsonError(String::from_utf8_lossy(bytes).into_owned()))?;
        Type::from_json(&json)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("any"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeJsonError(pub String);

impl fmt::Display for TypeJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a Terraform type: {}", self.0)
    }
}

impl std::error::Error for TypeJsonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let ty = Type::object([
            ("name", Type::String),
            ("tags", Type::map(Type::String)),
            ("ports", Type::list(Type::Number)),
            ("pair", Type::Tuple(vec![Type::Bool, Type::Dynamic])),
            ("ids", Type::set(Type::String)),
        ]);
        let text = String::from_utf8(ty.to_json_bytes()).unwrap();
        assert_eq!(
            text,
            r#"["object",{"ids":["set","string"],"name":"string","pair":["tuple",["bool","dynamic"]],"ports":["list","number"],"tags":["map","string"]}]"#
        );
        assert_eq!(Type::from_json_bytes(text.as_bytes()).unwrap(), ty);
    }

    #[test]
    fn accepts_optional_attribute_marker_and_rejects_garbage() {
        let ty = Type::from_json_bytes(br#"["object",{"a":"string"},["a"]]"#).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String)]));
        for bad in [
            &b"\"strin\""[..],
            b"[\"list\"]",
            b"42",
            b"[\"object\",[]]",
            b"{",
        ] {
            assert!(Type::from_json_bytes(bad).is_err());
        }
    }
}
