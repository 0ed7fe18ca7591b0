//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, `${key, 'default'}` and
//! the escapes `${*}`, `${?}`, `${$}`.
//!
//! Variables are substituted only in policies whose `Version` is `2012-10-17` (older or
//! missing versions keep the text literally, as AWS documents), and only where AWS
//! substitutes them: the `Resource`/`NotResource` element and the values of String and ARN
//! condition operators.
//!
//! A variable whose key is absent from the request context (or has several values) is
//! *unresolved*: the value containing it matches nothing. It never becomes an empty string.
//! A default (`${key, 'default'}`) is used instead when one is given. Text that comes from a
//! variable, and the escapes, are always literal: a `*` in a user name is not a wildcard.

use crate::context::Context;

/// One piece of resolved text, tagged with its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text written in the policy: `*` and `?` are wildcards for pattern operators, and
    /// colons separate ARN segments.
    Raw(&'a str),
    /// Text substituted from a variable or an escape: always literal.
    Subst(&'a str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Raw(String),
    Escape(&'static str),
    Var {
        /// The key as written (for diagnostics).
        key: String,
        /// The key lowercased (for lookups: keys are case-insensitive).
        key_lower: String,
        default: Option<String>,
    },
}

/// Text that may contain policy variables, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

/// A variable that could not be substituted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// The context key named by the variable, as written in the policy.
    pub key: String,
    /// True when the key is present but has several values (variables need one value).
    pub multi_valued: bool,
}

impl Template {
    /// Text with no variable processing (policy language versions before `2012-10-17`).
    pub(crate) fn literal(raw: &str) -> Template {
        Template {
            parts: vec![Part::Raw(raw.to_owned())],
        }
    }

    /// Parses `${...}` variables. Errors describe the malformed variable.
    pub(crate) fn parse(raw: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = raw;
        while let Some(i) = rest.find("${") {
            lit.push_str(&rest[..i]);
            let body_start = &rest[i + 2..];
            let (part, consumed) = parse_variable(body_start)?;
            if !lit.is_empty() {
                parts.push(Part::Raw(std::mem::take(&mut lit)));
            }
            parts.push(part);
            rest = &body_start[consumed..];
        }
        lit.push_str(rest);
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Raw(lit));
        }
        Ok(Template { parts })
    }

    /// True when the template has no variable that depends on the request.
    #[cfg(test)]
    pub(crate) fn is_static(&self) -> bool {
        !self.parts.iter().any(|p| matches!(p, Part::Var { .. }))
    }

    /// Pieces of a static template (escapes included); `None` when it has variables.
    pub(crate) fn static_pieces(&self) -> Option<Vec<Piece<'_>>> {
        let mut out = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            match p {
                Part::Raw(s) => out.push(Piece::Raw(s)),
                Part::Escape(s) => out.push(Piece::Subst(s)),
                Part::Var { .. } => return None,
            }
        }
        Some(out)
    }

    /// Substitutes variables from the context.
    pub(crate) fn resolve<'a>(&'a self, ctx: &'a Context) -> Result<Vec<Piece<'a>>, Unresolved> {
        let mut out = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            match p {
                Part::Raw(s) => out.push(Piece::Raw(s)),
                Part::Escape(s) => out.push(Piece::Subst(s)),
                Part::Var {
                    key,
                    key_lower,
                    default,
                } => match ctx.get_lower(key_lower) {
                    Some([one]) => out.push(Piece::Subst(one)),
                    Some(values) if values.len() > 1 => {
                        return Err(Unresolved {
                            key: key.clone(),
                            multi_valued: true,
                        });
                    }
                    _ => match default {
                        Some(d) => out.push(Piece::Subst(d)),
                        None => {
                            return Err(Unresolved {
                                key: key.clone(),
                                multi_valued: false,
                            });
                        }
                    },
                },
            }
        }
        Ok(out)
    }
}

/// Concatenates pieces into one string.
pub(crate) fn concat(pieces: &[Piece<'_>]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Raw(t) | Piece::Subst(t) => s.push_str(t),
        }
    }
    s
}

/// Turns pieces into wildcard tokens (raw text has wildcards, substituted text is literal).
pub(crate) fn tokens(pieces: &[Piece<'_>], lowercase: bool) -> Vec<crate::wildcard::Token> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Raw(t) => {
                if lowercase {
                    crate::wildcard::tokenize(&t.to_lowercase(), &mut out);
                } else {
                    crate::wildcard::tokenize(t, &mut out);
                }
            }
            Piece::Subst(t) => {
                if !t.is_empty() {
                    let text = if lowercase {
                        t.to_lowercase()
                    } else {
                        (*t).to_owned()
                    };
                    out.push(crate::wildcard::Token::Lit(text));
                }
            }
        }
    }
    out
}

/// Parses the inside of `${...}` (after `${`); returns the part and the bytes consumed
/// including the closing brace.
fn parse_variable(body: &str) -> Result<(Part, usize), String> {
    let end_of_name = body
        .find(['}', ','])
        .ok_or_else(|| format!("unterminated policy variable \"${{{body}\": missing '}}'"))?;
    let name = body[..end_of_name].trim();
    if body.as_bytes()[end_of_name] == b'}' {
        let part = match name {
            "*" => Part::Escape("*"),
            "?" => Part::Escape("?"),
            "$" => Part::Escape("$"),
            "" => return Err("empty policy variable \"${}\"".to_owned()),
            _ => var(name, None),
        };
        return Ok((part, end_of_name + 1));
    }
    // `${key, 'default'}`
    if name.is_empty() {
        return Err("policy variable with a default but no key".to_owned());
    }
    let after_comma = &body[end_of_name + 1..];
    let trimmed = after_comma.trim_start();
    let skipped = after_comma.len() - trimmed.len();
    let Some(quoted) = trimmed.strip_prefix('\'') else {
        return Err(format!(
            "policy variable \"${{{name}, ...}}\": the default value must be in single quotes, \
             like ${{{name}, 'default'}}"
        ));
    };
    let close = quoted.find('\'').ok_or_else(|| {
        format!("policy variable \"${{{name}, ...}}\": unterminated quoted default value")
    })?;
    let default = &quoted[..close];
    let tail = &quoted[close + 1..];
    let tail_trimmed = tail.trim_start();
    if !tail_trimmed.starts_with('}') {
        return Err(format!(
            "policy variable \"${{{name}, '{default}'...\": expected '}}' after the default value"
        ));
    }
    let consumed =
        end_of_name + 1 + skipped + 1 + close + 1 + (tail.len() - tail_trimmed.len()) + 1;
    Ok((var(name, Some(default.to_owned())), consumed))
}

fn var(name: &str, default: Option<String>) -> Part {
    Part::Var {
        key: name.to_owned(),
        key_lower: name.to_lowercase(),
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let mut c = Context::new();
        c.insert("aws:username", "alice");
        c.insert_multi("aws:TagKeys", ["a", "b"]);
        c
    }

    #[test]
    fn parses_and_resolves() {
        let t = Template::parse("home/${aws:username}/*").expect("parse");
        assert!(!t.is_static());
        let c = ctx();
        let r = t.resolve(&c).expect("resolves");
        assert_eq!(concat(&r), "home/alice/*");
        assert_eq!(r[1], Piece::Subst("alice"));
    }

    #[test]
    fn key_is_case_insensitive() {
        let t = Template::parse("${AWS:UserName}").expect("parse");
        assert_eq!(concat(&t.resolve(&ctx()).expect("resolves")), "alice");
    }

    #[test]
    fn missing_key_is_unresolved_not_empty() {
        let t = Template::parse("x-${aws:PrincipalTag/team}").expect("parse");
        let err = t.resolve(&ctx()).expect_err("unresolved");
        assert_eq!(err.key, "aws:PrincipalTag/team");
        assert!(!err.multi_valued);
        let t = Template::parse("${aws:TagKeys}").expect("parse");
        assert!(t.resolve(&ctx()).expect_err("multi").multi_valued);
    }

    #[test]
    fn defaults_and_escapes() {
        let t = Template::parse("${aws:userid, 'anonymous'}/${*}${?}${$}").expect("parse");
        let c = ctx();
        let r = t.resolve(&c).expect("resolves");
        assert_eq!(concat(&r), "anonymous/*?$");
        assert!(
            r.iter()
                .all(|p| matches!(p, Piece::Subst(_) | Piece::Raw("/")))
        );
        let t = Template::parse("${aws:userid,'a}b' }").expect("parse");
        assert_eq!(concat(&t.resolve(&c).expect("resolves")), "a}b");
        assert!(Template::parse("${*}").expect("parse").is_static());
    }

    #[test]
    fn malformed_variables() {
        assert!(Template::parse("a${aws:username").is_err());
        assert!(Template::parse("${}").is_err());
        assert!(Template::parse("${a, b}").is_err());
        assert!(Template::parse("${a, 'b}").is_err());
        assert!(Template::parse("${a, 'b' x}").is_err());
        assert!(Template::parse("${, 'b'}").is_err());
    }

    #[test]
    fn literal_keeps_text() {
        let t = Template::literal("${aws:username}");
        assert!(t.is_static());
        assert_eq!(
            concat(&t.static_pieces().expect("static")),
            "${aws:username}"
        );
    }
}
