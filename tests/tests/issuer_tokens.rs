//! Tokens minted by the local test issuer: they decode, verify against the JWKS it serves, and
//! wrong ones (sub, aud, iss, expiry, signature) are explained precisely.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use localops_issuer::token::{TokenError, TokenProblem};
use localops_issuer::{
    IssuerClient, IssuerClientOptions, Jwks, SecretToken, TokenClaims, TokenSource,
    check_against_trust, decode_header, read_token, verify_signature,
};
use localops_tests::oidc_issuer::{DEFAULT_AUDIENCE, TestIssuer, TokenSpec};
use serde_json::json;

const SUBJECT: &str = "localops:connection:conn-123";

async fn served_jwks(issuer: &TestIssuer) -> Jwks {
    let client = IssuerClient::new(IssuerClientOptions {
        extra_ca_pem: Some(issuer.ca_pem()),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    client.fetch_jwks(&issuer.jwks_uri()).await.unwrap()
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn explain(issuer: &TestIssuer, token: &str) -> Vec<TokenProblem> {
    let claims = TokenClaims::decode_unverified(token).unwrap();
    check_against_trust(
        &claims,
        &issuer.issuer_url(),
        DEFAULT_AUDIENCE,
        SUBJECT,
        SystemTime::now(),
    )
}

#[tokio::test]
async fn minted_token_decodes_verifies_and_fits_the_trust() {
    let issuer = TestIssuer::start();
    let jwks = served_jwks(&issuer).await;
    let token = issuer.mint_token(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(600));

    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, "RS256");
    assert_eq!(header.kid.as_deref(), Some(issuer.key_id().as_str()));

    let claims = TokenClaims::decode_unverified(&token).unwrap();
    assert_eq!(claims.iss.as_deref(), Some(issuer.issuer_url().as_str()));
    assert_eq!(claims.sub.as_deref(), Some(SUBJECT));
    assert_eq!(claims.aud, vec![DEFAULT_AUDIENCE]);
    let exp = claims.exp.unwrap();
    assert!((exp - now_secs() - 600).abs() <= 5, "exp {exp}");

    verify_signature(&token, &jwks).unwrap();
    assert_eq!(explain(&issuer, &token), vec![]);
}

#[tokio::test]
async fn token_read_from_a_file_verifies() {
    let issuer = TestIssuer::start();
    let jwks = served_jwks(&issuer).await;
    let dir = std::env::temp_dir().join(format!("issuer-tokens-{}", issuer.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    let minted = issuer.mint_token(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(60));
    std::fs::write(&path, format!("{minted}\n")).unwrap();

    let token: SecretToken = read_token(TokenSource::File(path)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(token.expose(), minted);
    assert!(!format!("{token:?}").contains(&minted[..20]));
    verify_signature(token.expose(), &jwks).unwrap();
}

#[tokio::test]
async fn aud_as_array_is_accepted_when_it_contains_the_audience() {
    let issuer = TestIssuer::start();
    let jwks = served_jwks(&issuer).await;
    let token = issuer.mint_token_with(TokenSpec {
        aud: Some(json!(["other", DEFAULT_AUDIENCE])),
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(60))
    });
    verify_signature(&token, &jwks).unwrap();
    assert_eq!(explain(&issuer, &token), vec![]);
}

#[test]
fn wrong_subject_and_audience_are_quoted() {
    let issuer = TestIssuer::start();
    let token = issuer.mint_token(
        "localops:connection:other",
        "my-app",
        Duration::from_secs(60),
    );
    let problems = explain(&issuer, &token);
    assert_eq!(
        problems,
        vec![
            TokenProblem::AudienceMismatch {
                token: vec!["my-app".into()],
                expected: DEFAULT_AUDIENCE.into(),
            },
            TokenProblem::SubjectMismatch {
                token: "localops:connection:other".into(),
                expected: SUBJECT.into(),
            },
        ]
    );
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(text[0].contains("\"my-app\"") && text[0].contains("\"sts.amazonaws.com\""));
    assert!(text[1].contains("\"localops:connection:other\"") && text[1].contains(SUBJECT));
}

#[test]
fn wrong_issuer_is_quoted_with_the_provider_url() {
    let issuer = TestIssuer::start();
    let wrong = format!("{}/", issuer.issuer_url());
    let token = issuer.mint_token_with(TokenSpec {
        iss: Some(wrong.clone()),
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(60))
    });
    let problems = explain(&issuer, &token);
    assert_eq!(
        problems,
        vec![TokenProblem::IssuerMismatch {
            token: wrong.clone(),
            expected: issuer.issuer_url(),
        }]
    );
    let text = problems[0].to_string();
    assert!(text.contains(&format!("{wrong:?}")), "{text}");
    assert!(
        text.contains(&format!("{:?}", issuer.issuer_url())),
        "{text}"
    );
    assert!(text.contains("trailing slash"), "{text}");
}

#[test]
fn expired_and_not_yet_valid_tokens_say_by_how_much() {
    let issuer = TestIssuer::start();
    let now = now_secs();
    let expired = issuer.mint_token_with(TokenSpec {
        iat: Some(now - 7200),
        nbf: Some(now - 7200),
        exp: Some(now - 3900),
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::ZERO)
    });
    let problems = explain(&issuer, &expired);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let text = problems[0].to_string();
    assert!(
        matches!(problems[0], TokenProblem::Expired { .. }),
        "{text}"
    );
    assert!(
        text.contains("expired 1h 5m ago") || text.contains("expired 1h 5m"),
        "{text}"
    );

    let early = issuer.mint_token_with(TokenSpec {
        nbf: Some(now + 600),
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(3600))
    });
    let problems = explain(&issuer, &early);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().contains("not valid yet"),
        "{}",
        problems[0]
    );

    let no_exp = issuer.mint_token_with(TokenSpec {
        exp: None,
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::ZERO)
    });
    assert_eq!(explain(&issuer, &no_exp), vec![TokenProblem::MissingExpiry]);
}

#[tokio::test]
async fn tampered_or_foreign_tokens_fail_verification() {
    let issuer = TestIssuer::start();
    let jwks = served_jwks(&issuer).await;
    let token = issuer.mint_token(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(60));

    // Swap the payload for one with another subject, keep the signature.
    let other = issuer.mint_token(
        "localops:connection:admin",
        DEFAULT_AUDIENCE,
        Duration::from_secs(60),
    );
    let mut parts: Vec<&str> = token.split('.').collect();
    let other_payload = other.split('.').nth(1).unwrap();
    parts[1] = other_payload;
    let tampered = parts.join(".");
    let err = verify_signature(&tampered, &jwks).unwrap_err();
    assert_eq!(
        err,
        TokenError::BadSignature(format!("key {}", issuer.key_id()))
    );
    assert!(!err.to_string().contains(other_payload));

    let unknown_kid = issuer.mint_token_with(TokenSpec {
        kid: Some("rotated-away".into()),
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(60))
    });
    let err = verify_signature(&unknown_kid, &jwks)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"rotated-away\"") && err.contains(&issuer.key_id()),
        "{err}"
    );

    // No kid in the header: the key is found by trying the keys fit for RS256.
    let no_kid = issuer.mint_token_with(TokenSpec {
        kid: Some(String::new()),
        ..TokenSpec::new(SUBJECT, DEFAULT_AUDIENCE, Duration::from_secs(60))
    });
    verify_signature(&no_kid, &jwks).unwrap();

    // An empty key set verifies nothing.
    let err = verify_signature(&token, &Jwks::default()).unwrap_err();
    assert!(matches!(err, TokenError::NoMatchingKey(_)), "{err}");
}
