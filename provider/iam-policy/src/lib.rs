//! IAM policy parsing and evaluation engine (identity policies, trust policies, boundaries,
//! SCPs).
//!
//! Parse documents once with [`Policy::parse`] (patterns are compiled at parse time), then
//! [`evaluate`] requests against them:
//!
//! ```
//! use iam_policy::{evaluate, Context, DecisionKind, EvaluationInput, Policy, Request};
//!
//! let trust = Policy::parse(r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{
//!     "Effect": "Allow",
//!     "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com"},
//!     "Action": "sts:AssumeRoleWithWebIdentity",
//!     "Condition": {"StringEquals": {"oidc.example.com:sub": "system:serviceaccount:ops:agent"}}
//!   }]
//! }"#).unwrap();
//! let request = Request::new(
//!     "arn:aws:iam::111122223333:oidc-provider/oidc.example.com",
//!     "sts:AssumeRoleWithWebIdentity",
//!     "arn:aws:iam::111122223333:role/localops",
//! )
//! .with_context(Context::new().with("oidc.example.com:sub", "system:serviceaccount:ops:agent"));
//! let decision = evaluate(&EvaluationInput::new(&request).trust_policy(&trust));
//! assert_eq!(decision.kind, DecisionKind::Allowed);
//! ```
//!
//! The semantics follow AWS's documented evaluation logic; see the [`evaluate`] module
//! documentation for the exact rules (same-account trust, boundaries, SCPs) and
//! [`conditions`](crate::Decision) for condition operators.

mod action;
mod arn;
mod conditions;
mod context;
mod decision;
mod error;
mod evaluate;
mod json;
mod parse;
mod policy;
mod principal;
mod request;
mod resource;
mod variables;
mod wildcard;

pub use arn::{arn_account, split_arn};
pub use context::Context;
pub use decision::{
    ConditionFailure, Decision, DecisionKind, NearMiss, PolicyLayer, Reason, StatementRef,
};
pub use error::PolicyError;
pub use evaluate::{EvaluationInput, evaluate};
pub use policy::{Effect, NamedPolicy, Policy, PolicyKind};
pub use principal::{PrincipalMatch, PrincipalType};
pub use request::Request;
pub use variables::Unresolved;

/// Parses JSON text like `serde_json`, but rejects an object with a repeated key (so that
/// `{"Effect": "Deny", "Effect": "Allow"}` cannot silently become an Allow). Use it for input
/// that embeds policy documents as JSON objects.
pub fn parse_json_strict(text: &str) -> Result<serde_json::Value, String> {
    json::parse_strict(text)
}
