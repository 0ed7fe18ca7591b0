//! The request being authorized.

use crate::context::Context;

/// A request: who (`principal`), what (`action`), on what (`resource`), with which context.
///
/// * `principal`: an ARN (`arn:aws:iam::111122223333:user/alice`,
///   `arn:aws:sts::111122223333:assumed-role/Role/session`, an account root), a 12-digit
///   account id, an IAM OIDC/SAML provider ARN (for `sts:AssumeRoleWithWebIdentity` /
///   `sts:AssumeRoleWithSAML` the principal is the provider), or a service principal such as
///   `ec2.amazonaws.com`.
/// * `action`: `service:Action`, compared case-insensitively.
/// * `resource`: an ARN, or `*` for actions without resource-level permissions. For a role
///   assumption it is the role's ARN.
/// * `context`: condition keys and values, used as given (nothing is added).
/// * `resource_account`: the account owning the resource, when the resource ARN does not
///   say (ARNs such as S3 buckets have no account segment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: Context,
    pub resource_account: Option<String>,
}

impl Request {
    /// A request with an empty context.
    pub fn new(
        principal: impl Into<String>,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Request {
        Request {
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            context: Context::new(),
            resource_account: None,
        }
    }

    /// Replaces the context.
    pub fn with_context(mut self, context: Context) -> Request {
        self.context = context;
        self
    }

    /// Sets the resource's account.
    pub fn with_resource_account(mut self, account: impl Into<String>) -> Request {
        self.resource_account = Some(account.into());
        self
    }

    /// The account that owns the resource: the ARN's account segment, else
    /// `resource_account`.
    pub fn owning_account(&self) -> Option<&str> {
        crate::arn::arn_account(&self.resource).or(self.resource_account.as_deref())
    }
}
