//! Against the project's patched moto (`tests/moto/launcher.py`): failed stacks roll back like
//! CloudFormation (so [`StackFailure`] is built from real events), `AWS::IAM::OIDCProvider`
//! exists, and a connection-shaped stack can be created, read through IAM and proven.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use localops_aws::retry::Backoff;
use localops_aws::{CancellationToken, StackError, StackSpec, UpdateOutcome, WaitConfig};
use localops_tests::moto::MotoServer;

fn wait() -> WaitConfig {
    WaitConfig {
        timeout: Duration::from_secs(30),
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(250),
            multiplier: 2.0,
        },
        max_event_pages: 10,
    }
}

fn policy_template(effect: &str) -> String {
    serde_json::json!({
        "Parameters": { "Env": { "Type": "String" } },
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": { "Fn::Sub": "app-${Env}" },
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "Service": "ec2.amazonaws.com" },
                            "Action": "sts:AssumeRole"
                        }]
                    }
                }
            },
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Roles": [{ "Ref": "Role" }],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{ "Effect": effect, "Action": "s3:ListAllMyBuckets", "Resource": "*" }]
                    }
                }
            }
        }
    })
    .to_string()
}

fn spec(name: &str, template_body: String) -> StackSpec {
    StackSpec {
        name: name.into(),
        template_body,
        parameters: BTreeMap::from([("Env".to_string(), "dev".to_string())]),
        tags: BTreeMap::new(),
        termination_protection: false,
    }
}

#[tokio::test]
async fn failed_create_and_failed_update_report_the_failing_resource() {
    let moto = MotoServer::start().expect("patched moto");
    let clients = common::clients_for(&moto.endpoint()).await;
    let stacks = clients.stacks().with_wait(wait());
    let cancel = CancellationToken::new();

    // Create with a malformed policy: CloudFormation-like rollback.
    let id = stacks
        .create_stack(&spec("Ops-broken", policy_template("Maybe")), &cancel)
        .await
        .unwrap();
    let err = stacks.wait_for_terminal(&id, &cancel).await.unwrap_err();
    let StackError::Failed(failure) = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(failure.status, "ROLLBACK_COMPLETE");
    assert_eq!(failure.stack_id, id);
    assert_eq!(failure.reasons.len(), 1, "{:?}", failure.reasons);
    let reason = &failure.reasons[0];
    assert_eq!(reason.logical_id, "Policy");
    assert_eq!(reason.resource_type, "AWS::IAM::ManagedPolicy");
    assert_eq!(reason.status, "CREATE_FAILED");
    assert!(
        reason.reason.contains("Syntax errors in policy"),
        "{}",
        reason.reason
    );
    let text = err.to_string();
    assert!(
        text.starts_with("stack Ops-broken ended in ROLLBACK_COMPLETE: Policy (AWS::IAM::ManagedPolicy) CREATE_FAILED: "),
        "{text}"
    );

    // A ROLLBACK_COMPLETE stack cannot be updated, only deleted.
    let err = stacks
        .update_stack(&id, &spec("Ops-broken", policy_template("Allow")), &cancel)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ROLLBACK_COMPLETE"), "{err}");
    stacks.delete_stack(&id, &cancel).await.unwrap();
    assert!(
        stacks
            .wait_for_terminal(&id, &cancel)
            .await
            .unwrap()
            .is_deleted()
    );
    assert_eq!(
        stacks.describe_stack("Ops-broken", &cancel).await.unwrap(),
        None
    );

    // A good stack whose update fails: only the update's failure is reported.
    let id = stacks
        .create_stack(&spec("Ops-app", policy_template("Allow")), &cancel)
        .await
        .unwrap();
    assert_eq!(
        stacks.wait_for_terminal(&id, &cancel).await.unwrap().status,
        "CREATE_COMPLETE"
    );
    let outcome = stacks
        .update_stack(&id, &spec("Ops-app", policy_template("Perhaps")), &cancel)
        .await
        .unwrap();
    assert!(matches!(outcome, UpdateOutcome::Updating { .. }));
    let err = stacks.wait_for_terminal(&id, &cancel).await.unwrap_err();
    let StackError::Failed(failure) = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(failure.status, "UPDATE_ROLLBACK_COMPLETE");
    let ids: Vec<&str> = failure
        .reasons
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect();
    assert_eq!(ids, ["Policy"], "{:?}", failure.reasons);
    assert_eq!(failure.reasons[0].status, "UPDATE_FAILED");
    // Still usable afterwards.
    let info = stacks.describe_stack(&id, &cancel).await.unwrap().unwrap();
    assert_eq!(info.status, "UPDATE_ROLLBACK_COMPLETE");
}

const ISSUER: &str = "https://oidc.localops.test/tenant-demo";

fn connection_template() -> String {
    serde_json::json!({
        "Resources": {
            "Provider": {
                "Type": "AWS::IAM::OIDCProvider",
                "Properties": {
                    "Url": ISSUER,
                    "ClientIdList": ["sts.amazonaws.com"],
                    "ThumbprintList": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
                }
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "localops-demo",
                    "MaxSessionDuration": 7200,
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "Federated": { "Ref": "Provider" } },
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": { "StringEquals": { "oidc.localops.test/tenant-demo:aud": "sts.amazonaws.com" } }
                        }]
                    }
                }
            }
        },
        "Outputs": {
            "RoleArn": { "Value": { "Fn::GetAtt": ["Role", "Arn"] } },
            "ProviderArn": { "Value": { "Ref": "Provider" } }
        }
    })
    .to_string()
}

#[tokio::test]
async fn connection_shaped_stack_read_back_through_iam_and_proven() {
    let moto = MotoServer::start().expect("patched moto");
    let clients = common::clients_for(&moto.endpoint()).await;
    let stacks = clients.stacks().with_wait(wait());
    let cancel = CancellationToken::new();
    let stack = StackSpec {
        name: "Ops-demo".into(),
        template_body: connection_template(),
        termination_protection: true,
        ..StackSpec::default()
    };
    let id = stacks.create_stack(&stack, &cancel).await.unwrap();
    let info = stacks.wait_for_terminal(&id, &cancel).await.unwrap();
    assert_eq!(info.status, "CREATE_COMPLETE", "{info:?}");
    let provider_arn = info.outputs["ProviderArn"].clone();
    let role_arn = info.outputs["RoleArn"].clone();
    assert_eq!(
        provider_arn,
        "arn:aws:iam::123456789012:oidc-provider/oidc.localops.test/tenant-demo"
    );

    let iam = clients.iam();
    assert_eq!(
        iam.find_oidc_provider_for_url(ISSUER, &cancel)
            .await
            .unwrap()
            .as_deref(),
        Some(provider_arn.as_str())
    );
    let provider = iam
        .get_oidc_provider(&provider_arn, &cancel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(provider.url, "oidc.localops.test/tenant-demo");
    assert_eq!(provider.client_ids, ["sts.amazonaws.com"]);

    let role = iam
        .get_role("localops-demo", &cancel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role.arn, role_arn);
    assert_eq!(role.max_session_duration, Some(7200));
    let trust: serde_json::Value = serde_json::from_str(&role.trust_policy).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Federated"],
        provider_arn.as_str()
    );
    assert_eq!(role.attached_policies.len(), 1);
    assert_eq!(role.attached_policies[0].name, "AdministratorAccess");
    assert!(role.attached_policies[0].aws_managed);

    let proof = clients
        .sts()
        .prove_web_identity(
            &role_arn,
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2ln",
            "localops-proof",
            None,
            &cancel,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(
        proof.caller_arn,
        "arn:aws:sts::123456789012:assumed-role/localops-demo/localops-proof"
    );
    assert_eq!(proof.subject_from_token.as_deref(), Some("demo"));
}
