//! A provider that exists to test the protocol layer through the real terraform CLI: every
//! schema shape (nested attributes and blocks of each nesting, dynamic values, big numbers),
//! plan behaviours (replacement, kept computed values, warnings), a slow apply that honours
//! StopProvider, and a panic. Registry address `registry.terraform.io/localops/tfplugintest`.

use std::sync::Arc;
use std::time::Duration;

use tfplugin::{
    ApplyOutcome, Attribute, Block, BlockNesting, Change, ConfigureRequest, Context, Diagnostic,
    Diagnostics, NestedBlock, ObjectNesting, Plan, Provider, Resource, Schema, ServeOptions, Type,
    Value, async_trait,
};

fn main() -> std::process::ExitCode {
    tfplugin::serve(
        TestProvider,
        ServeOptions {
            address: "registry.terraform.io/localops/tfplugintest".to_owned(),
            debug: std::env::args().any(|a| a == "--debug"),
        },
    )
}

struct TestProvider;

#[async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &str {
        "tfplugintest"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new().attribute(Attribute::new("label", Type::String).optional()))
    }

    async fn configure(&self, _ctx: &Context, _request: ConfigureRequest) -> Diagnostics {
        Diagnostics::new()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Echo), Arc::new(Slow), Arc::new(Panics)]
    }
}

/// Stores its configuration and reports what it saw, so tests can check every value shape
/// survives the round trip exactly.
struct Echo;

fn leaf_attributes() -> Vec<Attribute> {
    vec![
        Attribute::new("text", Type::String).optional(),
        Attribute::new("count", Type::Number).optional(),
        Attribute::new("generated", Type::String).computed(),
    ]
}

fn leaf_block() -> Block {
    let mut block = Block::new();
    for attribute in leaf_attributes() {
        block = block.attribute(attribute);
    }
    block
}

#[async_trait]
impl Resource for Echo {
    fn type_name(&self) -> &str {
        "tfplugintest_echo"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .attribute(
                    Attribute::new("zone", Type::String)
                        .optional()
                        .requires_replace(),
                )
                .attribute(Attribute::new("number", Type::Number).optional())
                .attribute(Attribute::new("flag", Type::Bool).optional())
                .attribute(Attribute::new("tags", Type::map(Type::String)).optional())
                .attribute(Attribute::new("names", Type::set(Type::String)).optional())
                .attribute(Attribute::new("anything", Type::Dynamic).optional())
                .attribute(
                    Attribute::new("secret", Type::String)
                        .optional()
                        .sensitive(),
                )
                .attribute(Attribute::new("warn", Type::String).optional())
                .attribute(
                    Attribute::new("password_wo", Type::String)
                        .optional()
                        .sensitive()
                        .write_only(),
                )
                .attribute(
                    Attribute::nested("single", ObjectNesting::Single, leaf_attributes())
                        .optional(),
                )
                .attribute(
                    Attribute::nested("list", ObjectNesting::List, leaf_attributes()).optional(),
                )
                .attribute(
                    Attribute::nested("set", ObjectNesting::Set, leaf_attributes()).optional(),
                )
                .attribute(
                    Attribute::nested("map", ObjectNesting::Map, leaf_attributes()).optional(),
                )
                .block(NestedBlock::new(
                    "block_single",
                    BlockNesting::Single,
                    leaf_block(),
                ))
                .block(NestedBlock::new(
                    "block_group",
                    BlockNesting::Group,
                    leaf_block(),
                ))
                .block(NestedBlock::new(
                    "block_list",
                    BlockNesting::List,
                    leaf_block(),
                ))
                .block(NestedBlock::new(
                    "block_set",
                    BlockNesting::Set,
                    leaf_block(),
                ))
                .block(NestedBlock::new(
                    "block_map",
                    BlockNesting::Map,
                    leaf_block(),
                ))
                .attribute(
                    Attribute::new("id", Type::String)
                        .computed()
                        .use_state_for_unknown(),
                )
                .attribute(Attribute::new("revision", Type::String).computed())
                .attribute(Attribute::new("number_text", Type::String).computed())
                .attribute(Attribute::new("anything_type", Type::String).computed()),
        )
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan) {
        if let Some(Value::String(text)) = plan.config.attribute("warn") {
            plan.warn(
                Diagnostic::warning("Echo warning", text.clone())
                    .at(tfplugin::AttributePath::attr("warn")),
            );
        }
        let reported = report(&plan.config);
        for (name, value) in reported {
            plan.set(name, value);
        }
    }

    async fn create(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        ApplyOutcome::ok(fill(change.planned_state, "echo-1", 1))
    }

    async fn update(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        let revision = match change.prior_state.attribute("revision") {
            Some(Value::String(r)) => r.parse::<u64>().unwrap_or(0) + 1,
            _ => 1,
        };
        let id = match change.prior_state.attribute("id") {
            Some(Value::String(id)) => id.clone(),
            _ => "echo-1".to_owned(),
        };
        ApplyOutcome::ok(fill(change.planned_state, &id, revision))
    }

    async fn delete(&self, _ctx: &Context, _change: Change) -> Diagnostics {
        Diagnostics::new()
    }
}

/// Computed attributes derived from configuration, known at plan when their inputs are.
fn report(config: &Value) -> Vec<(&'static str, Value)> {
    let number_text = match config.attribute("number") {
        Some(Value::Number(n)) => Value::String(n.to_string()),
        Some(Value::Unknown) => Value::Unknown,
        _ => Value::Null,
    };
    let anything_type = match config.attribute("anything") {
        Some(Value::Unknown) => Value::Unknown,
        Some(Value::Null) | None => Value::Null,
        Some(value) => Value::String(value.infer_type().to_json().to_string()),
    };
    vec![
        ("number_text", number_text),
        ("anything_type", anything_type),
    ]
}

/// Replaces every unknown left in the plan with a value, as a real apply would.
fn fill(planned: Value, id: &str, revision: u64) -> Value {
    fn generated(value: Value) -> Value {
        match value {
            Value::Unknown => Value::from("generated"),
            Value::List(items) => Value::List(items.into_iter().map(generated).collect()),
            Value::Set(items) => Value::Set(items.into_iter().map(generated).collect()),
            Value::Map(fields) => {
                Value::Map(fields.into_iter().map(|(k, v)| (k, generated(v))).collect())
            }
            Value::Object(fields) => {
                Value::Object(fields.into_iter().map(|(k, v)| (k, generated(v))).collect())
            }
            other => other,
        }
    }
    let mut state = planned;
    if state.attribute("id") == Some(&Value::Unknown) {
        state.set_attribute("id", Value::from(id));
    }
    if state.attribute("revision") == Some(&Value::Unknown) {
        state.set_attribute("revision", Value::String(revision.to_string()));
    }
    generated(state)
}

/// Takes `seconds` to create, unless Terraform asks the provider to stop: then it records what
/// it has so far and reports the interruption.
struct Slow;

#[async_trait]
impl Resource for Slow {
    fn type_name(&self) -> &str {
        "tfplugintest_slow"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .attribute(Attribute::new("seconds", Type::Number).required())
                .attribute(Attribute::new("id", Type::String).computed())
                .attribute(Attribute::new("status", Type::String).computed()),
        )
    }

    async fn create(&self, ctx: &Context, change: Change) -> ApplyOutcome {
        let seconds: f64 = change
            .planned_state
            .attribute("seconds")
            .and_then(|v| match v {
                Value::Number(n) => Some(n.to_f64()),
                _ => None,
            })
            .unwrap_or(0.0)
            .clamp(0.0, 3600.0);
        let mut state = change.planned_state;
        state.set_attribute("id", Value::from("slow-1"));
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => {
                state.set_attribute("status", Value::from("complete"));
                ApplyOutcome::ok(state)
            }
            () = ctx.stopped() => {
                state.set_attribute("status", Value::from("interrupted"));
                ApplyOutcome {
                    new_state: state,
                    private: Vec::new(),
                    diagnostics: Diagnostic::error(
                        "Creation interrupted",
                        "Terraform asked the provider to stop; the partly created object is recorded in state.",
                    )
                    .into(),
                }
            }
        }
    }

    async fn update(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        ApplyOutcome::ok(change.planned_state)
    }

    async fn delete(&self, _ctx: &Context, _change: Change) -> Diagnostics {
        Diagnostics::new()
    }
}

/// Panics while planning, to show the user gets a diagnostic rather than a crash.
struct Panics;

#[async_trait]
impl Resource for Panics {
    fn type_name(&self) -> &str {
        "tfplugintest_panic"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new().attribute(Attribute::new("name", Type::String).optional()))
    }

    async fn modify_plan(&self, _ctx: &Context, _plan: &mut Plan) {
        panic!("deliberate panic for testing");
    }

    async fn create(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        ApplyOutcome::ok(change.planned_state)
    }

    async fn update(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        ApplyOutcome::ok(change.planned_state)
    }

    async fn delete(&self, _ctx: &Context, _change: Change) -> Diagnostics {
        Diagnostics::new()
    }
}
