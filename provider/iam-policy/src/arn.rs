//! ARNs (`arn:partition:service:region:account:resource`) and per-segment ARN patterns.
//!
//! An ARN pattern is matched segment by segment: a wildcard never crosses a colon between
//! the first five segments, so `arn:aws:iam::*:role/x` cannot match an ARN whose extra
//! colons shift the segments. The resource segment (everything after the fifth colon) may
//! itself contain colons and is matched as one glob.

use crate::variables::Piece;
use crate::wildcard::{Pattern, Token};

/// Number of colon-separated segments in an ARN.
pub(crate) const SEGMENTS: usize = 6;

/// Splits an ARN into its six segments. `None` when the text does not start with `arn:` or
/// has fewer than five colons.
pub fn split_arn(s: &str) -> Option<[&str; SEGMENTS]> {
    let mut it = s.splitn(SEGMENTS, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    if parts[0] != "arn" {
        return None;
    }
    Some(parts)
}

/// The account segment of an ARN, when it has one.
pub fn arn_account(s: &str) -> Option<&str> {
    split_arn(s).map(|p| p[4]).filter(|a| !a.is_empty())
}

/// How a pattern treats letter case in the first segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CaseMode {
    /// Every segment case-sensitive (ARN condition operators).
    Sensitive,
    /// Partition, service and region case-insensitive, account and resource case-sensitive
    /// (the `Resource` element).
    ResourceElement,
}

impl CaseMode {
    fn folds(self, segment: usize) -> bool {
        self == CaseMode::ResourceElement && (1..=3).contains(&segment)
    }
}

/// A compiled ARN pattern: one glob per segment.
#[derive(Clone, Debug)]
pub(crate) struct ArnPattern {
    segments: Vec<Pattern>,
    case: CaseMode,
}

impl ArnPattern {
    /// Compiles pattern text made of raw and substituted pieces.
    ///
    /// Segments are delimited by the colons of the raw text when it has at least five of
    /// them (so a variable's value can never shift segments); otherwise (for example a whole
    /// ARN from `${aws:PrincipalArn}`) by the first five colons of the substituted text.
    /// Returns `None` when there are fewer than six segments.
    pub(crate) fn compile(pieces: &[Piece<'_>], case: CaseMode) -> Option<ArnPattern> {
        let raw_colons: usize = pieces
            .iter()
            .map(|p| match p {
                Piece::Raw(s) => s.matches(':').count(),
                Piece::Subst(_) => 0,
            })
            .sum();
        let split_subst = raw_colons < SEGMENTS - 1;
        let mut segs: Vec<Vec<Token>> = vec![Vec::new()];
        for piece in pieces {
            let (text, raw) = match piece {
                Piece::Raw(s) => (*s, true),
                Piece::Subst(s) => (*s, false),
            };
            let splits_here = raw || split_subst;
            let mut rest = text;
            loop {
                let cut = if splits_here && segs.len() < SEGMENTS {
                    rest.find(':')
                } else {
                    None
                };
                let (head, tail) = match cut {
                    Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                    None => (rest, None),
                };
                let seg_index = segs.len() - 1;
                let folded;
                let head = if case.folds(seg_index) {
                    folded = head.to_lowercase();
                    folded.as_str()
                } else {
                    head
                };
                if let Some(cur) = segs.last_mut() {
                    if raw {
                        crate::wildcard::tokenize(head, cur);
                    } else if !head.is_empty() {
                        cur.push(Token::Lit(head.to_owned()));
                    }
                }
                match tail {
                    Some(t) => {
                        segs.push(Vec::new());
                        rest = t;
                    }
                    None => break,
                }
            }
        }
        if segs.len() < SEGMENTS {
            return None;
        }
        let segments = segs.iter().map(|t| Pattern::from_tokens(t)).collect();
        Some(ArnPattern { segments, case })
    }

    /// Compiles raw policy text (no variables).
    #[cfg(test)]
    pub(crate) fn from_raw(raw: &str, case: CaseMode) -> Option<ArnPattern> {
        ArnPattern::compile(&[Piece::Raw(raw)], case)
    }

    /// Matches an ARN given as text.
    pub(crate) fn matches_str(&self, arn: &str) -> bool {
        match split_arn(arn) {
            Some(parts) => self.matches_parts(&parts),
            None => false,
        }
    }

    /// Matches an ARN already split into segments. Case folding of the first segments is
    /// applied here when the pattern asks for it.
    pub(crate) fn matches_parts(&self, parts: &[&str; SEGMENTS]) -> bool {
        for (i, (pat, part)) in self.segments.iter().zip(parts.iter()).enumerate() {
            let needs_fold = self.case.folds(i)
                && (!part.is_ascii() || part.bytes().any(|b| b.is_ascii_uppercase()));
            let ok = if needs_fold {
                pat.matches(&part.to_lowercase())
            } else {
                pat.matches(part)
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(p: &str, s: &str) -> bool {
        ArnPattern::from_raw(p, CaseMode::Sensitive)
            .expect("pattern")
            .matches_str(s)
    }

    #[test]
    fn split() {
        assert_eq!(
            split_arn("arn:aws:s3:::b/k:with:colons"),
            Some(["arn", "aws", "s3", "", "", "b/k:with:colons"])
        );
        assert_eq!(split_arn("arn:aws:s3::"), None);
        assert_eq!(split_arn("nra:aws:s3:::x"), None);
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:root"),
            Some("123456789012")
        );
        assert_eq!(arn_account("arn:aws:s3:::b"), None);
    }

    #[test]
    fn per_segment_matching() {
        assert!(like(
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::123456789012:role/x"
        ));
        // A wildcard in the account segment cannot swallow the colon of an extra segment.
        assert!(!like(
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::123456789012:extra:role/x"
        ));
        // The documented example: the first `*` only covers the region segment.
        assert!(!like(
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
        ));
        assert!(like("arn:*:*:*:*:*", "arn:aws:s3:::bucket"));
        assert!(like(
            "arn:aws:logs:*:*:log-group:*",
            "arn:aws:logs:us-east-1:1:log-group:a:b"
        ));
        assert!(!like("arn:aws:iam::*:role/X", "arn:aws:iam::1:role/x"));
        assert!(ArnPattern::from_raw("arn:aws:s3", CaseMode::Sensitive).is_none());
    }

    #[test]
    fn resource_element_case() {
        let p = ArnPattern::from_raw("arn:AWS:S3:::Bucket/*", CaseMode::ResourceElement)
            .expect("pattern");
        assert!(p.matches_str("arn:aws:s3:::Bucket/k"));
        assert!(!p.matches_str("arn:aws:s3:::bucket/k"));
    }

    #[test]
    fn substituted_text_is_literal_and_does_not_split() {
        let pieces = [
            Piece::Raw("arn:aws:s3:::b/"),
            Piece::Subst("a:*"),
            Piece::Raw("/*"),
        ];
        let p = ArnPattern::compile(&pieces, CaseMode::ResourceElement).expect("pattern");
        assert!(p.matches_str("arn:aws:s3:::b/a:*/k"));
        assert!(!p.matches_str("arn:aws:s3:::b/a:x/k"));
        // A whole ARN from a variable is split on its own colons.
        let whole = [Piece::Subst("arn:aws:iam::1:role/r")];
        let p = ArnPattern::compile(&whole, CaseMode::Sensitive).expect("pattern");
        assert!(p.matches_str("arn:aws:iam::1:role/r"));
    }
}
