//! STS: caller identity and the web identity proof, against moto and a scripted fake.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{ACCOUNT, FakeAws, MotoServer, Reply, timed};
use localops_aws::retry::Backoff;
use localops_aws::{CancellationToken, ErrorClass, StsError};

/// An unsigned JWT; moto accepts any token, the fake never looks.
/// Payload: {"iss":"https://oidc.localops.test","sub":"localops:tenant:demo","aud":"sts.amazonaws.com"}
fn token() -> String {
    let payload = r#"{"iss":"https://oidc.localops.test","sub":"localops:tenant:demo","aud":"sts.amazonaws.com"}"#;
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJlLXNlY3JldC1wYXJ0",
        b64url(payload.as_bytes())
    )
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

const ROLE: &str = "arn:aws:iam::123456789012:role/localops-connection";

/// Captures every log line (TRACE and up, all crates, the SDK's included). One global
/// subscriber for the whole test binary (thread-local ones miss events when callsites were
/// first hit on another thread); a capture reads what was logged since it started, by any
/// test, which only makes the "never logged" checks stricter.
struct LogCapture {
    start: usize,
}

#[derive(Clone)]
struct BufWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        let writer = BufWriter(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        buf
    })
}

impl LogCapture {
    fn start() -> Self {
        LogCapture {
            start: log_buffer().lock().unwrap().len(),
        }
    }

    fn text(&self) -> String {
        let buf = log_buffer().lock().unwrap();
        String::from_utf8_lossy(&buf[self.start.min(buf.len())..]).into_owned()
    }
}

#[tokio::test]
async fn caller_identity_and_proof_against_moto() {
    let moto = MotoServer::start();
    let clients = moto.clients().await;
    let cancel = CancellationToken::new();
    let sts = clients.sts();

    let me = sts.caller_identity(&cancel).await.unwrap();
    assert_eq!(me.account, ACCOUNT);
    assert!(me.arn.starts_with("arn:aws:"), "{}", me.arn);
    assert!(!me.user_id.is_empty());

    clients
        .iam
        .create_role()
        .role_name("localops-connection")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();

    let logs = LogCapture::start();
    let token = token();
    let proof = sts
        .prove_web_identity(
            ROLE,
            &token,
            "localops-proof",
            Some(Duration::from_secs(900)),
            &cancel,
            localops_aws::DEFAULT_PROOF_RETRY_BUDGET,
        )
        .await
        .unwrap();
    let logged = logs.text();

    assert_eq!(
        proof.caller_arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/localops-connection/localops-proof")
    );
    assert_eq!(proof.assumed_role_arn, proof.caller_arn);
    assert!(
        proof.assumed_role_id.ends_with(":localops-proof"),
        "{}",
        proof.assumed_role_id
    );
    assert_eq!(proof.account, ACCOUNT);
    assert_eq!(proof.role_arn, ROLE);
    assert!(
        proof
            .expires_at
            .as_deref()
            .is_some_and(|t| t.ends_with('Z')),
        "{:?}",
        proof.expires_at
    );
    assert_eq!(
        proof.subject_from_token.as_deref(),
        Some("localops:tenant:demo")
    );
    assert_eq!(proof.audience.as_deref(), Some("sts.amazonaws.com"));
    assert_eq!(proof.attempts, 1);

    let debug = format!("{proof:?}");
    for secret in ["AKIA", "ASIA", "FQoG", "secret", "Secret", "token\":"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(!debug.contains(&token));
    assert!(!logged.is_empty());
    assert!(!logged.contains(&token), "token logged");
    assert!(
        !logged.contains("c2lnbmF0dXJlLXNlY3JldC1wYXJ0"),
        "token signature logged"
    );
}

const SESSION_KEY_ID: &str = "ASIAFAKESESSION00001";
const SESSION_SECRET: &str = "fakeSessionSecret/DoNotLog+123";
const SESSION_TOKEN: &str = "FAKESESSIONTOKEN-never-log-me";

fn assume_ok() -> Reply {
    Reply::ok(format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>tenant-demo</SubjectFromWebIdentityToken><Audience>localops</Audience><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/localops-connection/proof</Arn><AssumedRoleId>AROAFAKEROLEID:proof</AssumedRoleId></AssumedRoleUser><Credentials><SessionToken>{SESSION_TOKEN}</SessionToken><SecretAccessKey>{SESSION_SECRET}</SecretAccessKey><Expiration>2030-01-01T00:00:00Z</Expiration><AccessKeyId>{SESSION_KEY_ID}</AccessKeyId></Credentials><Provider>https://oidc.localops.test</Provider></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>"#
    ))
}

fn caller_ok() -> Reply {
    common::caller_identity_reply(
        "arn:aws:sts::123456789012:assumed-role/localops-connection/proof",
        "AROAFAKEROLEID:proof",
    )
}

fn fast() -> Backoff {
    Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
        multiplier: 2.0,
    }
}

#[tokio::test]
async fn proof_rides_out_propagation_and_keeps_credentials_inside() {
    let fake = FakeAws::start(|req, n| match (req.action(), n) {
        ("AssumeRoleWithWebIdentity", 0) => Reply::error(
            400,
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://oidc.localops.test",
        ),
        ("AssumeRoleWithWebIdentity", 1) => Reply::error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        ),
        ("AssumeRoleWithWebIdentity", 2) => Reply::error(
            400,
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
        ),
        ("AssumeRoleWithWebIdentity", _) => assume_ok(),
        ("GetCallerIdentity", 0) => Reply::error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        ("GetCallerIdentity", _) => caller_ok(),
        _ => Reply::error(400, "InvalidAction", "unexpected"),
    })
    .await;
    let sts = fake.clients().await.sts().with_proof_backoff(fast());
    let logs = LogCapture::start();
    let token = token();
    let proof = sts
        .prove_web_identity(
            ROLE,
            &token,
            "proof",
            Some(Duration::from_secs(3600)),
            &CancellationToken::new(),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    let logged = logs.text();

    assert_eq!(proof.attempts, 4);
    assert_eq!(
        proof.caller_arn,
        "arn:aws:sts::123456789012:assumed-role/localops-connection/proof"
    );
    assert_eq!(proof.assumed_role_id, "AROAFAKEROLEID:proof");
    assert_eq!(proof.expires_at.as_deref(), Some("2030-01-01T00:00:00Z"));
    // STS's own answers win over the token's claims.
    assert_eq!(proof.subject_from_token.as_deref(), Some("tenant-demo"));
    assert_eq!(proof.audience.as_deref(), Some("localops"));
    assert_eq!(
        proof.provider.as_deref(),
        Some("https://oidc.localops.test")
    );

    let assumes = fake.requests("AssumeRoleWithWebIdentity");
    assert_eq!(assumes.len(), 4);
    for r in &assumes {
        // Unsigned: the caller's credentials are not used.
        assert!(!r.headers.contains_key("authorization"), "{:?}", r.headers);
        assert_eq!(r.params.get("WebIdentityToken"), Some(&token));
        assert_eq!(r.params.get("RoleArn").map(String::as_str), Some(ROLE));
        assert_eq!(
            r.params.get("DurationSeconds").map(String::as_str),
            Some("3600")
        );
    }
    let callers = fake.requests("GetCallerIdentity");
    assert_eq!(callers.len(), 2);
    for r in &callers {
        let auth = r.headers.get("authorization").expect("signed");
        assert!(
            auth.contains(&format!("Credential={SESSION_KEY_ID}/")),
            "{auth}"
        );
        assert_eq!(
            r.headers.get("x-amz-security-token").map(String::as_str),
            Some(SESSION_TOKEN)
        );
    }

    let debug = format!("{proof:?}");
    for secret in [
        SESSION_KEY_ID,
        SESSION_SECRET,
        SESSION_TOKEN,
        token.as_str(),
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    // Secrets appear nowhere, not even in the SDK's own TRACE output.
    for secret in [SESSION_SECRET, SESSION_TOKEN, token.as_str()] {
        assert!(!logged.contains(secret), "{secret} logged");
    }
    // The session's access key id (an identifier, not a secret) shows up only in the SDK's
    // DEBUG/TRACE dumps of the resolved identity, never in this crate's logs nor at INFO+.
    for line in logged.lines().filter(|l| l.contains(SESSION_KEY_ID)) {
        assert!(
            line.contains(" DEBUG ") || line.contains(" TRACE "),
            "{line}"
        );
        assert!(!line.contains("localops_aws"), "{line}");
    }
    assert!(logged.contains("retrying AWS call"), "retries are logged");
}

#[tokio::test]
async fn permanent_errors_fail_at_once_without_the_token() {
    let fake = FakeAws::start(|_, _| {
        Reply::error(400, "InvalidIdentityToken", "Incorrect token audience")
    })
    .await;
    let sts = fake.clients().await.sts().with_proof_backoff(fast());
    let token = token();
    let err = sts
        .prove_web_identity(
            ROLE,
            &token,
            "proof",
            None,
            &CancellationToken::new(),
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
    match &err {
        StsError::Aws {
            operation,
            resource,
            code,
            message,
            attempts,
            ..
        } => {
            assert_eq!(*operation, "AssumeRoleWithWebIdentity");
            assert_eq!(resource, ROLE);
            assert_eq!(code.as_deref(), Some("InvalidIdentityToken"));
            assert_eq!(message, "Incorrect token audience");
            assert_eq!(*attempts, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.to_string().contains(&token));
    assert!(!format!("{err:?}").contains(&token));
    assert_eq!(fake.requests("AssumeRoleWithWebIdentity").len(), 1);
    let sent = &fake.requests("AssumeRoleWithWebIdentity")[0];
    assert_eq!(sent.params.get("DurationSeconds"), None);
}

#[tokio::test]
async fn retry_budget_bounds_the_proof() {
    let fake = FakeAws::start(|_, _| {
        Reply::error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        )
    })
    .await;
    let sts = fake.clients().await.sts().with_proof_backoff(fast());
    let (result, took) = timed(sts.prove_web_identity(
        ROLE,
        &token(),
        "proof",
        None,
        &CancellationToken::new(),
        Duration::from_millis(1500),
    ))
    .await;
    match result.unwrap_err() {
        StsError::Aws {
            code,
            attempts,
            class,
            ..
        } => {
            assert_eq!(code.as_deref(), Some("AccessDenied"));
            assert_eq!(class, ErrorClass::AccessDenied);
            assert!(attempts > 3, "{attempts}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test]
async fn cancelling_the_proof_returns_promptly_with_the_last_error() {
    let fake = FakeAws::start(|_, _| {
        Reply::error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        )
    })
    .await;
    // Default (1 s .. 8 s) backoff: cancellation must cut the sleep short.
    let sts = fake.clients().await.sts();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        trigger.cancel();
    });
    let (result, took) = timed(sts.prove_web_identity(
        ROLE,
        &token(),
        "proof",
        None,
        &cancel,
        Duration::from_secs(60),
    ))
    .await;
    assert!(took < Duration::from_millis(3000), "{took:?}");
    match result.unwrap_err() {
        StsError::Interrupted {
            operation,
            attempts,
            last_error,
        } => {
            assert_eq!(operation, "AssumeRoleWithWebIdentity");
            assert!(attempts >= 1);
            assert!(last_error.unwrap().contains("AccessDenied"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn bad_arguments_are_rejected_before_calling_aws() {
    let fake = FakeAws::start(|_, _| assume_ok()).await;
    let sts = fake.clients().await.sts();
    let cancel = CancellationToken::new();
    let budget = Duration::from_secs(5);
    let cases = [
        ("not-an-arn", token(), "proof", None, "role_arn"),
        (ROLE, String::new(), "proof", None, "token"),
        (ROLE, token(), "x", None, "session_name"),
        (
            ROLE,
            token(),
            "proof",
            Some(Duration::from_secs(60)),
            "duration",
        ),
    ];
    for (role, tok, session, duration, field) in cases {
        let err = sts
            .prove_web_identity(role, &tok, session, duration, &cancel, budget)
            .await
            .unwrap_err();
        match err {
            StsError::Invalid { field: f, .. } => assert_eq!(f, field),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(fake.seen.lock().unwrap().is_empty());
}
