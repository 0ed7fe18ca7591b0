//! Building clients from provider settings: lazy credentials, the clear "no credentials"
//! error, profiles, the SDK's endpoint variables, explicit overrides and assume-role.
//!
//! Environment variables are process-wide, so this file holds a single test that sets them
//! before anything else runs and then walks through the cases in order. Instance metadata is
//! disabled so the default chain never leaves loopback.

mod common;

use std::time::{Duration, Instant};

use common::{FakeAws, Reply};
use localops_aws::{
    AssumeRoleSettings, AwsClients, AwsSettings, CancellationToken, ErrorClass, StackError,
    StsError,
};

const ASSUMED_KEY_ID: &str = "ASIAASSUMEDROLE00001";

fn caller_ok(arn: &str) -> Reply {
    common::caller_identity_reply(arn, "AIDAEXAMPLE")
}

fn assume_role_ok() -> Reply {
    Reply::ok(format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/deployer/terraform-localops</Arn><AssumedRoleId>AROADEPLOYER:terraform-localops</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>{ASSUMED_KEY_ID}</AccessKeyId><SecretAccessKey>assumedSecret</SecretAccessKey><SessionToken>assumedSessionToken</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"#
    ))
}

fn sts_fake(arn: &'static str) -> impl Fn(&common::SeenRequest, usize) -> Reply {
    move |req, _| match req.action() {
        "GetCallerIdentity" => caller_ok(arn),
        "AssumeRole" => assume_role_ok(),
        _ => Reply::error(400, "InvalidAction", "unexpected"),
    }
}

fn credential(req: &common::SeenRequest) -> String {
    let auth = req
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn settings_to_clients() {
    let dir = std::env::temp_dir().join(format!("localops-aws-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials_file = dir.join("credentials");
    std::fs::write(
        &credentials_file,
        "[ci]\naws_access_key_id = AKIDPROFILECI\naws_secret_access_key = profile-secret-value\n",
    )
    .unwrap();

    // SAFETY: this is the only test in this binary and it runs before any other thread of
    // ours exists; no other code reads the environment concurrently.
    unsafe {
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                std::env::remove_var(&key);
            }
        }
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", dir.join("no-config"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"));
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cancel = CancellationToken::new();
        let fake = FakeAws::start(sts_fake("arn:aws:iam::123456789012:user/ci")).await;

        // 1. No credentials anywhere: building is quick and succeeds; the first call fails
        //    with the clear message, without reaching the endpoint.
        let settings = AwsSettings {
            endpoints: common::endpoints(&fake.url),
            ..AwsSettings::default()
        };
        let started = Instant::now();
        let clients = AwsClients::from_settings(&settings).await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(clients.region(), Some("us-east-1"));

        let err = clients.sts().caller_identity(&cancel).await.unwrap_err();
        let StsError::Aws { class, message, .. } = &err else {
            panic!("unexpected {err:?}");
        };
        assert_eq!(*class, ErrorClass::NoCredentials, "{message}");
        assert!(
            message.starts_with("no AWS credentials found: set AWS_PROFILE"),
            "{message}"
        );
        let err = clients
            .stacks()
            .describe_stack("Ops-demo", &cancel)
            .await
            .unwrap_err();
        assert_eq!(err.class(), Some(ErrorClass::NoCredentials));
        let text = err.to_string();
        assert!(text.contains("DescribeStacks Ops-demo"), "{text}");
        assert!(text.contains("no AWS credentials found"), "{text}");
        let err = clients.iam().get_role("x", &cancel).await.unwrap_err();
        assert_eq!(err.class(), Some(ErrorClass::NoCredentials), "{err}");
        assert!(fake.seen.lock().unwrap().is_empty(), "nothing was sent");

        // 2. A named profile that does not exist: still builds, fails on use, names it.
        let missing = AwsSettings {
            profile: Some("localops-missing".into()),
            ..settings.clone()
        };
        let clients = AwsClients::from_settings(&missing).await.unwrap();
        let err = clients.sts().caller_identity(&cancel).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err.class(),
                Some(ErrorClass::NoCredentials | ErrorClass::CredentialsProvider)
            ),
            "{err:?}"
        );
        assert!(text.contains("localops-missing"), "{text}");

        // 3. A profile from the shared credentials file is used.
        // SAFETY: as above; no request is in flight.
        unsafe { std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &credentials_file) };
        let with_profile = AwsSettings {
            profile: Some("ci".into()),
            ..settings.clone()
        };
        let clients = AwsClients::from_settings(&with_profile).await.unwrap();
        let me = clients.sts().caller_identity(&cancel).await.unwrap();
        assert_eq!(me.arn, "arn:aws:iam::123456789012:user/ci");
        let seen = fake.requests("GetCallerIdentity");
        assert_eq!(credential(&seen[0]), "AKIDPROFILECI");
        for debug in [
            format!("{clients:?}"),
            format!("{:?}", clients.stacks()),
            format!("{:?}", clients.iam()),
            format!("{:?}", clients.sts()),
        ] {
            assert!(!debug.contains("profile-secret-value"), "{debug}");
        }

        // 4. The SDK's AWS_ENDPOINT_URL_STS works without an override; an explicit override wins.
        let from_env = FakeAws::start(sts_fake("arn:aws:iam::123456789012:user/env")).await;
        // SAFETY: as above.
        unsafe { std::env::set_var("AWS_ENDPOINT_URL_STS", &from_env.url) };
        let no_override = AwsSettings {
            profile: Some("ci".into()),
            ..AwsSettings::default()
        };
        let clients = AwsClients::from_settings(&no_override).await.unwrap();
        let me = clients.sts().caller_identity(&cancel).await.unwrap();
        assert_eq!(me.arn, "arn:aws:iam::123456789012:user/env");
        let clients = AwsClients::from_settings(&with_profile).await.unwrap();
        let me = clients.sts().caller_identity(&cancel).await.unwrap();
        assert_eq!(me.arn, "arn:aws:iam::123456789012:user/ci");

        // 5. assume_role: AssumeRole goes to the STS override (not AWS_ENDPOINT_URL_STS),
        //    signed with the profile's keys; later calls use the assumed role's keys.
        let assume = AwsSettings {
            profile: Some("ci".into()),
            assume_role: Some(AssumeRoleSettings {
                role_arn: "arn:aws:iam::123456789012:role/deployer".into(),
                external_id: Some("localops-external".into()),
                session_name: None,
                duration_seconds: Some(1800),
            }),
            ..settings.clone()
        };
        let before = fake.requests("AssumeRole").len();
        let clients = AwsClients::from_settings(&assume).await.unwrap();
        assert_eq!(
            fake.requests("AssumeRole").len(),
            before,
            "building is lazy"
        );
        clients.sts().caller_identity(&cancel).await.unwrap();
        let assumes = fake.requests("AssumeRole");
        assert_eq!(assumes.len(), before + 1);
        let req = assumes.last().unwrap();
        assert_eq!(credential(req), "AKIDPROFILECI");
        assert_eq!(
            req.params.get("RoleArn").map(String::as_str),
            Some("arn:aws:iam::123456789012:role/deployer")
        );
        assert_eq!(
            req.params.get("RoleSessionName").map(String::as_str),
            Some("terraform-localops")
        );
        assert_eq!(
            req.params.get("ExternalId").map(String::as_str),
            Some("localops-external")
        );
        assert_eq!(
            req.params.get("DurationSeconds").map(String::as_str),
            Some("1800")
        );
        let last_caller = fake.requests("GetCallerIdentity").pop().unwrap();
        assert_eq!(credential(&last_caller), ASSUMED_KEY_ID);
        assert!(from_env.requests("AssumeRole").is_empty());
        assert!(!format!("{assume:?}").contains("localops-external"));

        // CloudFormation calls use the assumed role too.
        let cfn = FakeAws::start(|_, _| {
            Reply::error(
                400,
                "ValidationError",
                "Stack with id Ops-demo does not exist",
            )
        })
        .await;
        let with_cfn = AwsSettings {
            endpoints: localops_aws::Endpoints {
                cloudformation: Some(cfn.url.clone()),
                ..assume.endpoints.clone()
            },
            ..assume.clone()
        };
        let clients = AwsClients::from_settings(&with_cfn).await.unwrap();
        let described = clients.stacks().describe_stack("Ops-demo", &cancel).await;
        assert!(matches!(described, Ok(None)), "{described:?}");
        assert_eq!(
            credential(&cfn.requests("DescribeStacks")[0]),
            ASSUMED_KEY_ID
        );

        // 6. Invalid settings are rejected before anything is built.
        let bad = AwsSettings {
            region: String::new(),
            ..AwsSettings::default()
        };
        assert_eq!(
            AwsClients::from_settings(&bad).await.unwrap_err().field,
            "region"
        );
        let _ = StackError::Timeout {
            stack_id: String::new(),
            last_status: None,
            waited: Duration::ZERO,
        };
    });
    let _ = std::fs::remove_dir_all(&dir);
}
