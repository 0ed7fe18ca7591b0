//! AWS's policy evaluation logic.
//!
//! # Identity evaluation (no trust policy)
//! 1. An applicable `Deny` in an identity policy, the permissions boundary or an SCP:
//!    explicitly denied.
//! 2. SCPs given and none allows: implicitly denied.
//! 3. No identity policy allows: implicitly denied.
//! 4. A permissions boundary given and it does not allow: implicitly denied.
//! 5. Otherwise allowed.
//!
//! # Role assumption (a trust policy is given)
//! The trust policy is the resource-based policy of the role `request.resource`.
//! * For a federated principal (the IAM OIDC/SAML provider of `sts:AssumeRoleWithWebIdentity`
//!   / `sts:AssumeRoleWithSAML`) or a service principal, only the trust policy applies: an
//!   applicable `Deny` denies, else an `Allow` allows, else implicit deny. Identity policies,
//!   boundaries and SCPs given anyway are ignored (a note says so).
//! * For an AWS principal, denies in any layer win; SCPs must allow (when given); the trust
//!   policy must allow (a role's trust policy must always allow explicitly). Then, following
//!   AWS's table for resource-based policies within one account:
//!   - same account, the allowing trust statement names the principal's own ARN (user,
//!     role session, federated user): allowed; identity policies and the boundary do not
//!     limit it;
//!   - same account, it names the role whose session the principal is: identity policies do
//!     not limit it, the permissions boundary does;
//!   - it names the account (id or `:root`) or everyone (`*`), or the principal is in another
//!     account (or the role's account is unknown): the identity policies must allow too, and
//!     the boundary when given.
//!
//! `sts:GetCallerIdentity` is always allowed: AWS documents that it needs no permission and
//! that an explicit deny does not stop it.

use crate::action::PreparedAction;
use crate::context::Context;
use crate::decision::{Decision, DecisionKind, NearMiss, PolicyLayer, Reason, StatementRef};
use crate::policy::{Effect, NamedPolicy, Policy, Statement};
use crate::principal::{PrincipalMatch, PrincipalType, RequestPrincipal};
use crate::request::Request;
use crate::resource::{PreparedResource, ResourceMatch};

/// Everything an evaluation looks at.
#[derive(Clone, Copy, Debug)]
pub struct EvaluationInput<'a> {
    pub request: &'a Request,
    /// The principal's identity-based policies.
    pub identity_policies: &'a [NamedPolicy],
    /// With a trust policy the request is a role assumption (see the module docs).
    pub trust_policy: Option<&'a Policy>,
    /// The principal's permissions boundary (an empty slice means none). Several documents
    /// act as one boundary: an allow in any of them counts.
    pub permissions_boundary: &'a [NamedPolicy],
    /// SCPs of the principal's account (an empty slice means none). They are read as one
    /// level of the organization: an allow in any of them counts.
    pub scps: &'a [NamedPolicy],
}

impl<'a> EvaluationInput<'a> {
    /// Identity-policy evaluation of `request` with no policy at all yet.
    pub fn new(request: &'a Request) -> EvaluationInput<'a> {
        EvaluationInput {
            request,
            identity_policies: &[],
            trust_policy: None,
            permissions_boundary: &[],
            scps: &[],
        }
    }

    pub fn identity_policies(mut self, policies: &'a [NamedPolicy]) -> Self {
        self.identity_policies = policies;
        self
    }

    pub fn trust_policy(mut self, policy: &'a Policy) -> Self {
        self.trust_policy = Some(policy);
        self
    }

    pub fn permissions_boundary(mut self, policies: &'a [NamedPolicy]) -> Self {
        self.permissions_boundary = policies;
        self
    }

    pub fn scps(mut self, policies: &'a [NamedPolicy]) -> Self {
        self.scps = policies;
        self
    }
}

/// The request, prepared once for all statements.
struct Prepared<'a> {
    action: PreparedAction<'a>,
    resource: PreparedResource<'a>,
    principal: RequestPrincipal<'a>,
    context: &'a Context,
}

/// How one statement relates to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StmtMatch {
    /// The action or resource does not match.
    NotApplicable,
    /// Action and resource match; the principal or a condition does not.
    Missed,
    /// The statement applies (with how its principal matched, if it has one).
    Applies(Option<PrincipalMatch>),
}

fn resource_applies(stmt: &Statement, req: &Prepared<'_>) -> bool {
    match &stmt.resources {
        // A resource-based policy without Resource applies to the resource it is attached to.
        None => true,
        Some(r) => {
            let any = r
                .patterns
                .iter()
                .any(|p| p.matches(&req.resource, req.context) == ResourceMatch::Yes);
            any != r.negated
        }
    }
}

fn action_applies(stmt: &Statement, req: &Prepared<'_>) -> bool {
    let any = stmt.actions.patterns.iter().any(|p| p.matches(&req.action));
    any != stmt.actions.negated
}

/// `Ok(match)` when the principal element admits the request's principal.
fn principal_applies(stmt: &Statement, req: &Prepared<'_>) -> Result<Option<PrincipalMatch>, ()> {
    match &stmt.principals {
        None => Ok(None),
        Some(p) if p.negated => {
            if p.set.excludes(&req.principal) {
                Err(())
            } else {
                Ok(Some(PrincipalMatch::Wildcard))
            }
        }
        Some(p) => p.set.matches(&req.principal).map(Some).ok_or(()),
    }
}

fn match_statement(stmt: &Statement, req: &Prepared<'_>) -> StmtMatch {
    if !action_applies(stmt, req) || !resource_applies(stmt, req) {
        return StmtMatch::NotApplicable;
    }
    let Ok(via) = principal_applies(stmt, req) else {
        return StmtMatch::Missed;
    };
    if stmt.conditions.iter().all(|c| c.holds(req.context)) {
        StmtMatch::Applies(via)
    } else {
        StmtMatch::Missed
    }
}

/// A set of policies of one layer.
#[derive(Clone, Copy)]
enum Policies<'a> {
    Named(&'a [NamedPolicy]),
    Single(&'a Policy),
}

impl<'a> Policies<'a> {
    fn is_empty(&self) -> bool {
        match self {
            Policies::Named(p) => p.is_empty(),
            Policies::Single(_) => false,
        }
    }

    fn for_each(&self, mut f: impl FnMut(usize, Option<&'a str>, &'a Policy)) {
        match self {
            Policies::Named(list) => {
                for (i, np) in list.iter().enumerate() {
                    f(i, np.name.as_deref(), &np.policy);
                }
            }
            Policies::Single(p) => f(0, None, p),
        }
    }
}

#[derive(Clone, Copy)]
struct Layer<'a> {
    kind: PolicyLayer,
    policies: Policies<'a>,
}

#[derive(Clone, Copy)]
struct Pos<'a> {
    policy_index: usize,
    policy_name: Option<&'a str>,
    statement_index: usize,
    statement: &'a Statement,
}

#[derive(Clone, Copy, Default)]
struct Scan<'a> {
    deny: Option<Pos<'a>>,
    allow: Option<(Pos<'a>, Option<PrincipalMatch>)>,
}

fn scan<'a>(layer: &Layer<'a>, req: &Prepared<'_>) -> Scan<'a> {
    let mut out = Scan::default();
    layer.policies.for_each(|pi, name, policy| {
        for si in policy
            .index
            .candidates(req.action.service, req.action.service_hash)
        {
            let Some(stmt) = policy.statements.get(si) else {
                continue;
            };
            if out.deny.is_some() {
                break;
            }
            if let StmtMatch::Applies(via) = match_statement(stmt, req) {
                let pos = Pos {
                    policy_index: pi,
                    policy_name: name,
                    statement_index: si,
                    statement: stmt,
                };
                match stmt.effect {
                    Effect::Deny => out.deny = Some(pos),
                    Effect::Allow => {
                        // Keep the first allow, unless a later one names the principal more
                        // specifically.
                        let better = match &out.allow {
                            None => true,
                            Some((_, best)) => via > *best,
                        };
                        if better {
                            out.allow = Some((pos, via));
                        }
                    }
                }
            }
        }
    });
    out
}

fn statement_ref(layer: PolicyLayer, pos: &Pos<'_>) -> StatementRef {
    StatementRef {
        layer,
        policy_index: pos.policy_index,
        policy_name: pos.policy_name.map(str::to_owned),
        statement_index: pos.statement_index,
        sid: pos.statement.sid.clone(),
        statement: pos.statement.json.clone(),
    }
}

/// Allow statements of a layer that match the action and resource but do not apply.
fn near_misses(layer: &Layer<'_>, req: &Prepared<'_>) -> Vec<NearMiss> {
    let mut out: Vec<NearMiss> = Vec::new();
    layer.policies.for_each(|pi, name, policy| {
        for si in policy
            .index
            .candidates(req.action.service, req.action.service_hash)
        {
            let Some(stmt) = policy.statements.get(si) else {
                continue;
            };
            if stmt.effect != Effect::Allow || match_statement(stmt, req) != StmtMatch::Missed {
                continue;
            }
            let pos = Pos {
                policy_index: pi,
                policy_name: name,
                statement_index: si,
                statement: stmt,
            };
            out.push(NearMiss {
                statement: statement_ref(layer.kind, &pos),
                principal_mismatch: principal_applies(stmt, req).is_err(),
                failed_conditions: stmt
                    .conditions
                    .iter()
                    .filter_map(|c| c.failure(req.context))
                    .collect(),
            });
        }
    });
    // Closest first: statements naming the principal, then fewer failed conditions.
    out.sort_by_key(|m| (m.principal_mismatch, m.failed_conditions.len()));
    out.truncate(3);
    out
}

/// The fact documented for `sts:GetCallerIdentity`.
const GET_CALLER_IDENTITY: &str = "sts:GetCallerIdentity needs no permission: AWS documents that \
    any authenticated principal can call it, and that it works even when an explicit Deny \
    names it";

/// Evaluates a request against the given policies.
pub fn evaluate(input: &EvaluationInput<'_>) -> Decision {
    let request = input.request;
    let action_lower = request.action.to_lowercase();
    let req = Prepared {
        action: PreparedAction::new(&action_lower),
        resource: PreparedResource::new(&request.resource),
        principal: RequestPrincipal::classify(&request.principal, &action_lower),
        context: &request.context,
    };
    let mut decision = Decision {
        kind: DecisionKind::ImplicitlyDenied,
        reason: Reason::NoAllow(PolicyLayer::Identity),
        deciding: None,
        allowing: Vec::new(),
        failed_conditions: Vec::new(),
        near_misses: Vec::new(),
        notes: Vec::new(),
        principal: request.principal.clone(),
        action: request.action.clone(),
        resource: request.resource.clone(),
        principal_match: None,
    };
    if action_lower == "sts:getcalleridentity" {
        decision.kind = DecisionKind::Allowed;
        decision.reason = Reason::ServiceFact(GET_CALLER_IDENTITY.to_owned());
        return decision;
    }

    let identity = Layer {
        kind: PolicyLayer::Identity,
        policies: Policies::Named(input.identity_policies),
    };
    let boundary = Layer {
        kind: PolicyLayer::PermissionsBoundary,
        policies: Policies::Named(input.permissions_boundary),
    };
    let scps = Layer {
        kind: PolicyLayer::Scp,
        policies: Policies::Named(input.scps),
    };
    let trust = input.trust_policy.map(|p| Layer {
        kind: PolicyLayer::Trust,
        policies: Policies::Single(p),
    });
    let is_aws = req.principal.principal_type() == Some(PrincipalType::Aws);

    // Which layers apply (at most four; kept on the stack).
    let mut layers: [Option<Layer<'_>>; 4] = [None; 4];
    match trust {
        Some(t) if !is_aws => {
            layers[0] = Some(t);
            let ignored: Vec<&str> = [
                (!input.identity_policies.is_empty(), "identity policies"),
                (
                    !input.permissions_boundary.is_empty(),
                    "permissions boundary",
                ),
                (!input.scps.is_empty(), "SCPs"),
            ]
            .iter()
            .filter(|(given, _)| *given)
            .map(|(_, what)| *what)
            .collect();
            if !ignored.is_empty() {
                let who = req
                    .principal
                    .principal_type()
                    .map_or("an unrecognized".to_owned(), |t| format!("a {t}"));
                decision.notes.push(format!(
                    "{} ignored: they apply to IAM identities, and {} is {who} principal",
                    ignored.join(", "),
                    request.principal
                ));
            }
        }
        Some(t) => layers = [Some(identity), Some(t), Some(boundary), Some(scps)],
        None => layers = [Some(identity), Some(boundary), Some(scps), None],
    }
    let scans: [Option<(Layer<'_>, Scan<'_>)>; 4] = layers.map(|l| {
        l.filter(|l| !l.policies.is_empty())
            .map(|l| (l, scan(&l, &req)))
    });

    // 1. Explicit deny anywhere.
    for (layer, s) in scans.iter().flatten() {
        if let Some(pos) = &s.deny {
            decision.kind = DecisionKind::ExplicitlyDenied;
            decision.reason = Reason::ExplicitDeny(layer.kind);
            decision.deciding = Some(statement_ref(layer.kind, pos));
            return decision;
        }
    }

    let find = |kind: PolicyLayer| scans.iter().flatten().find(|(l, _)| l.kind == kind);
    let allow_of = |kind: PolicyLayer| find(kind).and_then(|(_, s)| s.allow.as_ref());
    let present = |kind: PolicyLayer| find(kind).is_some();

    let deny_for = |decision: &mut Decision, kind: PolicyLayer| {
        decision.kind = DecisionKind::ImplicitlyDenied;
        decision.reason = Reason::NoAllow(kind);
        decision.near_misses = match find(kind) {
            Some((layer, _)) => near_misses(layer, &req),
            None => Vec::new(),
        };
        decision.failed_conditions = decision
            .near_misses
            .first()
            .map(|m| m.failed_conditions.clone())
            .unwrap_or_default();
    };

    // 2. SCPs must allow.
    if present(PolicyLayer::Scp) && allow_of(PolicyLayer::Scp).is_none() {
        deny_for(&mut decision, PolicyLayer::Scp);
        return decision;
    }

    // Layers whose allow is required, in the order they are reported.
    let mut required: Vec<PolicyLayer> = Vec::with_capacity(4);
    let reason;
    if let Some(trust_layer) = trust {
        let Some((_, via)) = allow_of(PolicyLayer::Trust) else {
            if present(PolicyLayer::Trust) {
                deny_for(&mut decision, PolicyLayer::Trust);
            } else {
                // The trust policy has no statement (cannot happen with a parsed policy).
                decision.reason = Reason::NoAllow(trust_layer.kind);
            }
            return decision;
        };
        decision.principal_match = *via;
        required.push(PolicyLayer::Trust);
        if !is_aws {
            reason = Reason::AllowedByTrust;
        } else {
            let role_account = request.owning_account();
            let same_account = role_account.is_some() && role_account == req.principal.account();
            match via {
                Some(PrincipalMatch::Exact) if same_account => {
                    reason = Reason::AllowedByTrustAlone;
                }
                Some(PrincipalMatch::Role) if same_account => {
                    reason = Reason::AllowedByTrustAndBoundary;
                    required.push(PolicyLayer::PermissionsBoundary);
                }
                _ => {
                    reason = Reason::AllowedByTrustAndIdentity {
                        cross_account: !same_account,
                    };
                    required.push(PolicyLayer::Identity);
                    required.push(PolicyLayer::PermissionsBoundary);
                }
            }
        }
    } else {
        reason = Reason::AllowedByIdentity;
        required.push(PolicyLayer::Identity);
        required.push(PolicyLayer::PermissionsBoundary);
    }

    for kind in &required {
        // The identity layer is required even when no identity policy was given; a
        // boundary only when one was given.
        let needed = *kind == PolicyLayer::Identity || present(*kind);
        if needed && allow_of(*kind).is_none() {
            if let (Some((pos, _)), true) =
                (allow_of(PolicyLayer::Trust), *kind != PolicyLayer::Trust)
            {
                let why = match &reason {
                    Reason::AllowedByTrustAndIdentity {
                        cross_account: true,
                    } => {
                        "the principal is in another account (or the role's account is unknown), so its own policies must allow too"
                    }
                    Reason::AllowedByTrustAndIdentity {
                        cross_account: false,
                    } => {
                        "it names the account or everyone, not this principal, so the principal's own policies must allow too"
                    }
                    _ => {
                        "it names the role of this session, so the session's permissions boundary still applies"
                    }
                };
                let trust_ref = statement_ref(PolicyLayer::Trust, pos);
                decision
                    .notes
                    .push(format!("{trust_ref} allows the request, but {why}"));
            }
            deny_for(&mut decision, *kind);
            return decision;
        }
    }
    required.push(PolicyLayer::Scp);
    for kind in required {
        if let Some((pos, _)) = allow_of(kind) {
            decision.allowing.push(statement_ref(kind, pos));
        }
    }
    decision.kind = DecisionKind::Allowed;
    decision.reason = reason;
    decision.deciding = decision.allowing.first().cloned();
    decision
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
