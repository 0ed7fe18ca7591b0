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
//! # Semantics
//!
//! The engine follows AWS's documented evaluation logic. The exact rules it implements:
//!
//! **Identity evaluation** (no trust policy): an applicable `Deny` in an identity policy,
//! the permissions boundary or an SCP denies explicitly; otherwise SCPs (when given) must
//! allow, an identity policy must allow, and the boundary (when given) must allow.
//!
//! **Role assumption** (a trust policy is given; it is the resource-based policy of the role
//! `request.resource`):
//! * a federated principal (the IAM OIDC/SAML provider of `sts:AssumeRoleWithWebIdentity` /
//!   `sts:AssumeRoleWithSAML`) or a service principal is decided by the trust policy alone
//!   (identity policies, boundaries and SCPs given anyway are ignored, with a note);
//! * for an AWS principal, a `Deny` in any layer wins, SCPs must allow, and the trust policy
//!   must allow (a trust policy must always allow explicitly). Then, following AWS's table
//!   for resource-based policies within one account:
//!   - same account, the allowing trust statement names the principal's own ARN (user,
//!     role session, federated user): allowed; identity policies and the boundary do not
//!     limit it;
//!   - same account, it names the role whose session the principal is: identity policies do
//!     not limit it, the permissions boundary does;
//!   - it names the account (`111122223333` or `arn:aws:iam::111122223333:root`) or
//!     everyone, or the principal is in another account (or the role's account is
//!     unknown): the identity policies must allow too, and the boundary when given.
//!
//! `sts:GetCallerIdentity` is always allowed: it needs no permission and a `Deny` does not
//! stop it.
//!
//! **Matching.** Actions: case-insensitive, `*` and `?`. Resources: `*`, or per ARN segment
//! (a wildcard never crosses a colon of the first five segments; partition, service and
//! region case-insensitive, account and resource case-sensitive); a request for resource
//! `*` is matched only by `*`. Principals: exact (no wildcard but `"*"` alone, which, like
//! `{"AWS": "*"}`, names everyone); an account names all its principals, a role ARN names
//! the role and its sessions. `NotPrincipal` spares a principal only when every level it
//! belongs to (account, role, session or user) is listed.
//!
//! **Conditions.** Operators ANDed, keys ANDed, values ORed (for negated operators: the
//! request value matches none of the values). Absent key: positive operators false,
//! negated operators true, `...IfExists` true, `ForAllValues:` true, `ForAnyValue:` false
//! (true with `IfExists`); a key with an empty list counts as absent. A multi-valued key
//! without a set qualifier matches when some value matches (negated: when none does). Key
//! names are case-insensitive; JSON booleans and numbers are read as their text. ARN
//! operators compare per segment; a value that is not an ARN matches nothing.
//!
//! **Policy variables** (`Version` `2012-10-17` only, in `Resource`/`NotResource` and in the
//! values of String and ARN operators): a variable whose key is absent or multi-valued makes
//! that value match nothing (never an empty string) unless a default is given
//! (`${key, 'default'}`); substituted text and `${*}`, `${?}`, `${$}` are literal.

mod action;
mod arn;
mod conditions;
mod context;
mod decision;
mod error;
mod evaluate;
mod hash;
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
