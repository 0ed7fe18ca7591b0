//! Errors for malformed policy documents.

use std::fmt;

/// A malformed policy document: where (statement, field) and what is wrong or accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// Index of the statement (0-based) when the error is inside one.
    pub statement: Option<usize>,
    /// The statement's `Sid`, when it has one.
    pub sid: Option<String>,
    /// The element at fault, as a path: `Action`, `Condition.StringEquals.aws:username`, ...
    pub field: Option<String>,
    /// What is wrong, and what is accepted.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn document(message: impl Into<String>) -> PolicyError {
        PolicyError {
            statement: None,
            sid: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            statement: None,
            sid: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub(crate) fn in_statement(mut self, index: usize, sid: Option<&str>) -> PolicyError {
        self.statement = Some(index);
        self.sid = sid.map(str::to_owned);
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.statement {
            write!(f, "statement {i}")?;
            if let Some(sid) = &self.sid {
                write!(f, " (Sid {sid:?})")?;
            }
            f.write_str(": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let e = PolicyError::field("Action", "expected a string").in_statement(2, Some("S"));
        assert_eq!(
            e.to_string(),
            "statement 2 (Sid \"S\"): Action: expected a string"
        );
        assert_eq!(PolicyError::document("bad").to_string(), "bad");
    }
}
