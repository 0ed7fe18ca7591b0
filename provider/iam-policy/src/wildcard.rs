//! Glob patterns with `*` (any run of characters, including none) and `?` (exactly one
//! character), compiled once at parse time.
//!
//! A pattern is built from [`Token`]s so that characters that came from a policy variable
//! (or from the escapes `${*}`, `${?}`, `${$}`) stay literal even when they are `*` or `?`.
//! Matching is case-sensitive; callers that need case-insensitive matching lowercase both the
//! pattern tokens and the input.

/// One element of a pattern before compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// Literal text, matched exactly.
    Lit(String),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    Question,
}

/// Tokenizes raw policy text in which `*` and `?` are wildcards.
pub(crate) fn tokenize(raw: &str, out: &mut Vec<Token>) {
    let mut lit = String::new();
    for c in raw.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Token::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '*' {
                    Token::Star
                } else {
                    Token::Question
                });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Token::Lit(lit));
    }
}

/// A piece of a star-free segment.
#[derive(Clone, Debug)]
enum Piece {
    Lit(String),
    /// A run of `n` consecutive `?`.
    AnyChars(usize),
}

/// A run of the pattern between two `*` (fixed length in characters).
#[derive(Clone, Debug, Default)]
struct Segment {
    pieces: Vec<Piece>,
}

impl Segment {
    fn push_lit(&mut self, s: &str) {
        if let Some(Piece::Lit(prev)) = self.pieces.last_mut() {
            prev.push_str(s);
        } else {
            self.pieces.push(Piece::Lit(s.to_owned()));
        }
    }

    fn push_any(&mut self) {
        if let Some(Piece::AnyChars(n)) = self.pieces.last_mut() {
            *n += 1;
        } else {
            self.pieces.push(Piece::AnyChars(1));
        }
    }

    /// Length of the segment in characters.
    fn char_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.chars().count(),
                Piece::AnyChars(n) => *n,
            })
            .sum()
    }

    /// Matches the segment at byte offset `at`; returns the byte offset just after it.
    fn match_at(&self, input: &str, at: usize) -> Option<usize> {
        let mut pos = at;
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => {
                    if !input.get(pos..)?.starts_with(s.as_str()) {
                        return None;
                    }
                    pos += s.len();
                }
                Piece::AnyChars(n) => {
                    let rest = input.get(pos..)?;
                    let mut it = rest.char_indices();
                    for _ in 0..*n {
                        it.next()?;
                    }
                    pos += it.next().map_or(rest.len(), |(i, _)| i);
                }
            }
        }
        Some(pos)
    }

    /// Finds the leftmost match starting at or after `from`; returns the end offset.
    fn find_from(&self, input: &str, from: usize) -> Option<usize> {
        let mut start = from;
        loop {
            if let Some(end) = self.match_at(input, start) {
                return Some(end);
            }
            // Jump to the next candidate: the next occurrence of a leading literal, or the
            // next character boundary.
            let rest = input.get(start..)?;
            let step = match self.pieces.first() {
                Some(Piece::Lit(s)) => {
                    let next_char = rest.chars().next()?.len_utf8();
                    let after = rest.get(next_char..)?;
                    next_char + after.find(s.as_str())?
                }
                _ => rest.chars().next()?.len_utf8(),
            };
            start += step;
        }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    /// Only stars: matches everything.
    Any,
    /// No wildcard at all.
    Exact(String),
    /// `literal*`.
    Prefix(String),
    /// `*literal`.
    Suffix(String),
    /// Anything else.
    General {
        segments: Vec<Segment>,
        leading_star: bool,
        trailing_star: bool,
    },
}

/// A compiled glob pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    kind: Kind,
}

impl Pattern {
    /// Compiles raw text in which `*` and `?` are wildcards.
    pub(crate) fn new(raw: &str) -> Pattern {
        let mut tokens = Vec::new();
        tokenize(raw, &mut tokens);
        Pattern::from_tokens(&tokens)
    }

    /// Compiles a token sequence.
    pub(crate) fn from_tokens(tokens: &[Token]) -> Pattern {
        let mut segments: Vec<Segment> = vec![Segment::default()];
        let mut stars = 0usize;
        let mut questions = 0usize;
        let leading_star = matches!(tokens.first(), Some(Token::Star));
        for t in tokens {
            match t {
                Token::Lit(s) => {
                    if let Some(seg) = segments.last_mut() {
                        seg.push_lit(s);
                    }
                }
                Token::Question => {
                    questions += 1;
                    if let Some(seg) = segments.last_mut() {
                        seg.push_any();
                    }
                }
                Token::Star => {
                    stars += 1;
                    if segments.last().is_some_and(|s| !s.pieces.is_empty()) {
                        segments.push(Segment::default());
                    }
                }
            }
        }
        let trailing_star = matches!(tokens.last(), Some(Token::Star));
        segments.retain(|s| !s.pieces.is_empty());
        let kind = if stars == 0 && questions == 0 {
            Kind::Exact(concat_lits(&segments))
        } else if segments.is_empty() {
            // Only stars, or nothing at all (an empty pattern with no star matches "").
            if stars > 0 {
                Kind::Any
            } else {
                Kind::Exact(String::new())
            }
        } else if questions == 0 && segments.len() == 1 && stars == 1 && trailing_star {
            Kind::Prefix(concat_lits(&segments))
        } else if questions == 0 && segments.len() == 1 && stars == 1 && leading_star {
            Kind::Suffix(concat_lits(&segments))
        } else {
            Kind::General {
                segments,
                leading_star,
                trailing_star,
            }
        };
        Pattern { kind }
    }

    /// True when the pattern has no wildcard.
    #[cfg(test)]
    pub(crate) fn is_exact(&self) -> bool {
        matches!(self.kind, Kind::Exact(_))
    }

    /// The text of a pattern without wildcard.
    pub(crate) fn exact_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Exact(s) => Some(s),
            _ => None,
        }
    }

    /// Matches the whole input.
    pub(crate) fn matches(&self, input: &str) -> bool {
        match &self.kind {
            Kind::Any => true,
            Kind::Exact(s) => s == input,
            Kind::Prefix(p) => input.starts_with(p.as_str()),
            Kind::Suffix(p) => input.ends_with(p.as_str()),
            Kind::General {
                segments,
                leading_star,
                trailing_star,
            } => match_general(segments, *leading_star, *trailing_star, input),
        }
    }
}

fn concat_lits(segments: &[Segment]) -> String {
    let mut out = String::new();
    for seg in segments {
        for p in &seg.pieces {
            if let Piece::Lit(s) = p {
                out.push_str(s);
            }
        }
    }
    out
}

fn match_general(segments: &[Segment], leading: bool, trailing: bool, input: &str) -> bool {
    let mut segs = segments;
    let mut pos = 0usize;
    let mut end = input.len();
    if !leading && !trailing && segs.len() == 1 {
        return segs[0].match_at(input, 0) == Some(input.len());
    }
    if !leading {
        let Some((first, rest)) = segs.split_first() else {
            return false;
        };
        match first.match_at(input, 0) {
            Some(p) => pos = p,
            None => return false,
        }
        segs = rest;
    }
    if !trailing {
        let Some((last, rest)) = segs.split_last() else {
            // The pattern had no star after its first segment: it must end there.
            return pos == input.len();
        };
        // The last segment has a fixed length in characters: it must occupy exactly the
        // final `n` characters of the input.
        let n = last.char_len();
        let Some(start) = nth_char_from_end(input, n) else {
            return false;
        };
        if start < pos || last.match_at(input, start) != Some(input.len()) {
            return false;
        }
        end = start;
        segs = rest;
    }
    let Some(window) = input.get(..end) else {
        return false;
    };
    for seg in segs {
        match seg.find_from(window, pos) {
            Some(e) => pos = e,
            None => return false,
        }
    }
    pos <= end
}

/// Byte offset at which the last `n` characters of `s` start.
fn nth_char_from_end(s: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(s.len());
    }
    s.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).matches(s)
    }

    #[test]
    fn exact_and_any() {
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
        assert!(m("*", ""));
        assert!(m("**", "anything"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(Pattern::new("abc").is_exact());
    }

    #[test]
    fn prefix_suffix() {
        assert!(m("ab*", "ab"));
        assert!(m("ab*", "abxyz"));
        assert!(!m("ab*", "xab"));
        assert!(m("*yz", "xyz"));
        assert!(!m("*yz", "yzx"));
    }

    #[test]
    fn question_marks() {
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a??", "aéb"));
        assert!(!m("?", ""));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
    }

    #[test]
    fn general() {
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("*a*a*", "aa"));
        assert!(!m("*a*a*", "a"));
        assert!(m("a*a", "aa"));
        assert!(!m("a*a", "a"));
        assert!(m("*ab?d*", "xxabcdxx"));
        assert!(m("s3:Get*Acl", "s3:GetBucketAcl"));
        assert!(!m("s3:Get*Acl", "s3:GetBucketAclX"));
        assert!(m("*?", "é"));
        assert!(m("*é?", "xéé"));
    }

    #[test]
    fn literal_tokens_are_not_wildcards() {
        let p =
            Pattern::from_tokens(&[Token::Lit("a".into()), Token::Lit("*".into()), Token::Star]);
        assert!(p.matches("a*xyz"));
        assert!(!p.matches("abc"));
    }
}
