//! `localops_aws_connection` end to end: real `terraform`, the built provider, and a moto
//! server of its own per test (CloudFormation, IAM and STS on loopback). AWS is checked and
//! changed behind Terraform's back with boto3.
//!
//! Needs `cargo build -p terraform-provider-localops` and `bash tests/setup-env.sh` first.

mod aws_connection_support;

use aws_connection_support::{ACCOUNT, Setup, trust_conditions};
use localops_tests::terraform::planned_change;

const HOST: &str = "oidc.localops.test/tenant";

fn connection(permission_set: &str, extra: &str) -> String {
    format!(
        r#"
resource "localops_permission_set" "scoped" {{
  name              = "acme"
  optional_services = [{permission_set}]
}}

resource "localops_aws_connection" "prod" {{
  name           = "acme-prod"
  subject        = "connection:acme-prod"
  permission_set = localops_permission_set.scoped.json
{extra}
}}
"#
    )
}

#[test]
fn create_update_drift_repair_recreate_and_destroy() {
    let t = Setup::new("connection-lifecycle");
    t.write(&connection(r#""s3""#, "  tags = { env = \"prod\" }"));
    t.ws.apply().assert_success();

    let state = t.ws.state_values("localops_aws_connection.prod");
    assert_eq!(state["stack_name"], "Ops-acme-prod");
    assert_eq!(state["role_name"], "LocalOps-acme-prod");
    assert_eq!(state["status"], "CREATE_COMPLETE");
    assert_eq!(state["account_id"], ACCOUNT);
    assert_eq!(
        state["role_arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/LocalOps-acme-prod")
    );
    assert_eq!(
        state["oidc_provider_arn"],
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}")
    );
    assert_eq!(state["creates_oidc_provider"], true);
    assert_eq!(state["max_session_duration"], 3600);
    assert_eq!(state["tags_all"]["managed_by"], "terraform");
    assert_eq!(state["tags_all"]["env"], "prod");
    assert!(
        state["id"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:cloudformation:us-east-1:")
    );
    let (trust, attached, _) = t.role("LocalOps-acme-prod").expect("the role exists");
    let conditions = trust_conditions(&trust);
    assert_eq!(conditions[format!("{HOST}:sub")], "connection:acme-prod");
    assert_eq!(conditions[format!("{HOST}:aud")], "sts.amazonaws.com");
    assert!(
        attached
            .iter()
            .all(|a| a.contains(":policy/LocalOps-acme-prod-")),
        "{attached:?}"
    );
    assert_eq!(
        state["managed_policy_arns"],
        serde_json::json!(attached),
        "state shows the live attachments"
    );
    assert_eq!(t.oidc_providers().len(), 1);
    t.ws.plan_detailed().assert_success();

    // Update in place: another service in the permission set, another tag.
    t.write(&connection(
        r#""s3", "sqs""#,
        "  tags = { env = \"prod\", team = \"platform\" }",
    ));
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    plan.assert_contains(&["update in-place", "permission_set"]);
    t.ws.apply().assert_success();
    assert_eq!(t.ws.plan_detailed().code(), Some(0));
    let tags = t.aws(
        "result = {x['Key']: x['Value'] for x in cfn.describe_stacks(StackName='Ops-acme-prod')['Stacks'][0]['Tags']}",
    );
    assert_eq!(tags["team"], "platform");
    assert_eq!(tags["managed_by"], "terraform");
    let state = t.ws.state_values("localops_aws_connection.prod");
    assert_eq!(state["status"], "UPDATE_COMPLETE");

    // The trust policy changed outside CloudFormation: the plan shows it, the apply restores it.
    t.aws(&format!(
        "iam.update_assume_role_policy(RoleName='LocalOps-acme-prod', PolicyDocument=json.dumps({{\
         'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', \
         'Principal': {{'Federated': 'arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}'}}, \
         'Action': 'sts:AssumeRoleWithWebIdentity', \
         'Condition': {{'StringEquals': {{'{HOST}:aud': 'sts.amazonaws.com'}}}}}}]}}))"
    ));
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    plan.assert_contains(&["update in-place", "trust_policy", "connection:acme-prod"]);
    t.ws.apply().assert_success();
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(0), "{plan}");
    let (trust, _, _) = t.role("LocalOps-acme-prod").unwrap();
    assert_eq!(
        trust_conditions(&trust)[format!("{HOST}:sub")],
        "connection:acme-prod",
        "{trust}"
    );

    // A policy attached and the session duration changed outside CloudFormation.
    t.aws(
        "iam.attach_role_policy(RoleName='LocalOps-acme-prod', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')\n\
         iam.update_role(RoleName='LocalOps-acme-prod', MaxSessionDuration=7200)",
    );
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    plan.assert_contains(&[
        "managed_policy_arns",
        "AdministratorAccess",
        "max_session_duration",
    ]);
    t.ws.apply().assert_success();
    assert_eq!(t.ws.plan_detailed().code(), Some(0));
    let (_, attached, max_session) = t.role("LocalOps-acme-prod").unwrap();
    assert!(!attached.iter().any(|a| a.ends_with("AdministratorAccess")));
    assert_eq!(max_session, 3600);

    // The stack deleted outside Terraform: the plan creates it again.
    t.aws("cfn.delete_stack(StackName='Ops-acme-prod')");
    assert!(t.stacks().is_empty());
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    plan.assert_contains(&["will be created", "1 to add, 0 to change, 0 to destroy"]);
    t.ws.apply().assert_success();
    assert_eq!(t.ws.plan_detailed().code(), Some(0));
    assert_eq!(t.stacks(), ["Ops-acme-prod"]);

    // Destroy leaves nothing behind.
    t.ws.destroy().assert_success();
    assert!(t.stacks().is_empty(), "{:?}", t.stacks());
    assert!(t.role("LocalOps-acme-prod").is_none());
    assert!(
        t.customer_policies().is_empty(),
        "{:?}",
        t.customer_policies()
    );
    assert!(t.oidc_providers().is_empty(), "{:?}", t.oidc_providers());
    assert!(t.ws.state_list().is_empty());
}

#[test]
fn import_by_cli_and_by_import_block_plans_nothing() {
    let t = Setup::new("connection-import-source");
    let extra = "  tags = { env = \"prod\" }\n  max_session_duration = 7200\n  role_name = \"acme-localops\"";
    t.write(&connection(r#""s3", "sqs""#, extra));
    t.ws.apply().assert_success();
    let original = t.ws.state_values("localops_aws_connection.prod");
    let stack_id = original["id"].as_str().unwrap().to_owned();

    // `terraform import` by stack name, in a workspace that never saw the stack.
    let ws = t.workspace("connection-import-cli");
    aws_connection_support::write(&t.moto, &ws, &connection(r#""s3", "sqs""#, extra));
    ws.run(&[
        "apply",
        "-auto-approve",
        "-target=localops_permission_set.scoped",
    ])
    .assert_success();
    ws.run(&["import", "localops_aws_connection.prod", "Ops-acme-prod"])
        .assert_success()
        .assert_contains(&["Import successful"]);
    let plan = ws.plan_detailed();
    assert_eq!(plan.code(), Some(0), "{plan}");
    let imported = ws.state_values("localops_aws_connection.prod");
    assert_eq!(imported, original);

    // An `import` block, by stack id.
    let ws = t.workspace("connection-import-block");
    let config = format!(
        "{}\nimport {{\n  to = localops_aws_connection.prod\n  id = \"{stack_id}\"\n}}\n",
        connection(r#""s3", "sqs""#, extra)
    );
    aws_connection_support::write(&t.moto, &ws, &config);
    let plan = ws.plan_json();
    let change = planned_change(&plan, "localops_aws_connection.prod").expect("a planned change");
    assert_eq!(
        change["actions"],
        serde_json::json!(["no-op"]),
        "{change:#}"
    );
    assert!(change["importing"].is_object(), "{change:#}");
    ws.apply()
        .assert_success()
        .assert_contains(&["1 imported, 1 added, 0 changed, 0 destroyed"]);
    assert_eq!(ws.plan_detailed().code(), Some(0));

    // Importing a stack that does not exist fails clearly.
    let other = t.workspace("connection-import-missing");
    aws_connection_support::write(
        &t.moto,
        &other,
        "resource \"localops_aws_connection\" \"x\" {\n  name = \"missing\"\n  subject = \"s\"\n}\n",
    );
    other
        .run(&["import", "localops_aws_connection.x", "Ops-missing"])
        .assert_failure()
        .assert_contains(&["Connection stack not found", "Ops-missing"]);
}

#[test]
fn termination_protection_keeps_the_stack_until_turned_off() {
    let t = Setup::new("connection-termination");
    let config = |protected: bool| {
        format!(
            "resource \"localops_aws_connection\" \"prod\" {{\n  name = \"acme-prod\"\n  \
             subject = \"connection:acme-prod\"\n  termination_protection = {protected}\n}}\n"
        )
    };
    t.write(&config(true));
    t.ws.apply().assert_success();
    let protected = t.aws(
        "result = cfn.describe_stacks(StackName='Ops-acme-prod')['Stacks'][0]['EnableTerminationProtection']",
    );
    assert_eq!(protected, true);
    // AdministratorAccess without a permission set.
    let (_, attached, _) = t.role("LocalOps-acme-prod").unwrap();
    assert_eq!(attached, ["arn:aws:iam::aws:policy/AdministratorAccess"]);

    t.ws.destroy()
        .assert_failure()
        .assert_contains(&["termination protection", "termination_protection = false"]);
    assert_eq!(t.ws.state_list(), ["localops_aws_connection.prod"]);
    assert_eq!(t.stacks(), ["Ops-acme-prod"]);

    t.write(&config(false));
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    plan.assert_contains(&["termination_protection"]);
    t.ws.apply().assert_success();
    assert_eq!(t.ws.plan_detailed().code(), Some(0));
    t.ws.destroy().assert_success();
    assert!(t.stacks().is_empty());
    assert!(t.role_names().is_empty(), "{:?}", t.role_names());
    assert!(t.oidc_providers().is_empty());
}
