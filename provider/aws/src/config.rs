//! Provider settings → `SdkConfig` → service clients.
//!
//! Credentials come from aws-config's default chain (environment, shared profiles, SSO,
//! web identity, container, instance metadata), optionally wrapped in an assume-role provider.
//! Nothing here talks to AWS: the chain is resolved lazily on the first call, so building
//! clients without credentials succeeds and the first call fails with a clear error
//! ([`crate::error::NO_CREDENTIALS_HINT`]).
//!
//! Endpoints: the SDK's own `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` variables and
//! profile `endpoint_url` settings keep working; an explicit per-service override in
//! [`Endpoints`] wins over them. IAM is a global service (the SDK resolves the partition's
//! global endpoint whatever the region); STS uses the SDK's default (regional) endpoint of the
//! configured region unless overridden.

use std::fmt;
use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_types::origin::Origin;

use crate::iam::Iam;
use crate::stack::Stacks;
use crate::sts::Sts;

/// Region used when the provider configuration does not name one.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Session name used for `assume_role` when none is configured.
pub const DEFAULT_SESSION_NAME: &str = "terraform-localops";

/// Per-service endpoint overrides (full URLs, e.g. `http://127.0.0.1:5000`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub cloudformation: Option<String>,
    pub iam: Option<String>,
    pub sts: Option<String>,
}

/// Role to assume on top of the base credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AssumeRoleSettings {
    pub role_arn: String,
    pub external_id: Option<String>,
    /// Defaults to [`DEFAULT_SESSION_NAME`].
    pub session_name: Option<String>,
    /// 900..=43200; AWS's default (one hour) when unset.
    pub duration_seconds: Option<u32>,
}

impl fmt::Debug for AssumeRoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The external id is a shared secret of sorts: never print it.
        f.debug_struct("AssumeRoleSettings")
            .field("role_arn", &self.role_arn)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "<redacted>"),
            )
            .field("session_name", &self.session_name)
            .field("duration_seconds", &self.duration_seconds)
            .finish()
    }
}

/// The AWS part of the provider configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// Region of the CloudFormation stack (and STS's regional endpoint).
    pub region: String,
    /// Named profile from the shared config/credentials files.
    pub profile: Option<String>,
    pub assume_role: Option<AssumeRoleSettings>,
    pub endpoints: Endpoints,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            region: DEFAULT_REGION.to_owned(),
            profile: None,
            assume_role: None,
            endpoints: Endpoints::default(),
        }
    }
}

/// A provider setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AWS setting `{field}`: {reason}")]
pub struct ConfigError {
    pub field: &'static str,
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        reason: reason.into(),
    }
}

impl AwsSettings {
    /// Checks the settings without touching the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_region(&self.region)?;
        if let Some(profile) = &self.profile
            && profile.trim().is_empty()
        {
            return Err(invalid("profile", "must not be empty when set"));
        }
        for (field, url) in [
            ("endpoints.cloudformation", &self.endpoints.cloudformation),
            ("endpoints.iam", &self.endpoints.iam),
            ("endpoints.sts", &self.endpoints.sts),
        ] {
            if let Some(url) = url {
                validate_endpoint(field, url)?;
            }
        }
        if let Some(role) = &self.assume_role {
            role.validate()?;
        }
        Ok(())
    }
}

impl AssumeRoleSettings {
    /// Checks the role settings against STS's documented constraints.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_role_arn("assume_role.role_arn", &self.role_arn)?;
        if let Some(name) = &self.session_name {
            validate_session_name("assume_role.session_name", name)?;
        }
        if let Some(id) = &self.external_id {
            let ok_chars = id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
            if !(2..=1224).contains(&id.len()) || !ok_chars {
                return Err(invalid(
                    "assume_role.external_id",
                    "must be 2 to 1224 characters of letters, digits and +=,.@:/-_",
                ));
            }
        }
        if let Some(d) = self.duration_seconds
            && !(900..=43200).contains(&d)
        {
            return Err(invalid(
                "assume_role.duration_seconds",
                format!("{d} is outside 900..=43200"),
            ));
        }
        Ok(())
    }
}

fn validate_region(region: &str) -> Result<(), ConfigError> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "region",
            format!("{region:?} is not an AWS region name (e.g. us-east-1)"),
        ))
    }
}

fn validate_endpoint(field: &'static str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(invalid(
            field,
            format!("{url:?} must be an absolute http:// or https:// URL"),
        )),
    }
}

pub(crate) fn validate_role_arn(field: &'static str, arn: &str) -> Result<(), ConfigError> {
    // arn:<partition>:iam::<12 digits>:role/<path/>name
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)"),
        ))
    }
}

pub(crate) fn validate_session_name(field: &'static str, name: &str) -> Result<(), ConfigError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{name:?} must be 2 to 64 characters of letters, digits and +=,.@-_"),
        ))
    }
}

/// Timeouts applied to every call: generous per attempt, bounded overall. Cancellation and
/// the waiters' own deadlines still apply on top.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(60))
        .operation_timeout(Duration::from_secs(180))
        .build()
}

/// A fresh loader with this crate's defaults: latest behaviour version (standard retry mode,
/// three attempts unless `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE` say otherwise), our timeouts.
pub fn default_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts())
}

/// Builds the `SdkConfig` for `settings` from [`default_loader`].
pub async fn load_sdk_config(settings: &AwsSettings) -> Result<SdkConfig, ConfigError> {
    load_sdk_config_with(settings, default_loader()).await
}

/// Builds the `SdkConfig` for `settings` from a caller-prepared loader (for example one with
/// an explicit credentials provider or profile files). Region, profile and assume-role from
/// `settings` are applied on top. No network calls are made.
pub async fn load_sdk_config_with(
    settings: &AwsSettings,
    loader: ConfigLoader,
) -> Result<SdkConfig, ConfigError> {
    settings.validate()?;
    let mut loader = loader.region(Region::new(settings.region.clone()));
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    let mut base = loader.load().await;
    if let (Some(profile), Some(inner)) = (&settings.profile, base.credentials_provider()) {
        let hinted = ProfileHinted {
            profile: profile.clone(),
            inner,
        };
        base = base
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(hinted))
            .build();
    }
    let Some(role) = &settings.assume_role else {
        return Ok(base);
    };
    // The STS client that assumes the role honours the STS endpoint override.
    let sts_base = match &settings.endpoints.sts {
        Some(url) => with_client_endpoint(&base, url),
        None => base.clone(),
    };
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
        .configure(&sts_base)
        .session_name(
            role.session_name
                .clone()
                .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_owned()),
        );
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    if let Some(secs) = role.duration_seconds {
        builder = builder.session_length(Duration::from_secs(u64::from(secs)));
    }
    let provider = builder.build().await;
    tracing::debug!(role_arn = %role.role_arn, "AWS calls will use an assumed role");
    Ok(base
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build())
}

/// Names the configured profile when the default chain finds no credentials, instead of the
/// generic hint (a misspelt or missing profile is the usual cause).
#[derive(Debug)]
struct ProfileHinted {
    profile: String,
    inner: SharedCredentialsProvider,
}

impl ProvideCredentials for ProfileHinted {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            match self.inner.provide_credentials().await {
                Err(e @ CredentialsError::CredentialsNotLoaded(_)) => {
                    Err(CredentialsError::not_loaded(MissingProfileCredentials {
                        profile: self.profile.clone(),
                        source: e,
                    }))
                }
                other => other,
            }
        })
    }
}

/// No credentials were found for the configured profile.
#[derive(Debug)]
pub struct MissingProfileCredentials {
    pub profile: String,
    source: CredentialsError,
}

impl fmt::Display for MissingProfileCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no AWS credentials found for profile \"{p}\": check that the profile exists in the shared \
             config or credentials file (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / \
             AWS_SHARED_CREDENTIALS_FILE) and, for an SSO profile, run `aws sso login --profile {p}`",
            p = self.profile
        )
    }
}

impl std::error::Error for MissingProfileCredentials {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// `base` with `url` as a programmatic endpoint (which beats `AWS_ENDPOINT_URL_*`).
fn with_client_endpoint(base: &SdkConfig, url: &str) -> SdkConfig {
    let mut builder = base.to_builder();
    builder.set_endpoint_url(Some(url.to_owned()));
    builder.insert_origin("endpoint_url", Origin::shared_config());
    builder.build()
}

/// The three service clients, built from one `SdkConfig`. Cheap to clone.
///
/// Its `Debug` output names only the region: the SDK's own `Debug` of `SdkConfig` and of the
/// clients' configs prints parsed profile files, secrets included.
#[derive(Clone)]
pub struct AwsClients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    sdk_config: SdkConfig,
}

impl fmt::Debug for AwsClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsClients")
            .field("region", &self.region())
            .finish_non_exhaustive()
    }
}

impl AwsClients {
    /// Validates `settings`, builds the `SdkConfig` and the clients. Never blocks on or fails
    /// for missing credentials.
    pub async fn from_settings(settings: &AwsSettings) -> Result<Self, ConfigError> {
        let sdk = load_sdk_config(settings).await?;
        Ok(Self::from_sdk_config(&sdk, &settings.endpoints))
    }

    /// Like [`AwsClients::from_settings`] with a caller-prepared loader.
    pub async fn from_settings_with_loader(
        settings: &AwsSettings,
        loader: ConfigLoader,
    ) -> Result<Self, ConfigError> {
        let sdk = load_sdk_config_with(settings, loader).await?;
        Ok(Self::from_sdk_config(&sdk, &settings.endpoints))
    }

    /// Builds the clients from an existing `SdkConfig`, applying the endpoint overrides.
    pub fn from_sdk_config(sdk: &SdkConfig, endpoints: &Endpoints) -> Self {
        let mut cfn = aws_sdk_cloudformation::config::Builder::from(sdk);
        if let Some(url) = &endpoints.cloudformation {
            cfn = cfn.endpoint_url(url);
        }
        let mut iam = aws_sdk_iam::config::Builder::from(sdk);
        if let Some(url) = &endpoints.iam {
            iam = iam.endpoint_url(url);
        }
        let mut sts = aws_sdk_sts::config::Builder::from(sdk);
        if let Some(url) = &endpoints.sts {
            sts = sts.endpoint_url(url);
        }
        AwsClients {
            cloudformation: aws_sdk_cloudformation::Client::from_conf(cfn.build()),
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            sdk_config: sdk.clone(),
        }
    }

    /// The configuration the clients were built from.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    /// The configured region.
    pub fn region(&self) -> Option<&str> {
        self.sdk_config.region().map(|r| r.as_ref())
    }

    /// CloudFormation stack operations with default retry and wait settings.
    pub fn stacks(&self) -> Stacks {
        Stacks::new(self.cloudformation.clone())
    }

    /// IAM reads and repairs with default retry settings.
    pub fn iam(&self) -> Iam {
        Iam::new(self.iam.clone())
    }

    /// STS calls with default retry settings.
    pub fn sts(&self) -> Sts {
        Sts::new(self.sts.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = AwsSettings::default();
        assert_eq!(s.region, "us-east-1");
        assert!(s.validate().is_ok());
    }

    #[test]
    fn rejects_bad_values() {
        let mut s = AwsSettings {
            region: "US East".into(),
            ..AwsSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().field, "region");
        s.region = "eu-west-1".into();
        s.endpoints.iam = Some("localhost:5000".into());
        assert_eq!(s.validate().unwrap_err().field, "endpoints.iam");
        s.endpoints.iam = Some("http://127.0.0.1:5000".into());
        assert!(s.validate().is_ok());
        s.assume_role = Some(AssumeRoleSettings {
            role_arn: "arn:aws:iam::123:role/x".into(),
            ..Default::default()
        });
        assert_eq!(s.validate().unwrap_err().field, "assume_role.role_arn");
        s.assume_role = Some(AssumeRoleSettings {
            role_arn: "arn:aws:iam::123456789012:role/path/x".into(),
            duration_seconds: Some(60),
            ..Default::default()
        });
        assert_eq!(
            s.validate().unwrap_err().field,
            "assume_role.duration_seconds"
        );
        s.assume_role = Some(AssumeRoleSettings {
            role_arn: "arn:aws:iam::123456789012:role/x".into(),
            session_name: Some("has space".into()),
            ..Default::default()
        });
        assert_eq!(s.validate().unwrap_err().field, "assume_role.session_name");
        s.profile = Some(" ".into());
        assert_eq!(s.validate().unwrap_err().field, "profile");
    }

    #[test]
    fn external_id_is_not_printed() {
        let r = AssumeRoleSettings {
            role_arn: "arn:aws:iam::123456789012:role/x".into(),
            external_id: Some("very-secret-id".into()),
            ..Default::default()
        };
        let text = format!("{r:?}");
        assert!(!text.contains("very-secret-id"));
        assert!(text.contains("<redacted>"));
    }
}
