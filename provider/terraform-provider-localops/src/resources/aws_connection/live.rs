//! The connection as it exists: the stack (DescribeStacks) and its role (IAM), turned into
//! Terraform state. Arguments are read back from the stack and the role, so out-of-band
//! changes show in the next plan; computed attributes hold the live trust policy and attached
//! policies.

use std::collections::BTreeMap;

use localops_aws::{CancellationToken, LiveRole, StackInfo};
use localops_domain::template::{self, STACK_NAME_PREFIX, output, parameter};
use tfplugin::{Diagnostic, FromValue, ObjectReader, Value};

use super::errors;
use super::policy_json;
use crate::settings::Aws;

/// The stack and its role.
#[derive(Clone, Debug)]
pub struct Live {
    pub stack: StackInfo,
    /// `None` when the role is gone (deleted out of band) or the stack has none yet.
    pub role: Option<LiveRole>,
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
    };
    if let Some(role_name) = live.role_name().map(str::to_owned)
        && has_resources(&live.stack.status)
    {
        let iam = if fresh {
            aws.iam.clone().retrying_not_found()
        } else {
            aws.iam.clone()
        };
        live.role = iam
            .get_role(&role_name, cancel)
            .await
            .map_err(|e| errors::iam_error(&format!("reading the role {role_name}"), &e))?;
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
