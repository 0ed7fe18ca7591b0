//! Rendered variants of the connection template shared by the `template_*` and `moto_*` tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use localops_domain::template::{
    ADMINISTRATOR_ACCESS_ARN, ConnectionTemplateInput, RenderedTemplate, render_template,
};

pub const ISSUER: &str = "https://oidc.localops.test/tenants/acme";

/// A read-only S3 document.
pub const DOC_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;
/// The same policy, changed (an extra action).
pub const DOC_S3_CHANGED: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],"Resource":"*"}]}"#;
/// A second document.
pub const DOC_SQS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Sqs","Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:*:*:localops-*"}]}"#;
/// Valid JSON that IAM (and moto) reject: a statement without Resource.
pub const DOC_MALFORMED: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#;

pub fn tags() -> BTreeMap<String, String> {
    [("environment", "test"), ("team", "platform ops")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn input(documents: &[&str], arns: &[&str]) -> ConnectionTemplateInput {
    ConnectionTemplateInput {
        issuer_url: ISSUER.to_string(),
        policy_documents: documents.iter().map(|d| d.to_string()).collect(),
        managed_policy_arns: arns.iter().map(|a| a.to_string()).collect(),
        ..ConnectionTemplateInput::default()
    }
}

/// (file stem, input) for every variant.
pub fn variants() -> Vec<(&'static str, ConnectionTemplateInput)> {
    let mut with_thumbprints = ConnectionTemplateInput::administrator_access(ISSUER);
    with_thumbprints.thumbprints = vec![
        "9e99a48a9960b14926bb7f3b02e22da2b0ab7280".into(),
        "A031C46782E6E6C662C2C87C76DA9AA62CCABD8E".into(),
    ];
    let mut scoped_tagged = input(&[DOC_S3_CHANGED, DOC_SQS], &[]);
    scoped_tagged.tags = tags();
    let mut admin_tagged = ConnectionTemplateInput::administrator_access(ISSUER);
    admin_tagged.tags = tags();
    let mut trailing_slash = ConnectionTemplateInput::administrator_access(ISSUER);
    trailing_slash.issuer_url = format!("{ISSUER}/");
    vec![
        (
            "admin",
            ConnectionTemplateInput::administrator_access(ISSUER),
        ),
        ("admin-tagged", admin_tagged),
        ("scoped-1", input(&[DOC_S3], &[])),
        ("scoped-2-tagged", scoped_tagged),
        (
            "scoped-many",
            input(
                &[DOC_S3, DOC_SQS, DOC_S3_CHANGED, DOC_SQS],
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            ),
        ),
        (
            "scoped-and-admin",
            input(&[DOC_SQS], &[ADMINISTRATOR_ACCESS_ARN]),
        ),
        ("thumbprints", with_thumbprints),
        ("trailing-slash", trailing_slash),
    ]
}

/// Renders fine, but IAM rejects the policy document when the stack is created (cfn-lint
/// flags it too: E3510). For failure-path tests.
pub fn malformed_policy() -> ConnectionTemplateInput {
    input(&[DOC_MALFORMED], &[])
}

pub fn render(input: &ConnectionTemplateInput) -> RenderedTemplate {
    match render_template(input) {
        Ok(r) => r,
        Err(e) => panic!("render failed: {e}"),
    }
}

/// Renders every variant into `<dir>/<stem>.json`; returns the paths.
pub fn write_variants(dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    variants()
        .into_iter()
        .map(|(stem, input)| {
            let path = dir.join(format!("{stem}.json"));
            std::fs::write(&path, render(&input).body).unwrap();
            path
        })
        .collect()
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let path = localops_tests::moto::unique_temp_path(prefix, "");
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
