//! The traits a provider implements for its managed resources and data sources.
//!
//! The layer does the protocol work around them: decoding values with the schema, planning
//! the Terraform way (see [`crate::plan`]), checking what comes back, and turning panics into
//! diagnostics. A resource only says what is specific to it.

use async_trait::async_trait;

use crate::context::Context;
use crate::convert::{FromValue, IntoValue, ObjectReader};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::path::AttributePath;
use crate::schema::Schema;
use crate::value::Value;

/// A managed resource type, e.g. `localops_permission_set`.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The full type name as written in configuration.
    fn type_name(&self) -> &str;

    /// Called once at startup; the layer keeps the result.
    fn schema(&self) -> Schema;

    /// Checks a configuration, which may contain unknown values. Point diagnostics at the
    /// attribute concerned.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjusts the plan the layer computed (on create and update, not destroy): fill in
    /// computed values that are already known, mark more attributes unknown, add
    /// replacement paths, warnings or private data.
    async fn modify_plan(&self, _ctx: &Context, _plan: &mut Plan) {}

    /// Creates the object. On failure after partial work, return the state of what exists
    /// together with an error: Terraform records it (tainted) so nothing is orphaned.
    async fn create(&self, ctx: &Context, change: Change) -> ApplyOutcome;

    async fn update(&self, ctx: &Context, change: Change) -> ApplyOutcome;

    /// Deletes the object. `change.planned_state` is null.
    async fn delete(&self, ctx: &Context, change: Change) -> Diagnostics;

    /// Refreshes state. The default keeps it as it is (for resources with no remote object).
    /// Return `state: None` when the object is gone, so Terraform plans to recreate it.
    async fn read(&self, _ctx: &Context, current: Stored) -> ReadOutcome {
        ReadOutcome {
            state: Some(current.state),
            private: current.private,
            diagnostics: Diagnostics::new(),
        }
    }

    /// `terraform import` by id. The default explains that the type cannot be imported.
    async fn import(&self, _ctx: &Context, _id: &str) -> ImportOutcome {
        ImportOutcome::error(Diagnostic::error(
            "Import not supported",
            format!(
                "The resource type {} cannot be imported. Declare it in configuration instead.",
                self.type_name()
            ),
        ))
    }

    /// Upgrades state written under an older schema version. `raw_json` is the stored JSON;
    /// decode it with the old schema's type ([`crate::value::json::decode`]) and return a
    /// value of the current schema. The default refuses.
    async fn upgrade_state(
        &self,
        _ctx: &Context,
        version: i64,
        _raw_json: &[u8],
    ) -> Result<Value, Diagnostics> {
        Err(Diagnostic::error(
            "Unsupported state version",
            format!(
                "State for {} was written with schema version {version}, which this provider \
                 version cannot upgrade.",
                self.type_name()
            ),
        )
        .into())
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;

    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Returns the full state object (configuration plus computed attributes).
    async fn read(&self, ctx: &Context, config: &Value) -> (Value, Diagnostics);
}

/// Stored state of one resource instance.
#[derive(Clone, Debug)]
pub struct Stored {
    pub state: Value,
    pub private: Vec<u8>,
}

/// What ApplyResourceChange carries to create/update/delete.
#[derive(Clone, Debug)]
pub struct Change {
    /// Null on create.
    pub prior_state: Value,
    /// Null on delete. May contain unknowns the apply must fill in.
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

impl Change {
    /// Reads the planned state into a typed model (on delete it is null: use
    /// [`Change::prior`]).
    pub fn planned<T: FromValue>(&self) -> Result<T, Diagnostic> {
        T::from_value(&self.planned_state).map_err(Diagnostic::from)
    }

    pub fn prior<T: FromValue>(&self) -> Result<T, Diagnostic> {
        T::from_value(&self.prior_state).map_err(Diagnostic::from)
    }
}

#[derive(Clone, Debug, Default)]
pub struct ApplyOutcome {
    /// The object as it now exists; null when there is none.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

impl ApplyOutcome {
    pub fn ok(new_state: impl IntoValue) -> Self {
        ApplyOutcome {
            new_state: new_state.into_value(),
            ..ApplyOutcome::default()
        }
    }

    /// Nothing was created/changed: keep `state` (the prior state, or null on create).
    pub fn failed(state: Value, diagnostic: Diagnostic) -> Self {
        ApplyOutcome {
            new_state: state,
            private: Vec::new(),
            diagnostics: diagnostic.into(),
        }
    }

    pub fn with_private(mut self, private: Vec<u8>) -> Self {
        self.private = private;
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct ReadOutcome {
    /// `None`: the object no longer exists.
    pub state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Clone, Debug, Default)]
pub struct ImportOutcome {
    pub imported: Vec<Stored>,
    pub diagnostics: Diagnostics,
}

impl ImportOutcome {
    pub fn error(diagnostic: Diagnostic) -> Self {
        ImportOutcome {
            imported: Vec::new(),
            diagnostics: diagnostic.into(),
        }
    }
}

/// A plan in the making, handed to [`Resource::modify_plan`].
///
/// `planned` starts as the layer's plan: Terraform's proposal, with computed attributes
/// that are not configured set to unknown when anything changed (or kept from prior state
/// when the schema says [`use_state_for_unknown`](crate::Attribute::use_state_for_unknown)),
/// and `requires_replace` filled from the schema.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Null on create.
    pub prior_state: Value,
    pub config: Value,
    pub proposed: Value,
    pub planned: Value,
    pub prior_private: Vec<u8>,
    /// Starts as a copy of `prior_private`.
    pub planned_private: Vec<u8>,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Diagnostics,
}

impl Plan {
    pub fn is_create(&self) -> bool {
        self.prior_state.is_null()
    }

    /// True when the plan changes nothing compared to the prior state.
    pub fn is_no_op(&self) -> bool {
        !self.is_create() && self.planned == self.prior_state
    }

    /// Reads a top-level configuration attribute; errors carry the attribute path.
    pub fn config_attr<T: FromValue>(&self, name: &str) -> Result<T, Diagnostic> {
        ObjectReader::new(&self.config)
            .and_then(|o| o.get(name))
            .map_err(Diagnostic::from)
    }

    /// Reads a top-level planned attribute.
    pub fn planned_attr<T: FromValue>(&self, name: &str) -> Result<T, Diagnostic> {
        ObjectReader::new(&self.planned)
            .and_then(|o| o.get(name))
            .map_err(Diagnostic::from)
    }

    /// Sets a top-level planned attribute (only computed attributes may differ from config).
    pub fn set(&mut self, name: &str, value: impl IntoValue) {
        self.planned.set_attribute(name, value.into_value());
    }

    pub fn set_unknown(&mut self, name: &str) {
        self.planned.set_attribute(name, Value::Unknown);
    }

    /// Plans the prior state's value for a computed attribute (no-op on create).
    pub fn keep_prior(&mut self, name: &str) {
        if let Some(prior) = self.prior_state.attribute(name).cloned() {
            self.planned.set_attribute(name, prior);
        }
    }

    pub fn require_replace(&mut self, path: AttributePath) {
        if !self.requires_replace.contains(&path) {
            self.requires_replace.push(path);
        }
    }

    pub fn warn(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(Diagnostic {
            severity: crate::diagnostics::Severity::Warning,
            ..diagnostic
        });
    }
}
