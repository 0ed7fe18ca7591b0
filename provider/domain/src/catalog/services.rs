//! The permission catalog: the AWS services a LocalOps connection uses, each with its purpose and
//! the IAM statements that serve it, from `templates/catalog/`. Parsed once, on first use.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::matching::has_wildcard;
use super::{AccessLevel, CatalogError};

const INDEX_JSON: &str = include_str!("../../../../templates/catalog/catalog.json");

/// The service files, embedded at compile time. `catalog.json` gives their order; a test checks
/// that this list and the files under `templates/catalog/services/` agree.
pub(crate) const SERVICE_FILES: &[(&str, &str)] = &[
    (
        "vpc",
        include_str!("../../../../templates/catalog/services/vpc.json"),
    ),
    (
        "ec2",
        include_str!("../../../../templates/catalog/services/ec2.json"),
    ),
    (
        "eks",
        include_str!("../../../../templates/catalog/services/eks.json"),
    ),
    (
        "iam",
        include_str!("../../../../templates/catalog/services/iam.json"),
    ),
    (
        "sts",
        include_str!("../../../../templates/catalog/services/sts.json"),
    ),
    (
        "kms",
        include_str!("../../../../templates/catalog/services/kms.json"),
    ),
    (
        "ssm",
        include_str!("../../../../templates/catalog/services/ssm.json"),
    ),
    (
        "s3",
        include_str!("../../../../templates/catalog/services/s3.json"),
    ),
    (
        "rds",
        include_str!("../../../../templates/catalog/services/rds.json"),
    ),
    (
        "elasticache",
        include_str!("../../../../templates/catalog/services/elasticache.json"),
    ),
    (
        "sns",
        include_str!("../../../../templates/catalog/services/sns.json"),
    ),
    (
        "sqs",
        include_str!("../../../../templates/catalog/services/sqs.json"),
    ),
];

/// The placeholder in catalog resource ARNs that rendering replaces with the partition
/// (`aws`, `aws-cn`, `aws-us-gov`, ...).
pub const PARTITION_PLACEHOLDER: &str = "{partition}";

/// Sid of the statement that limits AdministratorAccess to the chosen regions.
pub const REGION_DENY_SID: &str = "DenyOutsideRegions";

/// One AWS service of the permission catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Catalog key, e.g. `vpc`, `s3` (the value used in `optional_services`).
    pub key: String,
    /// Display name, e.g. `Amazon VPC`.
    pub title: String,
    /// What LocalOps uses the service for (prose for documentation).
    pub purpose: String,
    /// Required services are always granted; optional ones only when selected.
    pub required: bool,
    /// Global services are not limited by `regions` (their API has a single global endpoint).
    pub global: bool,
    /// The statements that serve the purpose, in catalog order.
    pub statements: Vec<CatalogStatement>,
}

impl Service {
    /// Every action pattern the service's statements grant (wildcards kept), sorted and unique.
    pub fn actions(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
            .collect();
        set.into_iter().collect()
    }
}

/// One statement of a catalog service: a group of actions serving one part of the purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogStatement {
    /// Statement id (ASCII letters and digits), unique across the catalog.
    pub sid: String,
    /// What this group of actions is for.
    pub purpose: String,
    /// Action names or wildcards, sorted.
    pub actions: Vec<String>,
    /// Resource ARNs (with [`PARTITION_PLACEHOLDER`]) or `*`.
    pub resources: Vec<String>,
    /// IAM condition block, if any (without the region condition, which rendering adds).
    pub condition: Option<Map<String, Value>>,
    /// Not limited by `regions` (inherited from the service unless the statement says).
    pub global: bool,
}

/// The permission catalog: services in catalog order plus catalog-wide rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCatalog {
    pub services: Vec<Service>,
    /// NotAction list of the Deny that limits AdministratorAccess to the chosen regions.
    pub region_exempt_actions: Vec<String>,
    /// Actions the catalog must never grant (checked by [`super::audit`]).
    pub forbidden_actions: Vec<String>,
    /// Access levels a catalog wildcard may expand to (checked by [`super::audit`]).
    pub wildcard_access_levels: Vec<AccessLevel>,
}

impl PermissionCatalog {
    /// The service with this key.
    pub fn service(&self, key: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.key == key)
    }

    /// Keys of the optional services, in catalog order.
    pub fn optional_keys(&self) -> Vec<&str> {
        self.services
            .iter()
            .filter(|s| !s.required)
            .map(|s| s.key.as_str())
            .collect()
    }

    /// Every statement id the catalog can emit (including [`REGION_DENY_SID`]).
    pub fn sids(&self) -> Vec<&str> {
        let mut sids: Vec<&str> = self
            .services
            .iter()
            .flat_map(|s| s.statements.iter().map(|st| st.sid.as_str()))
            .collect();
        sids.push(REGION_DENY_SID);
        sids
    }
}

static PERMISSION_CATALOG: LazyLock<Result<PermissionCatalog, CatalogError>> =
    LazyLock::new(|| parse_catalog(INDEX_JSON, SERVICE_FILES));

pub(crate) fn permission_catalog() -> Result<&'static PermissionCatalog, CatalogError> {
    PERMISSION_CATALOG.as_ref().map_err(Clone::clone)
}

fn fail(file: &str, what: impl std::fmt::Display) -> CatalogError {
    CatalogError(format!("templates/catalog/{file}: {what}"))
}

pub(crate) fn parse_catalog(
    index_text: &str,
    files: &[(&str, &str)],
) -> Result<PermissionCatalog, CatalogError> {
    const INDEX: &str = "catalog.json";
    let index: Value =
        serde_json::from_str(index_text).map_err(|e| fail(INDEX, format!("not JSON: {e}")))?;
    let index = index
        .as_object()
        .ok_or_else(|| fail(INDEX, "not an object"))?;
    if index.get("format").and_then(Value::as_u64) != Some(1) {
        return Err(fail(INDEX, "format is not 1"));
    }
    let keys = strings(index.get("services")).ok_or_else(|| fail(INDEX, "services"))?;
    let region_exempt_actions = strings(
        index
            .get("region_exempt_actions")
            .and_then(|v| v.get("actions")),
    )
    .ok_or_else(|| fail(INDEX, "region_exempt_actions.actions"))?;
    let forbidden_actions = strings(
        index
            .get("forbidden_actions")
            .and_then(|v| v.get("actions")),
    )
    .ok_or_else(|| fail(INDEX, "forbidden_actions.actions"))?;
    let wildcard_access_levels = strings(index.get("wildcard_access_levels"))
        .ok_or_else(|| fail(INDEX, "wildcard_access_levels"))?
        .iter()
        .map(|name| {
            AccessLevel::from_name(name)
                .ok_or_else(|| fail(INDEX, format!("unknown access level {name:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut services = Vec::new();
    for key in &keys {
        let text = files
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, text)| *text)
            .ok_or_else(|| fail(INDEX, format!("service {key} is not embedded")))?;
        services.push(parse_service(key, text)?);
    }
    if files.len() != keys.len() {
        return Err(fail(INDEX, "embedded service files and services differ"));
    }
    let mut seen_sids = BTreeSet::from([REGION_DENY_SID.to_owned()]);
    for service in &services {
        for statement in &service.statements {
            if !seen_sids.insert(statement.sid.clone()) {
                return Err(fail(
                    &format!("services/{}.json", service.key),
                    format!("duplicate sid {}", statement.sid),
                ));
            }
        }
    }
    let mut seen_keys = BTreeSet::new();
    if let Some(dup) = keys.iter().find(|k| !seen_keys.insert(k.as_str())) {
        return Err(fail(INDEX, format!("duplicate service {dup}")));
    }
    Ok(PermissionCatalog {
        services,
        region_exempt_actions,
        forbidden_actions,
        wildcard_access_levels,
    })
}

fn parse_service(key: &str, text: &str) -> Result<Service, CatalogError> {
    let file = format!("services/{key}.json");
    let root: Value =
        serde_json::from_str(text).map_err(|e| fail(&file, format!("not JSON: {e}")))?;
    let obj = root
        .as_object()
        .ok_or_else(|| fail(&file, "not an object"))?;
    check_keys(
        &file,
        obj,
        &[
            "key",
            "title",
            "required",
            "global",
            "purpose",
            "statements",
        ],
    )?;
    let text_field = |name: &str| -> Result<String, CatalogError> {
        obj.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| fail(&file, format!("{name} must be a non-empty string")))
    };
    let bool_field = |name: &str| -> Result<bool, CatalogError> {
        obj.get(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| fail(&file, format!("{name} must be a boolean")))
    };
    let service_key = text_field("key")?;
    if service_key != key {
        return Err(fail(
            &file,
            format!("key is {service_key:?}, expected {key:?}"),
        ));
    }
    let global = bool_field("global")?;
    let statements_json = obj
        .get("statements")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(&file, "statements must be a non-empty array"))?;
    let mut statements = Vec::new();
    for (i, st) in statements_json.iter().enumerate() {
        statements.push(parse_statement(
            &format!("{file} statement {i}"),
            st,
            global,
        )?);
    }
    Ok(Service {
        key: service_key,
        title: text_field("title")?,
        purpose: text_field("purpose")?,
        required: bool_field("required")?,
        global,
        statements,
    })
}

fn parse_statement(
    at: &str,
    value: &Value,
    service_global: bool,
) -> Result<CatalogStatement, CatalogError> {
    let obj = value.as_object().ok_or_else(|| fail(at, "not an object"))?;
    check_keys(
        at,
        obj,
        &[
            "sid",
            "purpose",
            "actions",
            "resources",
            "condition",
            "global",
        ],
    )?;
    let sid = obj
        .get("sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| fail(at, "sid must be non-empty ASCII letters and digits"))?
        .to_owned();
    let purpose = obj
        .get("purpose")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| fail(at, "purpose must be a non-empty string"))?
        .to_owned();
    let actions = strings(obj.get("actions"))
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(at, "actions must be a non-empty array of strings"))?;
    for action in &actions {
        let well_formed = action.split_once(':').is_some_and(|(service, name)| {
            !service.is_empty()
                && !name.is_empty()
                && !has_wildcard(service)
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
        });
        if !well_formed {
            return Err(fail(at, format!("malformed action {action:?}")));
        }
    }
    let resources = strings(obj.get("resources"))
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(at, "resources must be a non-empty array of strings"))?;
    for resource in &resources {
        let ok = resource == "*"
            || (resource.starts_with(&format!("arn:{PARTITION_PLACEHOLDER}:"))
                && !resource
                    .replacen(PARTITION_PLACEHOLDER, "", 1)
                    .contains(['{', '}']));
        if !ok {
            return Err(fail(
                at,
                format!(
                    "resource {resource:?} must be \"*\" or start with arn:{PARTITION_PLACEHOLDER}:"
                ),
            ));
        }
    }
    let condition = match obj.get("condition") {
        None => None,
        Some(Value::Object(map)) if !map.is_empty() && map.values().all(is_condition_block) => {
            Some(map.clone())
        }
        Some(_) => {
            return Err(fail(
                at,
                "condition must map operators to objects of keys and values",
            ));
        }
    };
    let global = match obj.get("global") {
        None => service_global,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(fail(at, "global must be a boolean")),
    };
    Ok(CatalogStatement {
        sid,
        purpose,
        actions,
        resources,
        condition,
        global,
    })
}

fn is_condition_block(v: &Value) -> bool {
    v.as_object().is_some_and(|keys| {
        !keys.is_empty()
            && keys.values().all(|v| match v {
                Value::String(_) => true,
                Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
                _ => false,
            })
    })
}

fn check_keys(at: &str, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), CatalogError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(fail(at, format!("unknown key {k:?}"))),
        None => Ok(()),
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}
