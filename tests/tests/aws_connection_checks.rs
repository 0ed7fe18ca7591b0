//! `localops_aws_connection` checks end to end: broken setups fail at `terraform plan` with the
//! domain's finding and create nothing; out-of-band changes that stop LocalOps show in the plan
//! (the `drift` list and a warning saying what is broken now) and are repaired by the apply.
//! Real `terraform` against a moto server of its own per test; AWS is changed behind
//! Terraform's back with boto3.
//!
//! A permission set needing more than 10 managed policies is not tested here: the
//! `localops_permission_set` resource already refuses it.
//!
//! Needs `cargo build -p terraform-provider-localops` and `bash tests/setup-env.sh` first.

mod aws_connection_support;

use aws_connection_support::{ACCOUNT, ISSUER, Setup, trust_conditions};

const HOST: &str = "oidc.localops.test/tenant";
const ROLE: &str = "LocalOps-acme-prod";

fn connection(extra_statements: Option<&str>, extra: &str) -> String {
    let statements = extra_statements
        .map(|s| format!("  extra_statements  = jsonencode({s})\n"))
        .unwrap_or_default();
    format!(
        r#"
resource "localops_permission_set" "scoped" {{
  name              = "acme"
  optional_services = ["s3"]
{statements}}}

resource "localops_aws_connection" "prod" {{
  name           = "acme-prod"
  subject        = "connection:acme-prod"
  permission_set = localops_permission_set.scoped.json
{extra}
}}
"#
    )
}

fn admin_connection(extra: &str) -> String {
    format!(
        "resource \"localops_aws_connection\" \"prod\" {{\n  name = \"acme-prod\"\n  \
         subject = \"connection:acme-prod\"\n{extra}}}\n"
    )
}

/// No warning from the checks (Terraform's own about development overrides, and the issuer
/// check's about the test issuer, which does not resolve, do not count).
#[track_caller]
fn assert_no_warnings(out: &localops_tests::terraform::TfOutput) {
    let combined = out.combined();
    let warnings: Vec<&str> = combined
        .lines()
        .filter(|l| l.starts_with("Warning: "))
        .filter(|l| {
            !l.contains("Provider development overrides") && !l.contains("LocalOps' OIDC issuer")
        })
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}\n{out}");
}

#[test]
fn broken_setups_fail_at_plan_and_create_nothing() {
    let t = Setup::new("connection-checks-static");

    // The permission set denies what LocalOps needs.
    t.write(&connection(
        Some(
            r#"[{ Sid = "NoClusters", Effect = "Deny", Action = "eks:CreateCluster", Resource = "*" }]"#,
        ),
        "",
    ));
    t.ws.plan().assert_failure().assert_contains(&[
        "Error: eks:CreateCluster is denied by statement \"NoClusters\" of policy \
         \"LocalOps-acme-prod-",
        "permission_set",
        "extra_statements",
    ]);
    assert!(t.stacks().is_empty());

    // A reused OIDC provider whose client IDs lack the audience: STS would reject the tokens.
    let arn = t.aws(&format!(
        "result = iam.create_open_id_connect_provider(Url='{ISSUER}', \
         ClientIDList=['other-audience'], ThumbprintList=['a' * 40])['OpenIDConnectProviderArn']"
    ));
    let arn = arn.as_str().unwrap().to_owned();
    let reuse = format!("  oidc_provider_arn = \"{arn}\"\n");
    t.write(&admin_connection(&reuse));
    t.ws.plan().assert_failure().assert_contains(&[
        "Error: audience \"sts.amazonaws.com\" is not a client ID of the OIDC provider",
        "(provider setting `oidc_audience`)",
        "other-audience",
    ]);
    assert!(t.stacks().is_empty());

    // The reused provider does not exist.
    t.aws(&format!(
        "iam.delete_open_id_connect_provider(OpenIDConnectProviderArn='{arn}')"
    ));
    t.ws.plan().assert_failure().assert_contains(&[
        &format!("Error: the OIDC provider {arn} does not exist"),
        "oidc_provider_arn",
    ]);
    assert!(t.stacks().is_empty());
    assert!(t.role_names().is_empty());

    // Valid ones plan clean: AdministratorAccess, a scoped set, a reused provider.
    t.write(&admin_connection(""));
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    assert_no_warnings(&plan);
    t.write(&connection(None, ""));
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    assert_no_warnings(&plan);
    t.aws(&format!(
        "iam.create_open_id_connect_provider(Url='{ISSUER}', \
         ClientIDList=['sts.amazonaws.com'], ThumbprintList=['a' * 40])"
    ));
    t.write(&admin_connection(&reuse));
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    assert_no_warnings(&plan);
    assert!(t.stacks().is_empty());
}

/// A plan that shows the drift and a warning, an apply that repairs it, then an empty plan.
#[track_caller]
fn caught_and_repaired(t: &Setup, drift: &[&str], warning: &[&str]) {
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(2), "{plan}");
    plan.assert_contains(&["update in-place", "drift"]);
    plan.assert_contains(drift);
    plan.assert_contains(&["Warning:"]);
    plan.assert_contains(warning);
    let apply = t.ws.apply();
    apply.assert_success();
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(0), "{plan}");
    assert_no_warnings(&plan);
    assert_eq!(
        t.ws.state_values("localops_aws_connection.prod")["drift"],
        serde_json::json!([])
    );
}

#[test]
fn out_of_band_changes_are_caught_at_plan_and_repaired() {
    let t = Setup::new("connection-checks-live");
    t.write(&connection(None, ""));
    t.ws.apply().assert_success();
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(0), "{plan}");
    assert_no_warnings(&plan);
    let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}");
    let policy = format!("arn:aws:iam::{ACCOUNT}:policy/{ROLE}-1");

    // The trust policy edited by hand: the subject condition removed.
    t.aws(&format!(
        "iam.update_assume_role_policy(RoleName='{ROLE}', PolicyDocument=json.dumps({{\
         'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', \
         'Principal': {{'Federated': '{provider}'}}, \
         'Action': 'sts:AssumeRoleWithWebIdentity', \
         'Condition': {{'StringEquals': {{'{HOST}:aud': 'sts.amazonaws.com'}}}}}}]}}))"
    ));
    caught_and_repaired(
        &t,
        &["trust policy differs", "trust_policy"],
        &[&format!(
            "Warning: the deployed trust policy does not test the subject ({HOST}:sub)"
        )],
    );
    let (trust, _, _) = t.role(ROLE).unwrap();
    assert_eq!(
        trust_conditions(&trust)[format!("{HOST}:sub")],
        "connection:acme-prod"
    );

    // A managed policy's document replaced out of band, at IAM's limit of 5 versions.
    let original = t.aws(&format!(
        "p = iam.get_policy(PolicyArn='{policy}')['Policy']\n\
         result = iam.get_policy_version(PolicyArn='{policy}', VersionId=p['DefaultVersionId'])['PolicyVersion']['Document']"
    ));
    t.aws(&format!(
        "doc = json.dumps({{'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', \
         'Action': 's3:GetObject', 'Resource': '*'}}]}})\n\
         for i in range(4):\n    \
         iam.create_policy_version(PolicyArn='{policy}', PolicyDocument=doc, SetAsDefault=(i == 3))"
    ));
    caught_and_repaired(
        &t,
        &["has a different document", &format!("{ROLE}-1")],
        &["Warning: "],
    );
    let restored = t.aws(&format!(
        "p = iam.get_policy(PolicyArn='{policy}')['Policy']\n\
         v = iam.list_policy_versions(PolicyArn='{policy}')['Versions']\n\
         result = [iam.get_policy_version(PolicyArn='{policy}', VersionId=p['DefaultVersionId'])['PolicyVersion']['Document'], len(v)]"
    ));
    assert_eq!(
        restored[0], original,
        "the template's document is the default again"
    );
    assert_eq!(restored[1], 5, "the oldest version made room");

    // A permissions boundary added out of band.
    t.aws(&format!(
        "b = iam.create_policy(PolicyName='OnlyS3', PolicyDocument=json.dumps({{\
         'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', 'Action': 's3:*', \
         'Resource': '*'}}]}}))['Policy']['Arn']\n\
         iam.put_role_permissions_boundary(RoleName='{ROLE}', PermissionsBoundary=b)"
    ));
    caught_and_repaired(
        &t,
        &["permissions boundary", "OnlyS3"],
        &[
            "Warning: ec2:AllocateAddress and",
            "more actions are not allowed by the permissions boundary \"OnlyS3\"",
        ],
    );
    let boundary = t.aws(&format!(
        "result = iam.get_role(RoleName='{ROLE}')['Role'].get('PermissionsBoundary')"
    ));
    assert!(boundary.is_null(), "{boundary}");

    // An inline policy added out of band.
    t.aws(&format!(
        "iam.put_role_policy(RoleName='{ROLE}', PolicyName='Sneaky', PolicyDocument=json.dumps({{\
         'Version': '2012-10-17', 'Statement': [{{'Effect': 'Deny', 'Action': 'eks:*', \
         'Resource': '*'}}]}}))"
    ));
    caught_and_repaired(&t, &["inline policy", "Sneaky"], &["Warning: "]);
    let inline = t.aws(&format!(
        "result = iam.list_role_policies(RoleName='{ROLE}')['PolicyNames']"
    ));
    assert_eq!(inline, serde_json::json!([]));

    // The audience removed from the OIDC provider's client IDs.
    t.aws(&format!(
        "iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn='{provider}', \
         ClientID='sts.amazonaws.com')"
    ));
    caught_and_repaired(
        &t,
        &["OIDC provider lacks client ID"],
        &["Warning: audience \"sts.amazonaws.com\" is not a client ID of the OIDC provider now"],
    );
    let ids = t.aws(&format!(
        "result = iam.get_open_id_connect_provider(OpenIDConnectProviderArn='{provider}')['ClientIDList']"
    ));
    assert_eq!(ids, serde_json::json!(["sts.amazonaws.com"]));

    // The stack's own OIDC provider deleted: recreated by the apply.
    t.aws(&format!(
        "iam.delete_open_id_connect_provider(OpenIDConnectProviderArn='{provider}')"
    ));
    caught_and_repaired(
        &t,
        &[&format!("OIDC provider {provider} is missing")],
        &[&format!(
            "Warning: the OIDC provider {provider} does not exist"
        )],
    );
    assert_eq!(t.oidc_providers(), [provider]);
}
