//! Schemas: what attributes and blocks a provider, resource or data source has.
//!
//! Built with small builders, converted to protocol messages once at startup. Besides what
//! Terraform sees, an attribute can carry plan behaviour the layer applies for the resource:
//! [`Attribute::requires_replace`] and [`Attribute::use_state_for_unknown`].

use std::collections::BTreeMap;

use crate::proto::tfplugin6 as pb;
use crate::value::Type;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }

    pub fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The object type of a whole configuration/state value.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new() -> Self {
        Block::default()
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    pub fn value_type(&self) -> Type {
        let mut fields: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for block in &self.blocks {
            fields.insert(block.name.clone(), block.value_type());
        }
        Type::Object(fields)
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectNesting {
    Single,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeType {
    Plain(Type),
    /// Nested attributes (`attr = { ... }` syntax). Sent as `nested_type` with no `type`:
    /// Terraform rejects attributes that set both.
    Nested(ObjectNesting, Vec<Attribute>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub ty: AttributeType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    pub write_only: bool,
    /// A change to this attribute plans a replacement instead of an update.
    pub requires_replace: bool,
    /// When the attribute is computed and not configured, plan the prior state's value
    /// instead of unknown.
    pub use_state_for_unknown: bool,
}

impl Attribute {
    /// An attribute with no mode yet; call [`required`](Self::required),
    /// [`optional`](Self::optional) and/or [`computed`](Self::computed).
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty: AttributeType::Plain(ty),
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            write_only: false,
            requires_replace: false,
            use_state_for_unknown: false,
        }
    }

    pub fn nested(
        name: impl Into<String>,
        nesting: ObjectNesting,
        attributes: Vec<Attribute>,
    ) -> Self {
        Attribute {
            ty: AttributeType::Nested(nesting, attributes),
            ..Attribute::new(name, Type::Dynamic)
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self.required = false;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Markdown; shown by Terraform tooling and used to generate documentation.
    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Plain(ty) => ty.clone(),
            AttributeType::Nested(nesting, attributes) => {
                let object = Type::Object(
                    attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                );
                match nesting {
                    ObjectNesting::Single => object,
                    ObjectNesting::List => Type::list(object),
                    ObjectNesting::Set => Type::set(object),
                    ObjectNesting::Map => Type::map(object),
                }
            }
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested_type) = match &self.ty {
            AttributeType::Plain(ty) => (ty.to_json_bytes(), None),
            AttributeType::Nested(nesting, attributes) => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attributes.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        ObjectNesting::Single => pb::schema::object::NestingMode::Single,
                        ObjectNesting::List => pb::schema::object::NestingMode::List,
                        ObjectNesting::Set => pb::schema::object::NestingMode::Set,
                        ObjectNesting::Map => pb::schema::object::NestingMode::Map,
                    } as i32,
                    ..Default::default()
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            write_only: self.write_only,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockNesting {
    Single,
    /// Like `Single`, but never null: absent means all attributes null.
    Group,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: BlockNesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

impl NestedBlock {
    pub fn new(name: impl Into<String>, nesting: BlockNesting, block: Block) -> Self {
        NestedBlock {
            name: name.into(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    pub fn value_type(&self) -> Type {
        let object = self.block.value_type();
        match self.nesting {
            BlockNesting::Single | BlockNesting::Group => object,
            BlockNesting::List => Type::list(object),
            BlockNesting::Set => Type::set(object),
            BlockNesting::Map => Type::map(object),
        }
    }

    fn to_proto(&self) -> pb::schema::NestedBlock {
        use pb::schema::nested_block::NestingMode;
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(self.block.to_proto(0)),
            nesting: match self.nesting {
                BlockNesting::Single => NestingMode::Single,
                BlockNesting::Group => NestingMode::Group,
                BlockNesting::List => NestingMode::List,
                BlockNesting::Set => NestingMode::Set,
                BlockNesting::Map => NestingMode::Map,
            } as i32,
            min_items: self.min_items,
            max_items: self.max_items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Schema {
        Schema::new(
            Block::new()
                .attribute(
                    Attribute::new("name", Type::String)
                        .required()
                        .description("The *name*."),
                )
                .attribute(
                    Attribute::nested(
                        "endpoints",
                        ObjectNesting::Single,
                        vec![Attribute::new("iam", Type::String).optional()],
                    )
                    .optional(),
                )
                .block(
                    NestedBlock::new(
                        "assume_role",
                        BlockNesting::List,
                        Block::new().attribute(Attribute::new("role_arn", Type::String).required()),
                    )
                    .max_items(1),
                ),
        )
    }

    #[test]
    fn value_type_covers_attributes_and_blocks() {
        assert_eq!(
            sample().value_type(),
            Type::object([
                ("name", Type::String),
                ("endpoints", Type::object([("iam", Type::String)])),
                (
                    "assume_role",
                    Type::list(Type::object([("role_arn", Type::String)]))
                ),
            ])
        );
    }

    #[test]
    fn nested_attributes_never_set_type_and_nested_type_together() {
        let proto = sample().to_proto();
        let block = proto.block.unwrap();
        let endpoints = block
            .attributes
            .iter()
            .find(|a| a.name == "endpoints")
            .unwrap();
        assert!(endpoints.r#type.is_empty());
        assert!(endpoints.nested_type.is_some());
        let name = block.attributes.iter().find(|a| a.name == "name").unwrap();
        assert_eq!(name.r#type, b"\"string\"");
        assert_eq!(name.description_kind, pb::StringKind::Markdown as i32);
    }
}
