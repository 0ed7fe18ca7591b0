//! The tfplugin6 `Provider` gRPC service, translating between the protocol and the
//! [`Provider`]/[`Resource`] traits.
//!
//! Every handler answers with diagnostics rather than a gRPC error whenever it can: Terraform
//! shows a gRPC error as a provider crash. A panic inside provider code is caught and becomes
//! an error diagnostic for that call.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::context::Context;
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::path::{AttributePath, PathStep};
use crate::plan::{clear_write_only, initial_plan};
use crate::proto::tfplugin6 as pb;
use crate::provider::{ConfigureRequest, Provider};
use crate::resource::{Change, DataSource, Plan, Resource, Stored};
use crate::schema::Schema;
use crate::value::{Type, Value, json, msgpack};

struct ResourceEntry {
    resource: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
}

struct DataSourceEntry {
    data_source: Arc<dyn DataSource>,
    schema: Schema,
    ty: Type,
}

/// The gRPC service for one provider. Cloning shares everything.
#[derive(Clone)]
pub struct ProviderServer {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn Provider>,
    provider_type: Type,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, DataSourceEntry>,
    schema_response: pb::get_provider_schema::Response,
    stop: CancellationToken,
}

impl ProviderServer {
    /// Builds every schema once, so GetProviderSchema (called by every Terraform command) is a
    /// clone.
    pub fn new(provider: impl Provider) -> Self {
        let provider: Arc<dyn Provider> = Arc::new(provider);
        let provider_schema = provider.schema();
        let resources: BTreeMap<String, ResourceEntry> = provider
            .resources()
            .into_iter()
            .map(|resource| {
                let schema = resource.schema();
                let ty = schema.value_type();
                (
                    resource.type_name().to_owned(),
                    ResourceEntry {
                        resource,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let data_sources: BTreeMap<String, DataSourceEntry> = provider
            .data_sources()
            .into_iter()
            .map(|data_source| {
                let schema = data_source.schema();
                let ty = schema.value_type();
                (
                    data_source.type_name().to_owned(),
                    DataSourceEntry {
                        data_source,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(provider_schema.to_proto()),
            resource_schemas: resources
                .iter()
                .map(|(name, entry)| (name.clone(), entry.schema.to_proto()))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(name, entry)| (name.clone(), entry.schema.to_proto()))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        ProviderServer {
            inner: Arc::new(Inner {
                provider_type: provider_schema.value_type(),
                provider,
                resources,
                data_sources,
                schema_response,
                stop: CancellationToken::new(),
            }),
        }
    }

    /// Cancelled by StopProvider.
    pub fn stop_token(&self) -> CancellationToken {
        self.inner.stop.clone()
    }

    fn context(&self) -> Context {
        Context::new(self.inner.stop.clone())
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Diagnostic> {
        self.inner.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!(
                    "The provider {} has no resource type {type_name:?}.",
                    self.inner.provider.type_name()
                ),
            )
        })
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry, Diagnostic> {
        self.inner.data_sources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source type",
                format!(
                    "The provider {} has no data source {type_name:?}.",
                    self.inner.provider.type_name()
                ),
            )
        })
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

pub(crate) fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(index) => Selector::ElementKeyInt(*index),
                }),
            })
            .collect(),
    }
}

fn diagnostic_to_proto(d: Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary,
        detail: d.detail,
        attribute: d
            .attribute
            .filter(|p| !p.is_root())
            .map(|p| path_to_proto(&p)),
    }
}

fn diagnostics_to_proto(diagnostics: Diagnostics) -> Vec<pb::Diagnostic> {
    diagnostics.into_iter().map(diagnostic_to_proto).collect()
}

/// Values from Terraform that do not match the schema mean Terraform and the provider
/// disagree about the schema; say so plainly.
fn decode(value: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        msgpack::decode(ty, &value.msgpack)
    } else if !value.json.is_empty() {
        json::decode(ty, &value.json)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| {
        Diagnostic::error(
            "Invalid value from Terraform",
            format!("The {what} sent by Terraform does not match the provider's schema: {e}."),
        )
    })
}

fn provider_bug(detail: String) -> Diagnostic {
    Diagnostic::error(
        "Provider produced an invalid value",
        format!("{detail}. This is a bug in the provider; please report it."),
    )
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    msgpack::encode(ty, value)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| provider_bug(e.to_string()))
}

/// Re-types a value a resource built against the schema (lists where sets are declared,
/// missing attributes) so comparisons and encoding see the canonical form.
fn conform(value: &Value, ty: &Type) -> Result<Value, Diagnostic> {
    msgpack::conform(ty, value).map_err(|e| provider_bug(e.to_string()))
}

fn null_unknowns(value: Value) -> Value {
    match value {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.into_iter().map(null_unknowns).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(null_unknowns).collect()),
        Value::Tuple(items) => Value::Tuple(items.into_iter().map(null_unknowns).collect()),
        Value::Map(fields) => Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (k, null_unknowns(v)))
                .collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, null_unknowns(v)))
                .collect(),
        ),
        Value::Dynamic(ty, inner) => Value::Dynamic(ty, Box::new(null_unknowns(*inner))),
        other => other,
    }
}

/// Checks and encodes a state a resource returned; state must be wholly known.
fn finish_state(
    value: &Value,
    schema: &Schema,
    ty: &Type,
    diagnostics: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    let mut value = match conform(value, ty) {
        Ok(v) => v,
        Err(d) => {
            diagnostics.push(d);
            return None;
        }
    };
    clear_write_only(&schema.block.attributes, &schema.block.blocks, &mut value);
    if !value.is_fully_known() {
        diagnostics.push(provider_bug(
            "The provider returned a state with unknown values".to_owned(),
        ));
        value = null_unknowns(value);
    }
    match encode(&value, ty) {
        Ok(encoded) => Some(encoded),
        Err(d) => {
            diagnostics.push(d);
            None
        }
    }
}

/// Responses that can carry diagnostics, so a caught panic can be reported in any of them.
trait WithDiagnostics: Default {
    fn diagnostics(&mut self) -> &mut Vec<pb::Diagnostic>;
}

macro_rules! with_diagnostics {
    ($($message:ident),* $(,)?) => {
        $(impl WithDiagnostics for pb::$message::Response {
            fn diagnostics(&mut self) -> &mut Vec<pb::Diagnostic> {
                &mut self.diagnostics
            }
        })*
    };
}

with_diagnostics!(
    get_metadata,
    get_provider_schema,
    validate_provider_config,
    validate_resource_config,
    validate_data_resource_config,
    upgrade_resource_state,
    get_resource_identity_schemas,
    upgrade_resource_identity,
    configure_provider,
    read_resource,
    plan_resource_change,
    apply_resource_change,
    import_resource_state,
    move_resource_state,
    read_data_source,
    validate_ephemeral_resource_config,
    open_ephemeral_resource,
    renew_ephemeral_resource,
    close_ephemeral_resource,
    get_functions,
);

fn response_with<R: WithDiagnostics>(diagnostics: impl IntoIterator<Item = Diagnostic>) -> R {
    let mut response = R::default();
    response
        .diagnostics()
        .extend(diagnostics.into_iter().map(diagnostic_to_proto));
    response
}

/// Runs one RPC's work, logging it and turning a panic into an error diagnostic.
async fn guarded<R: WithDiagnostics>(
    rpc: &'static str,
    type_name: &str,
    work: impl Future<Output = R>,
) -> Result<Response<R>, Status> {
    tracing::debug!(
        tf_rpc = rpc,
        tf_resource_type = type_name,
        "Received request"
    );
    let started = std::time::Instant::now();
    let response = match AssertUnwindSafe(work).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(
                tf_rpc = rpc,
                tf_resource_type = type_name,
                "Provider code panicked"
            );
            response_with(std::iter::once(Diagnostic::error(
                "Provider internal error",
                format!(
                    "The provider hit an internal error while handling {rpc}. This is a bug in \
                     the provider; run with TF_LOG=debug to see details, and please report it."
                ),
            )))
        }
    };
    tracing::debug!(
        tf_rpc = rpc,
        tf_resource_type = type_name,
        duration_ms = started.elapsed().as_millis() as u64,
        "Served request"
    );
    Ok(Response::new(response))
}

fn unsupported(feature: &str) -> Diagnostic {
    Diagnostic::error(
        format!("{feature} not supported"),
        format!("This provider does not offer {feature}."),
    )
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderServer {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        guarded("GetMetadata", "", async {
            pb::get_metadata::Response {
                server_capabilities: Some(capabilities()),
                resources: self
                    .inner
                    .resources
                    .keys()
                    .map(|type_name| pb::get_metadata::ResourceMetadata {
                        type_name: type_name.clone(),
                    })
                    .collect(),
                data_sources: self
                    .inner
                    .data_sources
                    .keys()
                    .map(|type_name| pb::get_metadata::DataSourceMetadata {
                        type_name: type_name.clone(),
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        guarded("GetProviderSchema", "", async {
            self.inner.schema_response.clone()
        })
        .await
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let request = request.into_inner();
        guarded("ValidateProviderConfig", "", async {
            let config = match decode(
                request.config.as_ref(),
                &self.inner.provider_type,
                "provider configuration",
            ) {
                Ok(config) => config,
                Err(d) => return response_with([d]),
            };
            let diagnostics = self
                .inner
                .provider
                .validate_config(&self.context(), &config)
                .await;
            response_with(diagnostics)
        })
        .await
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        guarded("ConfigureProvider", "", async {
            let config = match decode(
                request.config.as_ref(),
                &self.inner.provider_type,
                "provider configuration",
            ) {
                Ok(config) => config,
                Err(d) => return response_with([d]),
            };
            let diagnostics = self
                .inner
                .provider
                .configure(
                    &self.context(),
                    ConfigureRequest {
                        terraform_version: request.terraform_version,
                        config,
                    },
                )
                .await;
            response_with(diagnostics)
        })
        .await
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        guarded("ValidateResourceConfig", &request.type_name, async {
            let entry = match self.resource(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let config = match decode(request.config.as_ref(), &entry.ty, "configuration") {
                Ok(config) => config,
                Err(d) => return response_with([d]),
            };
            response_with(entry.resource.validate(&self.context(), &config).await)
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        guarded("ValidateDataResourceConfig", &request.type_name, async {
            let entry = match self.data_source(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let config = match decode(request.config.as_ref(), &entry.ty, "configuration") {
                Ok(config) => config,
                Err(d) => return response_with([d]),
            };
            response_with(entry.data_source.validate(&self.context(), &config).await)
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        guarded("UpgradeResourceState", &request.type_name, async {
            let entry = match self.resource(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if raw.flatmap.is_empty() {
                    return pb::upgrade_resource_state::Response {
                        upgraded_state: encode(&Value::Null, &entry.ty).ok(),
                        diagnostics: Vec::new(),
                    };
                }
                return response_with([Diagnostic::error(
                    "Unsupported state format",
                    format!(
                        "The state of this {} is in the legacy flatmap format from Terraform \
                         0.11 and earlier, which this provider cannot read. Remove it from state \
                         (terraform state rm) and import or recreate it.",
                        request.type_name
                    ),
                )]);
            }
            let current = entry.schema.version;
            let upgraded = if request.version == current {
                json::decode(&entry.ty, &raw.json).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Unreadable state",
                        format!(
                            "The stored state of this {} cannot be read: {e}.",
                            request.type_name
                        ),
                    ))
                })
            } else if request.version > current {
                Err(Diagnostic::error(
                    "State from a newer provider",
                    format!(
                        "The state of this {} was written by a newer version of the provider \
                         (schema version {}, this version knows up to {current}). Upgrade the \
                         provider.",
                        request.type_name, request.version
                    ),
                )
                .into())
            } else {
                entry
                    .resource
                    .upgrade_state(&self.context(), request.version, &raw.json)
                    .await
            };
            match upgraded {
                Ok(value) => {
                    let mut diagnostics = Diagnostics::new();
                    let upgraded_state =
                        finish_state(&value, &entry.schema, &entry.ty, &mut diagnostics);
                    pb::upgrade_resource_state::Response {
                        upgraded_state,
                        diagnostics: diagnostics_to_proto(diagnostics),
                    }
                }
                Err(diagnostics) => response_with(diagnostics),
            }
        })
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        guarded("GetResourceIdentitySchemas", "", async {
            pb::get_resource_identity_schemas::Response::default()
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let type_name = request.into_inner().type_name;
        guarded("UpgradeResourceIdentity", &type_name, async {
            response_with([unsupported("Resource identity")])
        })
        .await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        guarded("ReadResource", &request.type_name, async {
            let entry = match self.resource(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let state = match decode(request.current_state.as_ref(), &entry.ty, "current state") {
                Ok(state) => state,
                Err(d) => return response_with([d]),
            };
            if state.is_null() {
                return pb::read_resource::Response {
                    new_state: encode(&Value::Null, &entry.ty).ok(),
                    ..Default::default()
                };
            }
            let outcome = entry
                .resource
                .read(
                    &self.context(),
                    Stored {
                        state,
                        private: request.private,
                    },
                )
                .await;
            let mut diagnostics = outcome.diagnostics;
            let new_state = finish_state(
                &outcome.state.unwrap_or(Value::Null),
                &entry.schema,
                &entry.ty,
                &mut diagnostics,
            );
            pb::read_resource::Response {
                new_state,
                diagnostics: diagnostics_to_proto(diagnostics),
                private: outcome.private,
                ..Default::default()
            }
        })
        .await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        guarded("PlanResourceChange", &request.type_name, async {
            let entry = match self.resource(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let decoded = (|| {
                Ok::<_, Diagnostic>((
                    decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                    decode(
                        request.proposed_new_state.as_ref(),
                        &entry.ty,
                        "proposed state",
                    )?,
                    decode(request.config.as_ref(), &entry.ty, "configuration")?,
                ))
            })();
            let (prior, proposed, config) = match decoded {
                Ok(values) => values,
                Err(d) => return response_with([d]),
            };
            if proposed.is_null() {
                return pb::plan_resource_change::Response {
                    planned_state: encode(&Value::Null, &entry.ty).ok(),
                    planned_private: request.prior_private,
                    ..Default::default()
                };
            }
            let initial = initial_plan(&entry.schema.block, &prior, &proposed, &config);
            let mut plan = Plan {
                prior_state: prior,
                config,
                proposed,
                planned: initial.planned,
                planned_private: request.prior_private.clone(),
                prior_private: request.prior_private,
                requires_replace: initial.requires_replace,
                diagnostics: Diagnostics::new(),
            };
            entry.resource.modify_plan(&self.context(), &mut plan).await;
            let mut diagnostics = plan.diagnostics;
            let planned_state = match conform(&plan.planned, &entry.ty).and_then(|mut planned| {
                clear_write_only(
                    &entry.schema.block.attributes,
                    &entry.schema.block.blocks,
                    &mut planned,
                );
                encode(&planned, &entry.ty)
            }) {
                Ok(encoded) => Some(encoded),
                Err(d) => {
                    diagnostics.push(d);
                    None
                }
            };
            pb::plan_resource_change::Response {
                planned_state,
                requires_replace: plan.requires_replace.iter().map(path_to_proto).collect(),
                planned_private: plan.planned_private,
                diagnostics: diagnostics_to_proto(diagnostics),
                ..Default::default()
            }
        })
        .await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        guarded("ApplyResourceChange", &request.type_name, async {
            let entry = match self.resource(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let decoded = (|| {
                Ok::<_, Diagnostic>((
                    decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                    decode(request.planned_state.as_ref(), &entry.ty, "planned state")?,
                    decode(request.config.as_ref(), &entry.ty, "configuration")?,
                ))
            })();
            let (prior_state, planned_state, config) = match decoded {
                Ok(values) => values,
                Err(d) => return response_with([d]),
            };
            let ctx = self.context();
            let change = Change {
                prior_state: prior_state.clone(),
                planned_state: planned_state.clone(),
                config,
                planned_private: request.planned_private.clone(),
            };
            let (new_state, private, mut diagnostics) = if planned_state.is_null() {
                let diagnostics = entry.resource.delete(&ctx, change).await;
                // A failed delete leaves the object in state so it is not forgotten.
                let state = if diagnostics.has_errors() {
                    prior_state
                } else {
                    Value::Null
                };
                (state, request.planned_private, diagnostics)
            } else {
                let outcome = if prior_state.is_null() {
                    entry.resource.create(&ctx, change).await
                } else {
                    entry.resource.update(&ctx, change).await
                };
                (outcome.new_state, outcome.private, outcome.diagnostics)
            };
            let new_state = finish_state(&new_state, &entry.schema, &entry.ty, &mut diagnostics);
            pb::apply_resource_change::Response {
                new_state,
                private,
                diagnostics: diagnostics_to_proto(diagnostics),
                ..Default::default()
            }
        })
        .await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        guarded("ImportResourceState", &request.type_name, async {
            let entry = match self.resource(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let outcome = entry.resource.import(&self.context(), &request.id).await;
            let mut diagnostics = outcome.diagnostics;
            let imported_resources = outcome
                .imported
                .into_iter()
                .filter_map(|stored| {
                    let state =
                        finish_state(&stored.state, &entry.schema, &entry.ty, &mut diagnostics)?;
                    Some(pb::import_resource_state::ImportedResource {
                        type_name: request.type_name.clone(),
                        state: Some(state),
                        private: stored.private,
                        identity: None,
                    })
                })
                .collect();
            pb::import_resource_state::Response {
                imported_resources,
                diagnostics: diagnostics_to_proto(diagnostics),
                deferred: None,
            }
        })
        .await
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        guarded("MoveResourceState", &request.target_type_name, async {
            response_with([Diagnostic::error(
                "Moving state not supported",
                format!(
                    "This provider cannot move state from {} ({}) into {}. Remove the `moved` \
                     block and import or recreate the resource instead.",
                    request.source_type_name,
                    request.source_provider_address,
                    request.target_type_name
                ),
            )])
        })
        .await
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let request = request.into_inner();
        guarded("ReadDataSource", &request.type_name, async {
            let entry = match self.data_source(&request.type_name) {
                Ok(entry) => entry,
                Err(d) => return response_with([d]),
            };
            let config = match decode(request.config.as_ref(), &entry.ty, "configuration") {
                Ok(config) => config,
                Err(d) => return response_with([d]),
            };
            let (state, mut diagnostics) = entry.data_source.read(&self.context(), &config).await;
            let state = finish_state(&state, &entry.schema, &entry.ty, &mut diagnostics);
            pb::read_data_source::Response {
                state,
                diagnostics: diagnostics_to_proto(diagnostics),
                deferred: None,
            }
        })
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let type_name = request.into_inner().type_name;
        guarded("ValidateEphemeralResourceConfig", &type_name, async {
            response_with([unsupported("Ephemeral resources")])
        })
        .await
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let type_name = request.into_inner().type_name;
        guarded("OpenEphemeralResource", &type_name, async {
            response_with([unsupported("Ephemeral resources")])
        })
        .await
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let type_name = request.into_inner().type_name;
        guarded("RenewEphemeralResource", &type_name, async {
            response_with([unsupported("Ephemeral resources")])
        })
        .await
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let type_name = request.into_inner().type_name;
        guarded("CloseEphemeralResource", &type_name, async {
            response_with([unsupported("Ephemeral resources")])
        })
        .await
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        guarded("GetFunctions", "", async {
            pb::get_functions::Response::default()
        })
        .await
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let name = request.into_inner().name;
        tracing::debug!(tf_rpc = "CallFunction", function = %name, "Received request");
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("This provider has no function named {name:?}."),
                function_argument: None,
            }),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!(
            tf_rpc = "StopProvider",
            "Terraform asked the provider to stop; cancelling work in progress"
        );
        self.inner.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}

#[cfg(test)]
mod tests;
