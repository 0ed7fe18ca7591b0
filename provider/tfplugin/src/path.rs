//! Attribute paths: where in a configuration or state object something is, so Terraform can
//! point at the exact line.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attribute(String),
    /// A map key, or a string used to name a set element in messages.
    Key(String),
    Index(i64),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath {
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    pub fn root() -> Self {
        AttributePath::default()
    }

    /// The path of a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        AttributePath::root().attribute(name)
    }

    pub fn attribute(mut self, name: impl Into<String>) -> Self {
        self.steps.push(PathStep::Attribute(name.into()));
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.steps.push(PathStep::Key(key.into()));
        self
    }

    pub fn index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::Index(index));
        self
    }

    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// `prefix` followed by this path.
    pub fn under(mut self, prefix: &AttributePath) -> Self {
        let mut steps = prefix.steps.clone();
        steps.append(&mut self.steps);
        self.steps = steps;
        self
    }

    pub(crate) fn prepend(&mut self, step: PathStep) {
        self.steps.insert(0, step);
    }
}

/// Written the way Terraform users write references: `endpoints.iam`, `tags["Name"]`,
/// `rule[0].action`.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_reference() {
        let path = AttributePath::attr("rule")
            .index(0)
            .attribute("tags")
            .key("Name");
        assert_eq!(path.to_string(), r#"rule[0].tags["Name"]"#);
    }
}
