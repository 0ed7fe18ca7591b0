//! The plan the layer computes before a resource sees it, with the semantics Terraform
//! checks:
//! - configured values are kept exactly (they come from Terraform's proposal);
//! - a computed attribute the configuration leaves unset becomes unknown when anything in the
//!   resource changes, unless its schema says `use_state_for_unknown` and there is a prior
//!   value, and stays as it was when nothing changes (so a second plan is empty);
//! - attributes marked `requires_replace` whose value changes are reported as replacement
//!   paths.

use std::collections::BTreeMap;

use crate::path::AttributePath;
use crate::schema::{Attribute, AttributeType, Block, BlockNesting, ObjectNesting};
use crate::value::Value;

pub(crate) struct InitialPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

pub(crate) fn initial_plan(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> InitialPlan {
    // Write-only values are never stored, so they cannot be a difference from prior state.
    let mut proposed = proposed.clone();
    clear_write_only(&block.attributes, &block.blocks, &mut proposed);
    let proposed = &proposed;
    if proposed.is_null() {
        return InitialPlan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    if !prior.is_null() && proposed == prior {
        return InitialPlan {
            planned: proposed.clone(),
            requires_replace: Vec::new(),
        };
    }
    let planned = plan_object(&block.attributes, &block.blocks, prior, proposed, config);
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        collect_replacements(
            &block.attributes,
            &block.blocks,
            prior,
            &planned,
            &AttributePath::root(),
            &mut requires_replace,
        );
    }
    InitialPlan {
        planned,
        requires_replace,
    }
}

fn child<'a>(value: &'a Value, name: &str) -> &'a Value {
    value.attribute(name).unwrap_or(&Value::Null)
}

fn plan_object(
    attributes: &[Attribute],
    blocks: &[crate::schema::NestedBlock],
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Value {
    let Value::Object(fields) = proposed else {
        return proposed.clone();
    };
    let mut planned: BTreeMap<String, Value> = fields.clone();
    for attribute in attributes {
        let name = &attribute.name;
        let proposed_value = child(proposed, name);
        let config_value = child(config, name);
        let prior_value = child(prior, name);
        let value = if attribute.computed && config_value.is_null() {
            if attribute.use_state_for_unknown && !prior_value.is_null() {
                prior_value.clone()
            } else {
                Value::Unknown
            }
        } else if let AttributeType::Nested(nesting, nested) = &attribute.ty {
            plan_nested(
                *nesting,
                nested,
                &[],
                prior_value,
                proposed_value,
                config_value,
            )
        } else {
            proposed_value.clone()
        };
        planned.insert(name.clone(), value);
    }
    for block in blocks {
        let name = &block.name;
        let nesting = match block.nesting {
            BlockNesting::Single | BlockNesting::Group => ObjectNesting::Single,
            BlockNesting::List => ObjectNesting::List,
            BlockNesting::Set => ObjectNesting::Set,
            BlockNesting::Map => ObjectNesting::Map,
        };
        let value = plan_nested(
            nesting,
            &block.block.attributes,
            &block.block.blocks,
            child(prior, name),
            child(proposed, name),
            child(config, name),
        );
        planned.insert(name.clone(), value);
    }
    Value::Object(planned)
}

fn plan_nested(
    nesting: ObjectNesting,
    attributes: &[Attribute],
    blocks: &[crate::schema::NestedBlock],
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Value {
    match (nesting, proposed) {
        (ObjectNesting::Single, _) => plan_object(attributes, blocks, prior, proposed, config),
        (ObjectNesting::List, Value::List(items)) => {
            let at = |v: &Value, i: usize| match v {
                Value::List(xs) => xs.get(i).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            };
            Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        plan_object(attributes, blocks, &at(prior, i), item, &at(config, i))
                    })
                    .collect(),
            )
        }
        (ObjectNesting::Map, Value::Map(items)) => {
            let at = |v: &Value, k: &str| match v {
                Value::Map(xs) => xs.get(k).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            };
            Value::Map(
                items
                    .iter()
                    .map(|(k, item)| {
                        (
                            k.clone(),
                            plan_object(attributes, blocks, &at(prior, k), item, &at(config, k)),
                        )
                    })
                    .collect(),
            )
        }
        // Set elements have no identity to match against configuration or prior state, so
        // each element stands for its own configuration.
        (ObjectNesting::Set, Value::Set(items)) => Value::Set(
            items
                .iter()
                .map(|item| plan_object(attributes, blocks, &Value::Null, item, item))
                .collect(),
        ),
        _ => proposed.clone(),
    }
}

fn collect_replacements(
    attributes: &[Attribute],
    blocks: &[crate::schema::NestedBlock],
    prior: &Value,
    planned: &Value,
    at: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for attribute in attributes {
        let path = at.clone().attribute(attribute.name.clone());
        let before = child(prior, &attribute.name);
        let after = child(planned, &attribute.name);
        if attribute.requires_replace && before != after {
            out.push(path);
        } else if let AttributeType::Nested(ObjectNesting::Single, nested) = &attribute.ty {
            collect_replacements(nested, &[], before, after, &path, out);
        }
    }
    for block in blocks {
        if matches!(block.nesting, BlockNesting::Single | BlockNesting::Group) {
            let path = at.clone().attribute(block.name.clone());
            collect_replacements(
                &block.block.attributes,
                &block.block.blocks,
                child(prior, &block.name),
                child(planned, &block.name),
                &path,
                out,
            );
        }
    }
}

/// Write-only attributes reach the provider in configuration but must be null in every plan
/// and state it returns (Terraform rejects anything else), so the layer clears them.
pub(crate) fn clear_write_only(
    attributes: &[Attribute],
    blocks: &[crate::schema::NestedBlock],
    value: &mut Value,
) {
    let Value::Object(fields) = value else {
        return;
    };
    for attribute in attributes {
        let Some(field) = fields.get_mut(&attribute.name) else {
            continue;
        };
        if attribute.write_only {
            *field = Value::Null;
        } else if let AttributeType::Nested(_, nested) = &attribute.ty {
            for_each_object(field, &mut |object| clear_write_only(nested, &[], object));
        }
    }
    for block in blocks {
        if let Some(field) = fields.get_mut(&block.name) {
            for_each_object(field, &mut |object| {
                clear_write_only(&block.block.attributes, &block.block.blocks, object)
            });
        }
    }
}

fn for_each_object(value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match value {
        Value::Object(_) => f(value),
        Value::List(items) | Value::Set(items) => items.iter_mut().for_each(f),
        Value::Map(items) => items.values_mut().for_each(f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;
    use crate::value::Type;

    fn block() -> Block {
        Block::new()
            .attribute(
                Attribute::new("name", Type::String)
                    .required()
                    .requires_replace(),
            )
            .attribute(Attribute::new("size", Type::Number).optional())
            .attribute(
                Attribute::new("id", Type::String)
                    .computed()
                    .use_state_for_unknown(),
            )
            .attribute(Attribute::new("etag", Type::String).computed())
            .attribute(Attribute::new("mode", Type::String).optional().computed())
            .attribute(
                Attribute::nested(
                    "network",
                    ObjectNesting::Single,
                    vec![
                        Attribute::new("cidr", Type::String)
                            .required()
                            .requires_replace(),
                        Attribute::new("arn", Type::String).computed(),
                    ],
                )
                .optional(),
            )
            .block(NestedBlock::new(
                "rule",
                BlockNesting::List,
                Block::new()
                    .attribute(Attribute::new("action", Type::String).required())
                    .attribute(Attribute::new("rule_id", Type::String).computed()),
            ))
    }

    fn config(name: &str, size: i64) -> Value {
        Value::object([
            ("name", Value::from(name)),
            ("size", Value::from(size)),
            ("id", Value::Null),
            ("etag", Value::Null),
            ("mode", Value::Null),
            (
                "network",
                Value::object([("cidr", Value::from("10.0.0.0/16")), ("arn", Value::Null)]),
            ),
            (
                "rule",
                Value::List(vec![Value::object([
                    ("action", Value::from("allow")),
                    ("rule_id", Value::Null),
                ])]),
            ),
        ])
    }

    fn state(name: &str, size: i64) -> Value {
        Value::object([
            ("name", Value::from(name)),
            ("size", Value::from(size)),
            ("id", Value::from("i-1")),
            ("etag", Value::from("e1")),
            ("mode", Value::from("auto")),
            (
                "network",
                Value::object([
                    ("cidr", Value::from("10.0.0.0/16")),
                    ("arn", Value::from("arn:n")),
                ]),
            ),
            (
                "rule",
                Value::List(vec![Value::object([
                    ("action", Value::from("allow")),
                    ("rule_id", Value::from("r1")),
                ])]),
            ),
        ])
    }

    /// What Terraform proposes: config, with computed attributes that config leaves null
    /// taken from prior state.
    fn proposal(config: &Value, prior: &Value) -> Value {
        let mut proposed = config.clone();
        for name in ["id", "etag", "mode"] {
            proposed.set_attribute(name, child(prior, name).clone());
        }
        let mut network = child(config, "network").clone();
        network.set_attribute("arn", child(child(prior, "network"), "arn").clone());
        proposed.set_attribute("network", network);
        let mut rule = child(config, "rule").clone();
        if let (Value::List(items), Some(Value::List(prior_items))) =
            (&mut rule, prior.attribute("rule"))
        {
            for (item, prior_item) in items.iter_mut().zip(prior_items) {
                item.set_attribute("rule_id", child(prior_item, "rule_id").clone());
            }
        }
        proposed.set_attribute("rule", rule);
        proposed
    }

    #[test]
    fn create_marks_unset_computed_attributes_unknown_at_every_depth() {
        let config = config("a", 1);
        let plan = initial_plan(
            &block(),
            &Value::Null,
            &proposal(&config, &Value::Null),
            &config,
        );
        assert!(plan.requires_replace.is_empty());
        for name in ["id", "etag", "mode"] {
            assert_eq!(child(&plan.planned, name), &Value::Unknown, "{name}");
        }
        assert_eq!(
            child(child(&plan.planned, "network"), "arn"),
            &Value::Unknown
        );
        assert_eq!(child(&plan.planned, "name"), &Value::from("a"));
        let Value::List(rules) = child(&plan.planned, "rule") else {
            panic!()
        };
        assert_eq!(child(&rules[0], "rule_id"), &Value::Unknown);
        assert_eq!(child(&rules[0], "action"), &Value::from("allow"));
    }

    #[test]
    fn no_change_keeps_everything() {
        let prior = state("a", 1);
        let config = config("a", 1);
        let plan = initial_plan(&block(), &prior, &proposal(&config, &prior), &config);
        assert_eq!(plan.planned, prior);
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn update_in_place_keeps_use_state_for_unknown() {
        let prior = state("a", 1);
        let config = config("a", 2);
        let plan = initial_plan(&block(), &prior, &proposal(&config, &prior), &config);
        assert_eq!(child(&plan.planned, "size"), &Value::from(2));
        assert_eq!(child(&plan.planned, "id"), &Value::from("i-1"));
        assert_eq!(child(&plan.planned, "etag"), &Value::Unknown);
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn force_new_attributes_require_replacement_also_when_nested() {
        let prior = state("a", 1);
        let mut config = config("b", 1);
        config.set_attribute(
            "network",
            Value::object([("cidr", Value::from("10.1.0.0/16")), ("arn", Value::Null)]),
        );
        let plan = initial_plan(&block(), &prior, &proposal(&config, &prior), &config);
        let paths: Vec<String> = plan
            .requires_replace
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(paths, ["name", "network.cidr"]);
    }

    #[test]
    fn write_only_attributes_are_cleared_at_every_depth() {
        let attributes = vec![
            Attribute::new("password", Type::String)
                .optional()
                .write_only(),
            Attribute::nested(
                "login",
                ObjectNesting::List,
                vec![
                    Attribute::new("token", Type::String)
                        .optional()
                        .write_only(),
                ],
            )
            .optional(),
        ];
        let mut value = Value::object([
            ("password", Value::from("p")),
            (
                "login",
                Value::List(vec![Value::object([("token", Value::from("t"))])]),
            ),
        ]);
        clear_write_only(&attributes, &[], &mut value);
        assert_eq!(
            value,
            Value::object([
                ("password", Value::Null),
                (
                    "login",
                    Value::List(vec![Value::object([("token", Value::Null)])])
                ),
            ])
        );
    }

    #[test]
    fn destroy_plans_null() {
        let plan = initial_plan(&block(), &state("a", 1), &Value::Null, &Value::Null);
        assert!(plan.planned.is_null());
    }
}
