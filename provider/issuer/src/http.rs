//! One HTTPS GET over a direct tokio-rustls connection, driven by hyper's HTTP/1.1 client.
//!
//! We open the TLS connection ourselves (rather than through a pooled client) because the
//! thumbprint needs the certificate chain the server presented, which hyper/reqwest do not
//! expose. Every step runs against one deadline owned by the caller.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CONNECTION, HOST, LOCATION, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::url::HttpsUrl;

/// Largest body we read: discovery documents and JWKS are a few KiB.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

const UA: &str = concat!("localops-issuer-check/", env!("CARGO_PKG_VERSION"));

/// What came back from a GET.
pub(crate) struct Fetched {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// Certificates the server presented, leaf first, exactly as sent.
    pub peer_chain: Vec<CertificateDer<'static>>,
}

/// Why a GET produced no response to judge.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// DNS, connect, TLS, timeout or connection-level failure: the caller reports "unreachable".
    Unreachable(String),
    /// The server answered, but with more than [`MAX_BODY`] bytes.
    TooLarge,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Unreachable(r) => f.write_str(r),
            FetchError::TooLarge => write!(f, "the response is larger than {MAX_BODY} bytes"),
        }
    }
}

/// GET `url`, giving up at `deadline`.
pub(crate) async fn get(
    config: &Arc<ClientConfig>,
    url: &HttpsUrl,
    deadline: Instant,
    budget: std::time::Duration,
) -> Result<Fetched, FetchError> {
    match tokio::time::timeout_at(deadline, get_inner(config, url)).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Unreachable(format!(
            "timed out after {} while fetching {}",
            fmt_duration(budget),
            url.url
        ))),
    }
}

async fn get_inner(config: &Arc<ClientConfig>, url: &HttpsUrl) -> Result<Fetched, FetchError> {
    let endpoint = format!("{}:{}", url.host, url.port);
    let unreachable = |what: String| FetchError::Unreachable(what);

    // DNS.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((url.host.as_str(), url.port))
        .await
        .map_err(|e| unreachable(format!("cannot resolve host {:?}: {e}", url.host)))?
        .collect();
    if addrs.is_empty() {
        return Err(unreachable(format!(
            "host {:?} resolved to no addresses",
            url.host
        )));
    }

    // TCP: try each address in turn, keep the last error.
    let mut tcp = None;
    let mut last_err: Option<io::Error> = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => {
                tracing::debug!(%addr, error = %e, "connect failed");
                last_err = Some(e);
            }
        }
    }
    let Some(tcp) = tcp else {
        let reason = last_err.map_or_else(|| "no address worked".to_owned(), |e| e.to_string());
        return Err(unreachable(format!(
            "cannot connect to {endpoint}: {reason}"
        )));
    };
    let _ = tcp.set_nodelay(true);

    // TLS.
    let server_name = ServerName::try_from(url.host.clone())
        .map_err(|_| unreachable(format!("{:?} is not a valid TLS server name", url.host)))?;
    let tls = TlsConnector::from(Arc::clone(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| unreachable(describe_tls_error(&e, &endpoint)))?;
    let peer_chain: Vec<CertificateDer<'static>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();

    // HTTP/1.1.
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| unreachable(format!("HTTP handshake with {endpoint} failed: {e}")))?;
    let conn_task = AbortOnDrop(tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "issuer connection ended with an error");
        }
    }));
    let request = Request::get(url.target.as_str())
        .header(HOST, url.authority.as_str())
        .header(USER_AGENT, UA)
        .header(ACCEPT, "application/json")
        .header(CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| unreachable(format!("cannot build a request for {}: {e}", url.url)))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(format!("no HTTP response from {endpoint}: {e}")))?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                FetchError::TooLarge
            } else {
                unreachable(format!("reading the response from {endpoint} failed: {e}"))
            }
        })?
        .to_bytes()
        .to_vec();
    drop(conn_task);
    tracing::debug!(url = %url.url, %status, bytes = body.len(), certs = peer_chain.len(), "fetched");
    Ok(Fetched {
        status,
        location,
        body,
        peer_chain,
    })
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Turns a failed TLS handshake into a sentence a user can act on; certificate trust problems
/// are spelled out because they are the common case (private CA, TLS-inspecting proxy).
pub(crate) fn describe_tls_error(e: &io::Error, endpoint: &str) -> String {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(cert_err)) => match cert_err {
            CertificateError::UnknownIssuer => format!(
                "TLS handshake with {endpoint} failed: its certificate is not trusted (issued by an \
                 unknown certificate authority). If the issuer uses a private CA, or a \
                 TLS-inspecting proxy sits in between, add that CA bundle as an extra trusted CA"
            ),
            CertificateError::BadSignature => format!(
                "TLS handshake with {endpoint} failed: its certificate is not trusted (its \
                 signature does not verify against the trusted CA of the same name: a wrong or \
                 outdated CA bundle?)"
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "TLS handshake with {endpoint} failed: its certificate is not valid for that \
                     host name ({cert_err})"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!(
                    "TLS handshake with {endpoint} failed: its certificate has expired ({cert_err})"
                )
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
                "TLS handshake with {endpoint} failed: its certificate is not valid yet ({cert_err})"
            ),
            other => format!(
                "TLS handshake with {endpoint} failed: its certificate was rejected ({other})"
            ),
        },
        Some(other) => format!("TLS handshake with {endpoint} failed: {other}"),
        None => format!("TLS handshake with {endpoint} failed: {e}"),
    }
}

pub(crate) fn fmt_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn duration_formatting() {
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(fmt_duration(Duration::from_secs(5)), "5 s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn tls_error_text_mentions_trust() {
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let text = describe_tls_error(&e, "localhost:1");
        assert!(text.contains("not trusted"), "{text}");
        assert!(text.contains("localhost:1"), "{text}");
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::BadSignature),
        );
        assert!(describe_tls_error(&e, "h:1").contains("not trusted"));
        let e = io::Error::new(io::ErrorKind::InvalidData, "plain");
        assert!(describe_tls_error(&e, "h:1").contains("plain"));
    }
}
