//! Every example under `examples/` is a configuration users copy: each must pass
//! `terraform validate` against the built provider.

use std::path::{Path, PathBuf};

use localops_tests::terraform::{Workspace, workspace_root};

/// The example directories: every folder under `examples/` that holds `.tf` files.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        entries.sort();
        if entries
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "tf"))
        {
            found.push(dir.to_path_buf());
        }
        for entry in entries.iter().filter(|p| p.is_dir()) {
            walk(entry, found);
        }
    }
    let mut found = Vec::new();
    walk(&workspace_root().join("examples"), &mut found);
    found
}

#[test]
fn every_example_validates() {
    let dirs = example_dirs();
    assert!(
        dirs.len() >= 6,
        "expected the provider, resource and account examples, found {dirs:?}"
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .strip_prefix(workspace_root())
            .unwrap_or(dir)
            .display()
            .to_string();
        let ws = Workspace::new(&name.replace('/', "-"));
        let mut has_terraform_block = false;
        for entry in std::fs::read_dir(dir).expect("read example dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                let text = std::fs::read_to_string(&path).expect("read example");
                has_terraform_block |= text.contains("required_providers");
                let file = path.file_name().expect("file name").to_string_lossy();
                ws.write_file(&file, &text);
            }
        }
        if has_terraform_block {
            // The example declares the provider itself, as users' configurations do.
            std::fs::remove_file(ws.dir().join("versions.tf")).expect("remove versions.tf");
        }
        let out = ws.validate();
        if !out.success() {
            failures.push(format!("{name}:\n{}", out.combined()));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not validate:\n{}",
        failures.join("\n")
    );
}
