//! A schema as registry-style Markdown: arguments grouped into Required, Optional and
//! Read-Only, each nested block, nested attribute or object type documented in its own section
//! under an HTML anchor the parent's entry links to (the layout the Terraform registry shows for
//! tfplugindocs-generated pages, so readers find things where they expect them).

use std::collections::BTreeMap;

use tfplugin::{Attribute, AttributeType, Block, BlockNesting, NestedBlock, ObjectNesting, Type};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    pub fn label(self) -> &'static str {
        match self {
            Group::Required => "Required",
            Group::Optional => "Optional",
            Group::ReadOnly => "Read-Only",
        }
    }
}

/// What an entry's nested schema section documents.
#[derive(Clone, Copy, Debug)]
pub enum Child<'a> {
    Block(&'a Block),
    Attributes(&'a [Attribute]),
    Object(&'a BTreeMap<String, Type>),
}

impl Child<'_> {
    fn anchor_kind(&self) -> &'static str {
        match self {
            Child::Block(_) => "nestedblock",
            Child::Attributes(_) => "nestedatt",
            Child::Object(_) => "nestedobjatt",
        }
    }
}

/// One argument or attribute, ready to print.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub group: Group,
    /// "String", "Block List, Max: 1", ... plus flags such as "Sensitive".
    pub kind: String,
    pub description: &'a str,
    pub requires_replace: bool,
    /// Optional and computed: Terraform or the provider picks a value when it is not set.
    pub defaulted: bool,
    pub child: Option<Child<'a>>,
}

/// The entries of a block, attributes and nested blocks together, sorted by name.
pub fn block_entries(block: &Block) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = block
        .attributes
        .iter()
        .map(attribute_entry)
        .chain(block.blocks.iter().map(block_entry))
        .collect();
    entries.sort_by(|a, b| a.name.cmp(b.name));
    entries
}

fn attributes_entries(attributes: &[Attribute]) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = attributes.iter().map(attribute_entry).collect();
    entries.sort_by(|a, b| a.name.cmp(b.name));
    entries
}

/// Fields of an object type, all in the group of the attribute holding the object.
fn object_entries(fields: &BTreeMap<String, Type>, group: Group) -> Vec<Entry<'_>> {
    fields
        .iter()
        .map(|(name, ty)| Entry {
            name,
            group,
            kind: type_name(ty),
            description: "",
            requires_replace: false,
            defaulted: false,
            child: object_in(ty).map(Child::Object),
        })
        .collect()
}

fn attribute_entry(attribute: &Attribute) -> Entry<'_> {
    let group = if attribute.required {
        Group::Required
    } else if attribute.optional {
        Group::Optional
    } else if attribute.computed {
        Group::ReadOnly
    } else {
        Group::Optional
    };
    let (mut kind, child) = match &attribute.ty {
        AttributeType::Plain(ty) => (type_name(ty), object_in(ty).map(Child::Object)),
        AttributeType::Nested(nesting, attributes) => (
            match nesting {
                ObjectNesting::Single => "Attributes",
                ObjectNesting::List => "Attributes List",
                ObjectNesting::Set => "Attributes Set",
                ObjectNesting::Map => "Attributes Map",
            }
            .to_owned(),
            Some(Child::Attributes(attributes.as_slice())),
        ),
    };
    for (flag, name) in [
        (attribute.sensitive, "Sensitive"),
        (attribute.write_only, "Write-only"),
        (attribute.deprecated, "Deprecated"),
    ] {
        if flag {
            kind.push_str(", ");
            kind.push_str(name);
        }
    }
    Entry {
        name: &attribute.name,
        group,
        kind,
        description: attribute.description.trim(),
        requires_replace: attribute.requires_replace,
        defaulted: attribute.optional && attribute.computed,
        child,
    }
}

fn block_entry(nested: &NestedBlock) -> Entry<'_> {
    let group = if nested.min_items > 0 && nested.nesting != BlockNesting::Group {
        Group::Required
    } else {
        Group::Optional
    };
    let mut kind = match nested.nesting {
        BlockNesting::Single | BlockNesting::Group => "Block",
        BlockNesting::List => "Block List",
        BlockNesting::Set => "Block Set",
        BlockNesting::Map => "Block Map",
    }
    .to_owned();
    let collection = !matches!(nested.nesting, BlockNesting::Single | BlockNesting::Group);
    if collection && nested.min_items > 0 {
        kind.push_str(&format!(", Min: {}", nested.min_items));
    }
    if collection && nested.max_items > 0 {
        kind.push_str(&format!(", Max: {}", nested.max_items));
    }
    if nested.block.deprecated {
        kind.push_str(", Deprecated");
    }
    Entry {
        name: &nested.name,
        group,
        kind,
        description: nested.block.description.trim(),
        requires_replace: false,
        defaulted: false,
        child: Some(Child::Block(&nested.block)),
    }
}

/// "String", "List of String", "Map of Object", ...
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".to_owned(),
        Type::Number => "Number".to_owned(),
        Type::String => "String".to_owned(),
        Type::Dynamic => "Dynamic".to_owned(),
        Type::List(element) => format!("List of {}", type_name(element)),
        Type::Set(element) => format!("Set of {}", type_name(element)),
        Type::Map(element) => format!("Map of {}", type_name(element)),
        Type::Object(_) => "Object".to_owned(),
        Type::Tuple(_) => "Tuple".to_owned(),
    }
}

/// The object type an attribute's values are or contain (through collections), if any.
fn object_in(ty: &Type) -> Option<&BTreeMap<String, Type>> {
    match ty {
        Type::Object(fields) => Some(fields),
        Type::List(element) | Type::Set(element) | Type::Map(element) => object_in(element),
        _ => None,
    }
}

/// The "## Schema" section of a page.
pub fn schema_section(block: &Block) -> String {
    let mut out = String::from("## Schema\n");
    let mut sections = Vec::new();
    write_groups(&mut out, &block_entries(block), &[], true, &mut sections);
    out.push_str(&sections.concat());
    out
}

/// Writes the groups of `entries` (headings at the top level, labels below) and appends the
/// nested sections they link to, depth first, to `sections`.
fn write_groups(
    out: &mut String,
    entries: &[Entry<'_>],
    path: &[&str],
    top: bool,
    sections: &mut Vec<String>,
) {
    let mut children = Vec::new();
    for group in Group::ALL {
        let members: Vec<&Entry<'_>> = entries.iter().filter(|e| e.group == group).collect();
        if members.is_empty() {
            continue;
        }
        if top {
            out.push_str(&format!("\n### {}\n\n", group.label()));
        } else {
            out.push_str(&format!("\n{}:\n\n", group.label()));
        }
        for entry in members {
            let mut entry_path = path.to_vec();
            entry_path.push(entry.name);
            let anchor = entry
                .child
                .map(|child| format!("{}--{}", child.anchor_kind(), entry_path.join("--")));
            out.push_str(&format!("- `{}` ({})", entry.name, entry.kind));
            if !entry.description.is_empty() {
                out.push(' ');
                out.push_str(&indent_continuation(entry.description));
            }
            if let Some(anchor) = &anchor {
                out.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
            }
            out.push('\n');
            if let (Some(child), Some(anchor)) = (entry.child, anchor) {
                children.push((child, anchor, entry_path, entry.group));
            }
        }
    }
    for (child, anchor, child_path, group) in children {
        let mut section = format!(
            "\n<a id=\"{anchor}\"></a>\n### Nested Schema for `{}`\n",
            child_path.join(".")
        );
        let mut deeper = Vec::new();
        let entries = match child {
            Child::Block(block) => block_entries(block),
            Child::Attributes(attributes) => attributes_entries(attributes),
            Child::Object(fields) => object_entries(fields, group),
        };
        write_groups(&mut section, &entries, &child_path, false, &mut deeper);
        sections.push(section);
        sections.extend(deeper);
    }
}

/// Keeps a multi-line description inside its list item: continuation lines indented.
fn indent_continuation(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Block {
        Block::new()
            .attribute(
                Attribute::new("name", Type::String)
                    .required()
                    .description("The name."),
            )
            .attribute(
                Attribute::new("secret", Type::String)
                    .optional()
                    .sensitive()
                    .description("A secret.\n\nSecond paragraph."),
            )
            .attribute(Attribute::new("id", Type::String).computed())
            .attribute(
                Attribute::new("rules", Type::list(Type::object([("port", Type::Number)])))
                    .computed(),
            )
            .attribute(
                Attribute::nested(
                    "settings",
                    ObjectNesting::Single,
                    vec![Attribute::new("mode", Type::String).optional()],
                )
                .optional(),
            )
            .block(
                NestedBlock::new(
                    "assume_role",
                    BlockNesting::List,
                    Block::new()
                        .description("A role.")
                        .attribute(Attribute::new("role_arn", Type::String).required())
                        .block(NestedBlock::new(
                            "tags",
                            BlockNesting::Single,
                            Block::new().attribute(
                                Attribute::new("key", Type::map(Type::String)).optional(),
                            ),
                        )),
                )
                .max_items(1),
            )
    }

    #[test]
    fn groups_entries_and_links_nested_sections_depth_first() {
        let expected = "## Schema

### Required

- `name` (String) The name.

### Optional

- `assume_role` (Block List, Max: 1) A role. (see [below for nested schema](#nestedblock--assume_role))
- `secret` (String, Sensitive) A secret.

  Second paragraph.
- `settings` (Attributes) (see [below for nested schema](#nestedatt--settings))

### Read-Only

- `id` (String)
- `rules` (List of Object) (see [below for nested schema](#nestedobjatt--rules))

<a id=\"nestedblock--assume_role\"></a>
### Nested Schema for `assume_role`

Required:

- `role_arn` (String)

Optional:

- `tags` (Block) (see [below for nested schema](#nestedblock--assume_role--tags))

<a id=\"nestedblock--assume_role--tags\"></a>
### Nested Schema for `assume_role.tags`

Optional:

- `key` (Map of String)

<a id=\"nestedatt--settings\"></a>
### Nested Schema for `settings`

Optional:

- `mode` (String)

<a id=\"nestedobjatt--rules\"></a>
### Nested Schema for `rules`

Read-Only:

- `port` (Number)
";
        assert_eq!(schema_section(&sample()), expected);
    }

    #[test]
    fn type_names_read_like_the_registry() {
        assert_eq!(type_name(&Type::set(Type::String)), "Set of String");
        assert_eq!(
            type_name(&Type::map(Type::list(Type::Bool))),
            "Map of List of Boolean"
        );
    }
}
