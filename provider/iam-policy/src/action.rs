//! `Action` / `NotAction` patterns: `*` or `service:Action`, case-insensitive, with `*` and
//! `?` wildcards. The service prefix and the action name are matched separately (neither
//! contains a colon), after lowercasing both sides.

use crate::wildcard::Pattern;

/// A compiled action pattern.
#[derive(Clone, Debug)]
pub(crate) enum ActionPattern {
    /// Matches every action.
    Any,
    /// `service:name`, both lowercased.
    Split { service: Pattern, name: Pattern },
}

/// A request action prepared for matching: lowercased and split.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PreparedAction<'a> {
    pub(crate) service: &'a str,
    pub(crate) name: Option<&'a str>,
    /// Hash of `service`, for the per-policy action index.
    pub(crate) service_hash: u64,
}

impl<'a> PreparedAction<'a> {
    /// Splits an already-lowercased action.
    pub(crate) fn new(lower: &'a str) -> PreparedAction<'a> {
        let (service, name) = match lower.split_once(':') {
            Some((service, name)) => (service, Some(name)),
            None => (lower, None),
        };
        PreparedAction {
            service,
            name,
            service_hash: crate::hash::fnv1a(service),
        }
    }
}

impl ActionPattern {
    /// Parses one action pattern; errors say what is accepted.
    pub(crate) fn parse(raw: &str) -> Result<ActionPattern, String> {
        if !raw.is_empty() && raw.chars().all(|c| c == '*') {
            return Ok(ActionPattern::Any);
        }
        let lower = raw.to_lowercase();
        let Some((service, name)) = lower.split_once(':') else {
            return Err(format!(
                "invalid action {raw:?}: expected \"*\" or \"service:Action\" \
                 (a service prefix, a colon and an action name; `*` and `?` are allowed)"
            ));
        };
        if service.is_empty() || name.is_empty() {
            return Err(format!(
                "invalid action {raw:?}: the service prefix and the action name must not be empty"
            ));
        }
        if name.contains(':') {
            return Err(format!(
                "invalid action {raw:?}: an action has exactly one colon (service:Action)"
            ));
        }
        if raw.chars().any(char::is_whitespace) {
            return Err(format!(
                "invalid action {raw:?}: actions do not contain whitespace"
            ));
        }
        Ok(ActionPattern::Split {
            service: Pattern::new(service),
            name: Pattern::new(name),
        })
    }

    /// The service prefix when it has no wildcard (lowercased); `None` for `*` or a
    /// wildcard service.
    pub(crate) fn exact_service(&self) -> Option<&str> {
        match self {
            ActionPattern::Any => None,
            ActionPattern::Split { service, .. } => service.exact_text(),
        }
    }

    /// Matches a prepared (lowercased) request action.
    pub(crate) fn matches(&self, action: &PreparedAction<'_>) -> bool {
        match self {
            ActionPattern::Any => true,
            ActionPattern::Split { service, name } => match action.name {
                Some(n) => service.matches(action.service) && name.matches(n),
                None => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, a: &str) -> bool {
        let lower = a.to_lowercase();
        ActionPattern::parse(p)
            .expect("valid")
            .matches(&PreparedAction::new(&lower))
    }

    #[test]
    fn matching() {
        assert!(m("*", "s3:GetObject"));
        assert!(m("s3:*", "S3:GetObject"));
        assert!(m("S3:getobject", "s3:GetObject"));
        assert!(m("s3:Get*", "s3:GetObjectAcl"));
        assert!(!m("s3:Get*", "s3:PutObject"));
        assert!(m("iam:*AccessKey*", "iam:CreateAccessKey"));
        assert!(m("ec2:Describe?pcs", "ec2:DescribeVpcs"));
        assert!(!m("s3:*", "s3x:GetObject"));
        assert!(m("*:GetObject", "s3:GetObject"));
        assert!(!m("s3:*", "s3"));
    }

    #[test]
    fn invalid() {
        for bad in ["", "s3", "s3:", ":Get", "s3:a:b", "s3:Get Object"] {
            assert!(ActionPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
