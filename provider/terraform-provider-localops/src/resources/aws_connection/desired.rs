//! What a connection should be, from its arguments and the provider settings: the stack
//! (template, parameters, tags, termination protection) and the live IAM facts it implies
//! (the role's trust policy and attached policies), so plans can compare them with what
//! exists and applies can repair drift CloudFormation will not.

use std::collections::BTreeMap;

use localops_aws::StackSpec;
use localops_domain::checks::StaticCheckInput;
use localops_domain::permission_set::{
    PermissionSetBundle, administrator_access_arn, region_partition,
};
use localops_domain::template::{
    self, ConnectionParameters, ConnectionTemplateInput, MAX_TEMPLATE_BODY_BYTES, TemplateError,
};
use serde_json::Value as Json;
use tfplugin::{AttributePath, Diagnostic};

use super::policy_json;

/// Template metadata key holding the permission set bundle (without its policy documents,
/// which are the template's `PermissionPolicyN` resources), so an import can give back the
/// exact `permission_set` string.
pub const PERMISSION_SET_METADATA: &str = "LocalOps::PermissionSet";

/// The connection's arguments, all known, with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub name: String,
    pub subject: String,
    pub role_name: String,
    pub max_session_duration: u32,
    /// An existing OIDC provider to use instead of creating one.
    pub existing_oidc_provider_arn: Option<String>,
    /// The permission set as configured (`None`: AdministratorAccess).
    pub permission_set: Option<String>,
    pub bundle: Option<PermissionSetBundle>,
    /// `default_tags` merged with `tags` (the resource's win).
    pub tags_all: BTreeMap<String, String>,
    pub termination_protection: bool,
    pub issuer_url: String,
    pub audience: String,
    pub partition: String,
}

/// Which attribute an input problem belongs to.
pub fn attribute_of(field: &str) -> Option<AttributePath> {
    let name = match field {
        "name" => "name",
        "subject" => "subject",
        "role_name" => "role_name",
        "max_session_duration" => "max_session_duration",
        "existing_oidc_provider_arn" => "oidc_provider_arn",
        "tags" => "tags",
        "policy_documents" | "managed_policy_arns" | "thumbprints" => "permission_set",
        // Provider-level (issuer_url, audience) or the template itself.
        _ => return None,
    };
    Some(AttributePath::attr(name))
}

/// A domain error as a diagnostic pointing at the attribute concerned. Provider-level
/// problems name the provider setting instead.
pub fn template_diagnostic(e: TemplateError) -> Diagnostic {
    let summary = capitalise(&e.summary);
    match attribute_of(&e.field) {
        Some(path) => Diagnostic::error(summary, e.detail).at(path),
        None => {
            let setting = match e.field.as_str() {
                "issuer_url" => " (provider setting `oidc_issuer_url`)",
                "audience" => " (provider setting `oidc_audience`)",
                _ => "",
            };
            Diagnostic::error(summary, format!("{}{setting}", e.detail))
        }
    }
}

pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Parses the `permission_set` argument.
pub fn parse_bundle(json: &str) -> Result<PermissionSetBundle, Diagnostic> {
    PermissionSetBundle::parse(json).map_err(|why| {
        Diagnostic::error(
            "Invalid permission set",
            format!(
                "{why}. Pass the `json` attribute of a localops_permission_set resource, e.g. \
                 permission_set = localops_permission_set.this.json."
            ),
        )
        .at(AttributePath::attr("permission_set"))
    })
}

/// The AWS partition of a region (`aws` when the region is not known to the catalog).
pub fn partition_of(region: &str) -> String {
    region_partition(region).unwrap_or("aws").to_owned()
}

/// `default_tags` with `tags` on top.
pub fn merge_tags(
    default_tags: &BTreeMap<String, String>,
    tags: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut all = default_tags.clone();
    if let Some(tags) = tags {
        all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    all
}

impl Desired {
    fn template_input(&self) -> ConnectionTemplateInput {
        match &self.bundle {
            Some(bundle) => ConnectionTemplateInput {
                issuer_url: self.issuer_url.clone(),
                policy_documents: bundle.policy_documents.clone(),
                managed_policy_arns: bundle.managed_policy_arns.clone(),
                thumbprints: Vec::new(),
                tags: self.tags_all.clone(),
            },
            None => ConnectionTemplateInput {
                managed_policy_arns: vec![administrator_access_arn(&self.partition)],
                tags: self.tags_all.clone(),
                ..ConnectionTemplateInput::administrator_access(self.issuer_url.clone())
            },
        }
    }

    pub fn parameters(&self) -> ConnectionParameters {
        ConnectionParameters {
            issuer_url: self.issuer_url.clone(),
            audience: self.audience.clone(),
            subject: self.subject.clone(),
            role_name: self.role_name.clone(),
            max_session_duration: self.max_session_duration,
            existing_oidc_provider_arn: self.existing_oidc_provider_arn.clone(),
        }
    }

    /// The input of the domain's checks: what this connection deploys, in `account_id` when
    /// known (the placeholder account otherwise).
    pub fn check_input(&self, account_id: Option<&str>) -> StaticCheckInput {
        StaticCheckInput::for_connection(&self.parameters(), account_id, self.bundle.as_ref())
    }

    /// Every problem with the inputs, as diagnostics with attribute paths.
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut problems: Vec<Diagnostic> =
            template::validate_connection_parameters(&self.parameters())
                .into_iter()
                .map(template_diagnostic)
                .collect();
        if let Err(e) = template::validate_connection_name(&self.name) {
            problems.push(template_diagnostic(e));
        }
        if problems.is_empty()
            && let Err(e) = self.stack_spec()
        {
            problems.push(e);
        }
        problems
    }

    /// The stack to create or update to.
    pub fn stack_spec(&self) -> Result<StackSpec, Diagnostic> {
        let rendered =
            template::render_template(&self.template_input()).map_err(template_diagnostic)?;
        let body = match &self.bundle {
            Some(bundle) => with_bundle_metadata(&rendered.body, bundle).unwrap_or(rendered.body),
            None => rendered.body,
        };
        Ok(StackSpec {
            name: template::stack_name(&self.name),
            template_body: body,
            parameters: template::stack_parameters(&self.parameters())
                .into_iter()
                .collect(),
            tags: self.tags_all.clone(),
            termination_protection: self.termination_protection,
        })
    }

    /// The trust policy the role must have, canonical.
    pub fn trust_policy(&self, oidc_provider_arn: &str) -> String {
        policy_json::canonical_value(&template::trust_policy(
            &self.issuer_url,
            oidc_provider_arn,
            &self.audience,
            &self.subject,
        ))
    }

    /// The ARNs of the policies the role must have attached, sorted.
    pub fn managed_policy_arns(&self, account_id: &str) -> Vec<String> {
        let mut arns = match &self.bundle {
            Some(bundle) => {
                let mut arns: Vec<String> = (1..=bundle.policy_documents.len())
                    .map(|n| {
                        format!(
                            "arn:{}:iam::{account_id}:policy/{}-{n}",
                            self.partition, self.role_name
                        )
                    })
                    .collect();
                arns.extend(bundle.managed_policy_arns.iter().cloned());
                arns
            }
            None => vec![administrator_access_arn(&self.partition)],
        };
        arns.sort();
        arns.dedup();
        arns
    }

    /// The ARN of the OIDC provider the role trusts: the existing one, or the one the stack
    /// creates (IAM names it after the issuer).
    pub fn oidc_provider_arn(&self, account_id: &str) -> Option<String> {
        match &self.existing_oidc_provider_arn {
            Some(arn) => Some(arn.clone()),
            None => Some(format!(
                "arn:{}:iam::{account_id}:oidc-provider/{}",
                self.partition,
                template::issuer_host(&self.issuer_url).ok()?
            )),
        }
    }
}

/// The rendered body with the bundle (minus policy documents) in the template's metadata,
/// formatted like the renderer formats; `None` when it would not fit CloudFormation's limit
/// (the stack then works the same, only an import cannot give the exact string back).
fn with_bundle_metadata(body: &str, bundle: &PermissionSetBundle) -> Option<String> {
    let mut template: Json = serde_json::from_str(body).ok()?;
    let mut summary: Json = serde_json::from_str(&bundle.to_json()).ok()?;
    summary
        .as_object_mut()?
        .insert("policy_documents".into(), Json::Array(Vec::new()));
    template
        .as_object_mut()?
        .entry("Metadata")
        .or_insert_with(|| Json::Object(serde_json::Map::new()))
        .as_object_mut()?
        .insert(PERMISSION_SET_METADATA.into(), summary);
    let mut pretty = serde_json::to_string_pretty(&template).ok()?;
    pretty.push('\n');
    if pretty.len() <= MAX_TEMPLATE_BODY_BYTES {
        return Some(pretty);
    }
    let compact = serde_json::to_string(&template).ok()?;
    (compact.len() <= MAX_TEMPLATE_BODY_BYTES).then_some(compact)
}

/// Gives back the permission set a template was rendered from: the exact bundle string when
/// the template carries it; `Ok(None)` for AdministratorAccess alone; `Err` with an
/// explanation when the template's permissions cannot be expressed as the bundle.
pub fn permission_set_from_template(template_body: &str) -> Result<Option<String>, String> {
    let template: Json = serde_json::from_str(template_body)
        .map_err(|e| format!("the stack's template is not JSON ({e})"))?;
    let resources = template
        .get("Resources")
        .and_then(Json::as_object)
        .ok_or("the stack's template has no Resources")?;
    let documents: Vec<Json> = (1..)
        .map(template::logical_id::permission_policy)
        .map_while(|id| {
            resources
                .get(&id)
                .and_then(|r| r.pointer("/Properties/PolicyDocument"))
                .cloned()
        })
        .collect();
    if let Some(summary) = template
        .pointer("/Metadata")
        .and_then(|m| m.get(PERMISSION_SET_METADATA))
    {
        let mut summary = summary.clone();
        if let Some(object) = summary.as_object_mut() {
            object.insert("policy_documents".into(), Json::Array(documents));
        }
        let text = serde_json::to_string(&summary).unwrap_or_default();
        return PermissionSetBundle::parse(&text)
            .map(|bundle| Some(bundle.to_json()))
            .map_err(|e| {
                format!("the permission set recorded in the stack's template is unreadable ({e})")
            });
    }
    let arns = template
        .pointer(&format!(
            "/Resources/{}/Properties/ManagedPolicyArns",
            template::logical_id::ROLE
        ))
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let only_admin = documents.is_empty()
        && arns.len() == 1
        && arns[0]
            .as_str()
            .is_some_and(|a| a.ends_with(":iam::aws:policy/AdministratorAccess"));
    if only_admin {
        Ok(None)
    } else {
        Err(
            "the stack's template grants a permission set but does not record it (it was not \
             created by this provider)"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use localops_domain::permission_set::{PermissionSetSpec, render};

    fn bundle_json() -> String {
        render(&PermissionSetSpec {
            name: "acme".into(),
            administrator: false,
            optional_services: vec!["s3".into()],
            regions: None,
            extra_statements: None,
        })
        .unwrap()
        .json
    }

    fn desired(permission_set: Option<String>) -> Desired {
        Desired {
            name: "acme-prod".into(),
            subject: "connection:acme-prod".into(),
            role_name: "LocalOps-acme-prod".into(),
            max_session_duration: 3600,
            existing_oidc_provider_arn: None,
            bundle: permission_set.as_deref().map(|j| parse_bundle(j).unwrap()),
            permission_set,
            tags_all: BTreeMap::from([("team".into(), "ops".into())]),
            termination_protection: false,
            issuer_url: "https://oidc.example.com".into(),
            audience: "sts.amazonaws.com".into(),
            partition: "aws".into(),
        }
    }

    #[test]
    fn the_bundle_round_trips_through_the_template() {
        let json = bundle_json();
        let d = desired(Some(json.clone()));
        assert!(d.check().is_empty(), "{:?}", d.check());
        let spec = d.stack_spec().unwrap();
        assert_eq!(spec.name, "Ops-acme-prod");
        assert_eq!(
            permission_set_from_template(&spec.template_body).unwrap(),
            Some(json)
        );
        // Deterministic.
        assert_eq!(d.stack_spec().unwrap(), spec);
        let arns = d.managed_policy_arns("123456789012");
        assert!(arns.contains(&"arn:aws:iam::123456789012:policy/LocalOps-acme-prod-1".to_owned()));
    }

    #[test]
    fn administrator_access_by_default() {
        let d = desired(None);
        let spec = d.stack_spec().unwrap();
        assert_eq!(
            permission_set_from_template(&spec.template_body).unwrap(),
            None
        );
        assert_eq!(
            d.managed_policy_arns("123456789012"),
            ["arn:aws:iam::aws:policy/AdministratorAccess"]
        );
        assert_eq!(
            spec.parameters.get("Subject").unwrap(),
            "connection:acme-prod"
        );
        assert_eq!(
            d.oidc_provider_arn("123456789012").unwrap(),
            "arn:aws:iam::123456789012:oidc-provider/oidc.example.com"
        );
        let trust = d.trust_policy("arn:aws:iam::123456789012:oidc-provider/oidc.example.com");
        assert!(trust.contains("\"oidc.example.com:sub\":\"connection:acme-prod\""));
    }

    #[test]
    fn problems_point_at_attributes() {
        let mut d = desired(None);
        d.role_name = "x".repeat(65);
        d.max_session_duration = 60;
        let paths: Vec<String> = d
            .check()
            .iter()
            .map(|p| {
                p.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(paths, ["role_name", "max_session_duration"]);
    }
}
