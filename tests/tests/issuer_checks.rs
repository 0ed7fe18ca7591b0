//! `IssuerClient::check_issuer` against the local test issuer: a good issuer, the ways it can be
//! wrong (Invalid), and the ways it can be out of reach (Unreachable, quickly).

use std::time::{Duration, Instant};

use localops_issuer::{IssuerClient, IssuerClientOptions, IssuerReport};
use localops_tests::oidc_issuer::TestIssuer;

/// Generous bound for "returns quickly": far above the client timeouts used here, far below
/// anything that would hang a plan.
const FAST: Duration = Duration::from_secs(10);

fn client_trusting(issuer: &TestIssuer, timeout: Duration) -> IssuerClient {
    IssuerClient::new(IssuerClientOptions {
        extra_ca_pem: Some(issuer.ca_pem()),
        timeout,
    })
    .unwrap()
}

fn problems(report: IssuerReport) -> Vec<String> {
    match report {
        IssuerReport::Invalid { problems } => problems,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn unreachable_reason(report: IssuerReport) -> String {
    match report {
        IssuerReport::Unreachable { reason } => reason,
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn good_issuer_reports_thumbprint_and_key_ids() {
    let issuer = TestIssuer::start();
    // Trust through a CA bundle file, as a user would configure it.
    let dir = std::env::temp_dir().join(format!("issuer-checks-{}", issuer.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = issuer.write_ca_bundle(&dir);
    let client = IssuerClient::new(IssuerClientOptions {
        extra_ca_pem: Some(std::fs::read_to_string(&bundle).unwrap()),
        ..IssuerClientOptions::default()
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let started = Instant::now();
    let report = client.check_issuer(&issuer.issuer_url()).await;
    eprintln!("check_issuer (ok) took {:?}", started.elapsed());
    let IssuerReport::Ok {
        thumbprint,
        jwks_keys,
        discovery,
    } = report
    else {
        panic!("expected Ok, got {report:?}")
    };
    assert_eq!(thumbprint, issuer.thumbprint());
    assert_eq!(thumbprint.len(), 40);
    assert!(
        thumbprint
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(jwks_keys, vec![issuer.key_id()]);
    assert_eq!(discovery.issuer, issuer.issuer_url());
    assert_eq!(discovery.jwks_uri, issuer.jwks_uri());
    assert_eq!(
        discovery.id_token_signing_alg_values_supported,
        vec!["RS256"]
    );
    assert_eq!(issuer.requests_served(), 2, "discovery + JWKS");
}

#[test]
fn blocking_check_works_from_sync_code() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    let report = client.check_issuer_blocking(&issuer.issuer_url());
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn advertised_issuer_with_trailing_slash_is_invalid_quoting_both() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    let configured = issuer.issuer_url();
    let advertised = format!("{configured}/");
    issuer.set_advertised_issuer(Some(&advertised));

    let problems = problems(client.check_issuer(&configured).await);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains(&format!("{advertised:?}")),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains(&format!("{configured:?}")),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("trailing slash"), "{}", problems[0]);
}

#[tokio::test]
async fn configured_issuer_with_trailing_slash_is_invalid_too() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    // The discovery URL must not get a double slash: the document is still found, and the
    // mismatch is what gets reported.
    let configured = format!("{}/", issuer.issuer_url());
    let problems = problems(client.check_issuer(&configured).await);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains(&format!("{configured:?}")),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains(&format!("{:?}", issuer.issuer_url())),
        "{}",
        problems[0]
    );
}

#[tokio::test]
async fn empty_jwks_is_invalid() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    issuer.set_empty_jwks(true);
    let problems = problems(client.check_issuer(&issuer.issuer_url()).await);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("contains no keys"), "{}", problems[0]);
    assert!(problems[0].contains(&issuer.jwks_uri()), "{}", problems[0]);

    issuer.set_empty_jwks(false);
    assert!(client.check_issuer(&issuer.issuer_url()).await.is_ok());
}

#[tokio::test]
async fn missing_discovery_document_is_invalid() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    let configured = format!("{}/tenants/unknown", issuer.issuer_url());
    let problems = problems(client.check_issuer(&configured).await);
    assert!(problems[0].contains("HTTP 404"), "{problems:#?}");
    assert!(
        problems[0].contains("/tenants/unknown/.well-known/openid-configuration"),
        "{problems:#?}"
    );
}

#[tokio::test]
async fn http_issuer_is_refused_without_network() {
    let client = IssuerClient::new(IssuerClientOptions::default()).unwrap();
    let problems = problems(client.check_issuer("http://localhost:1").await);
    assert!(problems[0].contains("https"), "{problems:#?}");
}

#[tokio::test]
async fn stopped_issuer_is_unreachable_quickly() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    assert!(client.check_issuer(&issuer.issuer_url()).await.is_ok());
    issuer.stop();

    let started = Instant::now();
    let reason = unreachable_reason(client.check_issuer(&issuer.issuer_url()).await);
    let took = started.elapsed();
    eprintln!("check_issuer (stopped) took {took:?}: {reason}");
    assert!(took < FAST, "took {took:?}");
    assert!(reason.contains(&format!("{}", issuer.port())), "{reason}");
}

#[tokio::test]
async fn closed_port_is_unreachable_quickly() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = IssuerClient::new(IssuerClientOptions::default()).unwrap();
    let started = Instant::now();
    let reason = unreachable_reason(
        client
            .check_issuer(&format!("https://127.0.0.1:{port}"))
            .await,
    );
    let took = started.elapsed();
    eprintln!("check_issuer (closed port) took {took:?}: {reason}");
    assert!(took < FAST, "took {took:?}");
    assert!(reason.contains("cannot connect"), "{reason}");
}

#[tokio::test]
async fn silent_server_times_out_within_the_budget() {
    let issuer = TestIssuer::start();
    issuer.set_stall(true);
    let timeout = Duration::from_millis(800);
    let client = client_trusting(&issuer, timeout);
    let started = Instant::now();
    let reason = unreachable_reason(client.check_issuer(&issuer.issuer_url()).await);
    let took = started.elapsed();
    eprintln!("check_issuer (stalled) took {took:?}: {reason}");
    assert!(reason.contains("timed out after 800 ms"), "{reason}");
    assert!(took >= timeout, "returned before the timeout: {took:?}");
    assert!(took < FAST, "took {took:?}");
}

#[tokio::test]
async fn untrusted_certificate_is_unreachable_and_says_so() {
    let issuer = TestIssuer::start();
    let client = IssuerClient::new(IssuerClientOptions::default()).unwrap();
    let reason = unreachable_reason(client.check_issuer(&issuer.issuer_url()).await);
    assert!(reason.contains("not trusted"), "{reason}");
    assert!(reason.contains("extra trusted CA"), "{reason}");

    // Another issuer's CA does not help either.
    let other = TestIssuer::start();
    let reason = unreachable_reason(
        client_trusting(&other, Duration::from_secs(5))
            .check_issuer(&issuer.issuer_url())
            .await,
    );
    assert!(reason.contains("not trusted"), "{reason}");
}

#[tokio::test]
async fn issuer_reached_by_ip_must_still_match_the_advertised_url() {
    // The server certificate covers 127.0.0.1 too, so this is reachable and trusted; but the
    // document advertises the `localhost` URL, and IAM compares exactly.
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    let by_ip = format!("https://127.0.0.1:{}", issuer.port());
    let problems = problems(client.check_issuer(&by_ip).await);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains(&format!("{:?}", issuer.issuer_url())),
        "{problems:#?}"
    );
    assert!(problems[0].contains(&format!("{by_ip:?}")), "{problems:#?}");
}

#[tokio::test]
async fn report_display_is_one_line() {
    let issuer = TestIssuer::start();
    let client = client_trusting(&issuer, Duration::from_secs(5));
    let text = client.check_issuer(&issuer.issuer_url()).await.to_string();
    assert!(text.contains(&issuer.thumbprint()), "{text}");
    assert!(!text.contains('\n'), "{text}");
}
