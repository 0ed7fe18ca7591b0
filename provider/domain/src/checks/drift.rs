//! Differences between what the connection defines and what is deployed.

use std::collections::BTreeSet;
use std::fmt;

use super::canonical::{canonical_policy, same_policy};
use super::permissions::policy_name_from_arn;
use super::{DeployedConnection, StaticCheckInput};

/// One concrete difference, for the resource to plan the repair. [`drift`] lists them in the
/// order of this enum's variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftItem {
    /// The role does not exist.
    RoleMissing { role_name: String },
    /// The OIDC provider does not exist.
    OidcProviderMissing { arn: String },
    /// The provider's URL is not the issuer's host+path.
    OidcProviderUrl { expected: String, deployed: String },
    /// A client ID the connection needs (the audience) is missing.
    OidcClientIdMissing { client_id: String },
    /// A client ID the connection did not define (only for a provider the connection creates).
    OidcClientIdExtra { client_id: String },
    /// The trust policy differs in meaning; both in canonical JSON (see the canonical module).
    TrustPolicy { expected: String, deployed: String },
    /// The maximum session duration differs (`None`: IAM did not report it).
    MaxSessionDuration {
        expected: i64,
        deployed: Option<u32>,
    },
    /// A managed policy the connection attaches is not attached. `arn` for AWS managed
    /// policies; customer managed ones are known by name.
    ManagedPolicyMissing { name: String, arn: Option<String> },
    /// A customer managed policy of the connection is attached but its document differs.
    ManagedPolicyDocument { name: String, arn: String },
    /// A managed policy the connection does not define is attached.
    ManagedPolicyExtra { name: String, arn: String },
    /// The role has an inline policy (the connection defines none).
    InlinePolicy { name: String },
    /// The role has a permissions boundary (the connection sets none).
    PermissionsBoundary { arn: String },
}

impl fmt::Display for DriftItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriftItem::RoleMissing { role_name } => write!(f, "role {role_name:?} is missing"),
            DriftItem::OidcProviderMissing { arn } => write!(f, "OIDC provider {arn} is missing"),
            DriftItem::OidcProviderUrl { expected, deployed } => write!(
                f,
                "OIDC provider URL is {deployed:?}, expected {expected:?}"
            ),
            DriftItem::OidcClientIdMissing { client_id } => {
                write!(f, "OIDC provider lacks client ID {client_id:?}")
            }
            DriftItem::OidcClientIdExtra { client_id } => {
                write!(f, "OIDC provider has an extra client ID {client_id:?}")
            }
            DriftItem::TrustPolicy { .. } => f.write_str("trust policy differs"),
            DriftItem::MaxSessionDuration { expected, deployed } => match deployed {
                Some(d) => write!(f, "maximum session duration is {d}, expected {expected}"),
                None => write!(
                    f,
                    "maximum session duration is unknown, expected {expected}"
                ),
            },
            DriftItem::ManagedPolicyMissing { name, arn } => match arn {
                Some(arn) => write!(f, "managed policy {arn} is not attached"),
                None => write!(f, "managed policy {name:?} is not attached"),
            },
            DriftItem::ManagedPolicyDocument { name, .. } => {
                write!(f, "managed policy {name:?} has a different document")
            }
            DriftItem::ManagedPolicyExtra { arn, .. } => {
                write!(f, "managed policy {arn} is attached but not defined")
            }
            DriftItem::InlinePolicy { name } => write!(f, "inline policy {name:?} is present"),
            DriftItem::PermissionsBoundary { arn } => {
                write!(f, "permissions boundary {arn} is set")
            }
        }
    }
}

/// The differences between what `expected` defines and what is `deployed`; empty when they
/// agree (documents compared by meaning: key order and whitespace do not matter). Build
/// `expected` with the real account: its trust policy names the OIDC provider by account.
pub fn drift(expected: &StaticCheckInput, deployed: &DeployedConnection) -> Vec<DriftItem> {
    let mut out = Vec::new();
    if deployed.role.is_none() {
        out.push(DriftItem::RoleMissing {
            role_name: expected.role_name.clone(),
        });
    }
    match &deployed.oidc_provider {
        None => out.push(DriftItem::OidcProviderMissing {
            arn: expected.oidc_provider_arn.clone(),
        }),
        Some(p) => {
            let host = expected.issuer_host();
            if p.url != host {
                out.push(DriftItem::OidcProviderUrl {
                    expected: host,
                    deployed: p.url.clone(),
                });
            }
            let mut wanted: BTreeSet<&str> = BTreeSet::new();
            wanted.insert(expected.audience.as_str());
            if let Some(ids) = &expected.oidc_client_ids {
                wanted.extend(ids.iter().map(String::as_str));
            }
            for id in &wanted {
                if !p.client_ids.iter().any(|c| c == id) {
                    out.push(DriftItem::OidcClientIdMissing {
                        client_id: (*id).to_owned(),
                    });
                }
            }
            if expected.creates_oidc_provider && expected.oidc_client_ids.is_some() {
                let extra: BTreeSet<&str> = p
                    .client_ids
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !wanted.contains(c))
                    .collect();
                out.extend(extra.into_iter().map(|c| DriftItem::OidcClientIdExtra {
                    client_id: c.to_owned(),
                }));
            }
        }
    }
    let Some(role) = &deployed.role else {
        return out;
    };
    if !same_policy(&expected.trust_policy, &role.trust_policy) {
        out.push(DriftItem::TrustPolicy {
            expected: canonical_policy(&expected.trust_policy)
                .unwrap_or_else(|| expected.trust_policy.clone()),
            deployed: canonical_policy(&role.trust_policy)
                .unwrap_or_else(|| role.trust_policy.clone()),
        });
    }
    if role.max_session_duration.map(i64::from) != Some(expected.max_session_duration) {
        out.push(DriftItem::MaxSessionDuration {
            expected: expected.max_session_duration,
            deployed: role.max_session_duration,
        });
    }
    let perms = &expected.permissions;
    let mut documents_changed = Vec::new();
    let mut extra = Vec::new();
    for p in &role.attached_policies {
        if perms.managed_policy_arns.contains(&p.arn) {
            continue;
        }
        match perms.policy_documents.iter().find(|d| d.name == p.name) {
            Some(d) => {
                if let Some(doc) = &p.document
                    && !same_policy(&d.document, doc)
                {
                    documents_changed.push(DriftItem::ManagedPolicyDocument {
                        name: p.name.clone(),
                        arn: p.arn.clone(),
                    });
                }
            }
            None => extra.push(DriftItem::ManagedPolicyExtra {
                name: p.name.clone(),
                arn: p.arn.clone(),
            }),
        }
    }
    for d in &perms.policy_documents {
        if !role.attached_policies.iter().any(|p| p.name == d.name) {
            out.push(DriftItem::ManagedPolicyMissing {
                name: d.name.clone(),
                arn: None,
            });
        }
    }
    for arn in &perms.managed_policy_arns {
        if !role.attached_policies.iter().any(|p| p.arn == *arn) {
            out.push(DriftItem::ManagedPolicyMissing {
                name: policy_name_from_arn(arn).to_owned(),
                arn: Some(arn.clone()),
            });
        }
    }
    out.extend(documents_changed);
    out.extend(extra);
    out.extend(
        role.inline_policies
            .iter()
            .map(|p| DriftItem::InlinePolicy {
                name: p.name.clone(),
            }),
    );
    if let Some(b) = &role.permissions_boundary {
        out.push(DriftItem::PermissionsBoundary { arn: b.arn.clone() });
    }
    out
}
