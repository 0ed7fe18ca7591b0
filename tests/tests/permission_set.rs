//! `localops_permission_set` through the real terraform CLI.

use localops_tests::terraform::{DebugProvider, Workspace, planned_change, provider_binary};
use serde_json::Value;

const ADDRESS: &str = "localops_permission_set.x";

fn workspace(name: &str, config: &str) -> Workspace {
    let ws = Workspace::new(name);
    ws.write_config(config);
    ws
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn validate_accepts_a_minimal_set() {
    let ws = workspace(
        "validate",
        r#"resource "localops_permission_set" "x" { name = "dev" }"#,
    );
    ws.validate()
        .assert_success()
        .assert_contains(&["The configuration is valid"]);
}

#[test]
fn plan_shows_every_output_before_apply() {
    let ws = workspace(
        "plan",
        r#"
resource "localops_permission_set" "x" {
  name              = "dev"
  optional_services = ["s3"]
}
"#,
    );
    let plan = ws.plan_json();
    let change = planned_change(&plan, ADDRESS).expect("a change for the set");
    assert_eq!(change["actions"], serde_json::json!(["create"]));
    let after = &change["after"];
    assert_eq!(after["id"], "dev");
    assert_eq!(after["administrator"], false);
    assert!(!strings(&after["policy_documents"]).is_empty());
    assert!(
        strings(&after["actions"])
            .iter()
            .any(|a| a.starts_with("s3:"))
    );
    assert!(after["json"].as_str().is_some_and(|j| j.contains("dev")));
    // Nothing is left to apply time when the arguments are known.
    assert_eq!(change["after_unknown"], serde_json::json!({}));
}

#[test]
fn apply_records_state_and_second_plan_is_empty() {
    let ws = workspace(
        "apply",
        r#"
resource "localops_permission_set" "x" {
  name              = "dev"
  optional_services = ["sqs", "s3"]
  regions           = ["us-east-1", "eu-west-1"]
}
output "json" { value = localops_permission_set.x.json }
"#,
    );
    ws.apply()
        .assert_success()
        .assert_contains(&["Apply complete! Resources: 1 added, 0 changed, 0 destroyed."]);
    let state = ws.state_values(ADDRESS);
    assert_eq!(state["name"], "dev");
    assert_eq!(state["id"], "dev");
    let json: Value = serde_json::from_str(ws.outputs()["json"]["value"].as_str().unwrap())
        .expect("json output is JSON");
    assert!(json.is_object());
    let actions = strings(&state["actions"]);
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(actions, sorted, "actions are sorted");
    let second = ws.plan_detailed();
    assert_eq!(second.code(), Some(0), "second plan not empty:\n{second}");
}

#[test]
fn changing_arguments_updates_in_place() {
    let ws = workspace(
        "update",
        r#"resource "localops_permission_set" "x" { name = "dev" }"#,
    );
    ws.apply().assert_success();
    let before = ws.state_values(ADDRESS);
    ws.write_config(
        r#"
resource "localops_permission_set" "x" {
  name              = "dev"
  optional_services = ["rds"]
  administrator     = true
}
"#,
    );
    let plan = ws.plan_json();
    let change = planned_change(&plan, ADDRESS).unwrap();
    assert_eq!(change["actions"], serde_json::json!(["update"]));
    assert!(
        plan["resource_changes"][0]["change"]["replace_paths"].is_null(),
        "no replacement: {plan:#}"
    );
    ws.apply()
        .assert_success()
        .assert_contains(&["0 added, 1 changed, 0 destroyed"]);
    let after = ws.state_values(ADDRESS);
    assert_ne!(before["json"], after["json"]);
    assert_eq!(
        strings(&after["managed_policy_arns"]),
        ["arn:aws:iam::aws:policy/AdministratorAccess"]
    );
    assert_eq!(ws.plan_detailed().code(), Some(0));

    // Renaming is an update too: nothing exists outside Terraform to replace.
    ws.write_config(r#"resource "localops_permission_set" "x" { name = "prod" }"#);
    let plan = ws.plan_json();
    assert_eq!(
        planned_change(&plan, ADDRESS).unwrap()["actions"],
        serde_json::json!(["update"])
    );
}

#[test]
fn destroy_removes_it_from_state() {
    let ws = workspace(
        "destroy",
        r#"resource "localops_permission_set" "x" { name = "dev" }"#,
    );
    ws.apply().assert_success();
    assert_eq!(ws.state_list(), [ADDRESS]);
    ws.destroy()
        .assert_success()
        .assert_contains(&["Destroy complete! Resources: 1 destroyed."]);
    assert!(ws.state_list().is_empty());
}

#[test]
fn all_optional_services() {
    let ws = workspace(
        "all-services",
        r#"
resource "localops_permission_set" "x" {
  name              = "everything"
  optional_services = ["s3", "rds", "elasticache", "sns", "sqs"]
}
"#,
    );
    ws.apply().assert_success();
    let state = ws.state_values(ADDRESS);
    let actions = strings(&state["actions"]);
    for prefix in ["s3:", "rds:", "elasticache:", "sns:", "sqs:"] {
        assert!(
            actions.iter().any(|a| a.starts_with(prefix)),
            "no {prefix} action in {actions:?}"
        );
    }
    for document in strings(&state["policy_documents"]) {
        assert!(document.len() <= 6144, "policy of {} bytes", document.len());
    }
    assert_eq!(ws.plan_detailed().code(), Some(0));
}

#[test]
fn regions_unknown_at_plan_come_from_another_resource() {
    let ws = workspace(
        "unknown-regions",
        r#"
resource "terraform_data" "regions" {
  input = ["us-east-1", "eu-west-1"]
}
resource "localops_permission_set" "x" {
  name    = "dev"
  regions = terraform_data.regions.output
}
"#,
    );
    let plan = ws.plan_json();
    let change = planned_change(&plan, ADDRESS).unwrap();
    assert_eq!(
        change["after"]["id"], "dev",
        "known arguments give known outputs"
    );
    assert_eq!(change["after_unknown"]["json"], true);
    assert_eq!(change["after_unknown"]["regions"], true);
    ws.apply().assert_success();
    let state = ws.state_values(ADDRESS);
    assert!(
        state["json"].as_str().unwrap().contains("eu-west-1"),
        "regions applied: {state:#}"
    );
    assert_eq!(ws.plan_detailed().code(), Some(0));
}

#[test]
fn unknown_values_do_not_hide_errors_in_known_ones() {
    let ws = workspace(
        "unknown-plus-bad",
        r#"
resource "terraform_data" "regions" {
  input = ["us-east-1"]
}
resource "localops_permission_set" "x" {
  name              = "dev"
  regions           = terraform_data.regions.output
  optional_services = ["dynamodb"]
}
"#,
    );
    ws.plan()
        .assert_failure()
        .assert_contains(&["\"dynamodb\"", "optional_services = [\"dynamodb\"]"]);
}

#[test]
fn unknown_service_lists_the_valid_ones() {
    let ws = workspace(
        "bad-service",
        r#"
resource "localops_permission_set" "x" {
  name              = "dev"
  optional_services = ["s4"]
}
"#,
    );
    let output = ws.validate();
    output.assert_failure().assert_contains(&[
        "\"s4\"",
        "s3",
        "rds",
        "elasticache",
        "sns",
        "sqs",
        // Terraform quotes the offending line: the diagnostic points at the attribute.
        "optional_services = [\"s4\"]",
    ]);
}

#[test]
fn bad_name_points_at_name() {
    let ws = workspace(
        "bad-name",
        r#"
resource "localops_permission_set" "x" {
  name = "has space"
}
"#,
    );
    ws.validate().assert_failure().assert_contains(&[
        "name contains ' '",
        "name = \"has space\"",
        "+=,.@_-",
    ]);

    ws.write_config(&format!(
        r#"resource "localops_permission_set" "x" {{ name = "{}" }}"#,
        "n".repeat(65)
    ));
    ws.validate().assert_failure().assert_contains(&["64"]);
}

#[test]
fn extra_statements_are_validated() {
    let cases = [
        ("\"{not json\"", "extra_statements is not valid JSON"),
        (
            "jsonencode({ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"*\" })",
            "extra_statements must be a JSON array",
        ),
        (
            "jsonencode([{ Action = \"s3:GetObject\", Resource = \"*\" }])",
            "extra_statements[0] has no Effect",
        ),
        (
            "jsonencode([{ Effect = \"Allow\", Action = \"s3:GetObjekt\", Resource = \"*\" }])",
            "unknown action \"s3:GetObjekt\"",
        ),
    ];
    let ws = Workspace::new("extra");
    for (expression, message) in cases {
        ws.write_config(&format!(
            "resource \"localops_permission_set\" \"x\" {{\n  name = \"dev\"\n  extra_statements = {expression}\n}}\n"
        ));
        ws.validate()
            .assert_failure()
            .assert_contains(&[message, "extra_statements = "]);
    }
    // The did-you-mean suggestion for the misspelt action.
    ws.validate()
        .assert_contains(&["Did you mean", "s3:GetObject"]);

    ws.write_config(
        r#"
resource "localops_permission_set" "x" {
  name = "dev"
  extra_statements = jsonencode([{
    Effect   = "Allow"
    Action   = ["route53:GetChange"]
    Resource = "*"
  }])
}
"#,
    );
    ws.apply().assert_success();
    let state = ws.state_values(ADDRESS);
    assert!(strings(&state["actions"]).contains(&"route53:GetChange".to_owned()));
}

#[test]
fn import_explains_there_is_nothing_to_import() {
    let ws = workspace(
        "import",
        r#"resource "localops_permission_set" "x" { name = "dev" }"#,
    );
    ws.run(&["import", ADDRESS, "dev"])
        .assert_failure()
        .assert_contains(&[
            "localops_permission_set cannot be imported",
            "terraform apply",
        ]);
}

#[test]
fn debug_log_shows_provider_lines() {
    let mut ws = workspace(
        "tf-log",
        r#"resource "localops_permission_set" "x" { name = "dev" }"#,
    );
    ws.set_env("TF_LOG", "debug");
    let output = ws.plan();
    output.assert_success();
    // Terraform re-logs our JSON lines under the provider's name, with our fields.
    let ours: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| {
            l.contains("provider.terraform-provider-localops")
                && l.contains("tf_rpc=PlanResourceChange")
        })
        .collect();
    assert!(!ours.is_empty(), "no provider log lines:\n{output}");
    assert!(ours.iter().any(|l| l.contains("[DEBUG]")), "{ours:#?}");
    // Nothing unparsed: every line of ours arrived as structured JSON, not raw text.
    assert!(
        !output.stderr.contains("\"@message\""),
        "raw JSON leaked:\n{output}"
    );
}

#[test]
fn terraform_attaches_to_a_debug_mode_provider() {
    let mut provider = DebugProvider::start(&provider_binary());
    assert!(provider.banner.contains("debug mode"));
    let reattach: Value = serde_json::from_str(&provider.reattach).expect("reattach JSON");
    let entry = &reattach["registry.terraform.io/localops/localops"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], provider.pid());
    assert_eq!(entry["Addr"]["Network"], "tcp");

    let mut ws = workspace(
        "reattach",
        r#"resource "localops_permission_set" "x" { name = "dev" }"#,
    );
    ws.set_env("TF_REATTACH_PROVIDERS", &provider.reattach);
    ws.apply().assert_success();
    // One debug server serves several terraform runs.
    assert!(provider.is_running());
    assert_eq!(ws.plan_detailed().code(), Some(0));
    assert!(provider.is_running());
}
