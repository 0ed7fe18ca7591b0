//! IAM reads and repairs against moto.

mod common;

use std::time::Duration;

use common::{ACCOUNT, MotoServer};
use localops_aws::aws_sdk_iam::types::Tag;
use localops_aws::{CancellationToken, ErrorClass, IamError};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.localops.test/tenant-a"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.localops.test/tenant-a:aud":"sts.amazonaws.com","oidc.localops.test/tenant-a:sub":"tenant a+b %"}}}]}"#;
const CUSTOMER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","s3:List*"],"Resource":"*"}]}"#;
const INLINE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#;
const BOUNDARY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Creates a customer managed policy with the raw client; returns its ARN.
async fn create_policy(
    raw: &localops_aws::aws_sdk_iam::Client,
    name: &str,
    document: &str,
) -> String {
    raw.create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap()
}

#[tokio::test]
async fn role_reads_and_repairs() {
    let moto = MotoServer::start_with_env(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let clients = moto.clients().await;
    let raw = &clients.iam;
    let cancel = CancellationToken::new();

    let boundary_arn = create_policy(raw, "localops-boundary", BOUNDARY).await;
    let customer_arn = create_policy(raw, "localops-permissions", CUSTOMER_POLICY).await;
    raw.create_role()
        .role_name("localops-connection")
        .assume_role_policy_document(TRUST)
        .max_session_duration(7200)
        .permissions_boundary(&boundary_arn)
        .tags(
            Tag::builder()
                .key("localops:connection")
                .value("demo")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    raw.attach_role_policy()
        .role_name("localops-connection")
        .policy_arn(&customer_arn)
        .send()
        .await
        .unwrap();
    raw.attach_role_policy()
        .role_name("localops-connection")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    raw.put_role_policy()
        .role_name("localops-connection")
        .policy_name("deny-iam")
        .policy_document(INLINE)
        .send()
        .await
        .unwrap();

    let iam = clients.iam();
    let role = iam
        .get_role("localops-connection", &cancel)
        .await
        .unwrap()
        .expect("role exists");
    assert_eq!(
        role.arn,
        format!("arn:aws:iam::{ACCOUNT}:role/localops-connection")
    );
    assert_eq!(role.name, "localops-connection");
    assert_eq!(role.path, "/");
    // Decoded, and the '+' and '%' inside survive decoding.
    assert_eq!(json(&role.trust_policy), json(TRUST));
    assert!(role.trust_policy.contains("tenant a+b %"));
    assert_eq!(role.max_session_duration, Some(7200));
    assert_eq!(
        role.permissions_boundary_arn.as_deref(),
        Some(boundary_arn.as_str())
    );
    assert_eq!(
        role.tags.get("localops:connection").map(String::as_str),
        Some("demo")
    );

    assert_eq!(
        role.attached_policies.len(),
        2,
        "{:?}",
        role.attached_policies
    );
    let customer = role
        .attached_policies
        .iter()
        .find(|p| p.arn == customer_arn)
        .expect("customer policy");
    assert_eq!(customer.name, "localops-permissions");
    assert!(!customer.aws_managed);
    assert_eq!(customer.default_version_id.as_deref(), Some("v1"));
    assert_eq!(
        json(customer.document.as_deref().unwrap()),
        json(CUSTOMER_POLICY)
    );
    let managed = role
        .attached_policies
        .iter()
        .find(|p| p.name == "ReadOnlyAccess")
        .expect("AWS managed policy");
    assert!(managed.aws_managed);
    assert_eq!(managed.document, None);

    assert_eq!(role.inline_policies.len(), 1);
    assert_eq!(role.inline_policies[0].name, "deny-iam");
    assert_eq!(json(&role.inline_policies[0].document), json(INLINE));

    // Missing roles read as None; errors from other calls keep operation and resource.
    assert_eq!(iam.get_role("no-such-role", &cancel).await.unwrap(), None);
    let err = iam
        .detach_policy("no-such-role", &customer_arn, &cancel)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        err.to_string().contains("DetachRolePolicy no-such-role"),
        "{err}"
    );

    // Repairs.
    let new_trust = TRUST.replace("tenant a+b %", "tenant-b");
    iam.put_trust_policy("localops-connection", &new_trust, &cancel)
        .await
        .unwrap();
    iam.update_max_session_duration("localops-connection", 3600, &cancel)
        .await
        .unwrap();
    iam.detach_policy("localops-connection", &customer_arn, &cancel)
        .await
        .unwrap();
    iam.delete_inline_policy("localops-connection", "deny-iam", &cancel)
        .await
        .unwrap();
    iam.delete_permissions_boundary("localops-connection", &cancel)
        .await
        .unwrap();
    iam.attach_policy(
        "localops-connection",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        &cancel,
    )
    .await
    .unwrap();

    let role = iam
        .get_role("localops-connection", &cancel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(json(&role.trust_policy), json(&new_trust));
    assert_eq!(role.max_session_duration, Some(3600));
    assert_eq!(role.permissions_boundary_arn, None);
    assert!(role.inline_policies.is_empty());
    let mut names: Vec<&str> = role
        .attached_policies
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["AdministratorAccess", "ReadOnlyAccess"]);

    // A rejected write passes IAM's text through and is not retried.
    let err = iam
        .put_trust_policy("localops-connection", "{not json", &cancel)
        .await
        .unwrap_err();
    match &err {
        IamError::Aws {
            operation,
            resource,
            code,
            class,
            ..
        } => {
            assert_eq!(*operation, "UpdateAssumeRolePolicy");
            assert_eq!(resource, "localops-connection");
            assert_eq!(code.as_deref(), Some("MalformedPolicyDocument"));
            assert_eq!(*class, ErrorClass::Validation);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn oidc_providers_list_get_find() {
    let moto = MotoServer::start();
    let clients = moto.clients().await;
    let raw = &clients.iam;
    let cancel = CancellationToken::new();
    let iam = clients.iam();

    assert!(iam.list_oidc_providers(&cancel).await.unwrap().is_empty());
    assert_eq!(
        iam.find_oidc_provider_for_url("https://oidc.localops.test/tenant-a", &cancel)
            .await
            .unwrap(),
        None
    );

    let a = raw
        .create_open_id_connect_provider()
        .url("https://oidc.localops.test/tenant-a")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn
        .unwrap();
    let b = raw
        .create_open_id_connect_provider()
        .url("https://oidc.localops.test/tenant-b/")
        .client_id_list("sts.amazonaws.com")
        .client_id_list("localops")
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn
        .unwrap();
    assert_eq!(
        a,
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.localops.test/tenant-a")
    );

    let mut listed = iam.list_oidc_providers(&cancel).await.unwrap();
    listed.sort();
    assert_eq!(listed, [a.clone(), b.clone()]);

    let provider = iam.get_oidc_provider(&a, &cancel).await.unwrap().unwrap();
    assert_eq!(provider.arn, a);
    assert_eq!(provider.url, "oidc.localops.test/tenant-a");
    assert_eq!(provider.client_ids, ["sts.amazonaws.com"]);
    assert_eq!(
        provider.thumbprints,
        ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
    );
    let provider_b = iam.get_oidc_provider(&b, &cancel).await.unwrap().unwrap();
    assert_eq!(provider_b.client_ids, ["sts.amazonaws.com", "localops"]);

    let missing = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/nowhere.test");
    assert_eq!(
        iam.get_oidc_provider(&missing, &cancel).await.unwrap(),
        None
    );

    for (url, want) in [
        ("https://oidc.localops.test/tenant-a", Some(&a)),
        ("https://oidc.localops.test/tenant-a/", Some(&a)),
        ("oidc.localops.test/tenant-a", Some(&a)),
        ("https://OIDC.localops.test/tenant-b", Some(&b)),
        ("https://oidc.localops.test/tenant-b/", Some(&b)),
        ("https://oidc.localops.test", None),
        ("https://oidc.localops.test/tenant-c", None),
    ] {
        let got = iam.find_oidc_provider_for_url(url, &cancel).await.unwrap();
        assert_eq!(got.as_ref(), want, "{url}");
    }
}

#[tokio::test]
async fn not_found_is_retried_only_when_asked() {
    let moto = MotoServer::start();
    let clients = moto.clients().await;
    let cancel = CancellationToken::new();
    let policy = localops_aws::RetryPolicy {
        backoff: localops_aws::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(200),
            multiplier: 2.0,
        },
        budget: Duration::from_secs(10),
        max_attempts: 100,
        max_transient_rounds: 2,
    };
    // The role appears ~0.7 s after the first read, as it would after IAM propagation.
    let raw = clients.iam.clone();
    let creator = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        raw.create_role()
            .role_name("late")
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
    });
    // Without the flag: immediately None.
    let plain = clients.iam().with_retry(policy);
    assert_eq!(plain.get_role("late", &cancel).await.unwrap(), None);
    // With it: waits for the role.
    let patient = clients.iam().with_retry(policy).retrying_not_found();
    let role = patient.get_role("late", &cancel).await.unwrap();
    assert_eq!(role.map(|r| r.name).as_deref(), Some("late"));
    creator.await.unwrap();

    // Cancelled while retrying: interrupted, promptly.
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let (result, took) = common::timed(patient.get_role("never", &cancel)).await;
    assert!(
        matches!(result, Err(IamError::Interrupted { .. })),
        "{result:?}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
}
