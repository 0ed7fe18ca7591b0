//! The provider block, typed: what `region`, `profile`, `assume_role`, `endpoints`,
//! `oidc_issuer_url`, `oidc_audience`, `default_tags` and the issuer check settings
//! (`check_oidc_issuer`, `oidc_issuer_ca_bundle`, `oidc_issuer_ca_file`) mean, with their
//! environment fallbacks, and the AWS clients built from them, lazily and once, shared by every
//! resource. The issuer's discovery check also runs at most once per provider process
//! ([`Settings::issuer_facts`]): every connection planned by the process shares its outcome.
//!
//! ConfigureProvider only parses and validates (no network, no credential lookup), so plans
//! that need no AWS call work offline. Values unknown at configure time (the provider block
//! refers to a resource not yet created) defer: resources then plan what they can and report
//! the rest as known after apply; Terraform configures the provider again with known values
//! before applying.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use localops_aws::{
    AssumeRoleSettings, AwsClients, AwsSettings, Backoff, ConfigError, DEFAULT_REGION, Endpoints,
    Iam, Stacks, Sts, WaitConfig,
};
use localops_domain::template;
use localops_issuer::{IssuerClient, IssuerClientOptions, IssuerReport, Jwks};
use tfplugin::{
    AttributePath, Diagnostic, Diagnostics, MaybeUnknown, ObjectReader, Value, ValueError,
};

/// Fallback for `oidc_issuer_url`.
pub const ENV_ISSUER_URL: &str = "LOCALOPS_OIDC_ISSUER_URL";
/// Fallback for `oidc_audience`.
pub const ENV_AUDIENCE: &str = "LOCALOPS_OIDC_AUDIENCE";
/// First delay between two polls of a changing stack, in milliseconds (tests use a small one).
pub const ENV_POLL_INTERVAL_MS: &str = "LOCALOPS_POLL_INTERVAL_MS";
/// Overall bound on one stack wait, in seconds.
pub const ENV_WAIT_TIMEOUT_SECS: &str = "LOCALOPS_WAIT_TIMEOUT_SECONDS";

/// Fallback for `oidc_issuer_ca_file`.
pub const ENV_ISSUER_CA_FILE: &str = "LOCALOPS_OIDC_ISSUER_CA_FILE";
/// `1`/`true`/`yes`: never fetch the issuer's discovery document (as `check_oidc_issuer = false`).
pub const ENV_SKIP_ISSUER_CHECK: &str = "LOCALOPS_SKIP_ISSUER_CHECK";
/// Test hook: fetch the discovery document from this URL (e.g. a loopback issuer on another
/// port, which IAM's issuer URLs cannot have) and judge it as the issuer's. Messages then name
/// this URL. Tokens are still compared with `oidc_issuer_url`.
pub const ENV_ISSUER_FETCH_URL: &str = "LOCALOPS_OIDC_ISSUER_FETCH_URL";
/// Total time of one issuer check (discovery + JWKS), in seconds (default 5).
pub const ENV_ISSUER_TIMEOUT_SECS: &str = "LOCALOPS_OIDC_ISSUER_TIMEOUT_SECONDS";
/// How long a `verify` proof keeps retrying across IAM's propagation delay, in seconds
/// (default 60; tests use a small one).
pub const ENV_VERIFY_RETRY_SECS: &str = "LOCALOPS_VERIFY_RETRY_SECONDS";

const DEFAULT_ISSUER_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_VERIFY_RETRY: Duration = Duration::from_secs(60);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(8);
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The provider configuration once every value is known.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSettings {
    pub aws: AwsSettings,
    /// `None` when neither the block nor the environment sets it: resources that need it say so.
    pub issuer_url: Option<String>,
    pub audience: String,
    pub default_tags: BTreeMap<String, String>,
    pub wait: WaitConfig,
    /// Whether and how plans check the issuer's discovery document.
    pub issuer_check: IssuerCheck,
    /// Retry budget of a `verify` proof (AssumeRoleWithWebIdentity across IAM propagation).
    pub verify_retry: Duration,
}

/// How plans reach LocalOps' OIDC issuer.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuerCheck {
    /// `check_oidc_issuer` (default true) and not [`ENV_SKIP_ISSUER_CHECK`].
    pub enabled: bool,
    /// Extra CA certificates (PEM) trusted for the issuer's TLS, from `oidc_issuer_ca_bundle`,
    /// `oidc_issuer_ca_file` or [`ENV_ISSUER_CA_FILE`]. Public certificates, not secrets.
    pub extra_ca_pem: Option<String>,
    pub timeout: Duration,
    /// [`ENV_ISSUER_FETCH_URL`].
    pub fetch_url: Option<String>,
}

/// What the issuer check found, shared by every resource of the provider process.
#[derive(Clone, Debug)]
pub struct IssuerFacts {
    /// The URL checked: `oidc_issuer_url`, or [`ENV_ISSUER_FETCH_URL`] when set.
    pub issuer_url: String,
    pub report: IssuerReport,
    /// The issuer's keys, when the check passed and the JWKS parsed.
    pub jwks: Option<Jwks>,
    /// Whether an extra CA bundle was configured (the issuer's chain is then presumably not
    /// publicly trusted, which is when IAM needs the thumbprint).
    pub extra_ca: bool,
}

/// What ConfigureProvider left.
#[derive(Clone, Debug, PartialEq)]
pub enum Configured {
    /// ConfigureProvider has not run (validate, or a plan without a provider configuration).
    NotYet,
    /// Some values were unknown at configure time; their paths.
    Deferred(Vec<String>),
    Ready(Box<ProviderSettings>),
}

/// Reads the environment; a function so tests can pass their own.
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The settings and the lazily built clients. One per provider process.
pub struct Settings {
    configured: RwLock<Configured>,
    clients: tokio::sync::Mutex<Option<AwsClients>>,
    /// The issuer check's outcome: `None` until the first plan that needs it.
    issuer: tokio::sync::Mutex<Option<IssuerFacts>>,
}

/// The AWS operations a resource uses, with the configured waits.
#[derive(Clone, Debug)]
pub struct Aws {
    pub stacks: Stacks,
    pub iam: Iam,
    /// For plan-time and apply-time proofs (the `verify` checks).
    #[allow(dead_code)]
    pub sts: Sts,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            configured: RwLock::new(Configured::NotYet),
            clients: tokio::sync::Mutex::new(None),
            issuer: tokio::sync::Mutex::new(None),
        }
    }
}

impl Settings {
    pub fn new() -> Self {
        Settings::default()
    }

    /// ConfigureProvider: parses and validates, never touches the network.
    pub async fn configure(&self, config: &Value) -> Diagnostics {
        self.configure_with(config, &process_env).await
    }

    pub async fn configure_with(&self, config: &Value, env: Env<'_>) -> Diagnostics {
        let (configured, diagnostics) = match parse(config, env) {
            Ok(Parsed::Ready(settings)) => (Configured::Ready(settings), Diagnostics::new()),
            Ok(Parsed::Deferred(paths)) => {
                tracing::debug!(unknown = ?paths, "provider configuration not fully known yet");
                (Configured::Deferred(paths), Diagnostics::new())
            }
            Err(diagnostics) => (Configured::NotYet, diagnostics),
        };
        if let Ok(mut slot) = self.configured.write() {
            *slot = configured;
        }
        // Terraform configures a provider process once; a reconfiguration starts afresh.
        *self.clients.lock().await = None;
        *self.issuer.lock().await = None;
        diagnostics
    }

    /// The issuer check's outcome, fetching it on first use (one fetch per provider process,
    /// however many connections are planned; concurrent callers wait for the first one).
    /// `None` when the settings are not known yet, no issuer is configured, or the check is
    /// turned off.
    pub async fn issuer_facts(&self) -> Option<IssuerFacts> {
        let settings = self.ready()?;
        let issuer_url = match &settings.issuer_check.fetch_url {
            Some(url) => url.clone(),
            None => settings.issuer_url.clone()?,
        };
        if !settings.issuer_check.enabled {
            tracing::debug!("issuer check turned off");
            return None;
        }
        let mut slot = self.issuer.lock().await;
        if let Some(facts) = slot.as_ref().filter(|f| f.issuer_url == issuer_url) {
            return Some(facts.clone());
        }
        let facts = fetch_issuer_facts(&issuer_url, &settings.issuer_check).await;
        *slot = Some(facts.clone());
        Some(facts)
    }

    pub fn configured(&self) -> Configured {
        self.configured
            .read()
            .map(|c| c.clone())
            .unwrap_or(Configured::NotYet)
    }

    /// The settings, when known.
    pub fn ready(&self) -> Option<ProviderSettings> {
        match self.configured() {
            Configured::Ready(s) => Some(*s),
            _ => None,
        }
    }

    /// The settings, or an error explaining why they are missing (for apply, where everything
    /// must be known).
    pub fn require(&self) -> Result<ProviderSettings, Diagnostic> {
        match self.configured() {
            Configured::Ready(s) => Ok(*s),
            Configured::Deferred(paths) => Err(Diagnostic::error(
                "Provider configuration not known",
                format!(
                    "The localops provider's {} {} not known yet, so it cannot reach AWS. This \
                     happens when the provider block refers to a resource that is not created \
                     yet; apply that resource first (terraform apply -target=...).",
                    paths.join(", "),
                    if paths.len() == 1 { "is" } else { "are" }
                ),
            )),
            Configured::NotYet => Err(Diagnostic::error(
                "Provider not configured",
                "Terraform did not configure the localops provider before using it. This is a \
                 bug in the provider or in Terraform; please report it.",
            )),
        }
    }

    /// The AWS operations, building the clients on first use. Never looks credentials up:
    /// the first call that needs them does.
    pub async fn aws(&self) -> Result<Aws, Diagnostic> {
        let settings = self.require()?;
        let mut slot = self.clients.lock().await;
        let clients = match slot.as_ref() {
            Some(clients) => clients.clone(),
            None => {
                let clients = AwsClients::from_settings(&settings.aws)
                    .await
                    .map_err(config_error)?;
                *slot = Some(clients.clone());
                clients
            }
        };
        Ok(Aws {
            stacks: clients.stacks().with_wait(settings.wait),
            iam: clients.iam(),
            sts: clients.sts(),
        })
    }
}

async fn fetch_issuer_facts(issuer_url: &str, check: &IssuerCheck) -> IssuerFacts {
    let extra_ca = check.extra_ca_pem.is_some();
    let client = match IssuerClient::new(IssuerClientOptions {
        extra_ca_pem: check.extra_ca_pem.clone(),
        timeout: check.timeout,
    }) {
        Ok(client) => client,
        Err(e) => {
            return IssuerFacts {
                issuer_url: issuer_url.to_owned(),
                report: IssuerReport::Unreachable {
                    reason: e.to_string(),
                },
                jwks: None,
                extra_ca,
            };
        }
    };
    let report = client.check_issuer(issuer_url).await;
    let jwks = match &report {
        IssuerReport::Ok { discovery, .. } => match client.fetch_jwks(&discovery.jwks_uri).await {
            Ok(jwks) => Some(jwks),
            Err(e) => {
                tracing::debug!(report = %e, "issuer JWKS fetched once but not twice");
                None
            }
        },
        _ => None,
    };
    IssuerFacts {
        issuer_url: issuer_url.to_owned(),
        report,
        jwks,
        extra_ca,
    }
}

/// ValidateProviderConfig: every problem the known values show, with attribute paths.
pub fn validate_config(config: &Value) -> Diagnostics {
    match parse(config, &process_env) {
        Ok(_) => Diagnostics::new(),
        Err(diagnostics) => diagnostics,
    }
}

enum Parsed {
    Ready(Box<ProviderSettings>),
    Deferred(Vec<String>),
}

/// Collects values, noting the unknown ones, and diagnostics.
#[derive(Default)]
struct Reader {
    unknown: Vec<String>,
    diagnostics: Diagnostics,
}

impl Reader {
    fn get<T: tfplugin::FromValue>(
        &mut self,
        object: &ObjectReader<'_>,
        name: &str,
        at: &AttributePath,
    ) -> Option<T> {
        let path = at.clone().attribute(name);
        match object.get::<MaybeUnknown<T>>(name) {
            Ok(MaybeUnknown::Known(v)) => Some(v),
            Ok(MaybeUnknown::Unknown) => {
                self.unknown.push(path.to_string());
                None
            }
            Err(e) => {
                self.diagnostics
                    .push(Diagnostic::from(strip_first(e).at(&path)));
                None
            }
        }
    }

    fn error(&mut self, path: AttributePath, summary: &str, detail: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(summary, detail).at(path));
    }
}

/// `ObjectReader::get` already put the attribute name into the error's path; the caller's
/// full path replaces it.
fn strip_first(mut e: ValueError) -> ValueError {
    if !e.path.steps.is_empty() {
        e.path.steps.remove(0);
    }
    e
}

fn parse(config: &Value, env: Env<'_>) -> Result<Parsed, Diagnostics> {
    let mut r = Reader::default();
    let root = AttributePath::root();
    if config.is_null() {
        return finish(r, env, Raw::default());
    }
    if config.is_unknown() {
        return Ok(Parsed::Deferred(vec!["provider block".to_owned()]));
    }
    let object = match ObjectReader::new(config) {
        Ok(o) => o,
        Err(e) => return Err(Diagnostic::from(e).into()),
    };
    let mut raw = Raw {
        region: r.get::<Option<String>>(&object, "region", &root).flatten(),
        profile: r.get::<Option<String>>(&object, "profile", &root).flatten(),
        issuer_url: r
            .get::<Option<String>>(&object, "oidc_issuer_url", &root)
            .flatten(),
        audience: r
            .get::<Option<String>>(&object, "oidc_audience", &root)
            .flatten(),
        default_tags: r
            .get::<Option<BTreeMap<String, String>>>(&object, "default_tags", &root)
            .flatten()
            .unwrap_or_default(),
        check_issuer: r
            .get::<Option<bool>>(&object, "check_oidc_issuer", &root)
            .flatten(),
        ca_bundle: r
            .get::<Option<String>>(&object, "oidc_issuer_ca_bundle", &root)
            .flatten(),
        ca_file: r
            .get::<Option<String>>(&object, "oidc_issuer_ca_file", &root)
            .flatten(),
        ..Raw::default()
    };
    let assume_role = object.raw("assume_role");
    if assume_role.is_unknown() {
        r.unknown.push("assume_role".to_owned());
    } else if !assume_role.is_null() {
        let at = AttributePath::attr("assume_role");
        match ObjectReader::new(assume_role) {
            Ok(block) => {
                let role_arn = r.get::<String>(&block, "role_arn", &at);
                let external_id = r
                    .get::<Option<String>>(&block, "external_id", &at)
                    .flatten();
                let session_name = r
                    .get::<Option<String>>(&block, "session_name", &at)
                    .flatten();
                let duration = r
                    .get::<Option<i64>>(&block, "duration_seconds", &at)
                    .flatten();
                let duration_seconds = match duration {
                    None => None,
                    Some(d) => {
                        match u32::try_from(d) {
                            Ok(d) => Some(d),
                            Err(_) => {
                                r.error(
                                at.clone().attribute("duration_seconds"),
                                "Invalid session duration",
                                format!("{d} is not a duration STS accepts: use 900 to 43200 seconds."),
                            );
                                None
                            }
                        }
                    }
                };
                if let Some(role_arn) = role_arn {
                    raw.assume_role = Some(AssumeRoleSettings {
                        role_arn,
                        external_id,
                        session_name,
                        duration_seconds,
                    });
                }
            }
            Err(e) => r.diagnostics.push(Diagnostic::from(e.at(&at))),
        }
    }
    let endpoints = object.raw("endpoints");
    if endpoints.is_unknown() {
        r.unknown.push("endpoints".to_owned());
    } else if !endpoints.is_null() {
        let at = AttributePath::attr("endpoints");
        match ObjectReader::new(endpoints) {
            Ok(block) => {
                raw.endpoints = Endpoints {
                    cloudformation: r
                        .get::<Option<String>>(&block, "cloudformation", &at)
                        .flatten(),
                    iam: r.get::<Option<String>>(&block, "iam", &at).flatten(),
                    sts: r.get::<Option<String>>(&block, "sts", &at).flatten(),
                };
            }
            Err(e) => r.diagnostics.push(Diagnostic::from(e.at(&at))),
        }
    }
    finish(r, env, raw)
}

#[derive(Default)]
struct Raw {
    region: Option<String>,
    profile: Option<String>,
    issuer_url: Option<String>,
    audience: Option<String>,
    default_tags: BTreeMap<String, String>,
    assume_role: Option<AssumeRoleSettings>,
    endpoints: Endpoints,
    check_issuer: Option<bool>,
    ca_bundle: Option<String>,
    ca_file: Option<String>,
}

fn finish(mut r: Reader, env: Env<'_>, raw: Raw) -> Result<Parsed, Diagnostics> {
    let issuer_check = issuer_check(&mut r, env, &raw);
    let aws = AwsSettings {
        region: raw.region.unwrap_or_else(|| DEFAULT_REGION.to_owned()),
        profile: raw.profile,
        assume_role: raw.assume_role,
        endpoints: raw.endpoints,
    };
    // Only check what is known: an unknown block member leaves a default in its place.
    if let Err(e) = aws.validate()
        && !r.unknown.iter().any(|u| e.field.starts_with(u.as_str()))
    {
        r.diagnostics.push(config_error(e));
    }

    let (issuer_url, issuer_from_env) = match raw.issuer_url {
        Some(url) => (Some(url), false),
        None if !r.unknown.iter().any(|u| u == "oidc_issuer_url") => {
            (env(ENV_ISSUER_URL).map(|v| v.trim().to_owned()), true)
        }
        None => (None, false),
    };
    if let Some(url) = &issuer_url
        && let Err(e) = template::validate_issuer_url(url)
    {
        let detail = if issuer_from_env {
            format!(
                "{} (from the environment variable {ENV_ISSUER_URL})",
                e.detail
            )
        } else {
            e.detail
        };
        r.error(
            AttributePath::attr("oidc_issuer_url"),
            &cap(&e.summary),
            detail,
        );
    }
    let (audience, audience_from_env) = match raw.audience {
        Some(a) => (a, false),
        None => match env(ENV_AUDIENCE) {
            Some(a) => (a, true),
            None => (template::DEFAULT_AUDIENCE.to_owned(), false),
        },
    };
    if let Err(e) = template::validate_audience(&audience) {
        let detail = if audience_from_env {
            format!(
                "{} (from the environment variable {ENV_AUDIENCE})",
                e.detail
            )
        } else {
            e.detail
        };
        r.error(
            AttributePath::attr("oidc_audience"),
            &cap(&e.summary),
            detail,
        );
    }
    if raw.default_tags.len() > template::MAX_TAGS {
        r.error(
            AttributePath::attr("default_tags"),
            "Too many default tags",
            format!(
                "{} default tags; AWS allows at most {} tags on a stack and on IAM roles.",
                raw.default_tags.len(),
                template::MAX_TAGS
            ),
        );
    }
    for (key, value) in &raw.default_tags {
        if let Err(e) = template::validate_tag(key, value) {
            r.error(
                AttributePath::attr("default_tags").key(key.clone()),
                &cap(&e.summary),
                e.detail,
            );
        }
    }

    if r.diagnostics.has_errors() {
        return Err(r.diagnostics);
    }
    if !r.unknown.is_empty() {
        return Ok(Parsed::Deferred(r.unknown));
    }
    Ok(Parsed::Ready(Box::new(ProviderSettings {
        aws,
        issuer_url,
        audience,
        default_tags: raw.default_tags,
        wait: wait_config(env),
        issuer_check,
        verify_retry: seconds_from(env, ENV_VERIFY_RETRY_SECS, 1, 3600)
            .unwrap_or(DEFAULT_VERIFY_RETRY),
    })))
}

fn seconds_from(env: Env<'_>, name: &str, min: u64, max: u64) -> Option<Duration> {
    env(name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(min, max)))
}

fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// `check_oidc_issuer`, the extra CA (`oidc_issuer_ca_bundle`, `oidc_issuer_ca_file` or
/// [`ENV_ISSUER_CA_FILE`]), checked: the file is read and the PEM parsed here, so a mistake is
/// reported at the attribute, not as an unreachable issuer later.
fn issuer_check(r: &mut Reader, env: Env<'_>, raw: &Raw) -> IssuerCheck {
    let enabled =
        raw.check_issuer.unwrap_or(true) && !env(ENV_SKIP_ISSUER_CHECK).is_some_and(|v| truthy(&v));
    let timeout =
        seconds_from(env, ENV_ISSUER_TIMEOUT_SECS, 1, 60).unwrap_or(DEFAULT_ISSUER_TIMEOUT);
    let bundle_unknown = r.unknown.iter().any(|u| u == "oidc_issuer_ca_bundle");
    let file_unknown = r.unknown.iter().any(|u| u == "oidc_issuer_ca_file");
    let (pem, path, origin) = match (&raw.ca_bundle, &raw.ca_file) {
        (Some(_), Some(_)) => {
            r.error(
                AttributePath::attr("oidc_issuer_ca_file"),
                "Conflicting issuer CA settings",
                "Set either `oidc_issuer_ca_bundle` (the PEM text) or `oidc_issuer_ca_file` (a \
                 path to it), not both.",
            );
            (None, AttributePath::attr("oidc_issuer_ca_file"), "")
        }
        (Some(pem), None) => (
            Some(pem.clone()),
            AttributePath::attr("oidc_issuer_ca_bundle"),
            "",
        ),
        (None, file) => {
            let (file, origin) = match file {
                Some(f) => (Some(f.clone()), ""),
                None if !bundle_unknown && !file_unknown => (
                    env(ENV_ISSUER_CA_FILE).map(|v| v.trim().to_owned()),
                    " (from the environment variable LOCALOPS_OIDC_ISSUER_CA_FILE)",
                ),
                None => (None, ""),
            };
            let path = AttributePath::attr("oidc_issuer_ca_file");
            match file {
                None => (None, path, origin),
                Some(file) => match std::fs::read_to_string(&file) {
                    Ok(pem) => (Some(pem), path, origin),
                    Err(e) => {
                        r.error(
                            path.clone(),
                            "Cannot read the issuer CA file",
                            format!("Reading {file:?}{origin}: {e}."),
                        );
                        (None, path, origin)
                    }
                },
            }
        }
    };
    if let Some(pem) = &pem
        && let Err(e) = IssuerClient::new(IssuerClientOptions {
            extra_ca_pem: Some(pem.clone()),
            timeout,
        })
    {
        r.error(
            path,
            "Invalid issuer CA bundle",
            format!(
                "{}{origin}. Give one or more PEM certificates (\"-----BEGIN CERTIFICATE-----\").",
                cap(&e.to_string())
            ),
        );
    }
    IssuerCheck {
        enabled,
        extra_ca_pem: pem,
        timeout,
        fetch_url: env(ENV_ISSUER_FETCH_URL).map(|v| v.trim().to_owned()),
    }
}

/// Stack waits: first poll delay from [`ENV_POLL_INTERVAL_MS`] (default 0.5 s), growing to 8 s.
fn wait_config(env: Env<'_>) -> WaitConfig {
    let initial = env(ENV_POLL_INTERVAL_MS)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|ms| Duration::from_millis(ms.clamp(10, 60_000)))
        .unwrap_or(DEFAULT_POLL_INTERVAL);
    let timeout = env(ENV_WAIT_TIMEOUT_SECS)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(1, 6 * 3600)))
        .unwrap_or(DEFAULT_WAIT_TIMEOUT);
    WaitConfig {
        timeout,
        backoff: Backoff {
            initial,
            max: MAX_POLL_INTERVAL.max(initial),
            multiplier: 1.6,
        },
        ..WaitConfig::default()
    }
}

/// An AWS setting that cannot work, pointing at its attribute (`endpoints.iam` → the `iam`
/// attribute of the `endpoints` block).
pub fn config_error(e: ConfigError) -> Diagnostic {
    let mut path = AttributePath::root();
    for step in e.field.split('.') {
        path = path.attribute(step);
    }
    Diagnostic::error(
        "Invalid provider setting",
        format!("`{}`: {}.", e.field, e.reason),
    )
    .at(path)
}

fn cap(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn config(fields: &[(&str, Value)]) -> Value {
        let mut object = Value::object([
            ("region", Value::Null),
            ("profile", Value::Null),
            ("oidc_issuer_url", Value::Null),
            ("oidc_audience", Value::Null),
            ("default_tags", Value::Null),
            ("check_oidc_issuer", Value::Null),
            ("oidc_issuer_ca_bundle", Value::Null),
            ("oidc_issuer_ca_file", Value::Null),
            ("assume_role", Value::Null),
            ("endpoints", Value::Null),
        ]);
        for (k, v) in fields {
            object.set_attribute(k, v.clone());
        }
        object
    }

    fn ready(p: Result<Parsed, Diagnostics>) -> ProviderSettings {
        match p {
            Ok(Parsed::Ready(s)) => *s,
            Ok(Parsed::Deferred(u)) => panic!("deferred: {u:?}"),
            Err(d) => panic!("{d:?}"),
        }
    }

    #[test]
    fn defaults_and_env_fallbacks() {
        let s = ready(parse(&config(&[]), &no_env));
        assert_eq!(s.aws.region, "us-east-1");
        assert_eq!(s.issuer_url, None);
        assert_eq!(s.audience, "sts.amazonaws.com");
        assert_eq!(s.wait.backoff.initial, DEFAULT_POLL_INTERVAL);

        let env = |name: &str| match name {
            ENV_ISSUER_URL => Some("https://oidc.example.com".to_owned()),
            ENV_AUDIENCE => Some("localops".to_owned()),
            ENV_POLL_INTERVAL_MS => Some("200".to_owned()),
            _ => None,
        };
        let s = ready(parse(&config(&[]), &env));
        assert_eq!(s.issuer_url.as_deref(), Some("https://oidc.example.com"));
        assert_eq!(s.audience, "localops");
        assert_eq!(s.wait.backoff.initial, Duration::from_millis(200));

        // The block wins over the environment.
        let s = ready(parse(
            &config(&[("oidc_issuer_url", "https://other.example.com".into())]),
            &env,
        ));
        assert_eq!(s.issuer_url.as_deref(), Some("https://other.example.com"));
    }

    #[test]
    fn blocks_are_read() {
        let s = ready(parse(
            &config(&[
                (
                    "endpoints",
                    Value::object([
                        ("cloudformation", Value::from("http://127.0.0.1:5000")),
                        ("iam", Value::Null),
                        ("sts", Value::from("http://127.0.0.1:5000")),
                    ]),
                ),
                (
                    "assume_role",
                    Value::object([
                        ("role_arn", Value::from("arn:aws:iam::123456789012:role/x")),
                        ("external_id", Value::from("abc")),
                        ("session_name", Value::Null),
                        ("duration_seconds", Value::from(900)),
                    ]),
                ),
                (
                    "default_tags",
                    Value::Map(BTreeMap::from([("team".to_owned(), Value::from("ops"))])),
                ),
            ]),
            &no_env,
        ));
        assert_eq!(
            s.aws.endpoints.cloudformation.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(s.aws.endpoints.iam, None);
        let role = s.aws.assume_role.unwrap();
        assert_eq!(role.duration_seconds, Some(900));
        assert_eq!(s.default_tags.get("team").map(String::as_str), Some("ops"));
    }

    #[test]
    fn errors_point_at_attributes() {
        let d = parse(
            &config(&[
                (
                    "endpoints",
                    Value::object([
                        ("cloudformation", Value::Null),
                        ("iam", Value::from("localhost:5000")),
                        ("sts", Value::Null),
                    ]),
                ),
                ("oidc_issuer_url", "http://oidc.example.com".into()),
            ]),
            &no_env,
        )
        .err()
        .unwrap();
        let paths: Vec<String> = d
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, ["endpoints.iam", "oidc_issuer_url"]);

        let d = parse(
            &config(&[(
                "default_tags",
                Value::Map(BTreeMap::from([("aws:x".to_owned(), Value::from("y"))])),
            )]),
            &no_env,
        )
        .err()
        .unwrap();
        assert_eq!(
            d.iter()
                .next()
                .unwrap()
                .attribute
                .as_ref()
                .unwrap()
                .to_string(),
            "default_tags[\"aws:x\"]"
        );
    }

    #[test]
    fn unknown_values_defer() {
        match parse(&config(&[("region", Value::Unknown)]), &no_env) {
            Ok(Parsed::Deferred(paths)) => assert_eq!(paths, ["region"]),
            _ => panic!("expected deferral"),
        }
        match parse(&config(&[("endpoints", Value::Unknown)]), &no_env) {
            Ok(Parsed::Deferred(paths)) => assert_eq!(paths, ["endpoints"]),
            _ => panic!("expected deferral"),
        }
    }

    #[tokio::test]
    async fn configure_is_offline_and_require_explains() {
        let settings = Settings::new();
        assert!(settings.require().is_err());
        let d = settings
            .configure_with(&config(&[("region", Value::Unknown)]), &no_env)
            .await;
        assert!(d.is_empty());
        let e = settings.require().unwrap_err();
        assert!(e.detail.contains("region"), "{}", e.detail);
        let d = settings.configure_with(&config(&[]), &no_env).await;
        assert!(d.is_empty());
        // Building clients needs no credentials and no network.
        assert!(settings.aws().await.is_ok());
    }
}
