//! AWS adapters for LocalOps connections: CloudFormation stacks, IAM reads, STS proofs.
//!
//! Build clients from the provider settings with [`AwsClients::from_settings`], then use
//! [`AwsClients::stacks`], [`AwsClients::iam`] and [`AwsClients::sts`]. Every operation takes a
//! [`CancellationToken`] and returns promptly when it fires; AWS errors keep the operation,
//! the resource and AWS's own message.

pub mod config;
pub mod error;
pub mod iam;
pub mod retry;
pub mod stack;
pub mod sts;
pub mod util;

pub use config::{
    AssumeRoleSettings, AwsClients, AwsSettings, ConfigError, DEFAULT_REGION, DEFAULT_SESSION_NAME,
    Endpoints, load_sdk_config, load_sdk_config_with,
};
pub use error::{AwsError, ErrorClass};
pub use iam::{
    AttachedPolicy, Iam, IamError, InlinePolicy, LiveOidcProvider, LiveRole, PolicyVersion,
};
pub use retry::{Backoff, RetryPolicy};
pub use stack::{
    FailedResource, StackError, StackFailure, StackInfo, StackSpec, Stacks, StatusClass,
    UpdateOutcome, WaitConfig,
};
pub use sts::{CallerIdentity, DEFAULT_PROOF_RETRY_BUDGET, Sts, StsError, WebIdentityProof};
pub use tokio_util::sync::CancellationToken;

/// Re-exported so callers can prepare a loader for [`AwsClients::from_settings_with_loader`]
/// and use the clients' types without depending on the SDK crates themselves.
pub use {aws_config, aws_sdk_cloudformation, aws_sdk_iam, aws_sdk_sts};
