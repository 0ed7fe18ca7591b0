//! The connection as it exists: the stack (DescribeStacks) and its role (IAM), turned into
//! Terraform state. Arguments are read back from the stack and the role, so out-of-band
//! changes show in the next plan; computed attributes hold the live trust policy and attached
//! policies.

use std::collections::BTreeMap;

use localops_aws::{CancellationToken, LiveOidcProvider, LiveRole, StackInfo};
use localops_domain::checks::{
    self, DeployedConnection, DeployedOidcProvider, DeployedPolicy, DeployedRole, DriftItem,
    Finding, NamedDocument,
};
use localops_domain::template::{self, STACK_NAME_PREFIX, output, parameter};
use tfplugin::{Diagnostic, FromValue, ObjectReader, Value};

use super::desired::Desired;
use super::errors;
use super::policy_json;
use crate::settings::Aws;

/// The stack, its role and the OIDC provider the role trusts.
#[derive(Clone, Debug)]
pub struct Live {
    pub stack: StackInfo,
    /// `None` when the role is gone (deleted out of band) or the stack has none yet.
    pub role: Option<LiveRole>,
    /// The default version's document of the role's permissions boundary, when it has one
    /// and it could be read.
    pub boundary_document: Option<String>,
    /// What IAM said about the OIDC provider.
    pub oidc_provider: ProviderRead,
}

/// The OIDC provider as read through IAM.
#[derive(Clone, Debug)]
pub enum ProviderRead {
    /// Not read: the stack holds nothing, or IAM could not be asked (logged).
    NotRead,
    Missing,
    Found(LiveOidcProvider),
}

/// What the deployed connection lacks, compared with what it defines: the drift the next
/// apply repairs, and what stops LocalOps now.
#[derive(Clone, Debug, Default)]
pub struct Assessment {
    pub drift: Vec<DriftItem>,
    pub findings: Vec<Finding>,
}

impl Assessment {
    /// The drift as the `drift` attribute shows it.
    pub fn drift_strings(&self) -> Vec<String> {
        self.drift.iter().map(ToString::to_string).collect()
    }
}

impl Live {
    /// The stack's role name (its parameter).
    pub fn role_name(&self) -> Option<&str> {
        self.stack
            .parameters
            .get(parameter::ROLE_NAME)
            .map(String::as_str)
            .filter(|n| !n.is_empty())
    }

    pub fn account_id(&self) -> String {
        account_from_arn(&self.stack.id).unwrap_or_default()
    }

    pub fn oidc_provider_arn(&self) -> String {
        self.stack
            .outputs
            .get(output::OIDC_PROVIDER_ARN)
            .filter(|a| !a.is_empty())
            .or_else(|| {
                self.stack
                    .parameters
                    .get(parameter::EXISTING_OIDC_PROVIDER_ARN)
                    .filter(|a| !a.is_empty())
            })
            .cloned()
            .unwrap_or_default()
    }

    pub fn creates_oidc_provider(&self) -> bool {
        self.stack
            .parameters
            .get(parameter::EXISTING_OIDC_PROVIDER_ARN)
            .is_none_or(|a| a.is_empty())
    }

    pub fn attached_policy_arns(&self) -> Vec<String> {
        let mut arns: Vec<String> = self
            .role
            .as_ref()
            .map(|r| r.attached_policies.iter().map(|p| p.arn.clone()).collect())
            .unwrap_or_default();
        arns.sort();
        arns.dedup();
        arns
    }

    /// What is deployed, as the domain's checks take it. An OIDC provider that could not be
    /// read is taken as `stand_in` (so it is neither reported missing nor drifted).
    pub fn deployed(&self, stand_in: Option<DeployedOidcProvider>) -> DeployedConnection {
        let role = self.role.as_ref().map(|r| DeployedRole {
            arn: r.arn.clone(),
            trust_policy: r.trust_policy.clone(),
            max_session_duration: r.max_session_duration,
            permissions_boundary: r
                .permissions_boundary_arn
                .as_ref()
                .map(|arn| DeployedPolicy {
                    name: arn.rsplit('/').next().unwrap_or(arn).to_owned(),
                    arn: arn.clone(),
                    document: self.boundary_document.clone(),
                }),
            attached_policies: r
                .attached_policies
                .iter()
                .map(|p| DeployedPolicy {
                    name: p.name.clone(),
                    arn: p.arn.clone(),
                    document: p.document.clone(),
                })
                .collect(),
            inline_policies: r
                .inline_policies
                .iter()
                .map(|p| NamedDocument::new(p.name.clone(), p.document.clone()))
                .collect(),
        });
        let oidc_provider = match &self.oidc_provider {
            ProviderRead::Found(p) => Some(DeployedOidcProvider {
                arn: p.arn.clone(),
                url: p.url.clone(),
                client_ids: p.client_ids.clone(),
                thumbprints: p.thumbprints.clone(),
            }),
            ProviderRead::Missing => None,
            ProviderRead::NotRead => stand_in,
        };
        DeployedConnection {
            role,
            oidc_provider,
        }
    }

    /// Compares what is deployed with what `desired` defines (in the stack's account):
    /// `None` when the account is not known or the stack holds nothing.
    pub fn assess(&self, desired: &Desired) -> Option<Assessment> {
        let account = self.account_id();
        if account.is_empty() || !has_resources(&self.stack.status) {
            return None;
        }
        let mut desired = desired.clone();
        if self.creates_oidc_provider() {
            desired.existing_oidc_provider_arn = None;
        }
        let expected = desired.check_input(Some(&account));
        let stand_in = DeployedOidcProvider {
            arn: expected.oidc_provider_arn.clone(),
            url: expected.issuer_host(),
            client_ids: expected
                .oidc_client_ids
                .clone()
                .unwrap_or_else(|| vec![expected.audience.clone()]),
            thumbprints: Vec::new(),
        };
        let deployed = self.deployed(Some(stand_in));
        Some(Assessment {
            drift: checks::drift(&expected, &deployed),
            findings: checks::check_live(&expected, &deployed),
        })
    }

    pub fn trust_policy(&self) -> String {
        self.role
            .as_ref()
            .map(|r| policy_json::canonical(&r.trust_policy))
            .unwrap_or_default()
    }
}

/// The account of an ARN (`arn:aws:cloudformation:us-east-1:123456789012:stack/...`).
pub fn account_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
}

/// Reads the stack by name or id, and its role. `Ok(None)` when the stack does not exist or
/// was deleted. `fresh` retries IAM's "no such entity" for a role just created.
pub async fn read(
    aws: &Aws,
    stack: &str,
    cancel: &CancellationToken,
    fresh: bool,
) -> Result<Option<Live>, Diagnostic> {
    let info = aws
        .stacks
        .describe_stack(stack, cancel)
        .await
        .map_err(|e| errors::stack_error("reading", stack, &e))?;
    let Some(info) = info else {
        return Ok(None);
    };
    let mut live = Live {
        stack: info,
        role: None,
        boundary_document: None,
        oidc_provider: ProviderRead::NotRead,
    };
    if !has_resources(&live.stack.status) {
        return Ok(Some(live));
    }
    let iam = if fresh {
        aws.iam.clone().retrying_not_found()
    } else {
        aws.iam.clone()
    };
    if let Some(role_name) = live.role_name().map(str::to_owned) {
        live.role = iam
            .get_role(&role_name, cancel)
            .await
            .map_err(|e| errors::iam_error(&format!("reading the role {role_name}"), &e))?;
    }
    // The boundary's document and the provider are for the checks: when IAM will not say,
    // the checks do without (logged), the state is still read.
    if let Some(arn) = live
        .role
        .as_ref()
        .and_then(|r| r.permissions_boundary_arn.clone())
    {
        match aws.iam.policy_document(&arn, cancel).await {
            Ok(found) => live.boundary_document = found.map(|(_, document)| document),
            Err(e) => {
                tracing::warn!(boundary = %arn, error = %e, "could not read the role's permissions boundary")
            }
        }
    }
    let provider_arn = live.oidc_provider_arn();
    if !provider_arn.is_empty() {
        // Not retried when missing: a deleted provider is drift to report, not a delay.
        live.oidc_provider = match aws.iam.get_oidc_provider(&provider_arn, cancel).await {
            Ok(Some(p)) => ProviderRead::Found(p),
            Ok(None) => ProviderRead::Missing,
            Err(e) => {
                tracing::warn!(provider = %provider_arn, error = %e, "could not read the OIDC provider");
                ProviderRead::NotRead
            }
        };
    }
    Ok(Some(live))
}

/// False for statuses in which the stack holds no resources (a failed create that rolled
/// back).
pub fn has_resources(status: &str) -> bool {
    !matches!(
        status,
        "ROLLBACK_COMPLETE" | "ROLLBACK_IN_PROGRESS" | "DELETE_COMPLETE" | "REVIEW_IN_PROGRESS"
    )
}

/// Where the arguments of a new state come from.
pub enum Arguments<'a> {
    /// Refresh: read back from AWS, keeping what AWS cannot tell (the permission set string)
    /// from the prior state.
    Refresh(&'a Value),
    /// Import: read back from AWS, the permission set reconstructed from the template.
    Import(Option<String>),
}

fn attr<T: FromValue>(value: &Value, name: &str) -> Option<T> {
    ObjectReader::new(value).ok()?.get::<T>(name).ok()
}

/// The state of a live connection. `default_tags` are the provider's: stack tags equal to
/// them are not the resource's own `tags`.
pub fn state(
    live: &Live,
    arguments: Arguments<'_>,
    default_tags: &BTreeMap<String, String>,
) -> Value {
    let stack = &live.stack;
    let name = stack
        .name
        .strip_prefix(STACK_NAME_PREFIX)
        .unwrap_or(&stack.name)
        .to_owned();
    let role_name = live.role_name().unwrap_or_default().to_owned();
    let max_session_duration = live
        .role
        .as_ref()
        .and_then(|r| r.max_session_duration)
        .map(i64::from)
        .or_else(|| {
            stack
                .parameters
                .get(parameter::MAX_SESSION_DURATION)
                .and_then(|v| v.parse::<i64>().ok())
        })
        .unwrap_or(i64::from(template::DEFAULT_MAX_SESSION_DURATION));
    let (permission_set, prior_tags) = match &arguments {
        Arguments::Refresh(prior) => (
            attr::<Option<String>>(prior, "permission_set").flatten(),
            attr::<Option<BTreeMap<String, String>>>(prior, "tags").flatten(),
        ),
        Arguments::Import(permission_set) => (permission_set.clone(), None),
    };
    let tags = resource_tags(&stack.tags, default_tags, prior_tags.as_ref());
    let role_arn = stack
        .outputs
        .get(output::ROLE_ARN)
        .filter(|a| !a.is_empty())
        .cloned()
        .or_else(|| live.role.as_ref().map(|r| r.arn.clone()))
        .unwrap_or_default();
    let strings = |items: Vec<String>| Value::List(items.into_iter().map(Value::String).collect());
    let string_map = |map: &BTreeMap<String, String>| {
        Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    Value::object([
        ("id", Value::String(stack.id.clone())),
        ("name", Value::String(name)),
        (
            "subject",
            Value::String(
                stack
                    .parameters
                    .get(parameter::SUBJECT)
                    .cloned()
                    .unwrap_or_default(),
            ),
        ),
        (
            "permission_set",
            permission_set.map_or(Value::Null, Value::String),
        ),
        ("role_name", Value::String(role_name)),
        ("max_session_duration", Value::from(max_session_duration)),
        ("oidc_provider_arn", Value::String(live.oidc_provider_arn())),
        ("tags", tags.as_ref().map_or(Value::Null, string_map)),
        (
            "termination_protection",
            Value::Bool(stack.termination_protection),
        ),
        ("stack_name", Value::String(stack.name.clone())),
        ("account_id", Value::String(live.account_id())),
        ("role_arn", Value::String(role_arn)),
        ("status", Value::String(stack.status.clone())),
        ("trust_policy", Value::String(live.trust_policy())),
        ("managed_policy_arns", strings(live.attached_policy_arns())),
        // Set by the caller, which knows what the connection defines.
        ("drift", Value::List(Vec::new())),
        ("tags_all", string_map(&stack.tags)),
        (
            "creates_oidc_provider",
            Value::Bool(live.creates_oidc_provider()),
        ),
    ])
}

/// The resource's own tags among the stack's: the prior ones (with their live values), plus
/// any tag neither they nor the provider's `default_tags` explain.
fn resource_tags(
    live: &BTreeMap<String, String>,
    default_tags: &BTreeMap<String, String>,
    prior: Option<&BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    let mut tags = BTreeMap::new();
    if let Some(prior) = prior {
        for key in prior.keys() {
            if let Some(value) = live.get(key) {
                tags.insert(key.clone(), value.clone());
            }
        }
    }
    for (key, value) in live {
        let explained =
            prior.is_some_and(|p| p.contains_key(key)) || default_tags.get(key) == Some(value);
        if !explained {
            tags.insert(key.clone(), value.clone());
        }
    }
    if tags.is_empty() && prior.is_none() {
        None
    } else {
        Some(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tags_are_split_from_default_tags() {
        let live = map(&[("team", "ops"), ("env", "prod")]);
        let defaults = map(&[("team", "ops")]);
        assert_eq!(
            resource_tags(&live, &defaults, None),
            Some(map(&[("env", "prod")]))
        );
        assert_eq!(
            resource_tags(&map(&[("team", "ops")]), &defaults, None),
            None
        );
        // A prior tag equal to a default tag stays the resource's.
        assert_eq!(
            resource_tags(&live, &defaults, Some(&map(&[("team", "ops")]))),
            Some(map(&[("team", "ops"), ("env", "prod")]))
        );
        // An empty map stays an empty map.
        assert_eq!(
            resource_tags(&map(&[("team", "ops")]), &defaults, Some(&map(&[]))),
            Some(map(&[]))
        );
    }

    #[test]
    fn account_from_stack_id() {
        assert_eq!(
            account_from_arn("arn:aws:cloudformation:us-east-1:123456789012:stack/Ops-x/abc")
                .as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_from_arn("Ops-x"), None);
    }
}
