//! The `localops` provider: its configuration block and the resource types it offers.

use std::sync::{Arc, RwLock};

use tfplugin::{
    Attribute, Block, BlockNesting, ConfigureRequest, Context, Diagnostics, NestedBlock, Resource,
    Schema, Type, Value, async_trait,
};

use crate::resources::aws_connection::AwsConnectionResource;
use crate::resources::permission_set::PermissionSetResource;
use crate::settings::Settings;

/// What ConfigureProvider left for resources. Resources get an `Arc` of it when the provider
/// creates them; configuration arrives later, hence the lock.
#[derive(Default)]
pub struct ProviderState {
    config: RwLock<Option<Value>>,
}

impl ProviderState {
    /// The provider block as configured (None before ConfigureProvider). It may hold
    /// credentials-adjacent values (external_id): never log it.
    #[allow(dead_code)] // read by resources that talk to AWS
    pub fn config(&self) -> Option<Value> {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }
}

pub struct LocalOpsProvider {
    state: Arc<ProviderState>,
    /// Typed configuration and the AWS clients, shared with the resources that reach AWS.
    settings: Arc<Settings>,
}

impl LocalOpsProvider {
    pub fn new() -> Self {
        LocalOpsProvider {
            state: Arc::new(ProviderState::default()),
            settings: Arc::new(Settings::new()),
        }
    }
}

#[async_trait]
impl tfplugin::Provider for LocalOpsProvider {
    fn type_name(&self) -> &str {
        "localops"
    }

    fn schema(&self) -> Schema {
        provider_schema()
    }

    /// Only remembers the configuration: reaching AWS is left to the resources that need it,
    /// so plans of configurations without them never wait for credentials.
    async fn configure(&self, _ctx: &Context, request: ConfigureRequest) -> Diagnostics {
        let diagnostics = self.settings.configure(&request.config).await;
        if let Ok(mut config) = self.state.config.write() {
            *config = Some(request.config);
        }
        diagnostics
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        crate::settings::validate_config(config)
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(PermissionSetResource),
            Arc::new(AwsConnectionResource::new(self.settings.clone())),
        ]
    }
}

fn provider_schema() -> Schema {
    let assume_role = Block::new()
        .description("A role to assume, on top of the base credentials, before talking to AWS.")
        .attribute(
            Attribute::new("role_arn", Type::String)
                .required()
                .description("ARN of the IAM role to assume."),
        )
        .attribute(
            Attribute::new("external_id", Type::String)
                .optional()
                .sensitive()
                .description("External ID the role's trust policy requires, if any."),
        )
        .attribute(
            Attribute::new("session_name", Type::String)
                .optional()
                .description("Session name for the assumed role (default `terraform-localops`)."),
        )
        .attribute(
            Attribute::new("duration_seconds", Type::Number)
                .optional()
                .description("Session duration in seconds, 900 to 43200 (AWS default: one hour)."),
        );
    let endpoints = Block::new()
        .description(
            "Custom service endpoints, for AWS-compatible emulators and private endpoints.",
        )
        .attribute(
            Attribute::new("cloudformation", Type::String)
                .optional()
                .description(
                    "CloudFormation endpoint URL, e.g. an emulator or a VPC endpoint. Takes precedence \
                     over `AWS_ENDPOINT_URL_*` variables and profile settings.",
                ),
        )
        .attribute(
            Attribute::new("iam", Type::String)
                .optional()
                .description(
                    "IAM endpoint URL, e.g. an emulator or a VPC endpoint. Takes precedence \
                     over `AWS_ENDPOINT_URL_*` variables and profile settings.",
                ),
        )
        .attribute(
            Attribute::new("sts", Type::String)
                .optional()
                .description(
                    "STS endpoint URL, e.g. an emulator or a VPC endpoint. Takes precedence \
                     over `AWS_ENDPOINT_URL_*` variables and profile settings. Also used by `assume_role`.",
                ),
        );
    Schema::new(
        Block::new()
            .description(
                "Connects AWS accounts to LocalOps. Credentials come from the standard AWS chain \
                 (environment, shared profiles, SSO, web identity, container or instance \
                 metadata); there are deliberately no static key arguments.",
            )
            .attribute(
                Attribute::new("region", Type::String)
                    .optional()
                    .description("AWS region for the connection's CloudFormation stack (default `us-east-1`)."),
            )
            .attribute(
                Attribute::new("profile", Type::String)
                    .optional()
                    .description("Named profile from the shared AWS config and credentials files."),
            )
            .attribute(
                Attribute::new("oidc_issuer_url", Type::String)
                    .optional()
                    .description("LocalOps' OIDC issuer URL, exactly as LocalOps shows it (or set `LOCALOPS_OIDC_ISSUER_URL`)."),
            )
            .attribute(
                Attribute::new("oidc_audience", Type::String)
                    .optional()
                    .description("Audience (`aud` claim) of LocalOps' tokens, when it differs from the default."),
            )
            .attribute(
                Attribute::new("check_oidc_issuer", Type::Bool)
                    .optional()
                    .description(
                        "Whether plans of `localops_aws_connection` fetch the issuer's \
                         `/.well-known/openid-configuration` and JWKS (within 5 seconds, once per \
                         run) to check that IAM and STS can use it: the document's `issuer` must \
                         equal `oidc_issuer_url` exactly and its `jwks_uri` must serve keys. An \
                         issuer that answers wrongly is an error; one that cannot be reached is \
                         only a warning, so plans work offline. Default `true`; the environment \
                         variable `LOCALOPS_SKIP_ISSUER_CHECK=1` also turns it off.",
                    ),
            )
            .attribute(
                Attribute::new("oidc_issuer_ca_bundle", Type::String)
                    .optional()
                    .description(
                        "PEM certificates of CAs to trust for the issuer's HTTPS, on top of the \
                         system store and Mozilla's roots: a private CA, or a TLS-inspecting \
                         proxy's. Conflicts with `oidc_issuer_ca_file`.",
                    ),
            )
            .attribute(
                Attribute::new("oidc_issuer_ca_file", Type::String)
                    .optional()
                    .description(
                        "Path of a PEM file of CAs to trust for the issuer's HTTPS, as \
                         `oidc_issuer_ca_bundle` (or set `LOCALOPS_OIDC_ISSUER_CA_FILE`). Read \
                         when the provider is configured.",
                    ),
            )
            .attribute(
                Attribute::new("default_tags", Type::map(Type::String))
                    .optional()
                    .description("Tags added to every AWS resource the provider creates."),
            )
            .block(NestedBlock::new("assume_role", BlockNesting::Single, assume_role))
            .block(NestedBlock::new("endpoints", BlockNesting::Single, endpoints)),
    )
}
