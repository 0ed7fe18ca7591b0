//! Page templates: Markdown with `{{placeholder}}`s the generator fills in. Hand-written prose
//! lives in `docs/templates/`; a page without a template gets [`default_resource`] or
//! [`default_index`].

use std::collections::BTreeMap;

/// Placeholders a template may use, with what they stand for (for error messages).
pub const PLACEHOLDERS: [(&str, &str); 5] = [
    (
        "name",
        "the resource type name, e.g. `localops_aws_connection`",
    ),
    ("description", "the schema's description"),
    (
        "example",
        "the example configuration as a fenced code block",
    ),
    ("schema", "the generated `## Schema` section"),
    (
        "import",
        "examples/resources/<type>/import.sh as a fenced code block",
    ),
];

/// The layout of a resource page without a template.
pub fn default_resource(kind: &str, has_example: bool, has_import: bool) -> String {
    let mut out = format!("# {{{{name}}}} ({kind})\n\n{{{{description}}}}\n\n");
    if has_example {
        out.push_str("## Example Usage\n\n{{example}}\n\n");
    }
    out.push_str("{{schema}}\n");
    if has_import {
        out.push_str("\n## Import\n\n{{import}}\n");
    }
    out
}

/// The layout of the provider page without a template.
pub fn default_index(title: &str, has_example: bool) -> String {
    let mut out = format!("# {title} Provider\n\n{{{{description}}}}\n\n");
    if has_example {
        out.push_str("## Example Usage\n\n{{example}}\n\n");
    }
    out.push_str("{{schema}}\n");
    out
}

/// Fills the placeholders of `template` from `values`. A placeholder with no value (an
/// unknown name, or `import` for a resource without import.sh) is an error naming it.
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("unclosed `{{`".to_owned());
        };
        let key = after[..end].trim();
        match values.get(key) {
            Some(value) => out.push_str(value),
            None if PLACEHOLDERS.iter().any(|(name, _)| *name == key) => {
                return Err(format!(
                    "placeholder {{{{{key}}}}} has nothing to show here (it stands for {})",
                    PLACEHOLDERS
                        .iter()
                        .find(|(name, _)| *name == key)
                        .map_or("", |(_, what)| what)
                ));
            }
            None => {
                let known: Vec<String> = PLACEHOLDERS
                    .iter()
                    .map(|(name, _)| format!("{{{{{name}}}}}"))
                    .collect();
                return Err(format!(
                    "unknown placeholder {{{{{key}}}}} (known: {})",
                    known.join(", ")
                ));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(tidy(&out))
}

/// Trailing whitespace removed, runs of blank lines outside code fences collapsed to one, no
/// leading blank lines, exactly one final newline: the same page whatever a template's
/// spacing.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    let mut blank_run = true;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if line.is_empty() && !in_fence {
            if blank_run {
                continue;
            }
            blank_run = true;
        } else {
            blank_run = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// YAML front matter of a registry page.
pub fn front_matter(page_title: &str, subcategory: Option<&str>, description: &str) -> String {
    let mut out = format!("---\npage_title: {}\n", yaml_string(page_title));
    if let Some(subcategory) = subcategory {
        out.push_str(&format!("subcategory: {}\n", yaml_string(subcategory)));
    }
    out.push_str("description: |-\n");
    for line in summary(description).lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("---\n\n");
    out
}

/// The first paragraph of a Markdown description, on one line.
pub fn summary(description: &str) -> String {
    description
        .trim()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn yaml_string(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// A file's content as a fenced code block.
pub fn fenced(language: &str, content: &str) -> String {
    format!(
        "```{language}\n{}\n```",
        content.trim_matches('\n').trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn fills_placeholders_and_tidies() {
        let out = render(
            "\n# {{ name }}\n\n\n\n{{description}}   \n```hcl\na\n\n\nb\n```\n\n",
            &values(&[("name", "x"), ("description", "D")]),
        )
        .unwrap();
        assert_eq!(out, "# x\n\nD\n```hcl\na\n\n\nb\n```\n");
    }

    #[test]
    fn unknown_missing_and_unclosed_placeholders_are_errors() {
        let v = values(&[("name", "x")]);
        assert!(
            render("{{nmae}}", &v)
                .unwrap_err()
                .contains("unknown placeholder {{nmae}}")
        );
        assert!(
            render("{{import}}", &v)
                .unwrap_err()
                .contains("nothing to show")
        );
        assert!(render("{{name", &v).unwrap_err().contains("unclosed"));
    }

    #[test]
    fn front_matter_quotes_and_summarises() {
        assert_eq!(
            front_matter("a \"b\"", Some(""), "First\nline.\n\nSecond."),
            "---\npage_title: \"a \\\"b\\\"\"\nsubcategory: \"\"\ndescription: |-\n  First line.\n---\n\n"
        );
    }
}
