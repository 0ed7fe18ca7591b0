//! `localops_aws_connection` when things go wrong: an OIDC provider for the issuer already in
//! the account, a stack that fails in AWS, and arguments AWS would refuse (checked by the
//! provider, since moto does not enforce IAM's limits). Real `terraform` against a moto server
//! of its own per test.

mod aws_connection_support;

use aws_connection_support::{ACCOUNT, ISSUER, Setup};

const HOST: &str = "oidc.localops.test/tenant";

#[test]
fn an_existing_oidc_provider_is_reported_at_plan_and_can_be_used() {
    let t = Setup::new("connection-existing-provider");
    let arn = t.aws(&format!(
        "result = iam.create_open_id_connect_provider(Url='{ISSUER}', \
         ClientIDList=['sts.amazonaws.com'], ThumbprintList=['a' * 40])['OpenIDConnectProviderArn']"
    ));
    let arn = arn.as_str().unwrap().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"));

    let config = |existing: &str| {
        format!(
            "resource \"localops_aws_connection\" \"prod\" {{\n  name = \"acme-prod\"\n  \
             subject = \"connection:acme-prod\"\n{existing}}}\n"
        )
    };
    t.write(&config(""));
    t.ws.plan().assert_failure().assert_contains(&[
        "An OIDC provider for the issuer already exists",
        &arn,
        "oidc_provider_arn",
    ]);
    assert!(t.stacks().is_empty());

    t.write(&config(&format!("  oidc_provider_arn = \"{arn}\"\n")));
    t.ws.apply().assert_success();
    let state = t.ws.state_values("localops_aws_connection.prod");
    assert_eq!(state["oidc_provider_arn"], arn.as_str());
    assert_eq!(state["creates_oidc_provider"], false);
    let resources = t.aws(
        "result = sorted(r['LogicalResourceId'] for r in \
         cfn.list_stack_resources(StackName='Ops-acme-prod')['StackResourceSummaries'])",
    );
    assert_eq!(
        resources,
        serde_json::json!(["Role"]),
        "the stack creates no provider"
    );
    assert_eq!(t.ws.plan_detailed().code(), Some(0));

    // Destroying the connection leaves the provider it did not create.
    t.ws.destroy().assert_success();
    assert!(t.stacks().is_empty());
    assert_eq!(t.oidc_providers(), [arn]);
    assert!(t.role_names().is_empty());
}

#[test]
fn a_failed_stack_names_the_resource_and_the_reason_and_is_cleaned_up() {
    let t = Setup::new("connection-stack-failure");
    // A role of the connection's name exists already: the stack's Role fails like in AWS.
    t.aws(
        "iam.create_role(RoleName='LocalOps-acme-fail', AssumeRolePolicyDocument=json.dumps({\
         'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', \
         'Principal': {'Service': 'ec2.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]}))",
    );
    t.write(
        "resource \"localops_aws_connection\" \"fail\" {\n  name = \"acme-fail\"\n  \
         subject = \"connection:acme-fail\"\n}\n",
    );
    let apply = t.ws.apply();
    apply.assert_failure().assert_contains(&[
        "The connection stack Ops-acme-fail failed while creating",
        "ROLLBACK_COMPLETE",
        "Role (AWS::IAM::Role) CREATE_FAILED",
        "already exists",
    ]);
    // Nothing is left: not in state, no stack, no provider; the existing role untouched.
    assert!(t.ws.state_list().is_empty());
    assert!(t.stacks().is_empty(), "{:?}", t.stacks());
    assert!(t.oidc_providers().is_empty());
    assert_eq!(t.role_names(), ["LocalOps-acme-fail"]);

    // Once the conflict is gone, the next apply creates the connection.
    t.aws("iam.delete_role(RoleName='LocalOps-acme-fail')");
    t.ws.apply().assert_success();
    assert_eq!(t.stacks(), ["Ops-acme-fail"]);
    t.ws.destroy().assert_success();
}

#[test]
fn bad_arguments_fail_before_anything_is_created() {
    let t = Setup::new("connection-bad-arguments");
    t.write(
        r#"
resource "localops_aws_connection" "bad_name" {
  name    = "acme_prod!"
  subject = "connection:acme"
}

resource "localops_aws_connection" "long_role" {
  name      = "acme"
  subject   = "connection:acme"
  role_name = "a-role-name-that-is-much-longer-than-the-sixty-four-characters-iam-allows"
}

resource "localops_aws_connection" "short_session" {
  name                 = "acme-short"
  subject              = "connection:acme"
  max_session_duration = 60
}

resource "localops_aws_connection" "wildcard_subject" {
  name    = "acme-wild"
  subject = "connection:*"
}
"#,
    );
    // Each error points at the attribute's line.
    let main_tf = std::fs::read_to_string(t.ws.dir().join("main.tf")).unwrap();
    let line_of = |needle: &str| {
        let n = main_tf
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in main.tf"));
        format!("on main.tf line {}, in resource", n + 1)
    };
    let validate = t.ws.validate();
    validate.assert_failure().assert_contains(&[
        "Connection name has an invalid character",
        &line_of("acme_prod!"),
        "Role name is too long",
        &line_of("role_name"),
        "Maximum session duration out of range",
        &line_of("max_session_duration"),
        "43200 (12 hours)",
        "Subject contains the wildcard",
        &line_of("connection:*"),
    ]);
    t.ws.apply().assert_failure();
    assert!(t.stacks().is_empty());
    assert!(t.role_names().is_empty());
    assert!(t.ws.state_list().is_empty());
}

#[test]
fn a_missing_issuer_is_explained_at_plan() {
    let t = Setup::new("connection-no-issuer");
    let endpoint = t.moto.endpoint();
    t.ws.write_config(&format!(
        "provider \"localops\" {{\n  endpoints {{\n    cloudformation = \"{endpoint}\"\n    \
         iam = \"{endpoint}\"\n    sts = \"{endpoint}\"\n  }}\n}}\n\
         resource \"localops_aws_connection\" \"x\" {{\n  name = \"acme\"\n  subject = \"s\"\n}}\n"
    ));
    t.ws.plan()
        .assert_failure()
        .assert_contains(&["OIDC issuer is not configured", "LOCALOPS_OIDC_ISSUER_URL"]);
    // The environment variable is enough.
    let mut ws = t.workspace("connection-env-issuer");
    ws.set_env("LOCALOPS_OIDC_ISSUER_URL", ISSUER);
    ws.write_config(&std::fs::read_to_string(t.ws.dir().join("main.tf")).unwrap());
    ws.plan().assert_success();
}
