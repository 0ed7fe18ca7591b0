//! String operators (`StringEquals`, `StringEqualsIgnoreCase`, `StringLike` and their Not
//! forms) and the ARN operators (`ArnEquals`/`ArnLike`, `ArnNotEquals`/`ArnNotLike`), whose
//! values may contain policy variables.

use crate::arn::{ArnPattern, CaseMode};
use crate::context::Context;
use crate::variables::{self, Piece, Template, Unresolved};
use crate::wildcard::Pattern;

/// Which string comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrOp {
    Equals,
    EqualsIgnoreCase,
    Like,
    /// ARN operators: per-segment glob, case-sensitive.
    Arn,
}

#[derive(Clone, Debug)]
pub(crate) enum Compiled {
    Text(String),
    Pattern(Pattern),
    Arn(ArnPattern),
    /// An ARN value with fewer than six segments after substitution: matches nothing.
    Nothing,
}

/// One policy value of a string or ARN operator.
#[derive(Clone, Debug)]
pub(crate) struct StrValue {
    template: Template,
    /// Precompiled form when the value has no variable.
    compiled: Option<Compiled>,
}

impl StrValue {
    pub(crate) fn parse(op: StrOp, raw: &str, variables: bool) -> Result<StrValue, String> {
        let template = if variables {
            Template::parse(raw)?
        } else {
            Template::literal(raw)
        };
        // A value of an ARN operator that is not an ARN (fewer than six parts) is accepted
        // and matches nothing: AWS accepts such policies (for example a policy variable left
        // literal by a missing Version), and a negated operator then holds.
        let compiled = template.static_pieces().map(|pieces| compile(op, &pieces));
        Ok(StrValue { template, compiled })
    }

    /// The compiled value for this request (substituting variables).
    pub(crate) fn resolve<'a>(
        &'a self,
        op: StrOp,
        ctx: &Context,
    ) -> Result<std::borrow::Cow<'a, Compiled>, Unresolved> {
        match &self.compiled {
            Some(c) => Ok(std::borrow::Cow::Borrowed(c)),
            None => {
                let pieces = self.template.resolve(ctx)?;
                Ok(std::borrow::Cow::Owned(compile(op, &pieces)))
            }
        }
    }
}

fn compile(op: StrOp, pieces: &[Piece<'_>]) -> Compiled {
    match op {
        StrOp::Equals => Compiled::Text(variables::concat(pieces)),
        StrOp::EqualsIgnoreCase => Compiled::Text(variables::concat(pieces).to_lowercase()),
        StrOp::Like => Compiled::Pattern(Pattern::from_tokens(&variables::tokens(pieces, false))),
        StrOp::Arn => match ArnPattern::compile(pieces, CaseMode::Sensitive) {
            Some(p) => Compiled::Arn(p),
            None => Compiled::Nothing,
        },
    }
}

/// Compares one compiled policy value with one request value.
pub(crate) fn matches(op: StrOp, value: &Compiled, actual: &str) -> bool {
    match (op, value) {
        (StrOp::Equals, Compiled::Text(t)) => t == actual,
        (StrOp::EqualsIgnoreCase, Compiled::Text(t)) => {
            t.chars().eq(actual.chars().flat_map(char::to_lowercase))
        }
        (StrOp::Like, Compiled::Pattern(p)) => p.matches(actual),
        (StrOp::Arn, Compiled::Arn(p)) => p.matches_str(actual),
        _ => false,
    }
}

impl StrValue {
    /// True when the value contains a policy variable.
    pub(crate) fn is_dynamic(&self) -> bool {
        self.compiled.is_none()
    }

    /// The precompiled value (static values only).
    pub(crate) fn static_compiled(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: StrOp, policy: &str, actual: &str, ctx: &Context) -> bool {
        let v = StrValue::parse(op, policy, true).expect("valid");
        match v.resolve(op, ctx) {
            Ok(c) => matches(op, &c, actual),
            Err(_) => false,
        }
    }

    #[test]
    fn string_ops() {
        let c = Context::new().with("aws:username", "Alice");
        assert!(m(StrOp::Equals, "abc", "abc", &c));
        assert!(!m(StrOp::Equals, "abc", "ABC", &c));
        assert!(m(StrOp::EqualsIgnoreCase, "abc", "ABC", &c));
        assert!(m(StrOp::EqualsIgnoreCase, "ÄBC", "äbc", &c));
        assert!(m(StrOp::Like, "home/*", "home/x/y", &c));
        assert!(!m(StrOp::Like, "home/*", "Home/x", &c));
        assert!(m(StrOp::Like, "home/${aws:username}/*", "home/Alice/x", &c));
        assert!(!m(StrOp::Like, "home/${aws:missing}/*", "home//x", &c));
        assert!(m(StrOp::Like, "a${*}b", "a*b", &c));
        assert!(!m(StrOp::Like, "a${*}b", "axb", &c));
        assert!(m(StrOp::Equals, "${aws:missing, 'x'}", "x", &c));
    }

    #[test]
    fn arn_ops() {
        let c = Context::new().with("aws:PrincipalArn", "arn:aws:iam::1:role/r");
        assert!(m(
            StrOp::Arn,
            "arn:aws:iam::*:role/r",
            "arn:aws:iam::1:role/r",
            &c
        ));
        assert!(!m(
            StrOp::Arn,
            "arn:aws:iam::*:role/r",
            "arn:aws:iam::1:x:role/r",
            &c
        ));
        assert!(m(
            StrOp::Arn,
            "${aws:PrincipalArn}",
            "arn:aws:iam::1:role/r",
            &c
        ));
        assert!(!m(
            StrOp::Arn,
            "arn:aws:iam::*:role/R",
            "arn:aws:iam::1:role/r",
            &c
        ));
        assert!(!m(
            StrOp::Arn,
            "arn:aws:sns:*",
            "arn:aws:sns:us-east-1:1:t",
            &c
        ));
        assert!(!m(StrOp::Arn, "not-an-arn", "not-an-arn", &c));
    }
}
