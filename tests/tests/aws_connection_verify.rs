//! `localops_aws_connection` with LocalOps' issuer in the loop: the plan-time issuer check
//! (discovery document, JWKS, private CA) and the `verify` STS proof, end to end with real
//! `terraform`, the built provider, a loopback test issuer and moto.
//!
//! moto accepts any web identity token and checks no trust policy: trust correctness comes from
//! the provider's claims check (and the policy engine elsewhere); these tests prove the wiring.
//!
//! Needs `cargo build -p terraform-provider-localops` and `bash tests/setup-env.sh` first.

mod aws_connection_support;

use std::path::Path;
use std::time::Duration;

use aws_connection_support::{ACCOUNT, Setup};
use localops_tests::oidc_issuer::{TestIssuer, TokenSpec};

const SUBJECT: &str = "connection:acme-prod";
const AUDIENCE: &str = "sts.amazonaws.com";
/// The issuer URL the connection trusts. IAM issuer URLs have no port, so the provider is told
/// (test hook `LOCALOPS_OIDC_ISSUER_FETCH_URL`) to fetch the discovery document from the test
/// issuer's loopback port instead; tokens carry this URL as `iss`.
const ISSUER_URL: &str = "https://localhost";

/// A token from `issuer` with `iss` = [`ISSUER_URL`].
fn mint(issuer: &TestIssuer, sub: &str, ttl: Duration) -> String {
    issuer.mint_token_with(TokenSpec {
        iss: Some(ISSUER_URL.to_owned()),
        ..TokenSpec::new(sub, AUDIENCE, ttl)
    })
}

/// A moto workspace whose provider trusts `issuer` (through its CA file), with `verify` reading
/// `token` from the workspace's `token.jwt`.
fn setup(name: &str, issuer: &TestIssuer) -> Setup {
    let mut t = Setup::new(name);
    t.ws.set_env("LOCALOPS_VERIFY_RETRY_SECONDS", "5");
    t.ws.remove_env("LOCALOPS_SKIP_ISSUER_CHECK");
    t.ws.set_env("LOCALOPS_OIDC_ISSUER_FETCH_URL", &issuer.issuer_url());
    let ca = issuer.write_ca_bundle(t.ws.dir());
    let endpoint = t.moto.endpoint();
    t.ws.write_config(&format!(
        r#"provider "localops" {{
  oidc_issuer_url     = "{ISSUER_URL}"
  oidc_issuer_ca_file = "{ca}"
  endpoints {{
    cloudformation = "{endpoint}"
    iam            = "{endpoint}"
    sts            = "{endpoint}"
  }}
}}

resource "localops_aws_connection" "prod" {{
  name    = "acme-prod"
  subject = "{SUBJECT}"
  verify = {{
    token_file = "${{path.module}}/token.jwt"
  }}
}}
"#,
        ca = ca.display(),
    ));
    t
}

fn write_token(dir: &Path, token: &str) {
    std::fs::write(dir.join("token.jwt"), format!("{token}\n")).expect("write the token");
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[test]
fn verify_proves_the_connection_and_keeps_secrets_out_of_state() {
    let issuer = TestIssuer::start();
    let t = setup("verify-proof", &issuer);
    let token = mint(&issuer, SUBJECT, Duration::from_secs(3600));
    write_token(t.ws.dir(), &token);

    t.ws.apply().assert_success();
    let state = t.ws.state_values("localops_aws_connection.prod");
    let caller = state["caller_arn"].as_str().unwrap_or_default();
    assert!(
        caller.starts_with(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/LocalOps-acme-prod/"
        )),
        "caller_arn: {state:#}"
    );
    let verified_at = state["verified_at"].as_str().unwrap_or_default();
    assert!(
        verified_at.len() == 20 && verified_at.ends_with('Z') && verified_at.contains('T'),
        "verified_at: {verified_at:?}"
    );
    assert_eq!(state["verify"]["token_file"], "./token.jwt");

    // Nothing secret in the state: not the token, not the session's keys.
    let raw_state =
        std::fs::read_to_string(t.ws.dir().join("terraform.tfstate")).expect("read the state");
    for secret in [
        token.as_str(),
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
    ] {
        assert!(!raw_state.contains(secret), "{secret:?} is in the state");
    }
    let signature = token.rsplit('.').next().unwrap_or_default();
    assert!(!raw_state.contains(signature));

    // Nothing changed: the proof passes again at plan and the plan is empty.
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(0), "second plan not empty:\n{plan}");
    assert!(!plan.combined().contains(&token));

    // A token for another connection: the plan explains with both subjects.
    write_token(
        t.ws.dir(),
        &mint(&issuer, "connection:acme-dev", Duration::from_secs(3600)),
    );
    let plan = t.ws.plan();
    plan.assert_failure().assert_contains(&[
        "does not fit the connection's trust",
        "\"connection:acme-dev\"",
        "\"connection:acme-prod\"",
        "in resource \"localops_aws_connection\" \"prod\"",
    ]);

    // Expired: explained; a warning at plan of an existing connection (proof skipped).
    let now = unix_now();
    let expired = issuer.mint_token_with(TokenSpec {
        iat: Some(now - 7200),
        nbf: Some(now - 7200),
        exp: Some(now - 3600),
        iss: Some(ISSUER_URL.to_owned()),
        ..TokenSpec::new(SUBJECT, AUDIENCE, Duration::from_secs(60))
    });
    write_token(t.ws.dir(), &expired);
    let plan = t.ws.plan_detailed();
    assert_eq!(plan.code(), Some(0), "{plan}");
    plan.assert_contains(&["Warning", "proof skipped", "expired 1h"]);

    // Not signed by the issuer's key: an error, even though the claims fit.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = "c2lnbmF0dXJl".to_owned();
    write_token(t.ws.dir(), &parts.join("."));
    t.ws.plan()
        .assert_failure()
        .assert_contains(&["not signed by LocalOps' issuer"]);

    // Back to a good token; destroy leaves nothing.
    write_token(t.ws.dir(), &token);
    t.ws.destroy().assert_success();
}

#[test]
fn issuer_problems_at_plan() {
    let issuer = TestIssuer::start();
    let mut t = setup("verify-issuer", &issuer);
    let url = issuer.issuer_url();
    write_token(
        t.ws.dir(),
        &mint(&issuer, SUBJECT, Duration::from_secs(3600)),
    );

    // A good issuer and token: the create plan passes.
    t.ws.plan().assert_success();

    // Wrong subject at create: the claims check needs no role.
    write_token(
        t.ws.dir(),
        &mint(&issuer, "connection:other", Duration::from_secs(3600)),
    );
    t.ws.plan()
        .assert_failure()
        .assert_contains(&["\"connection:other\"", "\"connection:acme-prod\""]);
    write_token(
        t.ws.dir(),
        &mint(&issuer, SUBJECT, Duration::from_secs(3600)),
    );

    // The document advertises the URL with a trailing slash: an error quoting both.
    let slashed = format!("{url}/");
    issuer.set_advertised_issuer(Some(&slashed));
    t.ws.plan().assert_failure().assert_contains(&[
        "not usable by AWS",
        &format!("{slashed:?}"),
        &format!("{url:?}"),
        "trailing slash",
    ]);
    issuer.set_advertised_issuer(None);

    // No signing keys: STS could verify no token, an error.
    issuer.set_empty_jwks(true);
    t.ws.plan()
        .assert_failure()
        .assert_contains(&["not usable by AWS", "no keys"]);
    issuer.set_empty_jwks(false);

    // Turned off: no fetch, no error.
    issuer.set_empty_jwks(true);
    t.ws.set_env("LOCALOPS_SKIP_ISSUER_CHECK", "1");
    let served = issuer.requests_served();
    let plan = t.ws.plan();
    plan.assert_success();
    assert!(!plan.combined().contains("not usable"), "{plan}");
    assert_eq!(issuer.requests_served(), served, "the issuer was contacted");
    t.ws.remove_env("LOCALOPS_SKIP_ISSUER_CHECK");
    t.ws.set_env("LOCALOPS_OIDC_ISSUER_FETCH_URL", &issuer.issuer_url());
    issuer.set_empty_jwks(false);

    // Unreachable: the plan goes on with a warning.
    issuer.stop();
    t.ws.plan().assert_success().assert_contains(&[
        "Warning",
        "Could not reach LocalOps' OIDC issuer",
        &url,
    ]);
}
