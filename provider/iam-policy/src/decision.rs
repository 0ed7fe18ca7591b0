//! The answer of an evaluation and its explanation.

use crate::principal::PrincipalMatch;
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;

/// The three outcomes of AWS's evaluation logic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allowed => "Allowed",
            DecisionKind::ImplicitlyDenied => "ImplicitlyDenied",
            DecisionKind::ExplicitlyDenied => "ExplicitlyDenied",
        }
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which set of policies a statement belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyLayer {
    /// The principal's identity-based policies.
    Identity,
    /// The role's trust policy (its resource-based policy).
    Trust,
    /// The principal's permissions boundary.
    PermissionsBoundary,
    /// Service control policies of the principal's account.
    Scp,
}

impl PolicyLayer {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyLayer::Identity => "identity",
            PolicyLayer::Trust => "trust",
            PolicyLayer::PermissionsBoundary => "permissionsBoundary",
            PolicyLayer::Scp => "scp",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            PolicyLayer::Identity => "identity policy",
            PolicyLayer::Trust => "trust policy",
            PolicyLayer::PermissionsBoundary => "permissions boundary",
            PolicyLayer::Scp => "SCP",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            PolicyLayer::Identity => "the identity policies",
            PolicyLayer::Trust => "the trust policy",
            PolicyLayer::PermissionsBoundary => "the permissions boundary",
            PolicyLayer::Scp => "the SCPs",
        }
    }
}

impl fmt::Display for PolicyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// A statement, located: layer, policy (index and name), statement (index and Sid), JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementRef {
    pub layer: PolicyLayer,
    pub policy_index: usize,
    pub policy_name: Option<String>,
    pub statement_index: usize,
    pub sid: Option<String>,
    pub statement: Arc<Value>,
}

impl StatementRef {
    /// JSON form for machine-readable diagnostics.
    pub fn to_json(&self) -> Value {
        json!({
            "layer": self.layer.as_str(),
            "policyIndex": self.policy_index,
            "policyName": self.policy_name,
            "statementIndex": self.statement_index,
            "sid": self.sid,
            "statement": self.statement.as_ref(),
        })
    }
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.layer.noun())?;
        match (&self.policy_name, self.layer) {
            (Some(name), _) => write!(f, " {name:?}")?,
            (None, PolicyLayer::Trust) => {}
            (None, _) => write!(f, " #{}", self.policy_index)?,
        }
        write!(f, " statement {}", self.statement_index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid:?})")?;
        }
        Ok(())
    }
}

/// A condition that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionFailure {
    /// The operator as written (`StringEquals`, `ForAllValues:StringLike`, ...).
    pub operator: String,
    /// The condition key as written.
    pub key: String,
    /// The policy's values as written (variables unsubstituted).
    pub expected: Vec<String>,
    /// The request's values; `None` when the key is absent.
    pub actual: Option<Vec<String>>,
    /// Policy variables that could not be substituted.
    pub unresolved_variables: Vec<String>,
    /// One sentence saying what was expected and what was found.
    pub explanation: String,
}

impl ConditionFailure {
    pub fn to_json(&self) -> Value {
        json!({
            "operator": self.operator,
            "key": self.key,
            "expected": self.expected,
            "actual": self.actual,
            "unresolvedVariables": self.unresolved_variables,
            "explanation": self.explanation,
        })
    }
}

impl fmt::Display for ConditionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explanation)
    }
}

/// A statement that matched the action and resource and would have allowed the request,
/// but did not apply: its principal did not name the requester, or a condition failed.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    pub statement: StatementRef,
    /// The statement's `Principal` does not name the requester (or its `NotPrincipal` does).
    pub principal_mismatch: bool,
    pub failed_conditions: Vec<ConditionFailure>,
}

impl NearMiss {
    pub fn to_json(&self) -> Value {
        json!({
            "statement": self.statement.to_json(),
            "principalMismatch": self.principal_mismatch,
            "failedConditions": self.failed_conditions.iter().map(ConditionFailure::to_json).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for NearMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} would allow it but", self.statement)?;
        let mut first = true;
        if self.principal_mismatch {
            f.write_str(" does not name this principal")?;
            first = false;
        }
        for c in &self.failed_conditions {
            f.write_str(if first { " failed " } else { "; and failed " })?;
            first = false;
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Why the decision is what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A documented fact of the service decides (for example `sts:GetCallerIdentity`).
    ServiceFact(String),
    /// A `Deny` statement applies.
    ExplicitDeny(PolicyLayer),
    /// No statement of this layer allows the request.
    NoAllow(PolicyLayer),
    /// Allowed by the identity policies (and by the boundary and SCPs when present).
    AllowedByIdentity,
    /// Allowed by the trust policy alone: the principal is not an IAM identity (a federated
    /// provider or a service), so no identity policy applies.
    AllowedByTrust,
    /// Same account, the trust policy names the principal's own ARN: identity policies and
    /// the permissions boundary do not limit it.
    AllowedByTrustAlone,
    /// Same account, the trust policy names the role of the principal's session: identity
    /// policies do not limit it, the permissions boundary does.
    AllowedByTrustAndBoundary,
    /// The trust policy names the principal's account (or everyone), or the principal is in
    /// another account: the identity policies must allow too.
    AllowedByTrustAndIdentity { cross_account: bool },
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::ServiceFact(_) => "serviceFact",
            Reason::ExplicitDeny(_) => "explicitDeny",
            Reason::NoAllow(_) => "noAllow",
            Reason::AllowedByIdentity => "allowedByIdentity",
            Reason::AllowedByTrust => "allowedByTrust",
            Reason::AllowedByTrustAlone => "allowedByTrustAlone",
            Reason::AllowedByTrustAndBoundary => "allowedByTrustAndBoundary",
            Reason::AllowedByTrustAndIdentity { .. } => "allowedByTrustAndIdentity",
        }
    }

    /// The layer concerned, for denials.
    pub fn layer(&self) -> Option<PolicyLayer> {
        match self {
            Reason::ExplicitDeny(l) | Reason::NoAllow(l) => Some(*l),
            _ => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ServiceFact(s) => f.write_str(s),
            Reason::ExplicitDeny(l) => write!(f, "a Deny statement in {} applies", l.plural()),
            Reason::NoAllow(PolicyLayer::Trust) => f.write_str(
                "no statement in the trust policy allows it (a role's trust policy must allow \
                 the principal explicitly)",
            ),
            Reason::NoAllow(PolicyLayer::Identity) => {
                f.write_str("no statement in the identity policies allows it")
            }
            Reason::NoAllow(PolicyLayer::PermissionsBoundary) => f.write_str(
                "the permissions boundary does not allow it (an allow needs both the identity \
                 policy and the boundary)",
            ),
            Reason::NoAllow(PolicyLayer::Scp) => {
                f.write_str("no SCP allows it (SCPs limit every principal of the account)")
            }
            Reason::AllowedByIdentity => f.write_str("allowed by the identity policies"),
            Reason::AllowedByTrust => f.write_str(
                "allowed by the trust policy (identity policies do not apply to a federated or \
                 service principal)",
            ),
            Reason::AllowedByTrustAlone => f.write_str(
                "allowed by the trust policy alone: it names this principal's ARN in the same \
                 account",
            ),
            Reason::AllowedByTrustAndBoundary => f.write_str(
                "allowed by the trust policy, which names the session's role in the same \
                 account, within the permissions boundary",
            ),
            Reason::AllowedByTrustAndIdentity {
                cross_account: true,
            } => f.write_str(
                "allowed by both the trust policy and the identity policies (cross-account access \
                 needs both)",
            ),
            Reason::AllowedByTrustAndIdentity {
                cross_account: false,
            } => f.write_str(
                "allowed by both the trust policy and the identity policies (the trust policy \
                 names the account, not the principal, so the identity policies must allow too)",
            ),
        }
    }
}

/// The answer of [`crate::evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub kind: DecisionKind,
    pub reason: Reason,
    /// The statement that decided: the `Deny` for an explicit deny; for an allow, the trust
    /// policy statement of a role assumption, else the identity policy statement.
    pub deciding: Option<StatementRef>,
    /// For an allow, every statement the decision relied on (one per layer).
    pub allowing: Vec<StatementRef>,
    /// For an implicit deny, the failed conditions of the closest statement.
    pub failed_conditions: Vec<ConditionFailure>,
    /// For an implicit deny, statements that matched the action and resource but did not
    /// apply (closest first, at most three).
    pub near_misses: Vec<NearMiss>,
    /// Remarks on how the input was read (ignored policies, ...).
    pub notes: Vec<String>,
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// How the trust policy named the principal, for role assumptions.
    pub principal_match: Option<PrincipalMatch>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.kind == DecisionKind::Allowed
    }

    /// JSON form for machine-readable diagnostics (the `detail` of `policy eval --jsonl`).
    pub fn to_json(&self) -> Value {
        json!({
            "message": self.to_string(),
            "reason": self.reason.code(),
            "layer": self.reason.layer().map(PolicyLayer::as_str),
            "deciding": self.deciding.as_ref().map(StatementRef::to_json),
            "allowing": self.allowing.iter().map(StatementRef::to_json).collect::<Vec<_>>(),
            "failedConditions": self.failed_conditions.iter().map(ConditionFailure::to_json).collect::<Vec<_>>(),
            "nearMisses": self.near_misses.iter().map(NearMiss::to_json).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.is_allowed() { "may" } else { "may not" };
        write!(
            f,
            "{}: {} {verb} {} on {}: {}",
            self.kind, self.principal, self.action, self.resource, self.reason
        )?;
        match self.kind {
            DecisionKind::ExplicitlyDenied => {
                if let Some(d) = &self.deciding {
                    write!(f, "; denied by {d}: {}", compact(&d.statement))?;
                }
            }
            DecisionKind::Allowed => {
                if let Some(d) = &self.deciding {
                    write!(f, "; by {d}")?;
                }
            }
            DecisionKind::ImplicitlyDenied => {
                if let Some(m) = self.near_misses.first() {
                    write!(f, "; closest: {m}")?;
                }
            }
        }
        for n in &self.notes {
            write!(f, "; note: {n}")?;
        }
        Ok(())
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
