//! `terraform-provider-localops docs [--out DIR] [--check] [--lint]`: registry-style Markdown
//! documentation generated from the live schemas (the same ones Terraform gets), the examples
//! under `examples/` and optional hand-written templates under `docs/templates/`.
//!
//! Pages: `index.md` (the provider) and `resources/<type without localops_>.md`
//! (`data-sources/` likewise, when the provider has data sources). Examples and templates are
//! read from the checkout at generation time, so editing an example needs no rebuild; the
//! checkout is the one this binary was built from, and `--out` defaults to its `docs/`.
//!
//! `--check` writes nothing: it compares what it would write with the files in the output
//! directory and names each file that differs, is missing or is stale. `--lint` lists schema
//! descriptions that are missing or too thin to document an attribute.
//!
//! Template placeholders: see [`template::PLACEHOLDERS`]. Templates are named after the page
//! they produce: `docs/templates/index.md.tmpl`, `docs/templates/resources/<name>.md.tmpl`.

mod schema_md;
mod template;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tfplugin::{Provider, Schema};

use crate::provider::LocalOpsProvider;

const PROGRAM: &str = "terraform-provider-localops docs";
const USAGE: &str = "usage: terraform-provider-localops docs [--out DIR] [--check] [--lint]";
const REGENERATE: &str = "cargo run -p terraform-provider-localops -- docs";
/// The provider's name in page titles.
const DISPLAY_NAME: &str = "LocalOps";
/// Directories under the output directory whose Markdown files are all generated.
const GENERATED_DIRS: [&str; 2] = ["resources", "data-sources"];

/// The checkout this binary was built from.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(manifest)
        .to_path_buf()
}

struct Options {
    out: PathBuf,
    check: bool,
    lint: bool,
}

enum Parsed {
    Run(Options),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    let mut out = None;
    let mut check = false;
    let mut lint = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        match text {
            "--check" | "-check" => check = true,
            "--lint" | "-lint" => lint = true,
            "--help" | "-help" | "-h" => return Ok(Parsed::Help),
            "--out" | "-out" => match args.next() {
                Some(dir) if !dir.is_empty() => out = Some(PathBuf::from(dir)),
                _ => return Err("--out needs a directory".to_owned()),
            },
            _ => match text.strip_prefix("--out=") {
                Some(dir) if !dir.is_empty() => out = Some(PathBuf::from(dir)),
                Some(_) => return Err("--out needs a directory".to_owned()),
                None => return Err(format!("unexpected argument {text:?}")),
            },
        }
    }
    Ok(Parsed::Run(Options {
        out: out.unwrap_or_else(|| workspace_root().join("docs")),
        check,
        lint,
    }))
}

/// Entry point of the subcommand; `args` are the arguments after `docs`.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let options = match parse_args(args) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{PROGRAM}: {e}. {USAGE}");
            return ExitCode::from(2);
        }
    };
    let root = workspace_root();
    let provider = LocalOpsProvider::new();
    let input = match Input::load(&provider, &root) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("{PROGRAM}: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    if options.lint {
        for finding in lint(&input) {
            println!("{finding}");
        }
        return ExitCode::SUCCESS;
    }
    let pages = match generate(&input) {
        Ok(pages) => pages,
        Err(e) => {
            eprintln!("{PROGRAM}: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    let result = if options.check {
        check(&options.out, &pages)
    } else {
        write(&options.out, &pages)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{PROGRAM}: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Everything a page is made of, read once.
struct Input {
    provider_schema: Schema,
    provider_example: Option<String>,
    index_template: Option<String>,
    types: Vec<TypeInput>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Resource,
    DataSource,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Resource => "Resource",
            Kind::DataSource => "Data Source",
        }
    }

    /// Directory under `docs/` and `examples/`.
    fn dir(self) -> &'static str {
        match self {
            Kind::Resource => "resources",
            Kind::DataSource => "data-sources",
        }
    }

    /// The example file in `examples/<dir>/<type>/`.
    fn example_file(self) -> &'static str {
        match self {
            Kind::Resource => "resource.tf",
            Kind::DataSource => "data-source.tf",
        }
    }
}

struct TypeInput {
    kind: Kind,
    type_name: String,
    schema: Schema,
    example: Option<String>,
    import: Option<String>,
    template: Option<String>,
}

impl TypeInput {
    /// The page's name: the type name without the provider's prefix.
    fn page_name(&self) -> &str {
        self.type_name
            .strip_prefix("localops_")
            .unwrap_or(&self.type_name)
    }

    fn page_path(&self) -> String {
        format!("{}/{}.md", self.kind.dir(), self.page_name())
    }
}

/// A file's content, `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, String> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

impl Input {
    fn load(provider: &LocalOpsProvider, root: &Path) -> Result<Input, String> {
        let examples = root.join("examples");
        if !examples.is_dir() {
            return Err(format!(
                "{} not found: run the docs subcommand from a build of the checkout (it reads \
                 examples/ and docs/templates/ there)",
                examples.display()
            ));
        }
        let templates = root.join("docs").join("templates");
        let mut types = Vec::new();
        let resources = provider
            .resources()
            .iter()
            .map(|r| (Kind::Resource, r.type_name().to_owned(), r.schema()))
            .collect::<Vec<_>>();
        let data_sources = provider
            .data_sources()
            .iter()
            .map(|d| (Kind::DataSource, d.type_name().to_owned(), d.schema()))
            .collect::<Vec<_>>();
        for (kind, type_name, schema) in resources.into_iter().chain(data_sources) {
            let dir = examples.join(kind.dir()).join(&type_name);
            let mut input = TypeInput {
                kind,
                type_name,
                schema,
                example: read_optional(&dir.join(kind.example_file()))?,
                import: match kind {
                    Kind::Resource => read_optional(&dir.join("import.sh"))?,
                    Kind::DataSource => None,
                },
                template: None,
            };
            input.template = read_optional(
                &templates
                    .join(kind.dir())
                    .join(format!("{}.md.tmpl", input.page_name())),
            )?;
            types.push(input);
        }
        types.sort_by_key(TypeInput::page_path);
        // A template for no page is a leftover (a renamed or removed resource): say so.
        for kind in [Kind::Resource, Kind::DataSource] {
            for file in list_files(&templates.join(kind.dir()))? {
                let known = file.strip_suffix(".md.tmpl").is_some_and(|name| {
                    types
                        .iter()
                        .any(|t| t.kind == kind && t.page_name() == name)
                });
                if !known {
                    return Err(format!(
                        "{} is not the template of any {} (expected <name>.md.tmpl for one of: {})",
                        templates.join(kind.dir()).join(&file).display(),
                        kind.title().to_lowercase(),
                        types
                            .iter()
                            .filter(|t| t.kind == kind)
                            .map(|t| t.page_name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Ok(Input {
            provider_schema: provider.schema(),
            provider_example: read_optional(&examples.join("provider").join("provider.tf"))?,
            index_template: read_optional(&templates.join("index.md.tmpl"))?,
            types,
        })
    }
}

/// Names of the files directly in `dir`, sorted; none when it does not exist.
fn list_files(dir: &Path) -> Result<Vec<String>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The pages, by path relative to the output directory.
fn generate(input: &Input) -> Result<BTreeMap<String, String>, String> {
    let mut pages = BTreeMap::new();

    let block = &input.provider_schema.block;
    let mut values = BTreeMap::new();
    values.insert("name", "localops".to_owned());
    values.insert("description", block.description.trim().to_owned());
    values.insert("schema", schema_md::schema_section(block));
    if let Some(example) = &input.provider_example {
        values.insert("example", template::fenced("terraform", example));
    }
    let body = match &input.index_template {
        Some(t) => template::render(t, &values)
            .map_err(|e| format!("docs/templates/index.md.tmpl: {e}"))?,
        None => template::render(
            &template::default_index(DISPLAY_NAME, input.provider_example.is_some()),
            &values,
        )?,
    };
    let page = template::front_matter(
        &format!("Provider: {DISPLAY_NAME}"),
        None,
        &block.description,
    ) + &body;
    pages.insert("index.md".to_owned(), page);

    for t in &input.types {
        let block = &t.schema.block;
        let mut values = BTreeMap::new();
        values.insert("name", t.type_name.clone());
        values.insert("description", block.description.trim().to_owned());
        values.insert("schema", schema_md::schema_section(block));
        if let Some(example) = &t.example {
            values.insert("example", template::fenced("terraform", example));
        }
        if let Some(import) = &t.import {
            values.insert("import", template::fenced("shell", import));
        }
        let body = match &t.template {
            Some(tmpl) => template::render(tmpl, &values).map_err(|e| {
                format!(
                    "docs/templates/{}/{}.md.tmpl: {e}",
                    t.kind.dir(),
                    t.page_name()
                )
            })?,
            None => template::render(
                &template::default_resource(
                    t.kind.title(),
                    t.example.is_some(),
                    t.import.is_some(),
                ),
                &values,
            )?,
        };
        let page = template::front_matter(
            &format!("{} {} - {DISPLAY_NAME}", t.type_name, t.kind.title()),
            Some(""),
            &block.description,
        ) + &body;
        pages.insert(t.page_path(), page);
    }
    Ok(pages)
}

/// Generated files in the output directory that no page produces (a removed resource).
fn stale_files(out: &Path, pages: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    let mut stale = Vec::new();
    for dir in GENERATED_DIRS {
        for file in list_files(&out.join(dir))? {
            let path = format!("{dir}/{file}");
            if file.ends_with(".md") && !pages.contains_key(&path) {
                stale.push(path);
            }
        }
    }
    Ok(stale)
}

fn check(out: &Path, pages: &BTreeMap<String, String>) -> Result<ExitCode, String> {
    let mut problems = 0;
    for (path, content) in pages {
        let file = out.join(path);
        match read_optional(&file)? {
            Some(existing) if existing == *content => {}
            Some(_) => {
                problems += 1;
                eprintln!(
                    "{PROGRAM}: {} differs from the generated documentation",
                    file.display()
                );
            }
            None => {
                problems += 1;
                eprintln!("{PROGRAM}: {} is missing", file.display());
            }
        }
    }
    for path in stale_files(out, pages)? {
        problems += 1;
        eprintln!(
            "{PROGRAM}: {} documents nothing the provider has (stale)",
            out.join(path).display()
        );
    }
    if problems == 0 {
        println!(
            "{PROGRAM}: {} pages in {} are current",
            pages.len(),
            out.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{PROGRAM}: documentation is out of date; regenerate with: {REGENERATE}");
        Ok(ExitCode::FAILURE)
    }
}

fn write(out: &Path, pages: &BTreeMap<String, String>) -> Result<ExitCode, String> {
    let mut written = 0;
    for (path, content) in pages {
        let file = out.join(path);
        if read_optional(&file)?.as_deref() == Some(content.as_str()) {
            continue;
        }
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&file, content).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        println!("wrote {}", file.display());
        written += 1;
    }
    for path in stale_files(out, pages)? {
        let file = out.join(path);
        fs::remove_file(&file).map_err(|e| format!("cannot remove {}: {e}", file.display()))?;
        println!("removed stale {}", file.display());
        written += 1;
    }
    println!(
        "{PROGRAM}: {} pages in {}, {written} changed",
        pages.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Descriptions too thin to document an attribute: missing ones, very short ones, an argument
/// that replaces the resource without saying so, an optional computed argument that does not
/// say what it defaults to. One line each, `<type>: <path>: <finding>`.
fn lint(input: &Input) -> Vec<String> {
    let mut findings = Vec::new();
    let mut pages: Vec<(&str, &Schema)> = vec![("provider", &input.provider_schema)];
    for t in &input.types {
        pages.push((&t.type_name, &t.schema));
        if t.example.is_none() {
            findings.push(format!(
                "{}: no example (examples/{}/{}/{})",
                t.type_name,
                t.kind.dir(),
                t.type_name,
                t.kind.example_file()
            ));
        }
    }
    for (name, schema) in pages {
        if schema.block.description.trim().is_empty() {
            findings.push(format!("{name}: the schema has no description"));
        }
        lint_entries(
            name,
            &schema_md::block_entries(&schema.block),
            "",
            &mut findings,
        );
    }
    findings
}

fn lint_entries(
    page: &str,
    entries: &[schema_md::Entry<'_>],
    prefix: &str,
    findings: &mut Vec<String>,
) {
    for entry in entries {
        let path = format!("{prefix}{}", entry.name);
        let words = entry.description.split_whitespace().count();
        let lower = entry.description.to_lowercase();
        if entry.description.is_empty() {
            findings.push(format!("{page}: {path}: no description"));
        } else if words < 5 {
            findings.push(format!(
                "{page}: {path}: thin description ({words} words): {:?}",
                entry.description
            ));
        }
        if entry.requires_replace && !lower.contains("replace") {
            findings.push(format!(
                "{page}: {path}: changing it replaces the resource, but the description does not say so"
            ));
        }
        if entry.defaulted && !lower.contains("default") {
            findings.push(format!(
                "{page}: {path}: optional and computed, but the description does not say what it defaults to"
            ));
        }
        if let Some(schema_md::Child::Block(block)) = entry.child {
            lint_entries(
                page,
                &schema_md::block_entries(block),
                &format!("{path}."),
                findings,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_options() {
        let Ok(Parsed::Run(o)) = parse_args(args(&["--out", "x", "--check"])) else {
            panic!("expected options");
        };
        assert_eq!(o.out, PathBuf::from("x"));
        assert!(o.check && !o.lint);
        let Ok(Parsed::Run(o)) = parse_args(args(&["--out=y"])) else {
            panic!("expected options");
        };
        assert_eq!(o.out, PathBuf::from("y"));
        assert!(!o.check);
        assert!(parse_args(args(&["--out"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
        assert!(matches!(parse_args(args(&["-h"])), Ok(Parsed::Help)));
    }

    #[test]
    fn generates_every_page_deterministically() {
        let provider = LocalOpsProvider::new();
        let input = Input::load(&provider, &workspace_root()).unwrap();
        let first = generate(&input).unwrap();
        let second = generate(&Input::load(&provider, &workspace_root()).unwrap()).unwrap();
        assert_eq!(first, second);
        assert!(first.contains_key("index.md"));
        assert!(first.contains_key("resources/permission_set.md"));
        assert!(first.contains_key("resources/aws_connection.md"));
        for (path, page) in &first {
            assert!(page.starts_with("---\npage_title: "), "{path}");
            assert!(page.contains("## Schema\n"), "{path}");
            assert!(page.ends_with('\n') && !page.ends_with("\n\n"), "{path}");
            assert!(
                page.lines().all(|l| l == l.trim_end()),
                "{path} has trailing whitespace"
            );
        }
        let connection = &first["resources/aws_connection.md"];
        assert!(connection.contains("subcategory: \"\""));
        assert!(connection.contains("## Import"));
        assert!(connection.contains("### Required\n\n- `name` (String)"));
    }

    #[test]
    fn check_reports_missing_different_and_stale_files() {
        let dir = std::env::temp_dir().join(format!("localops-docs-check-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut pages = BTreeMap::new();
        pages.insert("index.md".to_owned(), "a\n".to_owned());
        pages.insert("resources/x.md".to_owned(), "b\n".to_owned());
        assert_eq!(check(&dir, &pages).unwrap(), ExitCode::FAILURE);
        write(&dir, &pages).unwrap();
        assert_eq!(check(&dir, &pages).unwrap(), ExitCode::SUCCESS);
        fs::write(dir.join("resources/old.md"), "c\n").unwrap();
        assert_eq!(stale_files(&dir, &pages).unwrap(), vec!["resources/old.md"]);
        assert_eq!(check(&dir, &pages).unwrap(), ExitCode::FAILURE);
        write(&dir, &pages).unwrap();
        assert!(!dir.join("resources/old.md").exists());
        fs::write(dir.join("index.md"), "changed\n").unwrap();
        assert_eq!(check(&dir, &pages).unwrap(), ExitCode::FAILURE);
        let _ = fs::remove_dir_all(&dir);
    }
}
