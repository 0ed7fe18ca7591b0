//! The committed registry documentation (`docs/index.md`, `docs/resources/*.md`) is what the
//! built provider generates from its live schemas, the examples and `docs/templates/`.

use std::process::Command;

use localops_tests::terraform::{provider_binary, workspace_root};

const REGENERATE: &str = "cargo run -p terraform-provider-localops -- docs";

#[test]
fn committed_docs_match_the_generated_ones() {
    let docs = workspace_root().join("docs");
    let output = Command::new(provider_binary())
        .args(["docs", "--check", "--out"])
        .arg(&docs)
        .output()
        .expect("run the provider's docs --check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "docs/ is not what the provider generates:\n{stderr}\n\
         Regenerate it from the workspace root with\n\n    {REGENERATE}\n\n\
         (after `cargo build --workspace --bins`) and commit docs/."
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("are current"),
        "unexpected output: {stdout}"
    );
}

#[test]
fn check_fails_with_one_line_per_differing_file() {
    let dir = std::env::temp_dir().join(format!("localops-docs-current-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let generate = Command::new(provider_binary())
        .args(["docs", "--out"])
        .arg(&dir)
        .output()
        .expect("run the provider's docs");
    assert!(
        generate.status.success(),
        "{}",
        String::from_utf8_lossy(&generate.stderr)
    );
    std::fs::write(dir.join("index.md"), "edited by hand\n").expect("edit index.md");
    std::fs::remove_file(dir.join("resources").join("permission_set.md")).expect("remove a page");
    let check = Command::new(provider_binary())
        .args(["docs", "--check", "--out"])
        .arg(&dir)
        .output()
        .expect("run the provider's docs --check");
    let stderr = String::from_utf8_lossy(&check.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].contains("index.md differs"), "{stderr}");
    assert!(
        lines[1].contains("permission_set.md is missing"),
        "{stderr}"
    );
    assert!(lines[2].contains(REGENERATE), "{stderr}");
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let output = Command::new(provider_binary())
        .args(["docs", "--frobnicate"])
        .output()
        .expect("run the provider's docs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("usage:"), "{stderr}");
}
