//! `IssuerClient::check_issuer`: is this OIDC issuer usable by IAM/STS, and what thumbprint
//! does IAM need for it?

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use tokio::time::Instant;

use crate::discovery::{DiscoveryDocument, issuer_mismatch_problem};
use crate::http::{self, FetchError, Fetched};
use crate::jwks::Jwks;
use crate::thumbprint::thumbprint_of_chain;
use crate::url::{HttpsUrl, discovery_url, issuer_url_problems};

/// Default total time budget of one [`IssuerClient::check_issuer`] call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How an [`IssuerClient`] connects.
#[derive(Debug, Clone)]
pub struct IssuerClientOptions {
    /// PEM bundle of CA certificates trusted in addition to the system store and the Mozilla
    /// (webpki) roots: a private CA, or a TLS-inspecting proxy's CA.
    pub extra_ca_pem: Option<String>,
    /// Total budget for one check (DNS, connects, TLS, both requests). Short: checks run during
    /// plans and must not hold them up when the issuer is unreachable.
    pub timeout: Duration,
}

impl Default for IssuerClientOptions {
    fn default() -> Self {
        IssuerClientOptions {
            extra_ca_pem: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Why an [`IssuerClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IssuerClientError {
    #[error("the extra CA bundle is not usable: {0}")]
    InvalidExtraCa(String),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// Outcome of [`IssuerClient::check_issuer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerReport {
    /// DNS, connect, TLS or timeout failure, or a 5xx/429 answer. Callers report this as a
    /// warning: plans must work offline.
    Unreachable { reason: String },
    /// The issuer answered, but IAM/STS could not use it as configured.
    Invalid { problems: Vec<String> },
    /// Usable. `thumbprint` is what IAM wants in the provider's thumbprint list.
    Ok {
        thumbprint: String,
        jwks_keys: Vec<String>,
        discovery: DiscoveryDocument,
    },
}

impl IssuerReport {
    pub fn is_ok(&self) -> bool {
        matches!(self, IssuerReport::Ok { .. })
    }
}

impl fmt::Display for IssuerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssuerReport::Unreachable { reason } => write!(f, "issuer unreachable: {reason}"),
            IssuerReport::Invalid { problems } => {
                write!(f, "issuer invalid: {}", problems.join("; "))
            }
            IssuerReport::Ok {
                thumbprint,
                jwks_keys,
                discovery,
            } => write!(
                f,
                "issuer {} ok: thumbprint {thumbprint}, signing keys [{}]",
                discovery.issuer,
                jwks_keys.join(", ")
            ),
        }
    }
}

/// Checks OIDC issuers over HTTPS. Cheap to clone.
#[derive(Clone)]
pub struct IssuerClient {
    config: Arc<ClientConfig>,
    timeout: Duration,
}

impl fmt::Debug for IssuerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// System store plus webpki roots, loaded once per process.
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::debug!(error = %e, "skipping part of the system certificate store");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "loaded system trust roots");
        roots
    })
}

fn parse_extra_ca(pem: &str) -> Result<Vec<CertificateDer<'static>>, IssuerClientError> {
    let mut certs = Vec::new();
    for (i, item) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let cert = item.map_err(|e| {
            IssuerClientError::InvalidExtraCa(format!("PEM block #{} is malformed: {e}", i + 1))
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(IssuerClientError::InvalidExtraCa(
            "no \"BEGIN CERTIFICATE\" block found".to_owned(),
        ));
    }
    Ok(certs)
}

impl IssuerClient {
    pub fn new(options: IssuerClientOptions) -> Result<IssuerClient, IssuerClientError> {
        let mut roots = base_roots().clone();
        if let Some(pem) = options.extra_ca_pem.as_deref() {
            for (i, cert) in parse_extra_ca(pem)?.into_iter().enumerate() {
                roots.add(cert).map_err(|e| {
                    IssuerClientError::InvalidExtraCa(format!(
                        "certificate #{} cannot be a trust anchor: {e}",
                        i + 1
                    ))
                })?;
            }
        }
        // An explicit provider: never depend on (or panic over) the process-wide default, which
        // other crates in the same binary may set differently.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| IssuerClientError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(IssuerClient {
            config: Arc::new(config),
            timeout: options.timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Fetches `<issuer_url>/.well-known/openid-configuration` and its `jwks_uri`, and judges
    /// them as IAM/STS would. The whole call takes at most the configured timeout.
    pub async fn check_issuer(&self, issuer_url: &str) -> IssuerReport {
        let deadline = Instant::now() + self.timeout;
        let report = self.check_issuer_until(issuer_url, deadline).await;
        match &report {
            IssuerReport::Ok { thumbprint, .. } => {
                tracing::debug!(issuer = issuer_url, thumbprint, "issuer check passed")
            }
            IssuerReport::Invalid { problems } => {
                tracing::debug!(
                    issuer = issuer_url,
                    ?problems,
                    "issuer check found problems"
                )
            }
            IssuerReport::Unreachable { reason } => {
                tracing::debug!(issuer = issuer_url, reason, "issuer unreachable")
            }
        }
        report
    }

    /// [`check_issuer`](Self::check_issuer) for synchronous callers: runs on a private
    /// single-threaded runtime on a scoped thread, so it works inside or outside a runtime.
    pub fn check_issuer_blocking(&self, issuer_url: &str) -> IssuerReport {
        std::thread::scope(|s| {
            let handle = s.spawn(|| {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(self.check_issuer(issuer_url)),
                    Err(e) => IssuerReport::Unreachable {
                        reason: format!("cannot start an async runtime: {e}"),
                    },
                }
            });
            handle.join().unwrap_or_else(|_| IssuerReport::Unreachable {
                reason: "the issuer check thread failed".to_owned(),
            })
        })
    }

    /// Fetches and parses a JWKS (e.g. to verify a token after a check passed).
    /// `Err` is an `Unreachable` or `Invalid` report.
    pub async fn fetch_jwks(&self, jwks_uri: &str) -> Result<Jwks, IssuerReport> {
        let deadline = Instant::now() + self.timeout;
        let url = HttpsUrl::parse(jwks_uri).map_err(|e| IssuerReport::Invalid {
            problems: vec![format!("jwks_uri {jwks_uri:?}: {e}")],
        })?;
        let fetched = self.fetch_ok(&url, "JWKS", deadline).await?;
        Jwks::from_slice(&fetched.body).map_err(|e| IssuerReport::Invalid {
            problems: vec![format!("the JWKS at {jwks_uri} {e}")],
        })
    }

    async fn check_issuer_until(&self, issuer_url: &str, deadline: Instant) -> IssuerReport {
        let problems = issuer_url_problems(issuer_url);
        if !problems.is_empty() {
            return IssuerReport::Invalid { problems };
        }
        let discovery_at = discovery_url(issuer_url);
        let url = match HttpsUrl::parse(&discovery_at) {
            Ok(u) => u,
            Err(e) => {
                return IssuerReport::Invalid {
                    problems: vec![format!("the discovery URL {discovery_at:?}: {e}")],
                };
            }
        };
        let fetched = match self.fetch_ok(&url, "discovery document", deadline).await {
            Ok(f) => f,
            Err(report) => return report,
        };
        let discovery = match DiscoveryDocument::from_slice(&fetched.body) {
            Ok(d) => d,
            Err(problems) => {
                return IssuerReport::Invalid {
                    problems: problems
                        .into_iter()
                        .map(|p| format!("the discovery document at {discovery_at} {p}"))
                        .collect(),
                };
            }
        };

        let mut problems = Vec::new();
        if discovery.issuer != issuer_url {
            problems.push(issuer_mismatch_problem(&discovery.issuer, issuer_url));
        }

        let jwks_url = if discovery.jwks_uri.starts_with("https://") {
            match HttpsUrl::parse(&discovery.jwks_uri) {
                Ok(u) => Some(u),
                Err(e) => {
                    problems.push(format!(
                        "the discovery document's jwks_uri {:?} is not usable: {e}",
                        discovery.jwks_uri
                    ));
                    None
                }
            }
        } else {
            problems.push(format!(
                "the discovery document's jwks_uri {:?} must be an https URL (STS only fetches \
                 keys over https)",
                discovery.jwks_uri
            ));
            None
        };
        let Some(jwks_url) = jwks_url else {
            return IssuerReport::Invalid { problems };
        };

        let fetched = match self.fetch_ok(&jwks_url, "JWKS", deadline).await {
            Ok(f) => f,
            Err(IssuerReport::Invalid { problems: more }) => {
                problems.extend(more);
                return IssuerReport::Invalid { problems };
            }
            Err(unreachable) => {
                if problems.is_empty() {
                    return unreachable;
                }
                if let IssuerReport::Unreachable { reason } = unreachable {
                    problems.push(format!("(the JWKS could not be checked: {reason})"));
                }
                return IssuerReport::Invalid { problems };
            }
        };
        let jwks_keys = match Jwks::from_slice(&fetched.body) {
            Ok(set) if set.keys.is_empty() => {
                if set.skipped.is_empty() {
                    problems.push(format!(
                        "the JWKS at {} contains no keys, so STS cannot verify any token",
                        discovery.jwks_uri
                    ));
                } else {
                    problems.push(format!(
                        "the JWKS at {} has no usable signing key: {}",
                        discovery.jwks_uri,
                        set.skipped.join("; ")
                    ));
                }
                Vec::new()
            }
            Ok(set) => set.key_ids(),
            Err(e) => {
                problems.push(format!("the JWKS at {} {e}", discovery.jwks_uri));
                Vec::new()
            }
        };
        let thumbprint = thumbprint_of_chain(&fetched.peer_chain);
        if thumbprint.is_none() {
            problems.push(format!(
                "{}:{} presented no certificate, so no thumbprint can be computed",
                jwks_url.host, jwks_url.port
            ));
        }
        match thumbprint {
            Some(thumbprint) if problems.is_empty() => IssuerReport::Ok {
                thumbprint,
                jwks_keys,
                discovery,
            },
            _ => IssuerReport::Invalid { problems },
        }
    }

    /// GET that must answer 2xx. Errors come back as the report to return.
    async fn fetch_ok(
        &self,
        url: &HttpsUrl,
        what: &str,
        deadline: Instant,
    ) -> Result<Fetched, IssuerReport> {
        let fetched = http::get(&self.config, url, deadline, self.timeout)
            .await
            .map_err(|e| match e {
                FetchError::Unreachable(reason) => IssuerReport::Unreachable { reason },
                FetchError::TooLarge => IssuerReport::Invalid {
                    problems: vec![format!("the {what} at {} {e}", url.url)],
                },
            })?;
        let status = fetched.status;
        if status.is_success() {
            return Ok(fetched);
        }
        let code = status.as_u16();
        let status_text = format!(
            "HTTP {code}{}",
            status
                .canonical_reason()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        );
        if status.is_server_error() || code == 429 {
            return Err(IssuerReport::Unreachable {
                reason: format!(
                    "{} answered {status_text} for the {what} (may be temporary)",
                    url.url
                ),
            });
        }
        let problem = if status.is_redirection() {
            format!(
                "the {what} at {} answers {status_text} (redirect to {}); it must be served \
                 directly at that URL",
                url.url,
                fetched.location.as_deref().unwrap_or("nowhere")
            )
        } else {
            format!("the {what} at {} answers {status_text}", url.url)
        };
        Err(IssuerReport::Invalid {
            problems: vec![problem],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_ca_must_contain_certificates() {
        let err = IssuerClient::new(IssuerClientOptions {
            extra_ca_pem: Some("hello".into()),
            timeout: Duration::from_secs(1),
        })
        .unwrap_err();
        assert!(err.to_string().contains("BEGIN CERTIFICATE"), "{err}");

        let bad = "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n";
        let err = IssuerClient::new(IssuerClientOptions {
            extra_ca_pem: Some(bad.into()),
            timeout: Duration::from_secs(1),
        })
        .unwrap_err();
        assert!(matches!(err, IssuerClientError::InvalidExtraCa(_)), "{err}");

        let not_a_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            IssuerClient::new(IssuerClientOptions {
                extra_ca_pem: Some(not_a_cert.into()),
                timeout: Duration::from_secs(1),
            })
            .is_err()
        );
    }

    #[tokio::test]
    async fn non_https_issuer_is_invalid_without_network() {
        let client = IssuerClient::new(IssuerClientOptions::default()).unwrap();
        let report = client.check_issuer("http://127.0.0.1:1").await;
        let IssuerReport::Invalid { problems } = report else {
            panic!("expected Invalid, got {report:?}")
        };
        assert!(problems[0].contains("https"), "{problems:?}");
    }

    #[test]
    fn closed_port_is_unreachable_blocking() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let client = IssuerClient::new(IssuerClientOptions {
            extra_ca_pem: None,
            timeout: Duration::from_secs(2),
        })
        .unwrap();
        let report = client.check_issuer_blocking(&format!("https://127.0.0.1:{port}"));
        let IssuerReport::Unreachable { reason } = report else {
            panic!("expected Unreachable, got {report:?}")
        };
        assert!(reason.contains("cannot connect"), "{reason}");
    }
}
