//! The trait a provider implements: its own configuration and the resource types it offers.

use std::sync::Arc;

use async_trait::async_trait;

use crate::context::Context;
use crate::diagnostics::Diagnostics;
use crate::resource::{DataSource, Resource};
use crate::schema::Schema;
use crate::value::Value;

#[derive(Clone, Debug)]
pub struct ConfigureRequest {
    pub terraform_version: String,
    /// The provider block; may contain unknowns when it refers to resources not yet created.
    pub config: Value,
}

/// A provider. Keep configured clients inside it behind interior mutability (a `OnceLock` or
/// `RwLock` in an `Arc`) and give each resource a clone of that `Arc` in
/// [`Provider::resources`]: resources then reach the configured state with its real type.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider type name, e.g. `localops`; resource type names start with it.
    fn type_name(&self) -> &str;

    /// The provider block's schema. Called once at startup.
    fn schema(&self) -> Schema;

    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Called once per Terraform run before any resource call that needs configuration.
    /// Must be quick: Terraform waits for it even when no resource needs the configuration.
    async fn configure(&self, ctx: &Context, request: ConfigureRequest) -> Diagnostics;

    /// The managed resource types. Called once at startup.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// The data source types. Called once at startup.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
}
