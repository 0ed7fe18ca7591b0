//! Permission sets: the IAM permissions a LocalOps connection grants, rendered from the
//! permission catalog (see [`crate::catalog`]) into managed policies for the connection role.
//!
//! # Inputs ([`PermissionSetSpec`])
//!
//! * `name`: 1 to 64 letters, digits and `+=,.@_-`; it is the set's `id` and part of the policy
//!   names ([`policy_name`]).
//! * `administrator`: grant the AWS managed policy `AdministratorAccess` (the 1-click default)
//!   instead of the catalog's least-privilege statements. `optional_services` are still
//!   validated and recorded, and their actions are part of `required_actions` (the purposes the
//!   set promises), but they add no statement: AdministratorAccess already grants them.
//! * `optional_services`: any of `s3`, `rds`, `elasticache`, `sns`, `sqs`; the required services
//!   (VPC, EC2, EKS, IAM, STS, KMS, SSM Parameter Store) are always granted. Order and
//!   duplicates do not matter.
//! * `regions`: when set, regional actions only work in these regions. Without administrator,
//!   every statement of a regional service gets `StringEquals aws:RequestedRegion [regions]`;
//!   statements of global services (IAM, STS, and the IAM parts of RDS and ElastiCache) get no
//!   condition. With administrator, one extra statement denies everything outside the regions
//!   except the globally served services (`Deny`, `NotAction`, `StringNotEquals
//!   aws:RequestedRegion`), as in AWS's documented example. All regions must belong to one
//!   partition, which the ARNs are then written for (`aws` when `regions` is unset).
//! * `extra_statements`: a JSON array of identity-policy statements, appended after the
//!   catalog's as given (with action arrays sorted); they are not region-limited. Every action
//!   must exist in the action catalog (a wildcard must match at least one action).
//!
//! # Outputs ([`RenderedPermissionSet`])
//!
//! Customer managed policy documents as compact JSON, each within IAM's 6,144-character limit
//! (measured as the UTF-8 length of the compact JSON, which never undercounts IAM's
//! non-whitespace character count), statements packed first fit in catalog order and split when
//! one alone is too large; the AWS managed policy ARNs; every action granted; and the canonical
//! JSON bundle ([`PermissionSetBundle`]). All of it is deterministic: the same spec, in any
//! order of its sets, renders byte-identical output.

mod bundle;
mod extra;
mod fit;
mod regions;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::catalog::{self, CatalogStatement, PARTITION_PLACEHOLDER, REGION_DENY_SID};
pub use bundle::{BUNDLE_FORMAT_VERSION, PermissionSetBundle};
use fit::Statement;

/// Longest permission set name.
pub const MAX_NAME_LEN: usize = 64;

/// Characters besides ASCII letters and digits allowed in a permission set name.
pub const NAME_PUNCTUATION: &str = "+=,.@_-";

/// Name of the AWS managed policy granted with `administrator = true`.
pub const ADMINISTRATOR_ACCESS: &str = "AdministratorAccess";

/// IAM limits the rendering must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest customer managed policy, in characters (IAM: 6,144, not counting whitespace).
    pub max_policy_size: usize,
    /// Most managed policies (AWS and customer managed) attached to one role (IAM default
    /// quota: 10; it can be raised to 20 through Service Quotas).
    pub max_managed_policies: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_policy_size: 6144,
            max_managed_policies: 10,
        }
    }
}

/// What the `localops_permission_set` resource is configured with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PermissionSetSpec {
    pub name: String,
    pub administrator: bool,
    pub optional_services: Vec<String>,
    pub regions: Option<Vec<String>>,
    pub extra_statements: Option<String>,
}

/// The spec field an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecField {
    Name,
    Administrator,
    OptionalServices,
    Regions,
    ExtraStatements,
}

impl SpecField {
    /// The Terraform attribute name.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecField::Name => "name",
            SpecField::Administrator => "administrator",
            SpecField::OptionalServices => "optional_services",
            SpecField::Regions => "regions",
            SpecField::ExtraStatements => "extra_statements",
        }
    }
}

impl fmt::Display for SpecField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.attribute())
    }
}

/// A problem with a spec, for a Terraform diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub field: SpecField,
    /// The offending set value (`optional_services`, `regions`), or the statement's index in the
    /// array as a string (`extra_statements`); `None` when about the field as a whole.
    pub element: Option<String>,
    pub summary: String,
    pub detail: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.field, self.summary, self.detail)
    }
}

impl std::error::Error for SpecError {}

/// A rendered permission set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPermissionSet {
    /// The set's name.
    pub id: String,
    /// Compact JSON of each customer managed policy, in order (name them with [`policy_name`]).
    pub policy_documents: Vec<String>,
    /// AWS managed policies to attach (AdministratorAccess with `administrator = true`).
    pub managed_policy_arns: Vec<String>,
    /// Every action granted by an Allow statement, sorted and unique; `["*"]` for administrator.
    pub actions: Vec<String>,
    /// The canonical JSON bundle ([`PermissionSetBundle`]).
    pub json: String,
}

fn spec_error(
    field: SpecField,
    element: Option<&str>,
    summary: String,
    detail: String,
) -> SpecError {
    SpecError {
        field,
        element: element.map(str::to_owned),
        summary,
        detail,
    }
}

fn catalog_unavailable(field: SpecField, e: &catalog::CatalogError) -> SpecError {
    spec_error(
        field,
        None,
        "internal error: the permission catalog is unavailable".to_owned(),
        format!("{e}. This is a bug in the provider; please report it."),
    )
}

/// Checks a permission set name: 1 to 64 ASCII letters, digits and `+=,.@_-`.
pub fn validate_name(name: &str) -> Result<(), SpecError> {
    let allowed = format!("letters, digits and the characters {NAME_PUNCTUATION}");
    if name.is_empty() {
        return Err(spec_error(
            SpecField::Name,
            None,
            "name must not be empty".to_owned(),
            format!("Use 1 to {MAX_NAME_LEN} {allowed}."),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || NAME_PUNCTUATION.contains(*c)))
    {
        return Err(spec_error(
            SpecField::Name,
            None,
            format!("name contains {c:?}, which is not allowed"),
            format!("Use only {allowed}: the name is part of IAM policy names."),
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(spec_error(
            SpecField::Name,
            None,
            "name is too long".to_owned(),
            format!(
                "It has {} characters; at most {MAX_NAME_LEN} are allowed (the name is part of \
                 IAM policy names).",
                name.len()
            ),
        ));
    }
    Ok(())
}

/// Checks `optional_services`: each must be an optional service of the catalog. An unknown one
/// gets an error naming it whose detail lists the valid ones; a required service is refused
/// too, since it is always granted. One error per distinct offending value, sorted.
pub fn validate_optional_services(services: &[String]) -> Vec<SpecError> {
    let catalog = match catalog::catalog() {
        Ok(c) => c,
        Err(e) => return vec![catalog_unavailable(SpecField::OptionalServices, &e)],
    };
    let mut valid: Vec<&str> = catalog.optional_keys();
    valid.sort_unstable();
    let valid_list = valid.join(", ");
    let distinct: BTreeSet<&str> = services.iter().map(String::as_str).collect();
    let mut errors = Vec::new();
    for s in distinct {
        match catalog.service(s) {
            Some(service) if !service.required => {}
            Some(service) => errors.push(spec_error(
                SpecField::OptionalServices,
                Some(s),
                format!("{s:?} is not an optional service"),
                format!(
                    "{} is required and always granted. Valid optional services: {valid_list}.",
                    service.title
                ),
            )),
            None => {
                let hint = valid
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(s.trim()))
                    .map(|v| format!(" Did you mean {v:?}?"))
                    .unwrap_or_default();
                errors.push(spec_error(
                    SpecField::OptionalServices,
                    Some(s),
                    format!("unknown optional service {s:?}"),
                    format!("Valid optional services: {valid_list}.{hint}"),
                ));
            }
        }
    }
    errors
}

/// Checks `regions` (when set): not empty, each shaped like an AWS region (`us-east-1`,
/// `eu-central-2`, `us-gov-west-1`, `ap-southeast-4`, ...), all in one partition.
pub fn validate_regions(regions: &[String]) -> Vec<SpecError> {
    if regions.is_empty() {
        return vec![spec_error(
            SpecField::Regions,
            None,
            "regions must not be empty".to_owned(),
            "Omit regions to allow every region, or list the regions LocalOps may work in, e.g. \
             [\"us-east-1\"]."
                .to_owned(),
        )];
    }
    let distinct: BTreeSet<&str> = regions.iter().map(String::as_str).collect();
    let mut errors = Vec::new();
    let mut partitions: Vec<(&str, &str)> = Vec::new();
    for r in &distinct {
        match regions::region_partition(r) {
            Some(p) => partitions.push((r, p)),
            None => errors.push(spec_error(
                SpecField::Regions,
                Some(r),
                format!("invalid region {r:?}"),
                "Region names look like us-east-1, eu-central-2, us-gov-west-1 or ap-southeast-4 \
                 (lower case)."
                    .to_owned(),
            )),
        }
    }
    if let Some(&(_, first)) = partitions.first()
        && let Some(&(odd, _)) = partitions.iter().find(|(_, p)| *p != first)
    {
        let listed: Vec<String> = partitions
            .iter()
            .map(|(r, p)| format!("{r} ({p})"))
            .collect();
        errors.push(spec_error(
            SpecField::Regions,
            Some(odd),
            "regions span several AWS partitions".to_owned(),
            format!(
                "{}. An IAM role and its policies live in one partition; list regions of one \
                 partition only.",
                listed.join(", ")
            ),
        ));
    }
    errors
}

/// Checks `extra_statements`: JSON; an array; each element an object with Effect `Allow` or
/// `Deny`, Action or NotAction and Resource or NotResource (string or non-empty array of
/// strings), an optional alphanumeric Sid (unique, and not one LocalOps uses), an optional
/// Condition object, and no Principal. Every action must exist in the action catalog (a wildcard
/// must match at least one), with did-you-mean suggestions when not. Errors carry the
/// statement's index as `element`.
pub fn validate_extra_statements(json: &str) -> Vec<SpecError> {
    match parse_extra(json) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    }
}

fn parse_extra(json: &str) -> Result<Vec<Statement>, Vec<SpecError>> {
    let catalog = catalog::catalog()
        .map_err(|e| vec![catalog_unavailable(SpecField::ExtraStatements, &e)])?;
    extra::parse(json, &catalog.sids())
}

/// The suggested name of the `index`th (from 0) customer managed policy of a set:
/// `LocalOps-<name>-<index + 1>` (at most 76 characters; IAM allows 128).
pub fn policy_name(set_name: &str, index: usize) -> String {
    format!("LocalOps-{set_name}-{}", index + 1)
}

/// The partition of a region name (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, ...), or `None`
/// when it is not shaped like an AWS region.
pub fn region_partition(region: &str) -> Option<&'static str> {
    regions::region_partition(region)
}

/// ARN of the AWS managed policy AdministratorAccess in a partition.
pub fn administrator_access_arn(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{ADMINISTRATOR_ACCESS}")
}

/// Validates the spec and renders it with IAM's default limits.
pub fn render(spec: &PermissionSetSpec) -> Result<RenderedPermissionSet, Vec<SpecError>> {
    render_with_limits(spec, &Limits::default())
}

/// Validates the spec and renders it within `limits`. Returns every validation error at once.
pub fn render_with_limits(
    spec: &PermissionSetSpec,
    limits: &Limits,
) -> Result<RenderedPermissionSet, Vec<SpecError>> {
    let mut errors = Vec::new();
    if let Err(e) = validate_name(&spec.name) {
        errors.push(e);
    }
    errors.extend(validate_optional_services(&spec.optional_services));
    if let Some(regions) = &spec.regions {
        errors.extend(validate_regions(regions));
    }
    let extras = match &spec.extra_statements {
        Some(json) => match parse_extra(json) {
            Ok(statements) => statements,
            Err(e) => {
                errors.extend(e);
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let catalog = catalog::catalog()
        .map_err(|e| vec![catalog_unavailable(SpecField::OptionalServices, &e)])?;
    let action_catalog = catalog::action_catalog_version()
        .map_err(|e| vec![catalog_unavailable(SpecField::ExtraStatements, &e)])?;

    let selected: BTreeSet<&str> = spec.optional_services.iter().map(String::as_str).collect();
    let services: Vec<&catalog::Service> = catalog
        .services
        .iter()
        .filter(|s| s.required || selected.contains(s.key.as_str()))
        .collect();
    let optional_services: Vec<String> = services
        .iter()
        .filter(|s| !s.required)
        .map(|s| s.key.clone())
        .collect();
    let regions: Option<Vec<String>> = spec.regions.as_ref().map(|r| {
        let set: BTreeSet<&String> = r.iter().collect();
        set.into_iter().cloned().collect()
    });
    let partition = regions
        .as_ref()
        .and_then(|r| r.first())
        .and_then(|r| region_partition(r))
        .unwrap_or("aws");

    let required_actions: Vec<String> = services
        .iter()
        .flat_map(|s| s.actions())
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .map(str::to_owned)
        .collect();

    let mut managed_policy_arns = Vec::new();
    let mut statements: Vec<Statement> = Vec::new();
    if spec.administrator {
        managed_policy_arns.push(administrator_access_arn(partition));
        if let Some(regions) = &regions {
            statements.push(region_deny_statement(
                &catalog.region_exempt_actions,
                regions,
            ));
        }
    } else {
        let catalog_statements: Vec<&CatalogStatement> =
            services.iter().flat_map(|s| s.statements.iter()).collect();
        statements.extend(
            drop_covered_actions(&catalog_statements)
                .into_iter()
                .map(|(st, actions)| catalog_statement(st, actions, partition, regions.as_deref())),
        );
    }
    let catalog_statement_count = statements.len();
    let extra_count = extras.len();
    statements.extend(extras);

    let actions: Vec<String> = if spec.administrator {
        vec!["*".to_owned()]
    } else {
        granted_actions(&statements)
    };

    let documents = fit_documents(
        statements,
        catalog_statement_count,
        extra_count,
        managed_policy_arns.len(),
        limits,
    )?;
    let policy_names = (0..documents.len())
        .map(|i| policy_name(&spec.name, i))
        .collect();

    let bundle = PermissionSetBundle {
        format_version: BUNDLE_FORMAT_VERSION,
        id: spec.name.clone(),
        name: spec.name.clone(),
        administrator: spec.administrator,
        optional_services,
        regions,
        partition: partition.to_owned(),
        managed_policy_arns: managed_policy_arns.clone(),
        policy_names,
        policy_documents: documents.clone(),
        actions: actions.clone(),
        required_actions,
        action_catalog: action_catalog.to_owned(),
    };
    Ok(RenderedPermissionSet {
        id: spec.name.clone(),
        policy_documents: documents,
        managed_policy_arns,
        actions,
        json: bundle.to_json(),
    })
}

/// The Deny that keeps AdministratorAccess inside `regions`, except for globally served
/// services.
fn region_deny_statement(exempt: &[String], regions: &[String]) -> Statement {
    let mut not_action: Vec<&String> = exempt.iter().collect();
    not_action.sort();
    not_action.dedup();
    let mut condition = Map::new();
    condition.insert(
        "StringNotEquals".to_owned(),
        region_condition_block(regions),
    );
    let mut st = Map::new();
    st.insert("Sid".to_owned(), Value::String(REGION_DENY_SID.to_owned()));
    st.insert("Effect".to_owned(), Value::String("Deny".to_owned()));
    st.insert(
        "NotAction".to_owned(),
        strings_value(not_action.into_iter().map(String::as_str)),
    );
    st.insert("Resource".to_owned(), Value::String("*".to_owned()));
    st.insert("Condition".to_owned(), Value::Object(condition));
    st
}

fn region_condition_block(regions: &[String]) -> Value {
    let mut block = Map::new();
    block.insert(
        "aws:RequestedRegion".to_owned(),
        Value::Array(regions.iter().cloned().map(Value::String).collect()),
    );
    Value::Object(block)
}

/// A string for one item, an array for several.
fn strings_value<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    let mut items: Vec<Value> = items
        .into_iter()
        .map(|s| Value::String(s.to_owned()))
        .collect();
    if items.len() == 1 {
        items.remove(0)
    } else {
        Value::Array(items)
    }
}

/// Pairs each catalog statement with the actions it still has to grant once actions that
/// another statement with the same resources and condition already grants are dropped: a
/// concrete action covered by a wildcard there (e.g. `ec2:DescribeVpcs` by `ec2:Describe*`), or
/// the same action in an earlier statement (e.g. `ec2:CreateTags`). Statements left with no
/// action are dropped.
fn drop_covered_actions<'a>(
    statements: &[&'a CatalogStatement],
) -> Vec<(&'a CatalogStatement, Vec<&'a str>)> {
    let same_scope = |a: &CatalogStatement, b: &CatalogStatement| {
        a.resources == b.resources && a.condition == b.condition && a.global == b.global
    };
    let mut out = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let kept: Vec<&str> = st
            .actions
            .iter()
            .map(String::as_str)
            .filter(|action| {
                !statements.iter().enumerate().any(|(j, other)| {
                    j != i
                        && same_scope(st, other)
                        && other.actions.iter().any(|p| {
                            (j < i && p.eq_ignore_ascii_case(action))
                                || (catalog::has_wildcard(p)
                                    && !catalog::has_wildcard(action)
                                    && catalog::wildcard_match(p, action))
                        })
                })
            })
            .collect();
        if !kept.is_empty() {
            out.push((*st, kept));
        }
    }
    out
}

/// A catalog statement as IAM JSON: Sid, Effect, Action, Resource (partition filled in),
/// Condition (with the region condition unless the statement is global).
fn catalog_statement(
    st: &CatalogStatement,
    actions: Vec<&str>,
    partition: &str,
    regions: Option<&[String]>,
) -> Statement {
    let mut out = Map::new();
    out.insert("Sid".to_owned(), Value::String(st.sid.clone()));
    out.insert("Effect".to_owned(), Value::String("Allow".to_owned()));
    out.insert("Action".to_owned(), strings_value(actions));
    let resources: Vec<String> = st
        .resources
        .iter()
        .map(|r| r.replace(PARTITION_PLACEHOLDER, partition))
        .collect();
    out.insert(
        "Resource".to_owned(),
        strings_value(resources.iter().map(String::as_str)),
    );
    let mut condition = st.condition.clone();
    if let (Some(regions), false) = (regions, st.global) {
        let mut c = condition.unwrap_or_default();
        match c.get_mut("StringEquals") {
            Some(Value::Object(block)) => {
                block.insert(
                    "aws:RequestedRegion".to_owned(),
                    Value::Array(regions.iter().cloned().map(Value::String).collect()),
                );
            }
            _ => {
                c.insert("StringEquals".to_owned(), region_condition_block(regions));
            }
        }
        condition = Some(c);
    }
    if let Some(c) = condition {
        out.insert("Condition".to_owned(), Value::Object(c));
    }
    out
}

/// Every action named by an Allow statement's Action element, sorted and unique.
fn granted_actions(statements: &[Statement]) -> Vec<String> {
    let mut set: BTreeSet<&str> = BTreeSet::new();
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        match st.get("Action") {
            Some(Value::String(a)) => {
                set.insert(a);
            }
            Some(Value::Array(items)) => set.extend(items.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    set.into_iter().map(str::to_owned).collect()
}

/// Splits oversized statements, packs them into documents and checks the document count
/// against the managed policy quota.
fn fit_documents(
    statements: Vec<Statement>,
    catalog_statement_count: usize,
    extra_count: usize,
    managed_arn_count: usize,
    limits: &Limits,
) -> Result<Vec<String>, Vec<SpecError>> {
    let blame = if extra_count > 0 {
        SpecField::ExtraStatements
    } else {
        SpecField::OptionalServices
    };
    let overhead = fit::document_overhead();
    let Some(max_statement) = limits.max_policy_size.checked_sub(overhead) else {
        return Err(vec![spec_error(
            blame,
            None,
            "policy size limit too small".to_owned(),
            format!(
                "A policy document needs at least {overhead} characters; the limit is {}.",
                limits.max_policy_size
            ),
        )]);
    };
    let statements = fit::split_oversized(statements, max_statement).map_err(|u| {
        let (field, element) = match u.index.checked_sub(catalog_statement_count) {
            Some(extra_index) => (SpecField::ExtraStatements, Some(extra_index.to_string())),
            None => (SpecField::OptionalServices, None),
        };
        let what = match &element {
            Some(i) => format!("extra_statements[{i}]"),
            None => "a catalog statement".to_owned(),
        };
        vec![SpecError {
            field,
            element,
            summary: format!("{what} is too large for a managed policy"),
            detail: format!(
                "It takes {} characters, and a customer managed policy holds at most {} ({} \
                 besides the policy's own {overhead}); it cannot be split because {}.",
                u.size, limits.max_policy_size, max_statement, u.why
            ),
        }]
    })?;
    let packed = fit::pack(statements, limits.max_policy_size);
    let documents: Vec<String> = packed
        .iter()
        .map(|d| fit::compact(&fit::document(d)))
        .collect();
    let available = limits
        .max_managed_policies
        .saturating_sub(managed_arn_count);
    if documents.len() > available {
        let total: usize = documents.iter().map(String::len).sum();
        let admin = if managed_arn_count > 0 {
            format!(", plus {managed_arn_count} AWS managed policy ({ADMINISTRATOR_ACCESS})")
        } else {
            String::new()
        };
        return Err(vec![spec_error(
            blame,
            None,
            format!(
                "the permission set needs {} managed policies, more than the {} a role can have",
                documents.len() + managed_arn_count,
                limits.max_managed_policies
            ),
            format!(
                "Its statements take {total} characters in {} customer managed policies of at \
                 most {} characters each{admin}, but IAM attaches at most {} managed policies to \
                 a role. Shorten or remove extra statements, or select fewer optional services.",
                documents.len(),
                limits.max_policy_size,
                limits.max_managed_policies
            ),
        )]);
    }
    if let Some(oversized) = documents.iter().find(|d| d.len() > limits.max_policy_size) {
        // Cannot happen (fit guarantees it); refuse rather than emit a policy IAM rejects.
        return Err(vec![spec_error(
            blame,
            None,
            "internal error: a policy document exceeds the size limit".to_owned(),
            format!(
                "A document of {} characters was rendered (limit {}). This is a bug in the \
                 provider; please report it.",
                oversized.len(),
                limits.max_policy_size
            ),
        )]);
    }
    Ok(documents)
}
