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
    pub(crate) index: ActionIndex,
}

/// Which statements can match an action of a given service, built at parse time so that an
/// evaluation skips statements about other services.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActionIndex {
    /// (hash, lowercased service prefix) -> indices of statements naming it (ascending),
    /// sorted by hash then name.
    by_service: Vec<(u64, String, Vec<usize>)>,
    /// Statements that may match any service (`*`, a wildcard service, `NotAction`).
    always: Vec<usize>,
}

impl ActionIndex {
    pub(crate) fn build(statements: &[Statement]) -> ActionIndex {
        let mut index = ActionIndex::default();
        for (i, s) in statements.iter().enumerate() {
            let services: Option<Vec<&str>> = if s.actions.negated {
                None
            } else {
                s.actions
                    .patterns
                    .iter()
                    .map(|p| p.exact_service())
                    .collect()
            };
            match services {
                None => index.always.push(i),
                Some(list) => {
                    for svc in list {
                        let key = (crate::hash::fnv1a(svc), svc);
                        match index
                            .by_service
                            .binary_search_by(|(h, k, _)| (*h, k.as_str()).cmp(&key))
                        {
                            Ok(pos) => {
                                let v = &mut index.by_service[pos].2;
                                if v.last() != Some(&i) {
                                    v.push(i);
                                }
                            }
                            Err(pos) => index
                                .by_service
                                .insert(pos, (key.0, svc.to_owned(), vec![i])),
                        }
                    }
                }
            }
        }
        index
    }

    /// Indices of the statements that may match an action of `service` (lowercased, with
    /// its [`fnv1a`](crate::hash::fnv1a) hash), in document order.
    pub(crate) fn candidates<'a>(&'a self, service: &str, hash: u64) -> Candidates<'a> {
        let start = self.by_service.partition_point(|(h, _, _)| *h < hash);
        let named = self.by_service[start..]
            .iter()
            .take_while(|(h, _, _)| *h == hash)
            .find(|(_, k, _)| k == service)
            .map_or(&[][..], |(_, _, v)| v.as_slice());
        Candidates {
            a: &self.always,
            b: named,
        }
    }
}

/// Merge of two ascending index lists.
pub(crate) struct Candidates<'a> {
    a: &'a [usize],
    b: &'a [usize],
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let take_a = match (self.a.first(), self.b.first()) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x <= y,
        };
        let list = if take_a { &mut self.a } else { &mut self.b };
        let (first, rest) = list.split_first()?;
        *list = rest;
        Some(*first)
    }
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
