//! Connection checks: prove, before anything is applied, that LocalOps can assume the
//! connection's role and do its job, and say exactly why not when it cannot.
//!
//! Three entry points, all pure functions of their input:
//!
//! * [`check_static`], at `terraform plan` of `localops_aws_connection`: evaluates what the
//!   connection *will* deploy (the rendered trust policy, the permission set's policies, the
//!   OIDC provider's client IDs, the session length, IAM's size limits), plus a permissions
//!   boundary and SCPs when the caller knows them.
//! * [`check_live`], on what is really deployed (read through IAM by the resource and passed
//!   as plain data, [`DeployedConnection`]): the same evaluation, so that a role edited by hand,
//!   a detached policy, an added boundary, a deleted OIDC provider or a removed client ID is
//!   reported as what stops LocalOps *now*. [`check_oidc_provider`] is the provider part alone,
//!   for an existing provider that the connection reuses.
//! * [`drift`], the concrete differences between what the connection defines and what is
//!   deployed, for the resource to plan the repair.
//!
//! Policies are evaluated with the `iam-policy` engine. Findings carry the field they are about,
//! a one-line summary (stable texts, listed in the module's tests) and a detail that quotes the
//! deciding statement or the failed condition (the engine's [`iam_policy::Decision`] display).
//!
//! # What is evaluated
//!
//! *Trust.* LocalOps' request is `sts:AssumeRoleWithWebIdentity` by the OIDC provider (a
//! `Federated` principal) on the role's ARN, with the context STS builds from the token:
//! `<issuer host+path>:aud`, `<issuer host+path>:sub` and `aws:FederatedProvider`. It must be
//! allowed. The same request with another subject of the same issuer (made-up subjects, and
//! every other subject the document's own conditions name), another audience, another issuer's
//! provider, or an AWS principal of another account must be denied (the confused-deputy guard),
//! and some Allow statement must test the subject.
//!
//! *Permissions.* Every action the permission set promises (its `required_actions`, wildcards
//! expanded through the action catalog) is requested by the role's session on a representative
//! resource derived from the catalog statement that grants it (`arn:aws:eks:*:*:addon/*/coredns/*`
//! becomes `arn:aws:eks:<region>:<account>:addon/localops/coredns/localops`; `*` stays `*`), with
//! the statement's own condition values and `aws:RequestedRegion` set to each allowed region
//! (`us-east-1` when regions are not limited). Actions of globally served services (the catalog's
//! `region_exempt_actions`: IAM, STS, ...) are requested in the partition's global region;
//! actions of other global statements must work in at least one allowed region, the rest in
//! every allowed region. Identity policies, the permissions boundary and SCPs are combined as
//! AWS does. Deny statements scoped to ARNs of an action's service are probed as well, so that
//! a Deny on `arn:aws:eks:*:*:cluster/*` is found although the catalog grants
//! `eks:CreateCluster` on `*`.
//!
//! Denials are grouped by deciding statement (or by the layer that does not allow), so a
//! diagnostic reads "eks:CreateCluster and 12 more actions are denied by statement ...".

mod canonical;
mod drift;
mod permissions;
mod trust;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::permission_set::{self, PermissionSetBundle};
use crate::template;

pub use drift::{DriftItem, drift};

/// The account used in ARNs when the account is not known at plan time.
pub const PLACEHOLDER_ACCOUNT: &str = "000000000000";

/// Length of LocalOps' sessions with the role, in seconds: the role's maximum session duration
/// must be at least this.
pub const LOCALOPS_SESSION_SECONDS: i64 = 3600;

/// The policy document of the AWS managed policy `AdministratorAccess` (a known fact: AWS has
/// published this document unchanged since the policy was introduced).
pub const ADMINISTRATOR_ACCESS_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// LocalOps cannot work (or the connection admits others): fail the plan.
    Error,
    /// Something may stop LocalOps or could not be verified.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckField {
    /// The OIDC issuer URL (a provider-level setting).
    Issuer,
    /// The `sub` claim of LocalOps' tokens for this connection.
    Subject,
    /// The `aud` claim, which must be a client ID of the OIDC provider.
    Audience,
    /// The IAM OIDC provider (created by the connection, or an existing one).
    OidcProvider,
    /// The role's maximum session duration.
    MaxSessionDuration,
    /// The role itself (its name, its existence).
    RoleName,
    /// The role's trust policy as a whole.
    TrustPolicy,
    /// The role's permissions (the permission set).
    PermissionSet,
    /// A permissions boundary on the role.
    PermissionsBoundary,
    /// Service control policies of the account's organization.
    Scp,
}

impl CheckField {
    /// The `localops_aws_connection` attribute the finding should point at, when there is one
    /// (`None`: the resource as a whole, or a provider-level setting: the issuer and the
    /// audience are the provider's `oidc_issuer_url` and `oidc_audience`).
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            CheckField::Subject => Some("subject"),
            CheckField::OidcProvider => Some("oidc_provider_arn"),
            CheckField::MaxSessionDuration => Some("max_session_duration"),
            CheckField::RoleName => Some("role_name"),
            CheckField::PermissionSet => Some("permission_set"),
            CheckField::TrustPolicy => Some("trust_policy"),
            CheckField::Issuer
            | CheckField::Audience
            | CheckField::PermissionsBoundary
            | CheckField::Scp => None,
        }
    }

    /// The provider-level setting the finding is about, when it is one.
    pub fn provider_setting(self) -> Option<&'static str> {
        match self {
            CheckField::Issuer => Some("oidc_issuer_url"),
            CheckField::Audience => Some("oidc_audience"),
            _ => None,
        }
    }

    /// A stable name for logs and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckField::Issuer => "issuer",
            CheckField::Subject => "subject",
            CheckField::Audience => "audience",
            CheckField::OidcProvider => "oidc_provider",
            CheckField::MaxSessionDuration => "max_session_duration",
            CheckField::RoleName => "role_name",
            CheckField::TrustPolicy => "trust_policy",
            CheckField::PermissionSet => "permission_set",
            CheckField::PermissionsBoundary => "permissions_boundary",
            CheckField::Scp => "scp",
        }
    }
}

impl fmt::Display for CheckField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub field: CheckField,
    /// One line, stable for a given input.
    pub summary: String,
    /// What was evaluated, the deciding statement or failed condition, and what to do.
    pub detail: String,
}

impl Finding {
    pub(crate) fn error(field: CheckField, summary: String, detail: String) -> Finding {
        Finding {
            severity: Severity::Error,
            field,
            summary,
            detail,
        }
    }

    pub(crate) fn warning(field: CheckField, summary: String, detail: String) -> Finding {
        Finding {
            severity: Severity::Warning,
            field,
            summary,
            detail,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]: {}: {}",
            self.severity, self.field, self.summary, self.detail
        )
    }
}

/// IAM limits the checks apply. Defaults are IAM's default quotas; raise the quota-backed ones
/// when the account's quotas were raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckLimits {
    /// Role trust policy length, in characters without whitespace (default quota 2,048; it can
    /// be raised to 4,096).
    pub max_trust_policy_chars: usize,
    /// Managed policy document length, in characters without whitespace (6,144, fixed).
    pub max_managed_policy_chars: usize,
    /// Managed policies attached to one role (default quota 10; it can be raised to 20).
    pub max_managed_policies_per_role: usize,
}

impl Default for CheckLimits {
    fn default() -> Self {
        CheckLimits {
            max_trust_policy_chars: 2048,
            max_managed_policy_chars: template::MAX_POLICY_DOCUMENT_CHARS,
            max_managed_policies_per_role: 10,
        }
    }
}

/// A policy document with the name it is (or will be) known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDocument {
    pub name: String,
    /// JSON text.
    pub document: String,
}

impl NamedDocument {
    pub fn new(name: impl Into<String>, document: impl Into<String>) -> NamedDocument {
        NamedDocument {
            name: name.into(),
            document: document.into(),
        }
    }
}

/// What the role's permissions must be and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionExpectation {
    /// Partition of the role and its ARNs (`aws`, `aws-cn`, `aws-us-gov`, ...).
    pub partition: String,
    /// Optional catalog services selected (`s3`, `rds`, ...); required services are implied.
    pub optional_services: Vec<String>,
    /// Regions LocalOps works in; `None` when not limited.
    pub regions: Option<Vec<String>>,
    /// Catalog actions the permissions promise (wildcards allowed, as in the bundle).
    pub required_actions: Vec<String>,
    /// Customer managed policies the connection creates, named as they will be deployed.
    pub policy_documents: Vec<NamedDocument>,
    /// Managed policy ARNs attached as they are (AWS managed `AdministratorAccess`, ...).
    pub managed_policy_arns: Vec<String>,
}

impl PermissionExpectation {
    /// The permissions of a permission set bundle; its customer managed policies are named as
    /// the connection template names them (`<role name>-<n>`).
    pub fn from_bundle(bundle: &PermissionSetBundle, role_name: &str) -> PermissionExpectation {
        PermissionExpectation {
            partition: bundle.partition.clone(),
            optional_services: bundle.optional_services.clone(),
            regions: bundle.regions.clone(),
            required_actions: bundle.required_actions.clone(),
            policy_documents: bundle
                .policy_documents
                .iter()
                .enumerate()
                .map(|(i, d)| NamedDocument::new(format!("{role_name}-{}", i + 1), d.clone()))
                .collect(),
            managed_policy_arns: bundle.managed_policy_arns.clone(),
        }
    }

    /// The 1-click default: `AdministratorAccess`, promising the catalog's required services.
    pub fn administrator_default() -> PermissionExpectation {
        let required_actions: std::collections::BTreeSet<String> = crate::catalog::services()
            .map(|services| {
                services
                    .iter()
                    .filter(|s| s.required)
                    .flat_map(|s| s.actions())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        PermissionExpectation {
            partition: "aws".to_owned(),
            optional_services: Vec::new(),
            regions: None,
            required_actions: required_actions.into_iter().collect(),
            policy_documents: Vec::new(),
            managed_policy_arns: vec![permission_set::administrator_access_arn("aws")],
        }
    }
}

/// What the connection will deploy and what LocalOps will send: the input of every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticCheckInput {
    /// LocalOps' issuer URL (the tokens' `iss`).
    pub issuer_url: String,
    /// The `aud` claim of LocalOps' tokens.
    pub audience: String,
    /// The `sub` claim of LocalOps' tokens for this connection.
    pub subject: String,
    pub role_name: String,
    /// `None` when unknown at plan time ([`PLACEHOLDER_ACCOUNT`] is used in ARNs).
    pub account_id: Option<String>,
    /// The OIDC provider the trust policy names: the existing one, or the one the template
    /// creates.
    pub oidc_provider_arn: String,
    /// True when the connection creates the OIDC provider (false: it reuses an existing one).
    pub creates_oidc_provider: bool,
    /// The provider's client IDs: `[audience]` for a created provider, what IAM reports for an
    /// existing one, `None` when unknown (the audience check is skipped).
    pub oidc_client_ids: Option<Vec<String>>,
    /// Any integer Terraform may pass; checked against 3,600..=43,200.
    pub max_session_duration: i64,
    /// The trust policy document (JSON) the role will have.
    pub trust_policy: String,
    pub permissions: PermissionExpectation,
    /// A permissions boundary, when the caller knows one applies.
    pub permissions_boundary: Option<NamedDocument>,
    /// SCPs of the account as attached (include `FullAWSAccess`: SCPs must allow too).
    pub scps: Vec<NamedDocument>,
    pub limits: CheckLimits,
}

impl StaticCheckInput {
    /// The input for a connection with these stack parameters, in `account_id` when known,
    /// with the permissions of `bundle` (`None`: the AdministratorAccess default). The OIDC
    /// provider is the existing one when set, else the one the template creates (client IDs
    /// `[audience]`); the trust policy is the template's ([`template::trust_policy`]).
    pub fn for_connection(
        params: &template::ConnectionParameters,
        account_id: Option<&str>,
        bundle: Option<&PermissionSetBundle>,
    ) -> StaticCheckInput {
        let permissions = match bundle {
            Some(b) => PermissionExpectation::from_bundle(b, &params.role_name),
            None => PermissionExpectation::administrator_default(),
        };
        let account = account_id.unwrap_or(PLACEHOLDER_ACCOUNT);
        let existing = params
            .existing_oidc_provider_arn
            .as_deref()
            .filter(|a| !a.is_empty());
        let oidc_provider_arn = match existing {
            Some(arn) => arn.to_owned(),
            None => format!(
                "arn:{}:iam::{account}:oidc-provider/{}",
                permissions.partition,
                issuer_host_lenient(&params.issuer_url)
            ),
        };
        let trust = template::trust_policy(
            &params.issuer_url,
            &oidc_provider_arn,
            &params.audience,
            &params.subject,
        );
        StaticCheckInput {
            issuer_url: params.issuer_url.clone(),
            audience: params.audience.clone(),
            subject: params.subject.clone(),
            role_name: params.role_name.clone(),
            account_id: account_id.map(str::to_owned),
            creates_oidc_provider: existing.is_none(),
            oidc_client_ids: if existing.is_none() {
                Some(vec![params.audience.clone()])
            } else {
                None
            },
            oidc_provider_arn,
            max_session_duration: i64::from(params.max_session_duration),
            trust_policy: serde_json::to_string(&trust).unwrap_or_default(),
            permissions,
            permissions_boundary: None,
            scps: Vec::new(),
            limits: CheckLimits::default(),
        }
    }

    /// The account used in ARNs: the known one or [`PLACEHOLDER_ACCOUNT`].
    pub fn account(&self) -> &str {
        self.account_id.as_deref().unwrap_or(PLACEHOLDER_ACCOUNT)
    }

    /// The role's ARN (with [`PLACEHOLDER_ACCOUNT`] when the account is unknown).
    pub fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.permissions.partition,
            self.account(),
            self.role_name
        )
    }

    /// The issuer's host and path, the prefix of the trust condition keys.
    pub fn issuer_host(&self) -> String {
        issuer_host_lenient(&self.issuer_url)
    }

    /// The principal STS presents for LocalOps' tokens: the account's OIDC provider for the
    /// issuer. That is `oidc_provider_arn` when it is for the issuer (up to letter case and a
    /// trailing slash); otherwise (a provider for another issuer, reported separately) the ARN
    /// IAM gives a provider for the issuer in the role's account.
    pub fn web_identity_principal(&self) -> String {
        let host = self.issuer_host();
        let provider_url = self
            .oidc_provider_arn
            .split_once(":oidc-provider/")
            .map(|(_, p)| p);
        match provider_url {
            Some(url) if url == host || url_loosely_equal(url, &host) => {
                self.oidc_provider_arn.clone()
            }
            _ => format!(
                "arn:{}:iam::{}:oidc-provider/{host}",
                self.permissions.partition,
                self.account()
            ),
        }
    }
}

/// The issuer's host+path; for an invalid URL (reported separately) the URL without `https://`.
fn issuer_host_lenient(issuer_url: &str) -> String {
    template::issuer_host(issuer_url).unwrap_or_else(|_| {
        issuer_url
            .strip_prefix("https://")
            .unwrap_or(issuer_url)
            .to_owned()
    })
}

/// A role as deployed (read through IAM by the resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedRole {
    pub arn: String,
    /// The trust policy document (JSON, URL-decoded).
    pub trust_policy: String,
    pub max_session_duration: Option<u32>,
    pub permissions_boundary: Option<DeployedPolicy>,
    pub attached_policies: Vec<DeployedPolicy>,
    pub inline_policies: Vec<NamedDocument>,
}

/// A managed policy attached to the role (or used as its boundary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedPolicy {
    pub name: String,
    pub arn: String,
    /// The default version's document; `None` when not read (AWS managed policies:
    /// `AdministratorAccess` is known, others cannot be evaluated).
    pub document: Option<String>,
}

/// An IAM OIDC provider as deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedOidcProvider {
    pub arn: String,
    /// As IAM stores it: host and path, without `https://`.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
}

/// What is deployed; `None` for what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployedConnection {
    pub role: Option<DeployedRole>,
    pub oidc_provider: Option<DeployedOidcProvider>,
}

/// Whether the findings describe what will be deployed or what is deployed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Static,
    Live,
}

impl Mode {
    pub(crate) fn trust_noun(self) -> &'static str {
        match self {
            Mode::Static => "the trust policy",
            Mode::Live => "the deployed trust policy",
        }
    }

    pub(crate) fn policies_noun(self) -> &'static str {
        match self {
            Mode::Static => "the role's policies",
            Mode::Live => "the deployed role's policies",
        }
    }
}

/// Characters IAM counts against its policy size limits: everything but whitespace.
pub fn iam_policy_chars(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// Checks what a connection will deploy (see the module documentation). Errors first, then
/// warnings, each in a fixed order; deterministic.
pub fn check_static(input: &StaticCheckInput) -> Vec<Finding> {
    let mut out = Vec::new();
    check_issuer(input, &mut out);
    check_provider_arn(input, &input.oidc_provider_arn, &mut out);
    if let Some(ids) = &input.oidc_client_ids {
        check_audience(input, &input.oidc_provider_arn, ids, Mode::Static, &mut out);
    }
    check_max_session(input.max_session_duration, Mode::Static, &mut out);
    let principal = input.web_identity_principal();
    trust::check(
        &trust::TrustSetup {
            mode: Mode::Static,
            input,
            document: &input.trust_policy,
            provider_arn: &principal,
            role_arn: input.role_arn(),
            max_chars: Some(input.limits.max_trust_policy_chars),
        },
        &mut out,
    );
    permissions::check_static(input, &mut out);
    sort_findings(&mut out);
    out
}

/// Checks what is deployed now (see the module documentation); `input` holds what the
/// connection expects, built with the real account (the expected trust policy and ARNs name
/// it). Every finding says what is broken now. SCPs, when known, come from `input.scps`; the
/// boundary is the deployed one.
pub fn check_live(input: &StaticCheckInput, deployed: &DeployedConnection) -> Vec<Finding> {
    let mut out = Vec::new();
    check_issuer(input, &mut out);
    out.extend(check_oidc_provider(input, deployed.oidc_provider.as_ref()));
    match &deployed.role {
        None => out.push(Finding::error(
            CheckField::RoleName,
            format!("the role {:?} does not exist", input.role_name),
            format!(
                "IAM has no role {} (deleted outside Terraform?). LocalOps cannot assume a role \
                 that does not exist; applying recreates it.",
                input.role_arn()
            ),
        )),
        Some(role) => {
            let provider_arn = deployed
                .oidc_provider
                .as_ref()
                .map_or_else(|| input.web_identity_principal(), |p| p.arn.clone());
            match role.max_session_duration {
                Some(seconds) => check_max_session(i64::from(seconds), Mode::Live, &mut out),
                None => out.push(Finding::warning(
                    CheckField::MaxSessionDuration,
                    "the role's maximum session duration is unknown".to_owned(),
                    "IAM did not report MaxSessionDuration; LocalOps needs at least 3600 seconds."
                        .to_owned(),
                )),
            }
            trust::check(
                &trust::TrustSetup {
                    mode: Mode::Live,
                    input,
                    document: &role.trust_policy,
                    provider_arn: &provider_arn,
                    role_arn: role.arn.clone(),
                    max_chars: None,
                },
                &mut out,
            );
            permissions::check_live(input, role, &mut out);
        }
    }
    sort_findings(&mut out);
    out
}

/// Checks an OIDC provider (the deployed one, or an existing one the connection reuses): it
/// exists, it is for the connection's issuer (URL = issuer host+path), and the audience is one
/// of its client IDs.
pub fn check_oidc_provider(
    input: &StaticCheckInput,
    provider: Option<&DeployedOidcProvider>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(provider) = provider else {
        let how = if input.creates_oidc_provider {
            "The connection creates it; applying recreates it."
        } else {
            "The connection reuses this existing provider: recreate it for the issuer, or unset \
             oidc_provider_arn so the connection creates one."
        };
        out.push(Finding::error(
            CheckField::OidcProvider,
            format!(
                "the OIDC provider {} does not exist",
                input.oidc_provider_arn
            ),
            format!(
                "STS rejects every LocalOps token when no IAM OIDC provider exists for the issuer \
                 {}. {how}",
                input.issuer_url
            ),
        ));
        return out;
    };
    check_provider_arn(input, &provider.arn, &mut out);
    let host = input.issuer_host();
    if provider.url != host {
        let loose = url_loosely_equal(&provider.url, &host);
        let summary = format!(
            "the OIDC provider's URL {:?} does not match the issuer {:?}",
            provider.url, host
        );
        if loose {
            out.push(Finding::warning(
                CheckField::OidcProvider,
                summary,
                format!(
                    "{} differs from the issuer only by letter case or a trailing slash. STS \
                     accepts the tokens, but the trust conditions are keyed by {host:?}; check \
                     that the role's trust policy uses the provider's spelling.",
                    provider.arn
                ),
            ));
        } else {
            out.push(Finding::error(
                CheckField::OidcProvider,
                summary,
                format!(
                    "{} is a provider for {:?}; LocalOps' tokens are issued by {}, so STS never \
                     matches them to this provider.",
                    provider.arn, provider.url, input.issuer_url
                ),
            ));
        }
    }
    check_audience(
        input,
        &provider.arn,
        &provider.client_ids,
        Mode::Live,
        &mut out,
    );
    out
}

fn url_loosely_equal(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> (String, String) {
        let (host, path) = s.split_once('/').unwrap_or((s, ""));
        (
            host.to_ascii_lowercase(),
            path.strip_suffix('/').unwrap_or(path).to_owned(),
        )
    };
    norm(a) == norm(b)
}

fn check_issuer(input: &StaticCheckInput, out: &mut Vec<Finding>) {
    if let Err(e) = template::validate_issuer_url(&input.issuer_url) {
        out.push(Finding::error(
            CheckField::Issuer,
            format!("the issuer URL is not valid: {}", e.summary),
            e.detail,
        ));
    }
}

/// The provider ARN must be an OIDC provider of the issuer.
fn check_provider_arn(input: &StaticCheckInput, arn: &str, out: &mut Vec<Finding>) {
    let host = input.issuer_host();
    let provider = arn.split_once(":oidc-provider/").map(|(_, p)| p);
    match provider {
        None => out.push(Finding::error(
            CheckField::OidcProvider,
            format!("{arn:?} is not an IAM OIDC provider ARN"),
            "Expected arn:<partition>:iam::<account id>:oidc-provider/<issuer host and path>."
                .to_owned(),
        )),
        Some(p) if p != host && !url_loosely_equal(p, &host) => out.push(Finding::error(
            CheckField::OidcProvider,
            "the OIDC provider is for another issuer".to_owned(),
            format!(
                "{arn} is a provider for {p:?}, but LocalOps' issuer is {host:?}: STS would never \
                 accept LocalOps' tokens through it."
            ),
        )),
        Some(_) => {}
    }
}

fn check_audience(
    input: &StaticCheckInput,
    provider_arn: &str,
    client_ids: &[String],
    mode: Mode,
    out: &mut Vec<Finding>,
) {
    if client_ids.contains(&input.audience) {
        return;
    }
    let listed = if client_ids.is_empty() {
        "it has no client ID".to_owned()
    } else {
        format!("its client IDs are {client_ids:?}")
    };
    let now = if mode == Mode::Live { " now" } else { "" };
    out.push(Finding::error(
        CheckField::Audience,
        format!(
            "audience {:?} is not a client ID of the OIDC provider{now}",
            input.audience
        ),
        format!(
            "{provider_arn}: {listed}. STS rejects a token whose aud claim is not a client ID of \
             the provider (InvalidIdentityToken: Incorrect token audience), so LocalOps cannot \
             assume the role. Add {:?} to the provider's client IDs, or use one of them as the \
             audience.",
            input.audience
        ),
    ));
}

fn check_max_session(seconds: i64, mode: Mode, out: &mut Vec<Finding>) {
    let what = match mode {
        Mode::Static => format!("max_session_duration is {seconds} seconds"),
        Mode::Live => format!("the role's maximum session duration is {seconds} seconds"),
    };
    let min = i64::from(template::MIN_MAX_SESSION_DURATION);
    let max = i64::from(template::MAX_MAX_SESSION_DURATION);
    if seconds < LOCALOPS_SESSION_SECONDS {
        out.push(Finding::error(
            CheckField::MaxSessionDuration,
            format!("{what}, shorter than LocalOps' 1-hour sessions"),
            format!(
                "LocalOps requests {LOCALOPS_SESSION_SECONDS}-second sessions; STS refuses a \
                 DurationSeconds longer than the role's maximum session duration. IAM accepts \
                 {min} to {max} seconds; use at least {LOCALOPS_SESSION_SECONDS}."
            ),
        ));
    } else if seconds > max {
        out.push(Finding::error(
            CheckField::MaxSessionDuration,
            format!("{what}, more than IAM's maximum of {max}"),
            format!("IAM accepts a maximum session duration of {min} to {max} seconds."),
        ));
    }
}

fn sort_findings(out: &mut [Finding]) {
    // Stable: errors before warnings, each kept in check order.
    out.sort_by_key(|f| f.severity);
}
