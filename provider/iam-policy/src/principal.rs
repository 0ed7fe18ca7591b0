//! The `Principal` / `NotPrincipal` element and the request's principal.
//!
//! Principals are exact matches: AWS does not allow wildcards inside a principal, so apart
//! from `"*"` alone (or `{"AWS": "*"}`, which AWS documents as equivalent) every entry must
//! equal the principal. In particular a `Federated` entry
//! `arn:aws:iam::111122223333:oidc-provider/oidc.example.com` does not admit
//! `.../oidc.example.com.evil.net`.
//!
//! AWS entries name an identity at one of three levels, and a request principal is matched
//! against all the levels it belongs to:
//! * an account (`111122223333` or `arn:aws:iam::111122223333:root`) names every principal
//!   of that account;
//! * a role ARN names the role and its sessions (`arn:aws:sts::ACCOUNT:assumed-role/NAME/...`;
//!   a session ARN carries no path, role names are unique in an account);
//! * any other ARN (user, role session, federated user, ...) names exactly that principal.
//!
//! `NotPrincipal` excludes a principal only when every level it belongs to is named
//! (account, then role for a session, then the principal itself), following AWS's advice
//! that a `NotPrincipal` must list the account and role alongside a session or user.

use crate::arn::split_arn;
use std::fmt;

/// The principal types of a `Principal` element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalType {
    /// `"AWS"`: accounts, users, roles, sessions.
    Aws,
    /// `"Federated"`: OIDC / SAML providers and web identity providers.
    Federated,
    /// `"Service"`: AWS service principals such as `ec2.amazonaws.com`.
    Service,
    /// `"CanonicalUser"`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    /// The key used in policy documents.
    pub fn key(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Federated => "Federated",
            PrincipalType::Service => "Service",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How a statement's principal entry matched the request principal; decides whether a
/// resource-based policy alone can allow a same-account request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// `"*"`: everyone.
    Wildcard,
    /// The principal's account (account id or account root ARN).
    Account,
    /// The role whose session the principal is (or the role itself).
    Role,
    /// The principal's own ARN or name (user, role session, provider, service).
    Exact,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum AwsEntry {
    Any,
    Account {
        account: String,
    },
    Role {
        partition: String,
        account: String,
        name: String,
    },
    Exact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Any,
    Exact(String),
}

/// A compiled `Principal` or `NotPrincipal` element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    everyone: bool,
    aws: Vec<AwsEntry>,
    federated: Vec<Entry>,
    service: Vec<Entry>,
    canonical: Vec<Entry>,
}

/// Kinds of AWS request principals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AwsKind<'a> {
    Root,
    User,
    Role { name: &'a str },
    Session { role: &'a str },
    Other,
}

/// The request's principal, classified once per evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestPrincipal<'a> {
    Aws {
        partition: &'a str,
        account: &'a str,
        kind: AwsKind<'a>,
        arn: &'a str,
    },
    Federated(&'a str),
    Service(&'a str),
    CanonicalUser(&'a str),
    Unknown(&'a str),
}

impl<'a> RequestPrincipal<'a> {
    /// Classifies a principal string. Web identity and SAML role assumptions
    /// (`sts:AssumeRoleWithWebIdentity`, `sts:AssumeRoleWithSAML`) make it a federated
    /// principal (the provider); so do IAM OIDC/SAML provider ARNs.
    pub(crate) fn classify(principal: &'a str, action_lower: &str) -> RequestPrincipal<'a> {
        if action_lower == "sts:assumerolewithwebidentity"
            || action_lower == "sts:assumerolewithsaml"
        {
            return RequestPrincipal::Federated(principal);
        }
        if let Some(p) = split_arn(principal) {
            let [_, partition, service, _, account, resource] = p;
            if service == "iam"
                && (resource.starts_with("oidc-provider/")
                    || resource.starts_with("saml-provider/"))
            {
                return RequestPrincipal::Federated(principal);
            }
            let kind = match service {
                "iam" if resource == "root" => AwsKind::Root,
                "iam" if resource.starts_with("user/") => AwsKind::User,
                "iam" if resource.starts_with("role/") => AwsKind::Role {
                    name: last_path_segment(resource),
                },
                "sts" if resource.starts_with("assumed-role/") => {
                    let rest = &resource["assumed-role/".len()..];
                    match rest.split_once('/') {
                        Some((role, _session)) => AwsKind::Session { role },
                        None => AwsKind::Other,
                    }
                }
                _ => AwsKind::Other,
            };
            return RequestPrincipal::Aws {
                partition,
                account,
                kind,
                arn: principal,
            };
        }
        if is_account_id(principal) {
            return RequestPrincipal::Aws {
                partition: "",
                account: principal,
                kind: AwsKind::Root,
                arn: principal,
            };
        }
        if principal.len() == 64 && principal.bytes().all(|b| b.is_ascii_hexdigit()) {
            return RequestPrincipal::CanonicalUser(principal);
        }
        if principal.contains('.') && !principal.contains(':') && !principal.contains('/') {
            return RequestPrincipal::Service(principal);
        }
        RequestPrincipal::Unknown(principal)
    }

    /// The principal's type, when known.
    pub(crate) fn principal_type(&self) -> Option<PrincipalType> {
        match self {
            RequestPrincipal::Aws { .. } => Some(PrincipalType::Aws),
            RequestPrincipal::Federated(_) => Some(PrincipalType::Federated),
            RequestPrincipal::Service(_) => Some(PrincipalType::Service),
            RequestPrincipal::CanonicalUser(_) => Some(PrincipalType::CanonicalUser),
            RequestPrincipal::Unknown(_) => None,
        }
    }

    /// The account of an AWS principal.
    pub(crate) fn account(&self) -> Option<&'a str> {
        match self {
            RequestPrincipal::Aws { account, .. } if !account.is_empty() => Some(account),
            _ => None,
        }
    }
}

fn last_path_segment(resource: &str) -> &str {
    resource.rsplit('/').next().unwrap_or(resource)
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

const PRINCIPAL_FORMS: &str = "expected \"*\" or an object whose keys are \"AWS\", \"Federated\", \
                               \"Service\" or \"CanonicalUser\", each a string or an array of strings";

impl PrincipalSet {
    /// Parses a `Principal` / `NotPrincipal` value. Errors carry a message only; the caller
    /// adds the field name.
    pub(crate) fn parse(value: &serde_json::Value) -> Result<PrincipalSet, String> {
        use serde_json::Value;
        let mut set = PrincipalSet::default();
        match value {
            Value::String(s) if s == "*" => {
                set.everyone = true;
                return Ok(set);
            }
            Value::String(s) => {
                return Err(format!("{s:?} is not a valid principal: {PRINCIPAL_FORMS}"));
            }
            Value::Object(map) => {
                if map.is_empty() {
                    return Err(format!("empty principal object: {PRINCIPAL_FORMS}"));
                }
                for (k, v) in map {
                    let ty = match k.as_str() {
                        "AWS" => PrincipalType::Aws,
                        "Federated" => PrincipalType::Federated,
                        "Service" => PrincipalType::Service,
                        "CanonicalUser" => PrincipalType::CanonicalUser,
                        _ => {
                            return Err(format!(
                                "unknown principal type {k:?}: accepted types are \"AWS\", \
                                 \"Federated\", \"Service\" and \"CanonicalUser\" (case-sensitive)"
                            ));
                        }
                    };
                    for item in string_list(v).map_err(|e| format!("{k}: {e}"))? {
                        set.add(ty, item).map_err(|e| format!("{k}: {e}"))?;
                    }
                }
            }
            other => {
                return Err(format!(
                    "got {}: {PRINCIPAL_FORMS}",
                    crate::parse::json_type(other)
                ));
            }
        }
        Ok(set)
    }

    fn add(&mut self, ty: PrincipalType, item: &str) -> Result<(), String> {
        if item.is_empty() {
            return Err("empty principal".to_owned());
        }
        if item == "*" {
            match ty {
                PrincipalType::Aws => self.aws.push(AwsEntry::Any),
                PrincipalType::Federated => self.federated.push(Entry::Any),
                PrincipalType::Service => self.service.push(Entry::Any),
                PrincipalType::CanonicalUser => self.canonical.push(Entry::Any),
            }
            return Ok(());
        }
        if has_wildcard(item) {
            return Err(format!(
                "{item:?}: wildcards are not allowed inside a principal (principals are exact \
                 matches; only \"*\" alone means everyone)"
            ));
        }
        if item.chars().any(char::is_whitespace) {
            return Err(format!("{item:?}: a principal does not contain whitespace"));
        }
        match ty {
            PrincipalType::Aws => self.aws.push(parse_aws_entry(item)?),
            PrincipalType::Federated => self.federated.push(Entry::Exact(item.to_owned())),
            PrincipalType::Service => self.service.push(Entry::Exact(item.to_owned())),
            PrincipalType::CanonicalUser => self.canonical.push(Entry::Exact(item.to_owned())),
        }
        Ok(())
    }

    /// How the element names the principal, if it does (the most specific way wins).
    pub(crate) fn matches(&self, p: &RequestPrincipal<'_>) -> Option<PrincipalMatch> {
        if self.everyone || self.aws.contains(&AwsEntry::Any) {
            // `{"AWS": "*"}` is documented as equivalent to `"*"`. Keep looking for a more
            // specific entry (it matters for same-account evaluation).
            return Some(self.specific_match(p).unwrap_or(PrincipalMatch::Wildcard));
        }
        self.specific_match(p)
    }

    fn specific_match(&self, p: &RequestPrincipal<'_>) -> Option<PrincipalMatch> {
        match p {
            RequestPrincipal::Aws {
                partition,
                account,
                kind,
                arn,
            } => {
                let mut best = None;
                for e in &self.aws {
                    let m = match e {
                        AwsEntry::Any => None,
                        AwsEntry::Account { account: a } => {
                            (a == account).then_some(PrincipalMatch::Account)
                        }
                        AwsEntry::Role {
                            partition: rp,
                            account: ra,
                            name,
                        } => {
                            let same = rp == partition && ra == account;
                            let named = match kind {
                                AwsKind::Role { name: n } | AwsKind::Session { role: n } => {
                                    n == name
                                }
                                _ => false,
                            };
                            (same && named).then_some(PrincipalMatch::Role)
                        }
                        AwsEntry::Exact(s) => (s == arn).then_some(PrincipalMatch::Exact),
                    };
                    best = best.max(m);
                }
                best
            }
            RequestPrincipal::Federated(s) => exact_in(&self.federated, s),
            RequestPrincipal::Service(s) => exact_in(&self.service, s),
            RequestPrincipal::CanonicalUser(s) => exact_in(&self.canonical, s),
            RequestPrincipal::Unknown(_) => None,
        }
    }

    /// For `NotPrincipal`: true when the element names every level the principal belongs
    /// to, so the statement does not apply to it.
    pub(crate) fn excludes(&self, p: &RequestPrincipal<'_>) -> bool {
        if self.everyone || self.aws.contains(&AwsEntry::Any) {
            return true;
        }
        match p {
            RequestPrincipal::Aws {
                partition,
                account,
                kind,
                arn,
            } => {
                let account_named = self
                    .aws
                    .iter()
                    .any(|e| matches!(e, AwsEntry::Account { account: a } if a == account));
                let role_named = |role: &str| {
                    self.aws.iter().any(|e| {
                        matches!(e, AwsEntry::Role { partition: rp, account: ra, name }
                            if rp == partition && ra == account && name == role)
                    })
                };
                let self_named = self
                    .aws
                    .iter()
                    .any(|e| matches!(e, AwsEntry::Exact(s) if s == arn));
                match kind {
                    AwsKind::Root => account_named,
                    AwsKind::Role { name } => account_named && role_named(name),
                    AwsKind::Session { role } => account_named && role_named(role) && self_named,
                    AwsKind::User | AwsKind::Other => account_named && self_named,
                }
            }
            RequestPrincipal::Federated(s) => exact_in(&self.federated, s).is_some(),
            RequestPrincipal::Service(s) => exact_in(&self.service, s).is_some(),
            RequestPrincipal::CanonicalUser(s) => exact_in(&self.canonical, s).is_some(),
            RequestPrincipal::Unknown(_) => false,
        }
    }
}

fn exact_in(entries: &[Entry], s: &str) -> Option<PrincipalMatch> {
    let mut best = None;
    for e in entries {
        let m = match e {
            Entry::Any => Some(PrincipalMatch::Wildcard),
            Entry::Exact(x) => (x == s).then_some(PrincipalMatch::Exact),
        };
        best = best.max(m);
    }
    best
}

fn parse_aws_entry(item: &str) -> Result<AwsEntry, String> {
    if is_account_id(item) {
        return Ok(AwsEntry::Account {
            account: item.to_owned(),
        });
    }
    if let Some([_, partition, service, _, account, resource]) = split_arn(item) {
        if service != "iam" && service != "sts" {
            return Err(format!(
                "{item:?}: an AWS principal ARN is an IAM or STS ARN (arn:aws:iam::ACCOUNT:..., \
                 arn:aws:sts::ACCOUNT:assumed-role/...)"
            ));
        }
        if !is_account_id(account) {
            return Err(format!(
                "{item:?}: the account segment of a principal ARN must be a 12-digit account id"
            ));
        }
        if service == "iam" && resource == "root" {
            return Ok(AwsEntry::Account {
                account: account.to_owned(),
            });
        }
        if service == "iam" && resource.starts_with("role/") {
            return Ok(AwsEntry::Role {
                partition: partition.to_owned(),
                account: account.to_owned(),
                name: last_path_segment(resource).to_owned(),
            });
        }
        return Ok(AwsEntry::Exact(item.to_owned()));
    }
    // Unique ids (AIDA..., AROA...) appear in trust policies whose principal was deleted.
    let unique_id = item.len() >= 16
        && item.starts_with('A')
        && item
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if unique_id {
        return Ok(AwsEntry::Exact(item.to_owned()));
    }
    Err(format!(
        "{item:?} is not a valid AWS principal: expected \"*\", a 12-digit account id, an \
         account root ARN (arn:aws:iam::ACCOUNT:root), or a user, role or session ARN"
    ))
}

/// A string or a non-empty array of strings.
pub(crate) fn string_list(v: &serde_json::Value) -> Result<Vec<&str>, String> {
    use serde_json::Value;
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) if items.is_empty() => {
            Err("expected a string or a non-empty array of strings, got an empty array".into())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.as_str()),
                other => Err(format!(
                    "item {i}: expected a string, got {}",
                    crate::parse::json_type(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "expected a string or an array of strings, got {}",
            crate::parse::json_type(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com";

    fn set(v: serde_json::Value) -> PrincipalSet {
        PrincipalSet::parse(&v).expect("valid principal")
    }

    fn aws(arn: &str) -> RequestPrincipal<'_> {
        RequestPrincipal::classify(arn, "sts:assumerole")
    }

    #[test]
    fn classify() {
        assert!(matches!(
            RequestPrincipal::classify(OIDC, "sts:assumerolewithwebidentity"),
            RequestPrincipal::Federated(_)
        ));
        assert!(matches!(aws(OIDC), RequestPrincipal::Federated(_)));
        assert!(matches!(
            aws("arn:aws:sts::111122223333:assumed-role/R/s"),
            RequestPrincipal::Aws {
                kind: AwsKind::Session { role: "R" },
                ..
            }
        ));
        assert!(matches!(
            aws("111122223333"),
            RequestPrincipal::Aws {
                kind: AwsKind::Root,
                ..
            }
        ));
        assert!(matches!(
            aws("ec2.amazonaws.com"),
            RequestPrincipal::Service(_)
        ));
        assert!(matches!(aws("weird"), RequestPrincipal::Unknown(_)));
    }

    #[test]
    fn federated_is_exact() {
        let s = set(json!({"Federated": OIDC}));
        let good = RequestPrincipal::classify(OIDC, "sts:assumerolewithwebidentity");
        assert_eq!(s.matches(&good), Some(PrincipalMatch::Exact));
        let evil = format!("{OIDC}.evil.net");
        let bad = RequestPrincipal::classify(&evil, "sts:assumerolewithwebidentity");
        assert_eq!(s.matches(&bad), None);
        let prefix = "arn:aws:iam::111122223333:oidc-provider/oidc.example";
        let bad = RequestPrincipal::classify(prefix, "sts:assumerolewithwebidentity");
        assert_eq!(s.matches(&bad), None);
    }

    #[test]
    fn aws_levels() {
        let session = aws("arn:aws:sts::111122223333:assumed-role/Deploy/ci");
        assert_eq!(
            set(json!({"AWS": "111122223333"})).matches(&session),
            Some(PrincipalMatch::Account)
        );
        assert_eq!(
            set(json!({"AWS": "arn:aws:iam::111122223333:root"})).matches(&session),
            Some(PrincipalMatch::Account)
        );
        assert_eq!(
            set(json!({"AWS": "arn:aws:iam::111122223333:role/path/Deploy"})).matches(&session),
            Some(PrincipalMatch::Role)
        );
        assert_eq!(
            set(json!({"AWS": "arn:aws:sts::111122223333:assumed-role/Deploy/ci"}))
                .matches(&session),
            Some(PrincipalMatch::Exact)
        );
        assert_eq!(
            set(json!({"AWS": "arn:aws:iam::444455556666:role/Deploy"})).matches(&session),
            None
        );
        assert_eq!(
            set(json!({"AWS": "*"})).matches(&session),
            Some(PrincipalMatch::Wildcard)
        );
        assert_eq!(
            set(json!("*")).matches(&session),
            Some(PrincipalMatch::Wildcard)
        );
        // Several types in one element: any matching type admits.
        let both = set(json!({"Federated": OIDC, "AWS": "111122223333"}));
        assert_eq!(both.matches(&session), Some(PrincipalMatch::Account));
    }

    #[test]
    fn not_principal_needs_every_level() {
        let session = aws("arn:aws:sts::444455556666:assumed-role/R/app");
        let full = set(json!({"AWS": [
            "arn:aws:sts::444455556666:assumed-role/R/app",
            "arn:aws:iam::444455556666:role/R",
            "arn:aws:iam::444455556666:root"
        ]}));
        assert!(full.excludes(&session));
        let partial = set(json!({"AWS": "arn:aws:sts::444455556666:assumed-role/R/app"}));
        assert!(!partial.excludes(&session));
    }

    #[test]
    fn invalid_principals() {
        for bad in [
            json!("arn:aws:iam::111122223333:root"),
            json!({"AWS": "arn:aws:iam::*:role/x"}),
            json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/*"}),
            json!({"aws": "*"}),
            json!({"AWS": []}),
            json!({"AWS": [1]}),
            json!({}),
            json!(["*"]),
            json!({"AWS": "bob"}),
            json!({"AWS": "arn:aws:s3:::bucket"}),
        ] {
            assert!(PrincipalSet::parse(&bad).is_err(), "{bad}");
        }
    }
}
