//! The connection's CloudFormation template and its stack parameters.
//!
//! A *connection* is the CloudFormation stack `Ops-<name>` built from
//! `templates/connection/template.json` (embedded at compile time): an IAM OIDC identity
//! provider trusting LocalOps' issuer, the IAM role LocalOps assumes with
//! `sts:AssumeRoleWithWebIdentity`, and the role's permissions (AWS managed `AdministratorAccess`,
//! or the customer managed policies of a permission set).
//!
//! [`render_template`] edits the parsed base template structurally (serde_json, never text
//! substitution). The issuer is rendered *into* the template because the role's trust
//! conditions are keyed by it (`<issuer host+path>:aud`, `<issuer host+path>:sub`) and JSON keys
//! cannot be intrinsic functions. The `OidcIssuerUrl` parameter stays visible on the
//! quick-create page but its only allowed value is the rendered issuer, so it cannot disagree
//! with the trust conditions. Everything a customer may reasonably change per stack (audience,
//! subject, role name, session length, an existing OIDC provider) stays a parameter, produced
//! by [`stack_parameters`].
//!
//! Output is deterministic: the same input gives a byte-identical body.
//!
//! Every check returns a [`TemplateError`] value (field, summary, detail); nothing here panics on
//! input.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

/// The base template, exactly as shipped in `templates/connection/template.json`.
pub const BASE_TEMPLATE: &str = include_str!("../../../templates/connection/template.json");

/// The issuer the base template carries before rendering.
pub const BASE_TEMPLATE_ISSUER_URL: &str = "https://oidc.localops.co";

/// Default `aud` claim / OIDC provider client ID.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
/// Default and minimum of the role's maximum session duration, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;
/// Smallest `MaxSessionDuration` IAM accepts.
pub const MIN_MAX_SESSION_DURATION: u32 = 3600;
/// Largest `MaxSessionDuration` IAM accepts.
pub const MAX_MAX_SESSION_DURATION: u32 = 43_200;
/// The permissions of a connection without a permission set.
pub const ADMINISTRATOR_ACCESS_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
/// Every connection's stack name starts with this.
pub const STACK_NAME_PREFIX: &str = "Ops-";
/// [`default_role_name`] starts with this.
pub const ROLE_NAME_PREFIX: &str = "LocalOps-";
/// CloudFormation's limit for a template passed inline (`TemplateBody`), in bytes.
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;
/// IAM's hard limit of managed policies attached to one role (the default quota is 10).
pub const MAX_MANAGED_POLICIES_PER_ROLE: usize = 20;
/// IAM's limit for one managed policy document, in characters without whitespace.
pub const MAX_POLICY_DOCUMENT_CHARS: usize = 6_144;
/// IAM's limit of thumbprints per OIDC provider.
pub const MAX_THUMBPRINTS: usize = 5;
/// IAM's limit of tags per role / OIDC provider.
pub const MAX_TAGS: usize = 50;
/// CloudFormation's limit for a stack name.
pub const MAX_STACK_NAME_LEN: usize = 128;
/// Longest connection name whose stack name (`Ops-<name>`) fits [`MAX_STACK_NAME_LEN`].
pub const MAX_CONNECTION_NAME_LEN: usize = MAX_STACK_NAME_LEN - STACK_NAME_PREFIX.len();
/// IAM's limit for a role name.
pub const MAX_ROLE_NAME_LEN: usize = 64;
/// IAM's limit for an OIDC provider URL.
pub const MAX_ISSUER_URL_LEN: usize = 255;
/// IAM's limit for one OIDC client ID (the audience).
pub const MAX_AUDIENCE_LEN: usize = 255;
/// The template's limit for the subject (the `Subject` parameter's `MaxLength`).
pub const MAX_SUBJECT_LEN: usize = 1024;

/// CloudFormation parameter keys of the template.
pub mod parameter {
    pub const OIDC_ISSUER_URL: &str = "OidcIssuerUrl";
    pub const AUDIENCE: &str = "Audience";
    pub const SUBJECT: &str = "Subject";
    pub const ROLE_NAME: &str = "RoleName";
    pub const MAX_SESSION_DURATION: &str = "MaxSessionDuration";
    pub const EXISTING_OIDC_PROVIDER_ARN: &str = "ExistingOidcProviderArn";
}

/// CloudFormation output keys of the template.
pub mod output {
    pub const ROLE_ARN: &str = "RoleArn";
    pub const OIDC_PROVIDER_ARN: &str = "OidcProviderArn";
}

/// Logical resource IDs of the template.
pub mod logical_id {
    pub const OIDC_PROVIDER: &str = "OidcProvider";
    pub const ROLE: &str = "Role";

    /// The n-th (1-based) customer managed policy rendered from a permission set document.
    pub fn permission_policy(n: usize) -> String {
        format!("PermissionPolicy{n}")
    }
}

/// Name of the condition that is true when the stack creates its own OIDC provider.
pub const CONDITION_CREATE_OIDC_PROVIDER: &str = "CreateOidcProvider";

/// `Sid` of the role's only trust statement.
pub const TRUST_STATEMENT_SID: &str = "LocalOpsWebIdentity";

/// A rejected input: which field, a one-line summary and a detail explaining what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The input field at fault, named as in [`ConnectionTemplateInput`] /
    /// [`ConnectionParameters`] (`"name"` for a connection name, `"template"` for the result).
    pub field: String,
    pub summary: String,
    pub detail: String,
}

impl TemplateError {
    fn new(field: &str, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        TemplateError {
            field: field.to_string(),
            summary: summary.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.field, self.summary, self.detail)
    }
}

impl std::error::Error for TemplateError {}

/// What is rendered into the template (as opposed to [`ConnectionParameters`], which are passed
/// as stack parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionTemplateInput {
    /// LocalOps' OIDC issuer URL, exactly as the tokens' `iss` claim (trailing slash included).
    pub issuer_url: String,
    /// Customer managed policy documents (JSON), one `AWS::IAM::ManagedPolicy` each, named
    /// `<RoleName>-<n>` in order.
    pub policy_documents: Vec<String>,
    /// Managed policy ARNs attached as they are (after the rendered policies).
    pub managed_policy_arns: Vec<String>,
    /// Optional OIDC provider thumbprints (40 hex digits each); none by default.
    pub thumbprints: Vec<String>,
    /// Tags put on the role and on the OIDC provider (sorted by key in the template).
    pub tags: BTreeMap<String, String>,
}

impl ConnectionTemplateInput {
    /// A connection without a permission set: `AdministratorAccess` only.
    pub fn administrator_access(issuer_url: impl Into<String>) -> Self {
        ConnectionTemplateInput {
            issuer_url: issuer_url.into(),
            managed_policy_arns: vec![ADMINISTRATOR_ACCESS_ARN.to_string()],
            ..ConnectionTemplateInput::default()
        }
    }
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTemplate {
    /// The template body: JSON with two-space indentation and a final newline; when that would
    /// exceed [`MAX_TEMPLATE_BODY_BYTES`], the same JSON without whitespace. Deterministic.
    pub body: String,
    /// The issuer's host and path, the prefix of the trust condition keys.
    pub issuer_host: String,
    /// Logical IDs of the rendered customer managed policies, in order.
    pub permission_policy_ids: Vec<String>,
}

/// The stack parameters of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionParameters {
    /// Must equal the issuer the template was rendered with (CloudFormation enforces it through
    /// the parameter's `AllowedValues`).
    pub issuer_url: String,
    pub audience: String,
    pub subject: String,
    pub role_name: String,
    pub max_session_duration: u32,
    /// `None` (or empty) creates the OIDC provider in the stack.
    pub existing_oidc_provider_arn: Option<String>,
}

/// CloudFormation parameters (key, value) for a stack of the rendered template, in a fixed order.
/// Validate first with [`validate_connection_parameters`].
pub fn stack_parameters(p: &ConnectionParameters) -> Vec<(String, String)> {
    vec![
        (parameter::OIDC_ISSUER_URL.to_string(), p.issuer_url.clone()),
        (parameter::AUDIENCE.to_string(), p.audience.clone()),
        (parameter::SUBJECT.to_string(), p.subject.clone()),
        (parameter::ROLE_NAME.to_string(), p.role_name.clone()),
        (
            parameter::MAX_SESSION_DURATION.to_string(),
            p.max_session_duration.to_string(),
        ),
        (
            parameter::EXISTING_OIDC_PROVIDER_ARN.to_string(),
            p.existing_oidc_provider_arn.clone().unwrap_or_default(),
        ),
    ]
}

/// Every problem with the parameters (empty when they are valid).
pub fn validate_connection_parameters(p: &ConnectionParameters) -> Vec<TemplateError> {
    let mut errors = Vec::new();
    let checks = [
        validate_issuer_url(&p.issuer_url),
        validate_audience(&p.audience),
        validate_subject(&p.subject),
        validate_role_name(&p.role_name),
        validate_max_session_duration(p.max_session_duration),
    ];
    for check in checks {
        if let Err(e) = check {
            errors.push(e);
        }
    }
    if let Some(arn) = p
        .existing_oidc_provider_arn
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        if let Err(e) = validate_oidc_provider_arn(arn) {
            errors.push(e);
        } else if let Err(e) = validate_oidc_provider_matches_issuer(arn, &p.issuer_url) {
            errors.push(e);
        }
    }
    errors
}

/// The connection's stack name: `Ops-<name>`. Validate the name with
/// [`validate_connection_name`] first; this only formats.
pub fn stack_name(connection_name: &str) -> String {
    format!("{STACK_NAME_PREFIX}{connection_name}")
}

/// A role name derived from the connection name: `LocalOps-<name>` when that is a valid IAM role
/// name, otherwise the name with invalid characters replaced by `-`, truncated, and suffixed with
/// a short hash of the full name so different names stay different. Always 1..=64 characters of
/// IAM's role name alphabet.
pub fn default_role_name(connection_name: &str) -> String {
    let plain = format!("{ROLE_NAME_PREFIX}{connection_name}");
    if !connection_name.is_empty() && validate_role_name(&plain).is_ok() {
        return plain;
    }
    let hash = format!("{:08x}", fnv1a32(connection_name.as_bytes()));
    // prefix + kept + "-" + 8 hex digits
    let keep = MAX_ROLE_NAME_LEN - ROLE_NAME_PREFIX.len() - 1 - hash.len();
    let kept: String = connection_name
        .chars()
        .map(|c| if is_role_name_char(c) { c } else { '-' })
        .take(keep)
        .collect();
    if kept.is_empty() {
        format!("{ROLE_NAME_PREFIX}{hash}")
    } else {
        format!("{ROLE_NAME_PREFIX}{kept}-{hash}")
    }
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The trust policy document the template gives the role, with the intrinsic functions
/// resolved: what `iam:GetRole` returns as `AssumeRolePolicyDocument` once the stack exists.
/// Meant for plan-time comparisons; validate `issuer_url` first (an invalid URL is used with
/// only a leading `https://` removed).
pub fn trust_policy(
    issuer_url: &str,
    oidc_provider_arn: &str,
    audience: &str,
    subject: &str,
) -> Value {
    let host = issuer_host(issuer_url).unwrap_or_else(|_| {
        issuer_url
            .strip_prefix("https://")
            .unwrap_or(issuer_url)
            .to_string()
    });
    trust_document(
        &host,
        Value::String(oidc_provider_arn.to_string()),
        Value::String(audience.to_string()),
        Value::String(subject.to_string()),
    )
}

/// The one trust document both the template and [`trust_policy`] are built from.
fn trust_document(host: &str, federated: Value, audience: Value, subject: Value) -> Value {
    let mut string_equals = Map::new();
    string_equals.insert(format!("{host}:aud"), audience);
    string_equals.insert(format!("{host}:sub"), subject);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": TRUST_STATEMENT_SID,
                "Effect": "Allow",
                "Principal": { "Federated": federated },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": { "StringEquals": string_equals }
            }
        ]
    })
}

/// The issuer's host and path (`https://oidc.example.com/x` → `oidc.example.com/x`): the
/// prefix IAM uses for the `aud`/`sub` condition keys and in the OIDC provider's ARN. A trailing
/// slash is kept, like every other character of the issuer.
pub fn issuer_host(issuer_url: &str) -> Result<String, TemplateError> {
    validate_issuer_url(issuer_url)?;
    Ok(issuer_url
        .strip_prefix("https://")
        .unwrap_or(issuer_url)
        .to_string())
}

/// The ARN IAM gives an OIDC provider for `issuer_url` in `account_id` (partition `aws`).
pub fn oidc_provider_arn(account_id: &str, issuer_url: &str) -> Result<String, TemplateError> {
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TemplateError::new(
            "account_id",
            "invalid AWS account ID",
            format!("{account_id:?} is not a 12-digit AWS account ID."),
        ));
    }
    Ok(format!(
        "arn:aws:iam::{account_id}:oidc-provider/{}",
        issuer_host(issuer_url)?
    ))
}

// ---------------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------------

/// A connection name: 1..=124 ASCII letters, digits and hyphens, starting with a letter or a
/// digit, so that `Ops-<name>` is a valid CloudFormation stack name
/// (`[A-Za-z][-A-Za-z0-9]*`, at most 128 characters).
pub fn validate_connection_name(name: &str) -> Result<(), TemplateError> {
    let field = "name";
    if name.is_empty() {
        return Err(TemplateError::new(
            field,
            "connection name is empty",
            "A connection name is needed: the connection's CloudFormation stack is named Ops-<name>.",
        ));
    }
    if name.len() > MAX_CONNECTION_NAME_LEN {
        return Err(TemplateError::new(
            field,
            "connection name is too long",
            format!(
                "The connection name is {} characters; at most {MAX_CONNECTION_NAME_LEN} fit, because the stack name Ops-<name> is limited to {MAX_STACK_NAME_LEN} characters.",
                name.chars().count()
            ),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(TemplateError::new(
            field,
            "connection name has an invalid character",
            format!(
                "{c:?} is not allowed in {name:?}: CloudFormation stack names take only ASCII letters, digits and hyphens."
            ),
        ));
    }
    if name.starts_with('-') {
        return Err(TemplateError::new(
            field,
            "connection name starts with a hyphen",
            format!("{name:?} must start with a letter or a digit."),
        ));
    }
    Ok(())
}

fn is_role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// An IAM role name: 1..=64 characters of `[A-Za-z0-9_+=,.@-]`.
pub fn validate_role_name(role_name: &str) -> Result<(), TemplateError> {
    let field = "role_name";
    if role_name.is_empty() {
        return Err(TemplateError::new(
            field,
            "role name is empty",
            "IAM role names are 1 to 64 characters.",
        ));
    }
    if let Some(c) = role_name.chars().find(|c| !is_role_name_char(*c)) {
        return Err(TemplateError::new(
            field,
            "role name has an invalid character",
            format!(
                "{c:?} is not allowed in {role_name:?}: IAM role names take ASCII letters, digits and _+=,.@- only."
            ),
        ));
    }
    if role_name.len() > MAX_ROLE_NAME_LEN {
        return Err(TemplateError::new(
            field,
            "role name is too long",
            format!(
                "{role_name:?} is {} characters; IAM allows at most {MAX_ROLE_NAME_LEN}.",
                role_name.len()
            ),
        ));
    }
    Ok(())
}

/// The role's maximum session duration: 3600..=43200 seconds.
pub fn validate_max_session_duration(seconds: u32) -> Result<(), TemplateError> {
    if (MIN_MAX_SESSION_DURATION..=MAX_MAX_SESSION_DURATION).contains(&seconds) {
        Ok(())
    } else {
        Err(TemplateError::new(
            "max_session_duration",
            "maximum session duration out of range",
            format!(
                "{seconds} seconds is outside IAM's range of {MIN_MAX_SESSION_DURATION} (1 hour) to {MAX_MAX_SESSION_DURATION} (12 hours)."
            ),
        ))
    }
}

/// Shared rules for values compared with `StringEquals` in the trust policy.
fn validate_condition_value(
    field: &str,
    what: &str,
    value: &str,
    max: usize,
) -> Result<(), TemplateError> {
    if value.trim().is_empty() {
        return Err(TemplateError::new(
            field,
            format!("{what} is empty"),
            format!(
                "The role trusts only tokens whose {what} equals this value exactly; an empty {what} would match nothing useful."
            ),
        ));
    }
    if value.chars().count() > max {
        return Err(TemplateError::new(
            field,
            format!("{what} is too long"),
            format!("The {what} may be at most {max} characters."),
        ));
    }
    if let Some(c) = value.chars().find(|c| *c == '*' || *c == '?') {
        return Err(TemplateError::new(
            field,
            format!("{what} contains the wildcard {c:?}"),
            format!(
                "The trust policy compares the {what} with StringEquals, so {c:?} would only match itself; but a wildcard here almost always means a trust wider than intended (StringLike would let other LocalOps connections in). Use the exact value LocalOps shows."
            ),
        ));
    }
    if value.contains("${") {
        return Err(TemplateError::new(
            field,
            format!("{what} contains \"${{\""),
            "IAM reads ${...} in a condition value as a policy variable, so the value would not be compared literally.",
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(TemplateError::new(
            field,
            format!("{what} contains a control character"),
            format!("{c:?} cannot appear in a token claim compared by the trust policy."),
        ));
    }
    if value.trim() != value {
        return Err(TemplateError::new(
            field,
            format!("{what} has leading or trailing whitespace"),
            format!(
                "The {what} is compared exactly; {value:?} would not match a claim without the spaces."
            ),
        ));
    }
    Ok(())
}

/// The subject (`sub` claim) the role trusts: non-empty, exact (no `*`/`?`, no `${`), at most
/// 1024 characters.
pub fn validate_subject(subject: &str) -> Result<(), TemplateError> {
    validate_condition_value("subject", "subject", subject, MAX_SUBJECT_LEN)
}

/// The audience (`aud` claim, and the OIDC provider's client ID): non-empty, exact, at most 255
/// characters.
pub fn validate_audience(audience: &str) -> Result<(), TemplateError> {
    validate_condition_value("audience", "audience", audience, MAX_AUDIENCE_LEN)
}

/// LocalOps' issuer URL: `https://host[/path]`, no port, user info, query or fragment, at most
/// 255 characters. The exact string is what IAM and the tokens' `iss` claim must agree on, so it
/// is never normalised (a trailing slash stays).
pub fn validate_issuer_url(url: &str) -> Result<(), TemplateError> {
    let field = "issuer_url";
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(TemplateError::new(
            field,
            "issuer URL must start with https://",
            format!("{url:?}: IAM OIDC providers only accept https issuers."),
        ));
    };
    if url.len() > MAX_ISSUER_URL_LEN {
        return Err(TemplateError::new(
            field,
            "issuer URL is too long",
            format!("IAM accepts OIDC provider URLs of at most {MAX_ISSUER_URL_LEN} characters."),
        ));
    }
    if url.contains('?') || url.contains('#') {
        return Err(TemplateError::new(
            field,
            "issuer URL has a query or a fragment",
            format!("{url:?}: an OIDC issuer is https://host[/path] without ?query or #fragment."),
        ));
    }
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if host.is_empty() {
        return Err(TemplateError::new(
            field,
            "issuer URL has no host",
            format!("{url:?} has nothing between https:// and the path."),
        ));
    }
    if host.contains('@') {
        return Err(TemplateError::new(
            field,
            "issuer URL has user information",
            format!("{url:?}: user:password@ is not allowed in an OIDC issuer."),
        ));
    }
    if host.contains(':') {
        return Err(TemplateError::new(
            field,
            "issuer URL has a port",
            format!(
                "{url:?}: IAM OIDC providers do not accept a port in the URL; the issuer must be served on 443."
            ),
        ));
    }
    let host_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if !host_ok {
        return Err(TemplateError::new(
            field,
            "issuer URL has an invalid host",
            format!("{host:?} is not a DNS name (letters, digits, hyphens, dot-separated labels)."),
        ));
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~/%!&'()+,;=:@".contains(*c)))
    {
        return Err(TemplateError::new(
            field,
            "issuer URL path has an invalid character",
            format!("{c:?} is not allowed in the path of {url:?}."),
        ));
    }
    Ok(())
}

/// The ARN of an IAM OIDC provider: `arn:<aws|aws-cn|aws-us-gov>:iam::<12 digits>:oidc-provider/<host[/path]>`.
pub fn validate_oidc_provider_arn(arn: &str) -> Result<(), TemplateError> {
    let field = "existing_oidc_provider_arn";
    let bad = |why: &str| {
        TemplateError::new(
            field,
            "not an IAM OIDC provider ARN",
            format!(
                "{arn:?} {why}; expected arn:aws:iam::<account id>:oidc-provider/<issuer host and path>."
            ),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(bad("does not have the six parts of an ARN"));
    };
    if *prefix != "arn" {
        return Err(bad("does not start with arn:"));
    }
    if !matches!(*partition, "aws" | "aws-cn" | "aws-us-gov") {
        return Err(bad("has an unknown partition"));
    }
    if *service != "iam" || !region.is_empty() {
        return Err(bad("is not an IAM ARN"));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("does not have a 12-digit account ID"));
    }
    let Some(provider) = resource.strip_prefix("oidc-provider/") else {
        return Err(bad("is not an oidc-provider"));
    };
    if provider.is_empty()
        || provider
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad("has no valid provider URL"));
    }
    Ok(())
}

/// The existing provider must be for the connection's issuer, or the trust conditions (keyed by
/// the issuer) could never match its tokens.
pub fn validate_oidc_provider_matches_issuer(
    arn: &str,
    issuer_url: &str,
) -> Result<(), TemplateError> {
    let host = issuer_host(issuer_url)?;
    let provider = arn
        .split_once(":oidc-provider/")
        .map(|(_, p)| p)
        .unwrap_or("");
    if provider == host {
        Ok(())
    } else {
        Err(TemplateError::new(
            "existing_oidc_provider_arn",
            "OIDC provider is for another issuer",
            format!(
                "{arn:?} is a provider for {provider:?}, but the connection's issuer is {host:?}; the role's trust conditions are keyed by the issuer, so tokens could never match."
            ),
        ))
    }
}

/// An OIDC provider thumbprint: 40 hexadecimal digits (a SHA-1 fingerprint).
pub fn validate_thumbprint(thumbprint: &str) -> Result<(), TemplateError> {
    if thumbprint.len() == 40 && thumbprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(TemplateError::new(
            "thumbprints",
            "invalid thumbprint",
            format!(
                "{thumbprint:?} is not 40 hexadecimal digits (the SHA-1 fingerprint of a certificate)."
            ),
        ))
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

/// An IAM tag: key 1..=128 characters, value 0..=256, letters, digits, spaces and `_.:/=+-@`; keys
/// starting with `aws:` are reserved.
pub fn validate_tag(key: &str, value: &str) -> Result<(), TemplateError> {
    let field = "tags";
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 {
        return Err(TemplateError::new(
            field,
            "invalid tag key",
            format!("Tag key {key:?} must be 1 to 128 characters."),
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(TemplateError::new(
            field,
            "reserved tag key",
            format!("Tag key {key:?}: keys starting with aws: are reserved for AWS."),
        ));
    }
    if value.chars().count() > 256 {
        return Err(TemplateError::new(
            field,
            "tag value too long",
            format!("The value of tag {key:?} must be at most 256 characters."),
        ));
    }
    if let Some(c) = key.chars().chain(value.chars()).find(|c| !is_tag_char(*c)) {
        return Err(TemplateError::new(
            field,
            "invalid character in tag",
            format!(
                "Tag {key:?}: {c:?} is not allowed; IAM tags take letters, digits, spaces and _.:/=+-@."
            ),
        ));
    }
    Ok(())
}

/// A managed policy ARN: `arn:<partition>:iam::<aws|account id>:policy/<path and name>`.
pub fn validate_managed_policy_arn(arn: &str) -> Result<(), TemplateError> {
    let bad = |why: &str| {
        TemplateError::new(
            "managed_policy_arns",
            "not a managed policy ARN",
            format!(
                "{arn:?} {why}; expected arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account id>:policy/<name>."
            ),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(bad("does not have the six parts of an ARN"));
    };
    if *prefix != "arn" || !matches!(*partition, "aws" | "aws-cn" | "aws-us-gov") {
        return Err(bad("does not start with arn:aws:"));
    }
    if *service != "iam" || !region.is_empty() {
        return Err(bad("is not an IAM ARN"));
    }
    if !(*account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
    {
        return Err(bad("has neither aws nor a 12-digit account ID"));
    }
    let Some(name) = resource.strip_prefix("policy/") else {
        return Err(bad("is not a policy"));
    };
    if name.is_empty()
        || name.ends_with('/')
        || !name.chars().all(|c| is_role_name_char(c) || c == '/')
    {
        return Err(bad("has an invalid policy path or name"));
    }
    Ok(())
}

/// A policy document for a customer managed policy: a JSON object with a `Statement`, at most
/// 6144 characters without whitespace. Returns the parsed document.
pub fn validate_policy_document(index: usize, document: &str) -> Result<Value, TemplateError> {
    let field = "policy_documents";
    let n = index + 1;
    let value: Value = serde_json::from_str(document).map_err(|e| {
        TemplateError::new(
            field,
            format!("policy document {n} is not JSON"),
            format!("Policy document {n} does not parse: {e}."),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(TemplateError::new(
            field,
            format!("policy document {n} is not an object"),
            format!("Policy document {n} must be a JSON object with Version and Statement."),
        ));
    };
    if !object.contains_key("Statement") {
        return Err(TemplateError::new(
            field,
            format!("policy document {n} has no Statement"),
            format!("Policy document {n} must have a Statement."),
        ));
    }
    let compact_len = serde_json::to_string(&value)
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).count())
        .unwrap_or(usize::MAX);
    if compact_len > MAX_POLICY_DOCUMENT_CHARS {
        return Err(TemplateError::new(
            field,
            format!("policy document {n} is too large"),
            format!(
                "Policy document {n} has {compact_len} characters without whitespace; IAM allows {MAX_POLICY_DOCUMENT_CHARS} per managed policy. Split it."
            ),
        ));
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

fn template_error(detail: impl Into<String>) -> TemplateError {
    TemplateError::new(
        "template",
        "the base connection template is malformed",
        detail,
    )
}

fn object_at<'a>(
    root: &'a mut Value,
    path: &[&str],
) -> Result<&'a mut Map<String, Value>, TemplateError> {
    let mut current = root;
    for key in path {
        current = current
            .get_mut(*key)
            .ok_or_else(|| template_error(format!("missing {}", path.join("."))))?;
    }
    current
        .as_object_mut()
        .ok_or_else(|| template_error(format!("{} is not an object", path.join("."))))
}

fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

/// The OIDC provider the trust policy's `Federated` principal names: the stack's own, or the
/// existing one passed as a parameter.
fn federated_principal() -> Value {
    json!({
        "Fn::If": [
            CONDITION_CREATE_OIDC_PROVIDER,
            reference(logical_id::OIDC_PROVIDER),
            reference(parameter::EXISTING_OIDC_PROVIDER_ARN)
        ]
    })
}

/// The base template's trust document (for its own issuer), as the renderer would build it.
/// Used by tests to keep `template.json` and this module in step.
pub fn base_trust_document(issuer_host: &str) -> Value {
    trust_document(
        issuer_host,
        federated_principal(),
        reference(parameter::AUDIENCE),
        reference(parameter::SUBJECT),
    )
}

fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect(),
    )
}

fn validate_input(input: &ConnectionTemplateInput) -> Result<(String, Vec<Value>), TemplateError> {
    let host = issuer_host(&input.issuer_url)?;

    let documents = input
        .policy_documents
        .iter()
        .enumerate()
        .map(|(i, d)| validate_policy_document(i, d))
        .collect::<Result<Vec<_>, _>>()?;

    let mut seen = BTreeSet::new();
    for arn in &input.managed_policy_arns {
        validate_managed_policy_arn(arn)?;
        if !seen.insert(arn.as_str()) {
            return Err(TemplateError::new(
                "managed_policy_arns",
                "duplicate managed policy ARN",
                format!("{arn:?} is listed twice."),
            ));
        }
    }
    let total = documents.len() + input.managed_policy_arns.len();
    if total == 0 {
        return Err(TemplateError::new(
            "policy_documents",
            "the role would have no permissions",
            format!(
                "Give at least one policy document or managed policy ARN; a connection without a permission set uses {ADMINISTRATOR_ACCESS_ARN}."
            ),
        ));
    }
    if total > MAX_MANAGED_POLICIES_PER_ROLE {
        return Err(TemplateError::new(
            "policy_documents",
            "too many managed policies for one role",
            format!(
                "{total} managed policies ({} documents, {} ARNs); IAM attaches at most {MAX_MANAGED_POLICIES_PER_ROLE} to a role (10 unless the account's quota was raised).",
                documents.len(),
                input.managed_policy_arns.len()
            ),
        ));
    }

    if input.thumbprints.len() > MAX_THUMBPRINTS {
        return Err(TemplateError::new(
            "thumbprints",
            "too many thumbprints",
            format!("IAM accepts at most {MAX_THUMBPRINTS} thumbprints per OIDC provider."),
        ));
    }
    let mut seen = BTreeSet::new();
    for t in &input.thumbprints {
        validate_thumbprint(t)?;
        if !seen.insert(t.to_ascii_lowercase()) {
            return Err(TemplateError::new(
                "thumbprints",
                "duplicate thumbprint",
                format!("{t:?} is listed twice."),
            ));
        }
    }

    if input.tags.len() > MAX_TAGS {
        return Err(TemplateError::new(
            "tags",
            "too many tags",
            format!("IAM allows at most {MAX_TAGS} tags on a role."),
        ));
    }
    for (k, v) in &input.tags {
        validate_tag(k, v)?;
    }
    Ok((host, documents))
}

/// Renders the connection template for `input`. See the module documentation for the design;
/// the stack's parameters come from [`stack_parameters`].
pub fn render_template(input: &ConnectionTemplateInput) -> Result<RenderedTemplate, TemplateError> {
    let (host, documents) = validate_input(input)?;

    let mut template: Value = serde_json::from_str(BASE_TEMPLATE)
        .map_err(|e| template_error(format!("template.json does not parse: {e}")))?;

    // The issuer: the only allowed value of its parameter.
    {
        let issuer = object_at(&mut template, &["Parameters", parameter::OIDC_ISSUER_URL])?;
        issuer.insert("Default".into(), Value::String(input.issuer_url.clone()));
        issuer.insert(
            "AllowedValues".into(),
            Value::Array(vec![Value::String(input.issuer_url.clone())]),
        );
    }

    // The OIDC provider: thumbprints and tags when given.
    {
        let props = object_at(
            &mut template,
            &["Resources", logical_id::OIDC_PROVIDER, "Properties"],
        )?;
        if !input.thumbprints.is_empty() {
            props.insert(
                "ThumbprintList".into(),
                Value::Array(
                    input
                        .thumbprints
                        .iter()
                        .map(|t| Value::String(t.clone()))
                        .collect(),
                ),
            );
        }
        if !input.tags.is_empty() {
            props.insert("Tags".into(), tag_list(&input.tags));
        }
    }

    // The customer managed policies, one per document.
    let permission_policy_ids: Vec<String> = (1..=documents.len())
        .map(logical_id::permission_policy)
        .collect();
    {
        let resources = object_at(&mut template, &["Resources"])?;
        for (i, (document, id)) in documents
            .into_iter()
            .zip(&permission_policy_ids)
            .enumerate()
        {
            let n = i + 1;
            resources.insert(
                id.clone(),
                json!({
                    "Type": "AWS::IAM::ManagedPolicy",
                    "Properties": {
                        "ManagedPolicyName": { "Fn::Sub": format!("${{{}}}-{n}", parameter::ROLE_NAME) },
                        // Stable per position: a Description change replaces a managed
                        // policy, and a custom-named resource cannot be replaced in place.
                        "Description": format!("LocalOps connection permissions, part {n}"),
                        "Path": "/",
                        "PolicyDocument": document
                    }
                }),
            );
        }
    }

    // The role: trust, permissions, tags.
    {
        let props = object_at(
            &mut template,
            &["Resources", logical_id::ROLE, "Properties"],
        )?;
        props.insert(
            "AssumeRolePolicyDocument".into(),
            trust_document(
                &host,
                federated_principal(),
                reference(parameter::AUDIENCE),
                reference(parameter::SUBJECT),
            ),
        );
        let arns: Vec<Value> = permission_policy_ids
            .iter()
            .map(|id| reference(id))
            .chain(
                input
                    .managed_policy_arns
                    .iter()
                    .map(|a| Value::String(a.clone())),
            )
            .collect();
        props.insert("ManagedPolicyArns".into(), Value::Array(arns));
        if !input.tags.is_empty() {
            props.insert("Tags".into(), tag_list(&input.tags));
        }
    }

    let mut body = serde_json::to_string_pretty(&template)
        .map_err(|e| template_error(format!("cannot serialise: {e}")))?;
    body.push('\n');
    if body.len() > MAX_TEMPLATE_BODY_BYTES {
        body = serde_json::to_string(&template)
            .map_err(|e| template_error(format!("cannot serialise: {e}")))?;
    }
    if body.len() > MAX_TEMPLATE_BODY_BYTES {
        return Err(TemplateError::new(
            "policy_documents",
            "template too large",
            format!(
                "The rendered template is {} bytes; CloudFormation accepts at most {MAX_TEMPLATE_BODY_BYTES} bytes inline. Use fewer or smaller policy documents.",
                body.len()
            ),
        ));
    }

    Ok(RenderedTemplate {
        body,
        issuer_host: host,
        permission_policy_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://oidc.example.com/tenant";
    const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;

    fn parse(body: &str) -> Value {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn base_template_is_in_step_with_the_renderer() {
        let base = parse(BASE_TEMPLATE);
        let host = issuer_host(BASE_TEMPLATE_ISSUER_URL).unwrap();
        assert_eq!(
            base["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"],
            base_trust_document(&host)
        );
        assert_eq!(
            base["Parameters"]["OidcIssuerUrl"]["Default"],
            BASE_TEMPLATE_ISSUER_URL
        );
        assert_eq!(
            base["Conditions"][CONDITION_CREATE_OIDC_PROVIDER]["Fn::Equals"][0]["Ref"],
            parameter::EXISTING_OIDC_PROVIDER_ARN
        );
        // Rendering the base issuer with AdministratorAccess gives the base template back.
        let rendered = render_template(&ConnectionTemplateInput::administrator_access(
            BASE_TEMPLATE_ISSUER_URL,
        ))
        .unwrap();
        assert_eq!(parse(&rendered.body), base);
        // Every parameter stack_parameters sets exists in the template.
        let params = base["Parameters"].as_object().unwrap();
        let p = ConnectionParameters {
            issuer_url: ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
            subject: "s".into(),
            role_name: "r".into(),
            max_session_duration: 3600,
            existing_oidc_provider_arn: None,
        };
        let keys: Vec<String> = stack_parameters(&p).into_iter().map(|(k, _)| k).collect();
        let mut template_keys: Vec<String> = params.keys().cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        template_keys.sort();
        assert_eq!(sorted, template_keys);
    }

    #[test]
    fn render_admin_only() {
        let r = render_template(&ConnectionTemplateInput::administrator_access(ISSUER)).unwrap();
        assert_eq!(r.issuer_host, "oidc.example.com/tenant");
        assert!(r.permission_policy_ids.is_empty());
        let t = parse(&r.body);
        assert_eq!(t["Parameters"]["OidcIssuerUrl"]["Default"], ISSUER);
        assert_eq!(
            t["Parameters"]["OidcIssuerUrl"]["AllowedValues"],
            json!([ISSUER])
        );
        let role = &t["Resources"]["Role"]["Properties"];
        assert_eq!(role["ManagedPolicyArns"], json!([ADMINISTRATOR_ACCESS_ARN]));
        let cond = &role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"];
        assert_eq!(
            cond["oidc.example.com/tenant:aud"],
            json!({"Ref": "Audience"})
        );
        assert_eq!(
            cond["oidc.example.com/tenant:sub"],
            json!({"Ref": "Subject"})
        );
        assert!(role.get("Tags").is_none());
        assert!(
            t["Resources"]["OidcProvider"]["Properties"]
                .get("ThumbprintList")
                .is_none()
        );
        assert!(r.body.ends_with("}\n"));
    }

    #[test]
    fn render_scoped_with_several_documents_tags_and_thumbprints() {
        let mut input = ConnectionTemplateInput {
            issuer_url: ISSUER.into(),
            policy_documents: vec![DOC.into(), DOC.into(), DOC.into()],
            managed_policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            thumbprints: vec!["9e99a48a9960b14926bb7f3b02e22da2b0ab7280".into()],
            tags: BTreeMap::new(),
        };
        input.tags.insert("team".into(), "platform".into());
        input.tags.insert("env".into(), "prod".into());
        let r = render_template(&input).unwrap();
        assert_eq!(
            r.permission_policy_ids,
            vec![
                "PermissionPolicy1",
                "PermissionPolicy2",
                "PermissionPolicy3"
            ]
        );
        let t = parse(&r.body);
        let p2 = &t["Resources"]["PermissionPolicy2"];
        assert_eq!(p2["Type"], "AWS::IAM::ManagedPolicy");
        assert_eq!(
            p2["Properties"]["ManagedPolicyName"],
            json!({"Fn::Sub": "${RoleName}-2"})
        );
        assert_eq!(p2["Properties"]["PolicyDocument"], parse(DOC));
        let role = &t["Resources"]["Role"]["Properties"];
        assert_eq!(
            role["ManagedPolicyArns"],
            json!([
                {"Ref": "PermissionPolicy1"},
                {"Ref": "PermissionPolicy2"},
                {"Ref": "PermissionPolicy3"},
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            ])
        );
        let tags = json!([{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "platform"}]);
        assert_eq!(role["Tags"], tags);
        let provider = &t["Resources"]["OidcProvider"]["Properties"];
        assert_eq!(provider["Tags"], tags);
        assert_eq!(
            provider["ThumbprintList"],
            json!(["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
        );
    }

    #[test]
    fn render_is_deterministic() {
        let input = ConnectionTemplateInput {
            issuer_url: ISSUER.into(),
            policy_documents: vec![DOC.into(), DOC.into()],
            managed_policy_arns: vec![],
            thumbprints: vec![],
            tags: [
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ]
            .into_iter()
            .collect(),
        };
        let a = render_template(&input).unwrap();
        let b = render_template(&input.clone()).unwrap();
        assert_eq!(a.body, b.body);
    }

    #[test]
    fn render_rejects_bad_input() {
        let mut input = ConnectionTemplateInput::administrator_access("http://x.example.com");
        assert_eq!(render_template(&input).unwrap_err().field, "issuer_url");
        input.issuer_url = ISSUER.into();
        input.managed_policy_arns.clear();
        assert_eq!(
            render_template(&input).unwrap_err().field,
            "policy_documents"
        );
        input.policy_documents = vec!["{not json".into()];
        assert_eq!(
            render_template(&input).unwrap_err().summary,
            "policy document 1 is not JSON"
        );
        input.policy_documents = vec![DOC.into(); 21];
        assert!(
            render_template(&input)
                .unwrap_err()
                .summary
                .contains("too many")
        );
        input.policy_documents = vec![];
        input.managed_policy_arns = vec![
            ADMINISTRATOR_ACCESS_ARN.into(),
            ADMINISTRATOR_ACCESS_ARN.into(),
        ];
        assert!(
            render_template(&input)
                .unwrap_err()
                .summary
                .contains("duplicate")
        );
        input.managed_policy_arns = vec![ADMINISTRATOR_ACCESS_ARN.into()];
        input.thumbprints = vec!["abc".into()];
        assert_eq!(render_template(&input).unwrap_err().field, "thumbprints");
        input.thumbprints = vec![];
        input.tags.insert("aws:x".into(), "y".into());
        assert_eq!(render_template(&input).unwrap_err().field, "tags");
    }

    #[test]
    fn large_documents_fall_back_to_compact_json_then_fail() {
        // A document just under IAM's 6144-character limit.
        let resources: Vec<String> = (0..160)
            .map(|i| format!("arn:aws:s3:::bucket-number-{i:04}/*"))
            .collect();
        let doc = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]
        })
        .to_string();
        assert!(doc.len() < MAX_POLICY_DOCUMENT_CHARS && doc.len() > 5_500);
        let render = |n: usize| {
            render_template(&ConnectionTemplateInput {
                issuer_url: ISSUER.into(),
                policy_documents: vec![doc.clone(); n],
                ..Default::default()
            })
        };
        let pretty = render(2).map(|r| r.body);
        assert!(matches!(&pretty, Ok(b) if b.contains('\n')));
        // Seven documents fit only without indentation.
        let compact = render(7).map(|r| r.body);
        assert!(
            matches!(&compact, Ok(b) if !b.contains('\n') && b.len() <= MAX_TEMPLATE_BODY_BYTES)
        );
        // Ten do not fit at all.
        let too_large = render(10).map(|r| r.body.len());
        assert!(
            matches!(&too_large, Err(e) if e.summary == "template too large"),
            "{too_large:?}"
        );
    }

    #[test]
    fn trust_policy_is_exact() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/oidc.example.com/tenant";
        let doc = trust_policy(ISSUER, arn, "sts.amazonaws.com", "connection:acme");
        assert_eq!(
            doc,
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "LocalOpsWebIdentity",
                    "Effect": "Allow",
                    "Principal": {"Federated": arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        "oidc.example.com/tenant:aud": "sts.amazonaws.com",
                        "oidc.example.com/tenant:sub": "connection:acme"
                    }}
                }]
            })
        );
        // The sub condition is always there.
        let cond = doc["Statement"][0]["Condition"]["StringEquals"]
            .as_object()
            .unwrap();
        assert_eq!(cond.len(), 2);
        // A trailing slash is part of the issuer, and so of the keys.
        let doc = trust_policy("https://oidc.example.com/", arn, "a", "s");
        assert!(
            doc["Statement"][0]["Condition"]["StringEquals"]
                .get("oidc.example.com/:sub")
                .is_some()
        );
    }

    #[test]
    fn issuer_host_and_url_rules() {
        assert_eq!(
            issuer_host("https://oidc.example.com/x").unwrap(),
            "oidc.example.com/x"
        );
        assert_eq!(
            issuer_host("https://oidc.example.com").unwrap(),
            "oidc.example.com"
        );
        assert_eq!(
            issuer_host("https://oidc.example.com/x/").unwrap(),
            "oidc.example.com/x/"
        );
        for bad in [
            "",
            "http://oidc.example.com",
            "https://",
            "https:///path",
            "https://oidc.example.com?x=1",
            "https://oidc.example.com/a#f",
            "https://oidc.example.com:8443",
            "https://user@oidc.example.com",
            "https://bad_host.example.com",
            "https://oidc..example.com",
            "https://oidc.example.com/a b",
            "https://oidc.example.com/*",
        ] {
            let e = issuer_host(bad).unwrap_err();
            assert_eq!(e.field, "issuer_url", "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(250));
        assert!(issuer_host(&long).is_err());
    }

    #[test]
    fn connection_name_rules() {
        assert!(validate_connection_name("acme-prod").is_ok());
        assert!(validate_connection_name("0acme").is_ok());
        assert!(validate_connection_name(&"a".repeat(124)).is_ok());
        assert!(validate_connection_name(&"a".repeat(125)).is_err());
        for bad in ["", "-acme", "acme_prod", "acme prod", "acmé", "a.b"] {
            assert_eq!(
                validate_connection_name(bad).unwrap_err().field,
                "name",
                "{bad}"
            );
        }
        assert_eq!(stack_name("acme-prod"), "Ops-acme-prod");
    }

    #[test]
    fn role_name_rules() {
        assert!(validate_role_name("LocalOps-acme_prod+x=y,z.w@v").is_ok());
        assert!(validate_role_name(&"r".repeat(64)).is_ok());
        assert!(validate_role_name(&"r".repeat(65)).is_err());
        assert!(validate_role_name("").is_err());
        assert!(validate_role_name("a/b").is_err());
        assert!(validate_role_name("a b").is_err());
    }

    #[test]
    fn default_role_names_are_valid_and_distinct() {
        assert_eq!(default_role_name("acme-prod"), "LocalOps-acme-prod");
        let long1 = "a".repeat(100);
        let long2 = format!("{}b", "a".repeat(99));
        let r1 = default_role_name(&long1);
        let r2 = default_role_name(&long2);
        assert_eq!(r1.len(), 64);
        assert_ne!(r1, r2);
        assert_eq!(r1, default_role_name(&long1));
        for name in ["", "x y", "é", &"-".repeat(300)] {
            let r = default_role_name(name);
            assert!(validate_role_name(&r).is_ok(), "{name} -> {r}");
        }
        // 55 characters still fit without a hash.
        let n55 = "n".repeat(55);
        assert_eq!(default_role_name(&n55), format!("LocalOps-{n55}"));
    }

    #[test]
    fn session_duration_rules() {
        assert!(validate_max_session_duration(3600).is_ok());
        assert!(validate_max_session_duration(43_200).is_ok());
        assert!(validate_max_session_duration(3599).is_err());
        assert!(validate_max_session_duration(43_201).is_err());
        assert!(validate_max_session_duration(0).is_err());
    }

    #[test]
    fn subject_and_audience_rules() {
        assert!(validate_subject("connection:acme-prod").is_ok());
        for bad in [
            "",
            "  ",
            "conn:*",
            "conn:?",
            "a${aws:username}",
            " x",
            "a\nb",
        ] {
            assert_eq!(
                validate_subject(bad).unwrap_err().field,
                "subject",
                "{bad:?}"
            );
        }
        assert!(validate_subject(&"s".repeat(1025)).is_err());
        let wildcard = validate_subject("connection:*").unwrap_err();
        assert!(wildcard.detail.contains("StringEquals"));
        assert!(validate_audience("sts.amazonaws.com").is_ok());
        assert!(validate_audience(&"a".repeat(256)).is_err());
        assert_eq!(validate_audience("*").unwrap_err().field, "audience");
    }

    #[test]
    fn oidc_provider_arn_rules() {
        let ok = "arn:aws:iam::123456789012:oidc-provider/oidc.example.com/tenant";
        assert!(validate_oidc_provider_arn(ok).is_ok());
        assert!(
            validate_oidc_provider_arn("arn:aws-us-gov:iam::123456789012:oidc-provider/x.y")
                .is_ok()
        );
        for bad in [
            "",
            "arn:aws:iam::123456789012:role/x",
            "arn:aws:iam::12345:oidc-provider/x",
            "arn:aws:iam:us-east-1:123456789012:oidc-provider/x",
            "arn:aws:s3::123456789012:oidc-provider/x",
            "arn:aws:iam::123456789012:oidc-provider/",
            "arn:foo:iam::123456789012:oidc-provider/x",
        ] {
            assert!(validate_oidc_provider_arn(bad).is_err(), "{bad}");
        }
        assert!(validate_oidc_provider_matches_issuer(ok, ISSUER).is_ok());
        assert!(validate_oidc_provider_matches_issuer(ok, "https://other.example.com").is_err());
        assert_eq!(oidc_provider_arn("123456789012", ISSUER).unwrap(), ok);
        assert!(oidc_provider_arn("1234", ISSUER).is_err());
    }

    #[test]
    fn managed_policy_arn_and_tag_rules() {
        assert!(validate_managed_policy_arn(ADMINISTRATOR_ACCESS_ARN).is_ok());
        assert!(validate_managed_policy_arn("arn:aws:iam::123456789012:policy/path/x-1").is_ok());
        assert!(
            validate_managed_policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
                .is_ok()
        );
        assert!(validate_managed_policy_arn("arn:aws:iam::aws:role/x").is_err());
        assert!(validate_managed_policy_arn("AdministratorAccess").is_err());
        assert!(validate_tag("team", "platform ops").is_ok());
        assert!(validate_tag("", "x").is_err());
        assert!(validate_tag("AWS:x", "x").is_err());
        assert!(validate_tag("k", &"v".repeat(257)).is_err());
        assert!(validate_tag("k", "a;b").is_err());
        assert!(validate_thumbprint("9E99A48A9960B14926BB7F3B02E22DA2B0AB7280").is_ok());
        assert!(validate_thumbprint("9e99a48a9960b14926bb7f3b02e22da2b0ab728g").is_err());
    }

    #[test]
    fn parameters_validate_and_map_to_stack_parameters() {
        let mut p = ConnectionParameters {
            issuer_url: ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
            subject: "connection:acme".into(),
            role_name: default_role_name("acme"),
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            existing_oidc_provider_arn: None,
        };
        assert!(validate_connection_parameters(&p).is_empty());
        assert_eq!(
            stack_parameters(&p),
            vec![
                ("OidcIssuerUrl".to_string(), ISSUER.to_string()),
                ("Audience".to_string(), "sts.amazonaws.com".to_string()),
                ("Subject".to_string(), "connection:acme".to_string()),
                ("RoleName".to_string(), "LocalOps-acme".to_string()),
                ("MaxSessionDuration".to_string(), "3600".to_string()),
                ("ExistingOidcProviderArn".to_string(), String::new()),
            ]
        );
        p.existing_oidc_provider_arn =
            Some("arn:aws:iam::123456789012:oidc-provider/other.example.com".into());
        p.subject = "*".into();
        p.max_session_duration = 10;
        let errors = validate_connection_parameters(&p);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "subject",
                "max_session_duration",
                "existing_oidc_provider_arn"
            ]
        );
    }

    #[test]
    fn errors_display_field_summary_and_detail() {
        let e = validate_role_name("").unwrap_err();
        assert_eq!(
            e.to_string(),
            "role_name: role name is empty: IAM role names are 1 to 64 characters."
        );
    }
}
