//! The service driven through its gRPC trait methods, with a scripted provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::*;
use crate::proto::tfplugin6::provider_server::Provider as _;
use crate::resource::{ApplyOutcome, ImportOutcome};
use crate::schema::{Attribute, Block};

struct TestProvider;

struct SlowResource;

fn schema() -> Schema {
    Schema::new(
        Block::new()
            .attribute(
                Attribute::new("name", Type::String)
                    .required()
                    .requires_replace(),
            )
            .attribute(Attribute::new("size", Type::Number).optional())
            .attribute(Attribute::new("id", Type::String).computed()),
    )
    .with_version(1)
}

fn object(name: &str, id: Value) -> Value {
    Value::object([
        ("name", Value::from(name)),
        ("size", Value::Null),
        ("id", id),
    ])
}

#[async_trait]
impl Resource for SlowResource {
    fn type_name(&self) -> &str {
        "test_slow"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut Plan) {
        if plan.config.attribute("name") == Some(&Value::from("panic")) {
            panic!("scripted panic");
        }
        plan.planned_private = b"planned".to_vec();
    }

    async fn create(&self, ctx: &Context, change: Change) -> ApplyOutcome {
        let name = change
            .planned_state
            .attribute("name")
            .cloned()
            .unwrap_or_default();
        if name == Value::from("unknown") {
            return ApplyOutcome::ok(change.planned_state);
        }
        tokio::select! {
            () = ctx.stopped() => ApplyOutcome {
                new_state: object("slow", Value::from("partial")),
                private: b"partial".to_vec(),
                diagnostics: Diagnostic::error("Interrupted", "Stopped halfway.").into(),
            },
            () = tokio::time::sleep(Duration::from_secs(20)) => ApplyOutcome::ok(object("slow", Value::from("done"))),
        }
    }

    async fn update(&self, _ctx: &Context, change: Change) -> ApplyOutcome {
        ApplyOutcome::ok(change.planned_state)
    }

    async fn delete(&self, _ctx: &Context, _change: Change) -> Diagnostics {
        Diagnostics::new()
    }

    async fn import(&self, _ctx: &Context, id: &str) -> ImportOutcome {
        ImportOutcome {
            imported: vec![Stored {
                state: object(id, Value::from(id)),
                private: Vec::new(),
            }],
            diagnostics: Diagnostics::new(),
        }
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &str {
        "test"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new())
    }
    async fn configure(&self, _ctx: &Context, _request: ConfigureRequest) -> Diagnostics {
        Diagnostics::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(SlowResource)]
    }
}

fn dynamic(value: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(&schema().value_type(), value).unwrap(),
        json: Vec::new(),
    })
}

fn undynamic(value: Option<pb::DynamicValue>) -> Value {
    msgpack::decode(&schema().value_type(), &value.unwrap().msgpack).unwrap()
}

fn apply_request(prior: &Value, planned: &Value) -> pb::apply_resource_change::Request {
    pb::apply_resource_change::Request {
        type_name: "test_slow".into(),
        prior_state: dynamic(prior),
        planned_state: dynamic(planned),
        config: dynamic(&object("slow", Value::Null)),
        ..Default::default()
    }
}

#[tokio::test]
async fn stop_provider_cancels_an_apply_in_flight() {
    let server = ProviderServer::new(TestProvider);
    let apply = {
        let server = server.clone();
        tokio::spawn(async move {
            server
                .apply_resource_change(Request::new(apply_request(
                    &Value::Null,
                    &object("slow", Value::Unknown),
                )))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!apply.is_finished());
    let started = Instant::now();
    server
        .stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(3), apply)
        .await
        .expect("apply returns promptly after StopProvider")
        .unwrap()
        .unwrap()
        .into_inner();
    assert!(started.elapsed() < Duration::from_secs(1));
    // What was created is recorded, together with the error.
    assert_eq!(
        undynamic(response.new_state).attribute("id"),
        Some(&Value::from("partial"))
    );
    assert_eq!(response.private, b"partial");
    assert_eq!(response.diagnostics.len(), 1);
    assert_eq!(response.diagnostics[0].summary, "Interrupted");
}

#[tokio::test]
async fn a_panic_becomes_an_error_diagnostic() {
    let server = ProviderServer::new(TestProvider);
    let panicking = object("panic", Value::Null);
    let response = server
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: dynamic(&Value::Null),
            proposed_new_state: dynamic(&panicking),
            config: dynamic(&panicking),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1);
    assert_eq!(response.diagnostics[0].summary, "Provider internal error");
    assert_eq!(
        response.diagnostics[0].severity,
        pb::diagnostic::Severity::Error as i32
    );
}

#[tokio::test]
async fn plan_reports_replacement_and_carries_private_state() {
    let server = ProviderServer::new(TestProvider);
    let prior = object("a", Value::from("id-a"));
    let mut proposed = object("b", Value::from("id-a"));
    proposed.set_attribute("size", Value::from(3));
    let mut config = proposed.clone();
    config.set_attribute("id", Value::Null);
    let response = server
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: dynamic(&prior),
            proposed_new_state: dynamic(&proposed),
            config: dynamic(&config),
            prior_private: b"prior".to_vec(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    assert_eq!(
        response.requires_replace,
        vec![path_to_proto(&AttributePath::attr("name"))]
    );
    assert_eq!(response.planned_private, b"planned");
    let planned = undynamic(response.planned_state);
    assert_eq!(planned.attribute("id"), Some(&Value::Unknown));
    assert_eq!(planned.attribute("size"), Some(&Value::from(3)));
    assert!(!response.legacy_type_system);
}

#[tokio::test]
async fn unchanged_plan_keeps_computed_values() {
    let server = ProviderServer::new(TestProvider);
    let prior = object("a", Value::from("id-a"));
    let response = server
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: dynamic(&prior),
            proposed_new_state: dynamic(&prior),
            config: dynamic(&object("a", Value::Null)),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undynamic(response.planned_state), prior);
    assert!(response.requires_replace.is_empty());
}

#[tokio::test]
async fn unknown_types_and_unsupported_rpcs_answer_with_diagnostics() {
    let server = ProviderServer::new(TestProvider);
    let response = server
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.diagnostics[0].summary, "Unknown resource type");

    let response = server
        .move_resource_state(Request::new(pb::move_resource_state::Request {
            source_type_name: "other_thing".into(),
            target_type_name: "test_slow".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics[0].detail.contains("other_thing"));

    let response = server
        .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1);

    let response = server
        .get_resource_identity_schemas(Request::new(pb::get_resource_identity_schemas::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(response.identity_schemas.is_empty());
    assert!(response.diagnostics.is_empty());

    let response = server
        .call_function(Request::new(pb::call_function::Request {
            name: "f".into(),
            arguments: Vec::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(response.error.unwrap().text.contains("\"f\""));
}

#[tokio::test]
async fn schema_is_built_once_and_complete() {
    let server = ProviderServer::new(TestProvider);
    let response = server
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let resource = &response.resource_schemas["test_slow"];
    assert_eq!(resource.version, 1);
    assert_eq!(resource.block.as_ref().unwrap().attributes.len(), 3);
    let metadata = server
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.resources[0].type_name, "test_slow");
}

#[tokio::test]
async fn state_upgrade_reads_json_and_refuses_flatmap_and_future_versions() {
    let server = ProviderServer::new(TestProvider);
    let upgrade = |version: i64, raw: pb::RawState| {
        let server = server.clone();
        async move {
            server
                .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                    type_name: "test_slow".into(),
                    version,
                    raw_state: Some(raw),
                }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let json = br#"{"name":"a","size":12345678901234567890123,"id":"x","gone":1}"#.to_vec();
    let response = upgrade(
        1,
        pb::RawState {
            json: json.clone(),
            flatmap: Default::default(),
        },
    )
    .await;
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    let state = undynamic(response.upgraded_state);
    assert_eq!(
        state.attribute("size"),
        Some(&Value::Number("12345678901234567890123".parse().unwrap()))
    );

    let response = upgrade(
        2,
        pb::RawState {
            json: json.clone(),
            flatmap: Default::default(),
        },
    )
    .await;
    assert!(response.diagnostics[0].summary.contains("newer"));

    let response = upgrade(
        0,
        pb::RawState {
            json,
            flatmap: Default::default(),
        },
    )
    .await;
    assert_eq!(response.diagnostics[0].summary, "Unsupported state version");

    let flatmap = [("name".to_owned(), "a".to_owned())].into_iter().collect();
    let response = upgrade(
        1,
        pb::RawState {
            json: Vec::new(),
            flatmap,
        },
    )
    .await;
    assert!(response.diagnostics[0].detail.contains("flatmap"));
}

#[tokio::test]
async fn apply_rejects_unknowns_in_new_state_and_import_works() {
    let server = ProviderServer::new(TestProvider);
    let response = server
        .apply_resource_change(Request::new(apply_request(
            &Value::Null,
            &object("unknown", Value::Unknown),
        )))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics[0].detail.contains("unknown values"));
    assert_eq!(
        undynamic(response.new_state).attribute("id"),
        Some(&Value::Null)
    );

    let response = server
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_slow".into(),
            id: "abc".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.imported_resources.len(), 1);
    assert_eq!(
        undynamic(response.imported_resources[0].state.clone()).attribute("id"),
        Some(&Value::from("abc"))
    );
}

#[test]
fn diagnostics_carry_attribute_paths() {
    let path = AttributePath::attr("rule")
        .index(2)
        .attribute("tags")
        .key("Name");
    let proto = diagnostic_to_proto(Diagnostic::error("s", "d").at(path));
    use pb::attribute_path::step::Selector;
    let steps: Vec<Selector> = proto
        .attribute
        .unwrap()
        .steps
        .into_iter()
        .map(|s| s.selector.unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            Selector::AttributeName("rule".into()),
            Selector::ElementKeyInt(2),
            Selector::AttributeName("tags".into()),
            Selector::ElementKeyString("Name".into()),
        ]
    );
}
