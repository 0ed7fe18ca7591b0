//! IAM reads of the connection's role and OIDC provider, and the small repairs used when
//! CloudFormation will not fix out-of-band drift.
//!
//! Policy documents are returned URL-decoded (IAM returns them percent-encoded). Every call
//! is retried on throttling/5xx (a few rounds beyond the SDK's own attempts); writes are also
//! retried on `ConcurrentModification`; `NoSuchEntity` is retried only when the caller says the
//! entity was just created ([`Iam::retrying_not_found`]), to ride out IAM's eventual consistency.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_iam::Client;
use tokio_util::sync::CancellationToken;

use crate::error::{AwsError, ErrorClass};
use crate::retry::{self, CallError, RetryOn, RetryPolicy};
use crate::util::decode_policy_document;

/// A managed policy attached to a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
    /// True for AWS managed policies (`arn:<partition>:iam::aws:policy/...`).
    pub aws_managed: bool,
    /// Default version of a customer managed policy.
    pub default_version_id: Option<String>,
    /// Decoded document of the default version (customer managed policies only).
    pub document: Option<String>,
}

/// An inline policy of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    pub name: String,
    /// Decoded JSON document.
    pub document: String,
}

/// A role as IAM reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRole {
    pub arn: String,
    pub name: String,
    pub role_id: String,
    pub path: String,
    /// Decoded JSON trust policy.
    pub trust_policy: String,
    pub max_session_duration: Option<u32>,
    pub permissions_boundary_arn: Option<String>,
    pub attached_policies: Vec<AttachedPolicy>,
    pub inline_policies: Vec<InlinePolicy>,
    pub tags: BTreeMap<String, String>,
}

/// An IAM OIDC identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOidcProvider {
    pub arn: String,
    /// As IAM stores it: without `https://`.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// Errors of IAM calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// An AWS call failed. `message` is AWS's text.
    #[error("IAM {operation} {resource}: {}", code_and_message(code, message))]
    Aws {
        operation: &'static str,
        resource: String,
        code: Option<String>,
        message: String,
        class: ErrorClass,
    },
    /// Cancelled.
    #[error("interrupted during IAM {operation} {resource}")]
    Interrupted {
        operation: &'static str,
        resource: String,
    },
}

pub(crate) fn code_and_message(code: &Option<String>, message: &str) -> String {
    match code {
        Some(code) if code != message => format!("{code}: {message}"),
        _ => message.to_owned(),
    }
}

impl IamError {
    fn from_aws(e: AwsError) -> Self {
        IamError::Aws {
            operation: e.operation,
            resource: e.resource,
            code: e.code,
            message: e.message,
            class: e.class,
        }
    }

    /// The error class of an AWS failure.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            IamError::Aws { class, .. } => Some(*class),
            IamError::Interrupted { .. } => None,
        }
    }

    /// True when IAM said the entity does not exist.
    pub fn is_not_found(&self) -> bool {
        self.class() == Some(ErrorClass::NotFound)
    }
}

/// IAM operations on one client.
/// `Debug` leaves the client out (the SDK's prints parsed profile files, secrets included).
#[derive(Clone)]
pub struct Iam {
    client: Client,
    retry: RetryPolicy,
    retry_not_found: bool,
}

impl std::fmt::Debug for Iam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iam")
            .field("retry", &self.retry)
            .field("retry_not_found", &self.retry_not_found)
            .finish_non_exhaustive()
    }
}

impl Iam {
    pub fn new(client: Client) -> Self {
        Iam {
            client,
            retry: RetryPolicy::default(),
            retry_not_found: false,
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Retries `NoSuchEntity` within the retry budget: use right after the role or provider
    /// was created, while IAM may not show it everywhere yet. Reads still answer `None` when
    /// the entity stays missing for the whole budget.
    pub fn retrying_not_found(mut self) -> Self {
        self.retry_not_found = true;
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn retry_on(&self, write: bool) -> RetryOn {
        RetryOn {
            concurrent_modification: write,
            not_found: self.retry_not_found,
        }
    }

    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        resource: &str,
        write: bool,
        cancel: &CancellationToken,
        f: F,
    ) -> Result<T, IamError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_iam::error::SdkError<E>>>,
        E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        match retry::call_aws(
            &self.retry,
            cancel,
            operation,
            resource,
            self.retry_on(write),
            f,
        )
        .await
        {
            Ok(v) => Ok(v),
            Err(CallError::Aws(e)) => Err(IamError::from_aws(e)),
            Err(CallError::Interrupted) => Err(IamError::Interrupted {
                operation,
                resource: resource.to_owned(),
            }),
        }
    }

    /// Reads every page of a marker-paginated read: `send` sends the request for one page
    /// (its argument is the marker, `None` for the first page), `cursor` gives a page's
    /// `IsTruncated` and `Marker`, and `each` takes every page in order. Stops at the last
    /// page, or when IAM repeats a marker (see [`next_marker`]).
    async fn for_each_page<P, E, F, Fut>(
        &self,
        operation: &'static str,
        resource: &str,
        cancel: &CancellationToken,
        mut send: F,
        cursor: fn(&P) -> (bool, Option<&str>),
        mut each: impl FnMut(&P),
    ) -> Result<(), IamError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<P, aws_sdk_iam::error::SdkError<E>>>,
        E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .call(operation, resource, false, cancel, || send(marker.clone()))
                .await?;
            each(&page);
            let (truncated, next) = cursor(&page);
            marker = next_marker(truncated, next, &marker);
            if marker.is_none() {
                return Ok(());
            }
        }
    }

    /// Reads a role with its trust policy, boundary, attached policies (with the default
    /// version's document of customer managed ones) and inline policies. `None` when the role
    /// does not exist (or disappears while being read).
    pub async fn get_role(
        &self,
        name: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<LiveRole>, IamError> {
        none_if_not_found(self.read_role(name, cancel).await)
    }

    async fn read_role(
        &self,
        name: &str,
        cancel: &CancellationToken,
    ) -> Result<LiveRole, IamError> {
        let out = self
            .call("GetRole", name, false, cancel, || {
                self.client.get_role().role_name(name).send()
            })
            .await?;
        let Some(role) = out.role() else {
            return Err(IamError::Aws {
                operation: "GetRole",
                resource: name.to_owned(),
                code: Some("NoSuchEntity".into()),
                message: "GetRole returned no role".into(),
                class: ErrorClass::NotFound,
            });
        };
        let mut live = LiveRole {
            arn: role.arn().to_owned(),
            name: role.role_name().to_owned(),
            role_id: role.role_id().to_owned(),
            path: role.path().to_owned(),
            trust_policy: role
                .assume_role_policy_document()
                .map(decode_policy_document)
                .unwrap_or_default(),
            max_session_duration: role
                .max_session_duration()
                .and_then(|d| u32::try_from(d).ok()),
            permissions_boundary_arn: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned),
            attached_policies: Vec::new(),
            inline_policies: Vec::new(),
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        };

        // Attached managed policies.
        self.for_each_page(
            "ListAttachedRolePolicies",
            name,
            cancel,
            |marker| {
                self.client
                    .list_attached_role_policies()
                    .role_name(name)
                    .set_marker(marker)
                    .send()
            },
            |page| (page.is_truncated(), page.marker()),
            |page| {
                for p in page.attached_policies() {
                    let (Some(arn), Some(policy_name)) = (p.policy_arn(), p.policy_name()) else {
                        continue;
                    };
                    live.attached_policies.push(AttachedPolicy {
                        name: policy_name.to_owned(),
                        arn: arn.to_owned(),
                        aws_managed: is_aws_managed(arn),
                        default_version_id: None,
                        document: None,
                    });
                }
            },
        )
        .await?;
        for policy in live.attached_policies.iter_mut().filter(|p| !p.aws_managed) {
            if let Some((version, document)) = self.policy_document(&policy.arn, cancel).await? {
                policy.default_version_id = Some(version);
                policy.document = Some(document);
            }
        }

        // Inline policies.
        let mut names = Vec::new();
        self.for_each_page(
            "ListRolePolicies",
            name,
            cancel,
            |marker| {
                self.client
                    .list_role_policies()
                    .role_name(name)
                    .set_marker(marker)
                    .send()
            },
            |page| (page.is_truncated(), page.marker()),
            |page| names.extend(page.policy_names().iter().cloned()),
        )
        .await?;
        for policy_name in names {
            let resource = format!("{name}/{policy_name}");
            let out = self
                .call("GetRolePolicy", &resource, false, cancel, || {
                    self.client
                        .get_role_policy()
                        .role_name(name)
                        .policy_name(&policy_name)
                        .send()
                })
                .await;
            // Deleted between list and get: it is gone, skip it. (If the role itself
            // vanished, the caller sees that on its next read.)
            let Some(out) = none_if_not_found(out)? else {
                continue;
            };
            live.inline_policies.push(InlinePolicy {
                name: policy_name,
                document: decode_policy_document(out.policy_document()),
            });
        }
        Ok(live)
    }

    /// Default version id and decoded document of a managed policy; `None` when the policy
    /// no longer exists.
    pub async fn policy_document(
        &self,
        policy_arn: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<(String, String)>, IamError> {
        let policy = self
            .call("GetPolicy", policy_arn, false, cancel, || {
                self.client.get_policy().policy_arn(policy_arn).send()
            })
            .await;
        let Some(policy) = none_if_not_found(policy)? else {
            return Ok(None);
        };
        let Some(version) = policy
            .policy()
            .and_then(|p| p.default_version_id())
            .map(str::to_owned)
        else {
            return Ok(None);
        };
        let out = self
            .call("GetPolicyVersion", policy_arn, false, cancel, || {
                self.client
                    .get_policy_version()
                    .policy_arn(policy_arn)
                    .version_id(&version)
                    .send()
            })
            .await;
        let Some(out) = none_if_not_found(out)? else {
            return Ok(None);
        };
        let document = out
            .policy_version()
            .and_then(|v| v.document())
            .map(decode_policy_document)
            .unwrap_or_default();
        Ok(Some((version, document)))
    }

    /// ARNs of all OIDC providers in the account.
    pub async fn list_oidc_providers(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>, IamError> {
        let out = self
            .call(
                "ListOpenIDConnectProviders",
                "account",
                false,
                cancel,
                || self.client.list_open_id_connect_providers().send(),
            )
            .await?;
        Ok(out
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_owned))
            .collect())
    }

    /// Reads an OIDC provider; `None` when it does not exist.
    pub async fn get_oidc_provider(
        &self,
        arn: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<LiveOidcProvider>, IamError> {
        let out = self
            .call("GetOpenIDConnectProvider", arn, false, cancel, || {
                self.client
                    .get_open_id_connect_provider()
                    .open_id_connect_provider_arn(arn)
                    .send()
            })
            .await;
        let Some(out) = none_if_not_found(out)? else {
            return Ok(None);
        };
        Ok(Some(LiveOidcProvider {
            arn: arn.to_owned(),
            url: out
                .url()
                .map(str::to_owned)
                .or_else(|| provider_url_from_arn(arn).map(str::to_owned))
                .unwrap_or_default(),
            client_ids: out.client_id_list().to_vec(),
            thumbprints: out.thumbprint_list().to_vec(),
            tags: out
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        }))
    }

    /// Finds the provider registered for `issuer_url` (with or without `https://`).
    /// See [`match_provider_url`] for the comparison.
    pub async fn find_oidc_provider_for_url(
        &self,
        issuer_url: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<String>, IamError> {
        let arns = self.list_oidc_providers(cancel).await?;
        Ok(match_provider_url(&arns, issuer_url))
    }

    /// Replaces the role's trust policy (`UpdateAssumeRolePolicy`).
    pub async fn put_trust_policy(
        &self,
        role: &str,
        document: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call("UpdateAssumeRolePolicy", role, true, cancel, || {
            self.client
                .update_assume_role_policy()
                .role_name(role)
                .policy_document(document)
                .send()
        })
        .await?;
        tracing::info!(role, "replaced the role's trust policy");
        Ok(())
    }

    /// Sets the role's maximum session duration (3600..=43200 seconds).
    pub async fn update_max_session_duration(
        &self,
        role: &str,
        seconds: u32,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        let secs = i32::try_from(seconds).unwrap_or(i32::MAX);
        self.call("UpdateRole", role, true, cancel, || {
            self.client
                .update_role()
                .role_name(role)
                .max_session_duration(secs)
                .send()
        })
        .await?;
        tracing::info!(role, seconds, "updated the role's maximum session duration");
        Ok(())
    }

    /// Attaches a managed policy to the role.
    pub async fn attach_policy(
        &self,
        role: &str,
        policy_arn: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call("AttachRolePolicy", role, true, cancel, || {
            self.client
                .attach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
        })
        .await?;
        tracing::info!(role, policy_arn, "attached managed policy");
        Ok(())
    }

    /// Detaches a managed policy from the role.
    pub async fn detach_policy(
        &self,
        role: &str,
        policy_arn: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call("DetachRolePolicy", role, true, cancel, || {
            self.client
                .detach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
        })
        .await?;
        tracing::info!(role, policy_arn, "detached managed policy");
        Ok(())
    }

    /// Deletes an inline policy of the role.
    pub async fn delete_inline_policy(
        &self,
        role: &str,
        policy_name: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call("DeleteRolePolicy", role, true, cancel, || {
            self.client
                .delete_role_policy()
                .role_name(role)
                .policy_name(policy_name)
                .send()
        })
        .await?;
        tracing::info!(role, policy_name, "deleted inline policy");
        Ok(())
    }

    /// Removes the role's permissions boundary.
    pub async fn delete_permissions_boundary(
        &self,
        role: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call("DeleteRolePermissionsBoundary", role, true, cancel, || {
            self.client
                .delete_role_permissions_boundary()
                .role_name(role)
                .send()
        })
        .await?;
        tracing::info!(role, "removed the role's permissions boundary");
        Ok(())
    }
}

/// A version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub is_default: bool,
    /// Creation time as IAM reports it (seconds since the epoch); `None` when not reported.
    pub created: Option<i64>,
}

/// IAM keeps at most this many versions of a managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

impl Iam {
    /// The versions of a managed policy (default first is not guaranteed; see
    /// [`oldest_non_default`]).
    pub async fn list_policy_versions(
        &self,
        policy_arn: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<PolicyVersion>, IamError> {
        let mut versions = Vec::new();
        self.for_each_page(
            "ListPolicyVersions",
            policy_arn,
            cancel,
            |marker| {
                self.client
                    .list_policy_versions()
                    .policy_arn(policy_arn)
                    .set_marker(marker)
                    .send()
            },
            |page| (page.is_truncated(), page.marker()),
            |page| {
                for v in page.versions() {
                    let Some(id) = v.version_id() else {
                        continue;
                    };
                    versions.push(PolicyVersion {
                        version_id: id.to_owned(),
                        is_default: v.is_default_version(),
                        created: v.create_date().map(|d| d.secs()),
                    });
                }
            },
        )
        .await?;
        Ok(versions)
    }

    /// Deletes a non-default version of a managed policy.
    pub async fn delete_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call("DeletePolicyVersion", policy_arn, true, cancel, || {
            self.client
                .delete_policy_version()
                .policy_arn(policy_arn)
                .version_id(version_id)
                .send()
        })
        .await?;
        tracing::info!(policy_arn, version_id, "deleted a policy version");
        Ok(())
    }

    /// Makes `document` the managed policy's default version (`CreatePolicyVersion` with
    /// `SetAsDefault`). At IAM's limit of [`MAX_POLICY_VERSIONS`], the oldest non-default version
    /// is deleted first. Returns the new version id.
    pub async fn set_policy_document(
        &self,
        policy_arn: &str,
        document: &str,
        cancel: &CancellationToken,
    ) -> Result<String, IamError> {
        let versions = self.list_policy_versions(policy_arn, cancel).await?;
        if versions.len() >= MAX_POLICY_VERSIONS
            && let Some(oldest) = oldest_non_default(&versions)
        {
            let id = oldest.version_id.clone();
            self.delete_policy_version(policy_arn, &id, cancel).await?;
        }
        let out = self
            .call("CreatePolicyVersion", policy_arn, true, cancel, || {
                self.client
                    .create_policy_version()
                    .policy_arn(policy_arn)
                    .policy_document(document)
                    .set_as_default(true)
                    .send()
            })
            .await?;
        let version = out
            .policy_version()
            .and_then(|v| v.version_id())
            .unwrap_or_default()
            .to_owned();
        tracing::info!(policy_arn, version = %version, "created a new default policy version");
        Ok(version)
    }

    /// Adds a client ID (audience) to an OIDC provider.
    pub async fn add_oidc_client_id(
        &self,
        provider_arn: &str,
        client_id: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call(
            "AddClientIDToOpenIDConnectProvider",
            provider_arn,
            true,
            cancel,
            || {
                self.client
                    .add_client_id_to_open_id_connect_provider()
                    .open_id_connect_provider_arn(provider_arn)
                    .client_id(client_id)
                    .send()
            },
        )
        .await?;
        tracing::info!(
            provider_arn,
            client_id,
            "added a client ID to the OIDC provider"
        );
        Ok(())
    }

    /// Removes a client ID from an OIDC provider.
    pub async fn remove_oidc_client_id(
        &self,
        provider_arn: &str,
        client_id: &str,
        cancel: &CancellationToken,
    ) -> Result<(), IamError> {
        self.call(
            "RemoveClientIDFromOpenIDConnectProvider",
            provider_arn,
            true,
            cancel,
            || {
                self.client
                    .remove_client_id_from_open_id_connect_provider()
                    .open_id_connect_provider_arn(provider_arn)
                    .client_id(client_id)
                    .send()
            },
        )
        .await?;
        tracing::info!(
            provider_arn,
            client_id,
            "removed a client ID from the OIDC provider"
        );
        Ok(())
    }

    /// Creates an OIDC provider for `url` (with `https://`); returns its ARN. Empty
    /// `thumbprints` leave them to IAM (it no longer needs them for most issuers).
    pub async fn create_oidc_provider(
        &self,
        url: &str,
        client_ids: &[String],
        thumbprints: &[String],
        tags: &BTreeMap<String, String>,
        cancel: &CancellationToken,
    ) -> Result<String, IamError> {
        let tags: Vec<aws_sdk_iam::types::Tag> = tags
            .iter()
            .filter_map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .ok()
            })
            .collect();
        let out = self
            .call("CreateOpenIDConnectProvider", url, true, cancel, || {
                self.client
                    .create_open_id_connect_provider()
                    .url(url)
                    .set_client_id_list(Some(client_ids.to_vec()))
                    .set_thumbprint_list((!thumbprints.is_empty()).then(|| thumbprints.to_vec()))
                    .set_tags((!tags.is_empty()).then(|| tags.clone()))
                    .send()
            })
            .await?;
        let arn = out
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_owned();
        tracing::info!(url, arn = %arn, "created the OIDC provider");
        Ok(arn)
    }
}

/// The version to delete to make room for a new one: the oldest that is not the default
/// (by creation time, then by version number `vN`).
pub fn oldest_non_default(versions: &[PolicyVersion]) -> Option<&PolicyVersion> {
    let number = |v: &PolicyVersion| -> u64 {
        v.version_id
            .trim_start_matches(['v', 'V'])
            .parse()
            .unwrap_or(u64::MAX)
    };
    versions
        .iter()
        .filter(|v| !v.is_default)
        .min_by_key(|v| (v.created.unwrap_or(i64::MAX), number(v)))
}

impl fmt::Display for LiveOidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.url, self.arn)
    }
}

/// `Ok(None)` when IAM said the entity does not exist; other results unchanged.
fn none_if_not_found<T>(result: Result<T, IamError>) -> Result<Option<T>, IamError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Next pagination marker, or `None` when done (also when IAM repeats the same marker).
fn next_marker(truncated: bool, marker: Option<&str>, previous: &Option<String>) -> Option<String> {
    match marker {
        Some(m) if truncated && previous.as_deref() != Some(m) => Some(m.to_owned()),
        _ => None,
    }
}

/// True for AWS managed policy ARNs (`arn:<partition>:iam::aws:policy/...`).
pub fn is_aws_managed(policy_arn: &str) -> bool {
    let parts: Vec<&str> = policy_arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[2] == "iam" && parts[4] == "aws" && parts[5].starts_with("policy/")
}

/// The URL part of an OIDC provider ARN (`arn:aws:iam::123:oidc-provider/<url>`), as IAM
/// stores it (without `https://`).
pub fn provider_url_from_arn(arn: &str) -> Option<&str> {
    arn.split_once(":oidc-provider/").map(|(_, url)| url)
}

/// Splits an issuer URL into a lower-cased host and its exact path, without `https://`.
fn split_issuer(url: &str) -> (String, &str) {
    let trimmed = url.trim();
    let rest = match trimmed.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => trimmed.get(8..).unwrap_or(""),
        _ => trimmed,
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    (host.to_ascii_lowercase(), path)
}

/// Picks the provider ARN whose URL is `issuer_url`.
///
/// IAM keeps the URL as given at creation, minus `https://`, and allows one provider per
/// URL. STS matches a token's `iss` to a provider by host and path, where the host is
/// case-insensitive (DNS) and a single trailing `/` on the path is not significant. So: an
/// exact match (after dropping the scheme) wins; otherwise a provider whose host matches
/// case-insensitively and whose path matches exactly once one trailing `/` is ignored on both
/// sides.
pub fn match_provider_url(arns: &[String], issuer_url: &str) -> Option<String> {
    let (want_host, want_path) = split_issuer(issuer_url);
    let want_exact = format!("{want_host}{want_path}");
    let mut loose: Option<&String> = None;
    for arn in arns {
        let Some(url) = provider_url_from_arn(arn) else {
            continue;
        };
        let (host, path) = split_issuer(url);
        if host != want_host {
            continue;
        }
        if format!("{host}{path}") == want_exact {
            return Some(arn.clone());
        }
        if loose.is_none()
            && path.strip_suffix('/').unwrap_or(path)
                == want_path.strip_suffix('/').unwrap_or(want_path)
        {
            loose = Some(arn);
        }
    }
    loose.cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_policies() {
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_aws_managed(
            "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!is_aws_managed("arn:aws:iam::123456789012:policy/mine"));
        assert!(!is_aws_managed("garbage"));
    }

    #[test]
    fn provider_url_matching() {
        let arns: Vec<String> = [
            "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws:iam::123456789012:oidc-provider/oidc.localops.co/tenant/",
            "arn:aws:iam::123456789012:oidc-provider/Issuer.Example.com/Path",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            match_provider_url(&arns, "https://token.actions.githubusercontent.com").as_deref(),
            Some(arns[0].as_str())
        );
        assert_eq!(
            match_provider_url(&arns, "https://token.actions.githubusercontent.com/").as_deref(),
            Some(arns[0].as_str())
        );
        assert_eq!(
            match_provider_url(&arns, "oidc.localops.co/tenant").as_deref(),
            Some(arns[1].as_str())
        );
        assert_eq!(
            match_provider_url(&arns, "HTTPS://OIDC.localops.co/tenant/").as_deref(),
            Some(arns[1].as_str())
        );
        // Paths are case-sensitive.
        assert_eq!(
            match_provider_url(&arns, "https://issuer.example.com/path"),
            None
        );
        assert_eq!(
            match_provider_url(&arns, "https://issuer.example.com/Path").as_deref(),
            Some(arns[2].as_str())
        );
        // Prefixes do not match.
        assert_eq!(match_provider_url(&arns, "https://oidc.localops.co"), None);
        assert_eq!(
            match_provider_url(&arns, "https://oidc.localops.co/tenant/x"),
            None
        );
        assert_eq!(match_provider_url(&[], "https://x"), None);
    }

    #[test]
    fn exact_match_beats_trailing_slash_variant() {
        let arns: Vec<String> = [
            "arn:aws:iam::1:oidc-provider/a.example/x/",
            "arn:aws:iam::1:oidc-provider/a.example/x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            match_provider_url(&arns, "https://a.example/x").as_deref(),
            Some(arns[1].as_str())
        );
        assert_eq!(
            match_provider_url(&arns, "https://a.example/x/").as_deref(),
            Some(arns[0].as_str())
        );
    }

    #[test]
    fn oldest_non_default_version() {
        let v = |id: &str, is_default: bool, created: Option<i64>| PolicyVersion {
            version_id: id.into(),
            is_default,
            created,
        };
        let versions = [
            v("v5", false, Some(50)),
            v("v2", false, Some(20)),
            v("v1", true, Some(10)),
            v("v3", false, Some(20)),
        ];
        assert_eq!(oldest_non_default(&versions).unwrap().version_id, "v2");
        let undated = [
            v("v10", false, None),
            v("v9", false, None),
            v("v1", true, None),
        ];
        assert_eq!(oldest_non_default(&undated).unwrap().version_id, "v9");
        assert!(oldest_non_default(&[v("v1", true, None)]).is_none());
    }

    #[test]
    fn markers() {
        assert_eq!(next_marker(true, Some("m"), &None), Some("m".into()));
        assert_eq!(next_marker(false, Some("m"), &None), None);
        assert_eq!(next_marker(true, None, &None), None);
        // A repeated marker stops instead of looping forever.
        assert_eq!(next_marker(true, Some("m"), &Some("m".into())), None);
    }
}
