//! Parsed policy documents.

use crate::action::ActionPattern;
use crate::conditions::Condition;
use crate::error::PolicyError;
use crate::principal::PrincipalSet;
use crate::resource::ResourcePattern;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// A statement's effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// What a policy is used as; decides which elements a statement must or must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role: no `Principal`, a `Resource` is required.
    Identity,
    /// Attached to a resource, such as a role's trust policy: a `Principal` is required,
    /// `Resource` is optional (it defaults to the resource the policy is attached to).
    ResourceBased,
    /// A permissions boundary: same shape as an identity policy.
    PermissionsBoundary,
    /// An Organizations service control policy: same shape as an identity policy.
    ServiceControl,
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::ResourceBased => "resource-based policy",
            PolicyKind::PermissionsBoundary => "permissions boundary",
            PolicyKind::ServiceControl => "service control policy",
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Actions {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ActionPattern>,
}

#[derive(Clone, Debug)]
pub(crate) struct Resources {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ResourcePattern>,
}

#[derive(Clone, Debug)]
pub(crate) struct Principals {
    pub(crate) negated: bool,
    pub(crate) set: PrincipalSet,
}

/// One compiled statement.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) actions: Actions,
    pub(crate) resources: Option<Resources>,
    pub(crate) principals: Option<Principals>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) json: Arc<Value>,
}

/// A parsed and compiled policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) version: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy document from JSON text. Repeated keys in an object are an error.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let value = crate::json::parse_strict(text)
            .map_err(|e| PolicyError::document(format!("not valid JSON: {e}")))?;
        Policy::from_value(&value)
    }

    /// Parses a policy document from a JSON value.
    pub fn from_value(value: &Value) -> Result<Policy, PolicyError> {
        crate::parse::policy(value)
    }

    /// The `Version` element, if present.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id` element, if present.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Number of statements.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// True when the policy has no statement.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The JSON of statement `index`, as written.
    pub fn statement_json(&self, index: usize) -> Option<&Value> {
        self.statements.get(index).map(|s| s.json.as_ref())
    }

    /// The `Sid` of statement `index`.
    pub fn statement_sid(&self, index: usize) -> Option<&str> {
        self.statements.get(index).and_then(|s| s.sid.as_deref())
    }

    /// Checks the elements required or forbidden for a kind of policy: identity policies,
    /// boundaries and SCPs have no `Principal`/`NotPrincipal` and need `Resource` or
    /// `NotResource`; resource-based policies need `Principal` or `NotPrincipal`.
    pub fn validate_for(&self, kind: PolicyKind) -> Result<(), PolicyError> {
        for (i, s) in self.statements.iter().enumerate() {
            let err = |field: &str, msg: String| {
                Err(PolicyError::field(field, msg).in_statement(i, s.sid.as_deref()))
            };
            match kind {
                PolicyKind::ResourceBased => {
                    if s.principals.is_none() {
                        return err(
                            "Principal",
                            format!("a {kind} statement needs Principal or NotPrincipal"),
                        );
                    }
                }
                _ => {
                    if let Some(p) = &s.principals {
                        let field = if p.negated {
                            "NotPrincipal"
                        } else {
                            "Principal"
                        };
                        return err(
                            field,
                            format!(
                                "not allowed in a {kind} (only in resource-based policies such as trust policies)"
                            ),
                        );
                    }
                    if s.resources.is_none() {
                        return err(
                            "Resource",
                            format!("a {kind} statement needs Resource or NotResource"),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Parses and validates for a kind in one step.
    pub fn parse_as(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let p = Policy::parse(text)?;
        p.validate_for(kind)?;
        Ok(p)
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Policy, PolicyError> {
        Policy::parse(s)
    }
}

impl TryFrom<&Value> for Policy {
    type Error = PolicyError;

    fn try_from(v: &Value) -> Result<Policy, PolicyError> {
        Policy::from_value(v)
    }
}

/// A policy with an optional name (used in diagnostics).
#[derive(Clone, Debug)]
pub struct NamedPolicy {
    pub name: Option<String>,
    pub policy: Policy,
}

impl NamedPolicy {
    pub fn new(name: impl Into<String>, policy: Policy) -> NamedPolicy {
        NamedPolicy {
            name: Some(name.into()),
            policy,
        }
    }

    pub fn unnamed(policy: Policy) -> NamedPolicy {
        NamedPolicy { name: None, policy }
    }
}

impl From<Policy> for NamedPolicy {
    fn from(policy: Policy) -> NamedPolicy {
        NamedPolicy::unnamed(policy)
    }
}
