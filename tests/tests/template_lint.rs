//! Every rendered variant of the connection template passes cfn-lint (no errors, no warnings).
//! Needs `tests/setup-env.sh` to have installed the venv; fails (never skips) without it.

mod template_fixtures;

use std::process::Command;

use template_fixtures::{TempDir, write_variants};

#[test]
fn every_rendered_variant_passes_cfn_lint() {
    let cfn_lint = match localops_tests::moto::venv_tool("cfn-lint") {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    };
    let dir = TempDir::new("localops-template-lint");
    let mut files = write_variants(&dir.0);
    // The base template must be valid on its own too.
    files.push(
        localops_tests::moto::workspace_root()
            .join("templates")
            .join("connection")
            .join("template.json"),
    );
    let output = Command::new(&cfn_lint)
        .args(["--regions", "us-east-1", "--format", "parseable", "--"])
        .args(&files)
        .output()
        .expect("run cfn-lint");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cfn-lint failed ({}) on {} templates:\n{stdout}\n{stderr}",
        output.status,
        files.len()
    );
    assert!(stdout.trim().is_empty(), "cfn-lint findings:\n{stdout}");
}

#[test]
fn cfn_lint_catches_a_broken_template() {
    // Guards the test above against a cfn-lint that silently checks nothing.
    let cfn_lint = match localops_tests::moto::venv_tool("cfn-lint") {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    };
    let dir = TempDir::new("localops-template-lint-broken");
    let mut template: serde_json::Value = serde_json::from_str(
        &template_fixtures::render(
            &localops_domain::template::ConnectionTemplateInput::administrator_access(
                template_fixtures::ISSUER,
            ),
        )
        .body,
    )
    .unwrap();
    template["Resources"]["Role"]["Properties"]["MaxSessionDuration"] =
        serde_json::json!("an hour");
    let path = dir.0.join("broken.json");
    std::fs::write(&path, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    let output = Command::new(&cfn_lint)
        .args(["--regions", "us-east-1", "--"])
        .arg(&path)
        .output()
        .expect("run cfn-lint");
    // Exit status bits: 2 = errors, 4 = warnings, 8 = informational.
    let code = output.status.code().unwrap_or(0);
    assert!(code & 2 != 0, "{output:?}");
}
