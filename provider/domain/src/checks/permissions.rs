//! The role's permissions: every action the permission set promises must be allowed by the
//! role's policies, within the permissions boundary and the SCPs.

use std::collections::{BTreeMap, BTreeSet};

use iam_policy::{
    Context, Decision, DecisionKind, EvaluationInput, NamedPolicy, Policy, PolicyKind, PolicyLayer,
    Reason, Request, StatementRef, evaluate,
};
use serde_json::Value;

use super::{
    ADMINISTRATOR_ACCESS_DOCUMENT, CheckField, DeployedRole, Finding, Mode, NamedDocument,
    Severity, StaticCheckInput, iam_policy_chars,
};
use crate::catalog::{self, CatalogStatement, PARTITION_PLACEHOLDER, has_wildcard, wildcard_match};
use crate::permission_set::ADMINISTRATOR_ACCESS;

/// Most actions listed in a finding's detail.
const MAX_LISTED: usize = 60;

/// The document of an AWS managed policy this crate knows, by ARN (any partition).
pub(crate) fn known_aws_managed(arn: &str) -> Option<&'static str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", "aws", resource]
            if *resource == format!("policy/{ADMINISTRATOR_ACCESS}") =>
        {
            Some(ADMINISTRATOR_ACCESS_DOCUMENT)
        }
        _ => None,
    }
}

/// The name of a managed policy from its ARN (`arn:aws:iam::aws:policy/job-function/X` → `X`).
pub(crate) fn policy_name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A policy of one layer, as given: its document may be unknown.
struct Source<'a> {
    name: String,
    document: Option<&'a str>,
    /// What to call it when the document is unknown.
    label: String,
}

/// Everything one evaluation of the permissions needs.
struct Setup<'a> {
    mode: Mode,
    input: &'a StaticCheckInput,
    role_arn: String,
    role_name: String,
    account: String,
    partition: String,
    identity: Vec<Source<'a>>,
    boundary: Option<Source<'a>>,
    scps: &'a [NamedDocument],
}

pub(super) fn check_static(input: &StaticCheckInput, out: &mut Vec<Finding>) {
    let perms = &input.permissions;
    let limits = &input.limits;
    for d in &perms.policy_documents {
        let n = iam_policy_chars(&d.document);
        if n > limits.max_managed_policy_chars {
            out.push(Finding::error(
                CheckField::PermissionSet,
                format!(
                    "policy {:?} has {n} characters, more than IAM's limit of {}",
                    d.name, limits.max_managed_policy_chars
                ),
                "IAM counts a managed policy's characters without whitespace; creating the \
                 policy would fail. Split its statements over more policies, or shorten \
                 extra_statements."
                    .to_owned(),
            ));
        }
    }
    let count = perms.policy_documents.len() + perms.managed_policy_arns.len();
    if count > limits.max_managed_policies_per_role {
        out.push(Finding::error(
            CheckField::PermissionSet,
            format!(
                "the role needs {count} managed policies, more than the {} IAM allows per role",
                limits.max_managed_policies_per_role
            ),
            format!(
                "{} customer managed and {} other managed policies would be attached. IAM's \
                 default quota is 10 managed policies per role (it can be raised to 20 through \
                 Service Quotas); attaching more fails.",
                perms.policy_documents.len(),
                perms.managed_policy_arns.len()
            ),
        ));
    }
    let mut identity: Vec<Source<'_>> = perms
        .policy_documents
        .iter()
        .map(|d| Source {
            name: d.name.clone(),
            document: Some(d.document.as_str()),
            label: d.name.clone(),
        })
        .collect();
    identity.extend(perms.managed_policy_arns.iter().map(|arn| Source {
        name: policy_name_from_arn(arn).to_owned(),
        document: known_aws_managed(arn),
        label: arn.clone(),
    }));
    let boundary = input.permissions_boundary.as_ref().map(|b| Source {
        name: b.name.clone(),
        document: Some(b.document.as_str()),
        label: b.name.clone(),
    });
    run(
        &Setup {
            mode: Mode::Static,
            input,
            role_arn: input.role_arn(),
            role_name: input.role_name.clone(),
            account: input.account().to_owned(),
            partition: perms.partition.clone(),
            identity,
            boundary,
            scps: &input.scps,
        },
        out,
    );
}

pub(super) fn check_live(input: &StaticCheckInput, role: &DeployedRole, out: &mut Vec<Finding>) {
    let mut identity: Vec<Source<'_>> = role
        .attached_policies
        .iter()
        .map(|p| Source {
            name: p.name.clone(),
            document: p.document.as_deref().or_else(|| known_aws_managed(&p.arn)),
            label: p.arn.clone(),
        })
        .collect();
    identity.extend(role.inline_policies.iter().map(|p| Source {
        name: p.name.clone(),
        document: Some(p.document.as_str()),
        label: format!("inline policy {:?}", p.name),
    }));
    let mut boundary = None;
    if let Some(b) = &role.permissions_boundary {
        match b.document.as_deref().or_else(|| known_aws_managed(&b.arn)) {
            Some(doc) => {
                boundary = Some(Source {
                    name: b.name.clone(),
                    document: Some(doc),
                    label: b.arn.clone(),
                })
            }
            None => out.push(Finding::warning(
                CheckField::PermissionsBoundary,
                format!(
                    "the role has the permissions boundary {} and its document is unknown",
                    b.arn
                ),
                "A permissions boundary caps the role's permissions; without its document the \
                 required actions were checked as if there were none. The connection does not \
                 set a boundary: remove it, or make sure it allows what LocalOps needs."
                    .to_owned(),
            )),
        }
    }
    let parts = iam_policy::split_arn(&role.arn);
    let partition = parts.map_or_else(|| input.permissions.partition.clone(), |p| p[1].to_owned());
    let account = iam_policy::arn_account(&role.arn)
        .unwrap_or(input.account())
        .to_owned();
    let role_name = role
        .arn
        .rsplit('/')
        .next()
        .unwrap_or(&input.role_name)
        .to_owned();
    run(
        &Setup {
            mode: Mode::Live,
            input,
            role_arn: role.arn.clone(),
            role_name,
            account,
            partition,
            identity,
            boundary,
            scps: &input.scps,
        },
        out,
    );
}

/// One required action with how LocalOps requests it.
struct ActionCheck {
    action: String,
    /// Title of the catalog service that needs it.
    service: String,
    /// Resource patterns (partition filled in; `*` kept), concretized per region.
    resources: Vec<String>,
    /// Condition values of the catalog statement, as the request carries them.
    context: Vec<(String, String)>,
    /// Regions to request it in.
    regions: Vec<String>,
    /// True: allowed in one region is enough (global statements); false: every region.
    any_region: bool,
}

/// A required action that is not allowed.
struct Failure {
    action: String,
    service: String,
    /// Regions where it fails (all probed regions when `partial` is false).
    regions: Vec<String>,
    partial: bool,
    decision: Decision,
}

/// A required action that is allowed on the catalog's resource but denied on resources a Deny
/// statement names.
struct ResourceDenial {
    action: String,
    service: String,
    pattern: String,
    whole_type: bool,
    decision: Decision,
}

/// The region a partition's global endpoints (IAM, STS global) report as `aws:RequestedRegion`.
fn global_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

fn fill_wildcards(s: &str) -> String {
    s.replace('*', "localops").replace('?', "x")
}

/// A concrete resource LocalOps could request that matches `pattern`.
pub(super) fn concretize(pattern: &str, partition: &str, region: &str, account: &str) -> String {
    if pattern.chars().all(|c| c == '*') {
        return "*".to_owned();
    }
    let p = pattern.replace(PARTITION_PLACEHOLDER, partition);
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    let [arn, part, service, reg, acct, resource] = parts.as_slice() else {
        return fill_wildcards(&p);
    };
    let seg = |s: &str, value: &str| -> String {
        if s.is_empty() || !has_wildcard(s) {
            s.to_owned()
        } else if wildcard_match(s, value) {
            value.to_owned()
        } else {
            fill_wildcards(s)
        }
    };
    format!(
        "{arn}:{}:{}:{}:{}:{}",
        seg(part, partition),
        fill_wildcards(service),
        seg(reg, region),
        seg(acct, account),
        fill_wildcards(resource)
    )
}

/// Condition values a catalog statement requires, as LocalOps' request carries them: the first
/// value of each key (wildcards filled in).
fn statement_context(st: &CatalogStatement) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(condition) = &st.condition else {
        return out;
    };
    for block in condition.values() {
        let Some(block) = block.as_object() else {
            continue;
        };
        for (key, value) in block {
            let first = match value {
                Value::Array(items) => items.first().cloned(),
                other => Some(other.clone()),
            };
            let text = match first {
                Some(Value::String(s)) => fill_wildcards(&s),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            out.push((key.clone(), text));
        }
    }
    out
}

fn expand(pattern: &str) -> Vec<String> {
    let expanded = catalog::expand_wildcard(pattern);
    if expanded.is_empty() && !has_wildcard(pattern) {
        vec![pattern.to_owned()]
    } else {
        expanded.into_iter().map(str::to_owned).collect()
    }
}

/// The checks for the required actions, in catalog order, one per action and scope.
fn action_checks(setup: &Setup<'_>) -> Result<Vec<ActionCheck>, String> {
    let perms = &setup.input.permissions;
    let catalog = catalog::catalog().map_err(|e| e.to_string())?;
    let required: BTreeSet<&str> = perms.required_actions.iter().map(String::as_str).collect();
    let allowed_regions: Vec<String> = match &perms.regions {
        Some(r) if !r.is_empty() => {
            let set: BTreeSet<&String> = r.iter().collect();
            set.into_iter().cloned().collect()
        }
        _ => vec![global_region(&setup.partition).to_owned()],
    };
    let global = vec![global_region(&setup.partition).to_owned()];
    let exempt = |action: &str| {
        catalog
            .region_exempt_actions
            .iter()
            .any(|p| wildcard_match(p, action))
    };
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut checks = Vec::new();
    for service in &catalog.services {
        if !service.required && !perms.optional_services.contains(&service.key) {
            continue;
        }
        for st in &service.statements {
            let scope = format!("{:?}|{:?}|{}", st.resources, st.condition, st.global);
            for pattern in &st.actions {
                if !required.contains(pattern.as_str()) {
                    continue;
                }
                covered.insert(pattern.as_str());
                for action in expand(pattern) {
                    if !seen.insert((action.to_ascii_lowercase(), scope.clone())) {
                        continue;
                    }
                    let (regions, any_region) = if exempt(&action) {
                        (global.clone(), false)
                    } else {
                        (allowed_regions.clone(), st.global)
                    };
                    checks.push(ActionCheck {
                        resources: st
                            .resources
                            .iter()
                            .map(|r| r.replace(PARTITION_PLACEHOLDER, &setup.partition))
                            .collect(),
                        context: statement_context(st),
                        service: service.title.clone(),
                        regions,
                        any_region,
                        action,
                    });
                }
            }
        }
    }
    // Promised actions no selected catalog statement grants (a hand-made expectation).
    for pattern in required.difference(&covered) {
        for action in expand(pattern) {
            if !seen.insert((action.to_ascii_lowercase(), String::new())) {
                continue;
            }
            let regions = if exempt(&action) {
                global.clone()
            } else {
                allowed_regions.clone()
            };
            checks.push(ActionCheck {
                action,
                service: "the permission set".to_owned(),
                resources: vec!["*".to_owned()],
                context: Vec::new(),
                regions,
                any_region: false,
            });
        }
    }
    Ok(checks)
}

/// Parses a layer's documents; reports the ones that do not parse.
fn parse_layer(
    setup: &Setup<'_>,
    sources: &[&Source<'_>],
    kind: PolicyKind,
    field: CheckField,
    out: &mut Vec<Finding>,
) -> Option<(Vec<NamedPolicy>, Vec<String>)> {
    let mut parsed = Vec::new();
    let mut unknown = Vec::new();
    let mut ok = true;
    for s in sources {
        let Some(doc) = s.document else {
            unknown.push(s.label.clone());
            continue;
        };
        match Policy::parse_as(doc, kind) {
            Ok(p) => parsed.push(NamedPolicy::new(s.name.clone(), p)),
            Err(e) => {
                ok = false;
                let what = match field {
                    CheckField::PermissionsBoundary => "permissions boundary",
                    CheckField::Scp => "SCP",
                    _ => "policy",
                };
                if setup.mode == Mode::Static {
                    out.push(Finding::error(
                        field,
                        format!("{what} {:?} is not a valid IAM policy", s.name),
                        format!("{e}. IAM would reject it, so nothing can be checked or applied."),
                    ));
                } else {
                    out.push(Finding::warning(
                        field,
                        format!("{what} {:?} could not be evaluated", s.name),
                        format!(
                            "{e}. The required actions were not checked against the deployed \
                             policies."
                        ),
                    ));
                }
            }
        }
    }
    ok.then_some((parsed, unknown))
}

fn run(setup: &Setup<'_>, out: &mut Vec<Finding>) {
    let identity_sources: Vec<&Source<'_>> = setup.identity.iter().collect();
    let boundary_sources: Vec<&Source<'_>> = setup.boundary.iter().collect();
    let scp_sources: Vec<Source<'_>> = setup
        .scps
        .iter()
        .map(|s| Source {
            name: s.name.clone(),
            document: Some(s.document.as_str()),
            label: s.name.clone(),
        })
        .collect();
    let scp_refs: Vec<&Source<'_>> = scp_sources.iter().collect();
    let identity = parse_layer(
        setup,
        &identity_sources,
        PolicyKind::Identity,
        CheckField::PermissionSet,
        out,
    );
    let boundary = parse_layer(
        setup,
        &boundary_sources,
        PolicyKind::PermissionsBoundary,
        CheckField::PermissionsBoundary,
        out,
    );
    let scps = parse_layer(
        setup,
        &scp_refs,
        PolicyKind::ServiceControl,
        CheckField::Scp,
        out,
    );
    let (Some((identity, unknown)), Some((boundary, _)), Some((scps, _))) =
        (identity, boundary, scps)
    else {
        return;
    };
    let checks = match action_checks(setup) {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::warning(
                CheckField::PermissionSet,
                "the required actions could not be checked".to_owned(),
                format!("{e}. This is a bug in the provider; please report it."),
            ));
            return;
        }
    };
    let session = format!(
        "arn:{}:sts::{}:assumed-role/{}/localops",
        setup.partition, setup.account, setup.role_name
    );
    let provider_arn = setup.input.oidc_provider_arn.as_str();
    let base_context = |region: &str| {
        Context::new()
            .with("aws:RequestedRegion", region)
            .with("aws:PrincipalArn", setup.role_arn.as_str())
            .with("aws:PrincipalAccount", setup.account.as_str())
            .with("aws:PrincipalType", "AssumedRole")
            .with("aws:ResourceAccount", setup.account.as_str())
            .with("aws:SecureTransport", "true")
            .with("aws:ViaAWSService", "false")
            .with("aws:PrincipalIsAWSService", "false")
            .with("aws:FederatedProvider", provider_arn)
    };
    let eval = |request: &Request| -> Decision {
        evaluate(
            &EvaluationInput::new(request)
                .identity_policies(&identity)
                .permissions_boundary(&boundary)
                .scps(&scps),
        )
    };
    let deny_patterns = deny_resource_patterns(setup);

    let mut failures: Vec<Failure> = Vec::new();
    let mut resource_denials: Vec<ResourceDenial> = Vec::new();
    for check in &checks {
        let mut failed: Vec<(String, Decision)> = Vec::new();
        let mut first_ok: Option<(&str, Request)> = None;
        for region in &check.regions {
            let mut context = base_context(region);
            for (k, v) in &check.context {
                context.insert(k.as_str(), v.as_str());
            }
            let mut request = Request::new(session.as_str(), check.action.as_str(), "*")
                .with_context(context)
                .with_resource_account(setup.account.as_str());
            let denial = check.resources.iter().find_map(|pattern| {
                request.resource = concretize(pattern, &setup.partition, region, &setup.account);
                let d = eval(&request);
                (!d.is_allowed()).then_some(d)
            });
            match denial {
                Some(d) => failed.push((region.clone(), d)),
                None => {
                    if first_ok.is_none() {
                        first_ok = Some((region.as_str(), request));
                    }
                }
            }
        }
        let fails = if check.any_region {
            failed.len() == check.regions.len()
        } else {
            !failed.is_empty()
        };
        if fails {
            let partial = failed.len() < check.regions.len();
            let regions: Vec<String> = failed.iter().map(|(r, _)| r.clone()).collect();
            if let Some((_, decision)) = failed.into_iter().next() {
                failures.push(Failure {
                    action: check.action.clone(),
                    service: check.service.clone(),
                    regions,
                    partial,
                    decision,
                });
            }
            continue;
        }
        // Allowed: probe the resources that Deny statements of its service name.
        let Some((region, mut request)) = first_ok else {
            continue;
        };
        let prefix = check.action.split(':').next().unwrap_or("");
        for pattern in &deny_patterns {
            let service = pattern.split(':').nth(2).unwrap_or("");
            if !wildcard_match(service, prefix) {
                continue;
            }
            request.resource = concretize(pattern, &setup.partition, region, &setup.account);
            let d = eval(&request);
            if d.kind == DecisionKind::ExplicitlyDenied {
                resource_denials.push(ResourceDenial {
                    action: check.action.clone(),
                    service: check.service.clone(),
                    pattern: pattern.clone(),
                    whole_type: covers_whole_type(pattern),
                    decision: d,
                });
                break;
            }
        }
    }
    report_failures(setup, &unknown, failures, out);
    report_resource_denials(setup, resource_denials, out);
}

/// ARN patterns of the `Resource` elements of Deny statements in every known document, sorted.
fn deny_resource_patterns(setup: &Setup<'_>) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    let docs = setup
        .identity
        .iter()
        .filter_map(|s| s.document)
        .chain(setup.boundary.iter().filter_map(|s| s.document))
        .chain(setup.scps.iter().map(|s| s.document.as_str()));
    for doc in docs {
        let Ok(v) = serde_json::from_str::<Value>(doc) else {
            continue;
        };
        let statements: Vec<&Value> = match v.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(obj @ Value::Object(_)) => vec![obj],
            _ => continue,
        };
        for st in statements {
            if st.get("Effect").and_then(Value::as_str) != Some("Deny") {
                continue;
            }
            let resources: Vec<&str> = match st.get("Resource") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            out.extend(
                resources
                    .into_iter()
                    .filter(|r| r.starts_with("arn:"))
                    .map(str::to_owned),
            );
        }
    }
    out.into_iter().collect()
}

/// Whether an ARN pattern's resource part covers every resource of a type (`cluster/*`, `*`).
pub(super) fn covers_whole_type(pattern: &str) -> bool {
    let resource = pattern.splitn(6, ':').nth(5).unwrap_or("");
    if resource.chars().all(|c| c == '*') {
        return true;
    }
    match resource.split_once(['/', ':']) {
        Some((kind, rest)) => {
            !has_wildcard(kind) && !rest.is_empty() && rest.chars().all(|c| c == '*')
        }
        None => false,
    }
}

/// `statement "Sid" of policy "name"` (or the layer's equivalent).
pub(crate) fn describe_statement(s: &StatementRef) -> String {
    let which = match &s.sid {
        Some(sid) => format!("statement {sid:?}"),
        None => format!("statement {}", s.statement_index),
    };
    let name = s
        .policy_name
        .clone()
        .unwrap_or_else(|| format!("#{}", s.policy_index));
    match s.layer {
        PolicyLayer::Identity => format!("{which} of policy {name:?}"),
        PolicyLayer::PermissionsBoundary => format!("{which} of the permissions boundary {name:?}"),
        PolicyLayer::Scp => format!("{which} of SCP {name:?}"),
        PolicyLayer::Trust => format!("{which} of the trust policy"),
    }
}

/// `eks:CreateCluster` / `eks:CreateCluster and 12 more actions`, with the verb's number.
fn actions_phrase(actions: &[String]) -> (String, &'static str) {
    match actions {
        [] => ("no action".to_owned(), "is"),
        [one] => (one.clone(), "is"),
        [first, rest @ ..] => (format!("{first} and {} more actions", rest.len()), "are"),
    }
}

fn listed(actions: &[String]) -> String {
    let mut text = actions
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if actions.len() > MAX_LISTED {
        text.push_str(&format!(" and {} more", actions.len() - MAX_LISTED));
    }
    text
}

fn services_needing(services: &BTreeSet<String>) -> String {
    services.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn layer_rank(layer: Option<PolicyLayer>) -> u8 {
    match layer {
        Some(PolicyLayer::Identity) => 0,
        Some(PolicyLayer::PermissionsBoundary) => 1,
        Some(PolicyLayer::Scp) => 2,
        Some(PolicyLayer::Trust) => 3,
        None => 4,
    }
}

/// How failures are grouped into findings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    implicit: bool,
    layer: u8,
    statement: Option<(usize, usize)>,
    regions: Vec<String>,
}

fn report_failures(
    setup: &Setup<'_>,
    unknown: &[String],
    failures: Vec<Failure>,
    out: &mut Vec<Finding>,
) {
    let mut groups: BTreeMap<GroupKey, Vec<Failure>> = BTreeMap::new();
    for f in failures {
        let key = GroupKey {
            implicit: f.decision.kind != DecisionKind::ExplicitlyDenied,
            layer: layer_rank(f.decision.reason.layer()),
            statement: f
                .decision
                .deciding
                .as_ref()
                .map(|s| (s.policy_index, s.statement_index)),
            regions: if f.partial {
                f.regions.clone()
            } else {
                Vec::new()
            },
        };
        groups.entry(key).or_default().push(f);
    }
    for (key, mut group) in groups {
        group.sort_by(|a, b| a.action.cmp(&b.action));
        let actions: Vec<String> = group.iter().map(|f| f.action.clone()).collect();
        let services: BTreeSet<String> = group.iter().map(|f| f.service.clone()).collect();
        let Some(first) = group.first() else {
            continue;
        };
        let d = &first.decision;
        let (subject, verb) = actions_phrase(&actions);
        let suffix = if key.regions.is_empty() {
            String::new()
        } else {
            format!(" in {}", key.regions.join(", "))
        };
        let mut severity = Severity::Error;
        let (field, summary, hint) = match (&d.reason, d.deciding.as_ref()) {
            (Reason::ExplicitDeny(layer), Some(stmt)) => {
                let hint = match (layer, setup.mode) {
                    (PolicyLayer::Identity, Mode::Static) => {
                        "Remove the statement from the permission set's extra_statements, or \
                         narrow it so that it leaves these actions alone."
                    }
                    (PolicyLayer::Identity, Mode::Live) => {
                        "The role's policies differ from what the connection defines (a policy \
                         was attached or edited outside Terraform), or the statement comes from \
                         the permission set's extra_statements."
                    }
                    (PolicyLayer::PermissionsBoundary, _) => BOUNDARY_HINT,
                    _ => SCP_HINT,
                };
                (
                    field_of_layer(*layer),
                    format!(
                        "{subject} {verb} denied{suffix} by {}",
                        describe_statement(stmt)
                    ),
                    hint,
                )
            }
            (Reason::NoAllow(PolicyLayer::PermissionsBoundary), _) => {
                let name = setup
                    .boundary
                    .as_ref()
                    .map(|b| b.name.clone())
                    .unwrap_or_default();
                (
                    CheckField::PermissionsBoundary,
                    format!(
                        "{subject} {verb} not allowed{suffix} by the permissions boundary {name:?}"
                    ),
                    BOUNDARY_HINT,
                )
            }
            (Reason::NoAllow(PolicyLayer::Scp), _) => (
                CheckField::Scp,
                format!("{subject} {verb} not allowed{suffix} by the SCPs"),
                SCP_HINT,
            ),
            _ => {
                let noun = if unknown.is_empty() {
                    setup.mode.policies_noun().to_owned()
                } else {
                    severity = Severity::Warning;
                    match setup.mode {
                        Mode::Static => "the role's known policies".to_owned(),
                        Mode::Live => "the deployed role's known policies".to_owned(),
                    }
                };
                let hint = if !unknown.is_empty() {
                    "Some attached policies could not be read; if they grant these actions, \
                     LocalOps can work."
                } else if setup.mode == Mode::Live {
                    "A policy was detached or edited outside Terraform; applying restores the \
                     connection's policies."
                } else {
                    "No statement of the permission set's policies allows them for this request."
                };
                (
                    CheckField::PermissionSet,
                    format!("{subject} {verb} not allowed{suffix} by {noun}"),
                    hint,
                )
            }
        };
        let mut detail = format!(
            "{}: {}. LocalOps needs them for {}. Example: {d} (aws:RequestedRegion {}).",
            if d.kind == DecisionKind::ExplicitlyDenied {
                "Denied"
            } else {
                "Not allowed"
            },
            listed(&actions),
            services_needing(&services),
            first.regions.first().map(String::as_str).unwrap_or("?")
        );
        if !unknown.is_empty() && severity == Severity::Warning {
            detail.push_str(&format!(" Unknown documents: {}.", unknown.join(", ")));
        }
        detail.push(' ');
        detail.push_str(hint);
        out.push(Finding {
            severity,
            field,
            summary,
            detail,
        });
    }
}

const BOUNDARY_HINT: &str = "A permissions boundary caps the role: an action needs an Allow in \
    both the role's policies and the boundary, and a Deny in either wins. Allow these actions in \
    the boundary, or remove the boundary from the role.";

const SCP_HINT: &str = "Service control policies of the account's organization apply to every \
    role in the account, whatever its own policies allow. Ask the organization's administrator \
    to exempt this role or allow these actions, or change the permission set's regions (SCPs \
    must also allow: keep FullAWSAccess or an equivalent Allow attached).";

fn field_of_layer(layer: PolicyLayer) -> CheckField {
    match layer {
        PolicyLayer::PermissionsBoundary => CheckField::PermissionsBoundary,
        PolicyLayer::Scp => CheckField::Scp,
        PolicyLayer::Trust => CheckField::TrustPolicy,
        PolicyLayer::Identity => CheckField::PermissionSet,
    }
}

/// Grouping of resource denials: (narrower than a whole type, layer, statement, pattern).
type DenialKey = (bool, u8, (usize, usize), String);

fn report_resource_denials(
    setup: &Setup<'_>,
    denials: Vec<ResourceDenial>,
    out: &mut Vec<Finding>,
) {
    let mut groups: BTreeMap<DenialKey, Vec<ResourceDenial>> = BTreeMap::new();
    for d in denials {
        let Some(stmt) = d.decision.deciding.as_ref() else {
            continue;
        };
        let key = (
            !d.whole_type,
            layer_rank(Some(stmt.layer)),
            (stmt.policy_index, stmt.statement_index),
            d.pattern.clone(),
        );
        groups.entry(key).or_default().push(d);
    }
    for ((partial, _, _, pattern), mut group) in groups {
        group.sort_by(|a, b| a.action.cmp(&b.action));
        let actions: Vec<String> = group.iter().map(|f| f.action.clone()).collect();
        let services: BTreeSet<String> = group.iter().map(|f| f.service.clone()).collect();
        let Some(first) = group.first() else {
            continue;
        };
        let Some(stmt) = first.decision.deciding.as_ref() else {
            continue;
        };
        let (subject, verb) = actions_phrase(&actions);
        let summary = format!(
            "{subject} {verb} denied on {pattern} by {}",
            describe_statement(stmt)
        );
        let scope = if partial {
            "LocalOps may need these actions on resources this pattern matches"
        } else {
            "The pattern matches every resource of its type, including the ones LocalOps \
             creates and manages"
        };
        let fix = match (stmt.layer, setup.mode) {
            (PolicyLayer::Identity, Mode::Static) => {
                "Narrow or remove the statement in the permission set's extra_statements."
            }
            (PolicyLayer::Identity, Mode::Live) => {
                "The statement is in a policy attached to the role; narrow or remove it."
            }
            (PolicyLayer::PermissionsBoundary, _) => BOUNDARY_HINT,
            _ => SCP_HINT,
        };
        let detail = format!(
            "Denied: {}. {scope} (needed for {}). Example: {}. {fix}",
            listed(&actions),
            services_needing(&services),
            first.decision
        );
        let field = field_of_layer(stmt.layer);
        out.push(if partial {
            Finding::warning(field, summary, detail)
        } else {
            Finding::error(field, summary, detail)
        });
    }
}
