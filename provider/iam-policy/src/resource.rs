//! `Resource` / `NotResource` patterns: `*` or an ARN pattern matched per segment, with
//! policy variables substituted (version `2012-10-17` only).
//!
//! Partition, service and region compare case-insensitively; account and the resource part
//! compare case-sensitively. A request for resource `*` (actions without resource-level
//! permissions) is matched only by a pattern made of `*` alone.

use crate::arn::{ArnPattern, CaseMode, SEGMENTS, split_arn};
use crate::context::Context;
use crate::variables::{Template, Unresolved};

/// A compiled resource pattern.
#[derive(Clone, Debug)]
pub(crate) enum ResourcePattern {
    /// `*` (or `**`...): every resource.
    Any,
    /// An ARN pattern with no policy variable.
    Static(ArnPattern),
    /// An ARN pattern with policy variables, compiled per request.
    Dynamic(Template),
}

/// The request's resource, prepared once per evaluation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PreparedResource<'a> {
    /// `*`.
    Star,
    Arn([&'a str; SEGMENTS]),
    /// Neither `*` nor an ARN: only `*` patterns match it.
    Other,
}

impl<'a> PreparedResource<'a> {
    pub(crate) fn new(resource: &'a str) -> PreparedResource<'a> {
        if resource == "*" {
            PreparedResource::Star
        } else if let Some(parts) = split_arn(resource) {
            PreparedResource::Arn(parts)
        } else {
            PreparedResource::Other
        }
    }
}

/// Outcome of matching one resource pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ResourceMatch {
    Yes,
    No,
    /// A policy variable in the pattern has no value: the pattern matches nothing.
    Unresolved(Unresolved),
}

impl ResourcePattern {
    /// Parses one resource pattern.
    pub(crate) fn parse(raw: &str, variables: bool) -> Result<ResourcePattern, String> {
        if !raw.is_empty() && raw.chars().all(|c| c == '*') {
            return Ok(ResourcePattern::Any);
        }
        let expected = "expected \"*\" or an ARN (arn:partition:service:region:account:resource, \
                        wildcards allowed in any segment)";
        if !raw.starts_with("arn:") {
            return Err(format!("invalid resource {raw:?}: {expected}"));
        }
        let template = if variables {
            Template::parse(raw).map_err(|e| format!("invalid resource {raw:?}: {e}"))?
        } else {
            Template::literal(raw)
        };
        match template.static_pieces() {
            Some(pieces) => ArnPattern::compile(&pieces, CaseMode::ResourceElement)
                .map(ResourcePattern::Static)
                .ok_or_else(|| format!("invalid resource {raw:?}: {expected}")),
            None => Ok(ResourcePattern::Dynamic(template)),
        }
    }

    /// Matches the request's resource.
    pub(crate) fn matches(&self, resource: &PreparedResource<'_>, ctx: &Context) -> ResourceMatch {
        let yes = |b: bool| {
            if b {
                ResourceMatch::Yes
            } else {
                ResourceMatch::No
            }
        };
        match (self, resource) {
            (ResourcePattern::Any, _) => ResourceMatch::Yes,
            (_, PreparedResource::Star | PreparedResource::Other) => ResourceMatch::No,
            (ResourcePattern::Static(p), PreparedResource::Arn(parts)) => {
                yes(p.matches_parts(parts))
            }
            (ResourcePattern::Dynamic(t), PreparedResource::Arn(parts)) => match t.resolve(ctx) {
                Ok(pieces) => yes(ArnPattern::compile(&pieces, CaseMode::ResourceElement)
                    .is_some_and(|p| p.matches_parts(parts))),
                Err(u) => ResourceMatch::Unresolved(u),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, r: &str, ctx: &Context) -> ResourceMatch {
        ResourcePattern::parse(p, true)
            .expect("valid")
            .matches(&PreparedResource::new(r), ctx)
    }

    #[test]
    fn star_and_arns() {
        let c = Context::new();
        assert_eq!(m("*", "arn:aws:s3:::b", &c), ResourceMatch::Yes);
        assert_eq!(m("*", "*", &c), ResourceMatch::Yes);
        assert_eq!(m("arn:aws:s3:::*", "*", &c), ResourceMatch::No);
        assert_eq!(
            m("arn:aws:s3:::b/*", "arn:aws:s3:::b/k", &c),
            ResourceMatch::Yes
        );
        assert_eq!(
            m("arn:aws:s3:::b/*", "arn:aws:s3:::B/k", &c),
            ResourceMatch::No
        );
        assert_eq!(
            m("arn:aws:S3:::b", "arn:aws:s3:::b", &c),
            ResourceMatch::Yes
        );
        assert_eq!(
            m("arn:aws:iam::*:role/x", "arn:aws:iam::1:extra:role/x", &c),
            ResourceMatch::No
        );
        assert_eq!(
            m("arn:aws:iam::*:role/x", "not-an-arn", &c),
            ResourceMatch::No
        );
    }

    #[test]
    fn variables() {
        let c = Context::new().with("aws:username", "bob*");
        assert_eq!(
            m(
                "arn:aws:s3:::b/${aws:username}/*",
                "arn:aws:s3:::b/bob*/k",
                &c
            ),
            ResourceMatch::Yes
        );
        // The substituted `*` is literal.
        assert_eq!(
            m(
                "arn:aws:s3:::b/${aws:username}/*",
                "arn:aws:s3:::b/bobby/k",
                &c
            ),
            ResourceMatch::No
        );
        // Absent key: unresolved, never an empty string.
        let empty = Context::new();
        assert!(matches!(
            m(
                "arn:aws:s3:::b/${aws:username}*",
                "arn:aws:s3:::b/x",
                &empty
            ),
            ResourceMatch::Unresolved(_)
        ));
    }

    #[test]
    fn invalid() {
        assert!(ResourcePattern::parse("bucket", true).is_err());
        assert!(ResourcePattern::parse("arn:aws:s3", true).is_err());
        assert!(ResourcePattern::parse("", true).is_err());
        assert!(ResourcePattern::parse("arn:aws:s3:::${x", true).is_err());
        // Version 2008: the variable text is literal.
        assert!(ResourcePattern::parse("arn:aws:s3:::${x", false).is_ok());
    }
}
