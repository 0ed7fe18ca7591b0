//! Terraform plugin protocol 6 server layer on tonic: handshake, typed values, schemas,
//! diagnostics. Knows nothing of AWS or LocalOps.
//!
//! A provider implements [`Provider`] and hands out [`Resource`]s; [`serve`] does the rest.
//! Resources read configuration through [`FromValue`] types (with [`MaybeUnknown`] where a
//! value may be unknown at plan time), adjust the layer's plan in
//! [`Resource::modify_plan`], declare force-new attributes with
//! [`Attribute::requires_replace`] and watch [`Context::stopped`] for Ctrl-C.

pub mod context;
pub mod convert;
pub mod diagnostics;
pub mod logging;
pub mod path;
mod plan;
pub mod proto;
pub mod provider;
pub mod resource;
pub mod schema;
mod serve;
pub mod server;
mod tls;
pub mod value;

pub use context::Context;
pub use convert::{
    FromValue, IntoValue, MaybeUnknown, ObjectBuilder, ObjectReader, ValueError, ValueErrorKind,
};
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use path::{AttributePath, PathStep};
pub use provider::{ConfigureRequest, Provider};
pub use resource::{
    ApplyOutcome, Change, DataSource, ImportOutcome, Plan, ReadOutcome, Resource, Stored,
};
pub use schema::{
    Attribute, AttributeType, Block, BlockNesting, NestedBlock, ObjectNesting, Schema,
};
pub use serve::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, ServeOptions, serve};
pub use server::ProviderServer;
pub use value::{Number, Type, Value};

/// Re-exported so resources need no direct dependency to use the same `async_trait`.
pub use async_trait::async_trait;
