//! A local OIDC issuer for tests: HTTPS on loopback with its own test CA, a discovery document,
//! a JWKS, and RS256 token minting — plus knobs to make it misbehave.
//!
//! Like the local TLS servers other Terraform providers test against, it presents a chain
//! we know in advance ([leaf, CA], the CA generated per issuer), so the thumbprint IAM would
//! compute (SHA-1 of the last certificate presented) is known to the test: [`TestIssuer::thumbprint`].
//!
//! The server runs on its own thread with its own tokio runtime, so sync tests and async tests
//! (any runtime flavour) can use it alike; it stops on [`TestIssuer::stop`] or on drop.
//!
//! The RSA signing key (2048 bits) is generated once per process — key generation is the slow
//! part in debug builds — and shared by every `TestIssuer` of the process; TLS keys are P-256
//! and generated per issuer.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// Audience AWS expects by default (the IAM OIDC provider's client ID).
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// The per-process RSA signing key and its JWK.
struct SigningKey {
    key_pair: RsaKeyPair,
    kid: String,
    jwk: Value,
}

fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs8::EncodePrivateKey as _;
        let started = Instant::now();
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
            .expect("generate the test issuer's RSA key");
        let pkcs8 = key
            .to_pkcs8_der()
            .expect("encode the test issuer's RSA key");
        let key_pair =
            RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).expect("load the test issuer's RSA key");
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(key_pair.public());
        let digest = ring::digest::digest(&ring::digest::SHA256, &public.n);
        let kid = format!("test-{}", hex(&digest.as_ref()[..8]));
        let jwk = json!({
            "kty": "RSA",
            "kid": kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        tracing::debug!(elapsed = ?started.elapsed(), "generated the test issuer RSA key");
        SigningKey { key_pair, kid, jwk }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What a minted token says. Start from [`TokenSpec::new`] and override fields to get wrong
/// tokens: another `iss`, an `exp` in the past, a `nbf` in the future, an unknown `kid`…
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    /// `None`: the issuer's own URL.
    pub iss: Option<String>,
    pub sub: Option<String>,
    /// A string or an array of strings (or anything, to test decoding).
    pub aud: Option<Value>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    /// `None`: the issuer key's id. `Some("")` omits the header's `kid`.
    pub kid: Option<String>,
    /// Extra claims merged into the payload.
    pub extra: serde_json::Map<String, Value>,
}

impl TokenSpec {
    /// `iss` = the issuer, the given `sub` and `aud`, `iat` = `nbf` = now, `exp` = now + `ttl`.
    pub fn new(sub: &str, aud: &str, ttl: Duration) -> TokenSpec {
        let now = unix_now();
        TokenSpec {
            iss: None,
            sub: Some(sub.to_owned()),
            aud: Some(Value::String(aud.to_owned())),
            iat: Some(now),
            nbf: Some(now),
            exp: Some(now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))),
            kid: None,
            extra: serde_json::Map::new(),
        }
    }
}

/// Knobs; see the setters on [`TestIssuer`].
#[derive(Debug, Clone, Default)]
struct Behaviour {
    advertised_issuer: Option<String>,
    empty_jwks: bool,
    stall: bool,
}

struct Shared {
    issuer_url: String,
    behaviour: Mutex<Behaviour>,
    requests: AtomicUsize,
}

impl Shared {
    fn behaviour(&self) -> MutexGuard<'_, Behaviour> {
        self.behaviour.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Running {
    shutdown: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// A running local OIDC issuer. See the module docs.
pub struct TestIssuer {
    port: u16,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer_url", &self.shared.issuer_url)
            .finish_non_exhaustive()
    }
}

impl TestIssuer {
    /// Generates a CA and a `localhost`/`127.0.0.1` server certificate, and serves on
    /// `127.0.0.1:<free port>` until stopped or dropped. Panics if it cannot (test harness).
    pub fn start() -> TestIssuer {
        // Key generation first, so tests that time the issuer checks don't time it.
        let _ = signing_key();

        let ca_key = KeyPair::generate().expect("generate the test CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        // A name unique to this CA: clients pick trust anchors by name, and two test CAs with
        // one name would turn "unknown issuer" into "bad signature".
        let ca_id = hex(
            &ring::digest::digest(&ring::digest::SHA256, ca_key.public_key_raw()).as_ref()[..6],
        );
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("LocalOps test issuer CA {ca_id}"),
        );
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .expect("self-sign the test CA");
        let ca_issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().expect("generate the test server key");
        let mut leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server certificate params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf_params
            .signed_by(&leaf_key, &ca_issuer)
            .expect("sign the test server certificate");

        let ca_der = ca_cert.der().clone();
        let chain = vec![leaf_cert.der().clone(), ca_der.clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("TLS server config");
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(tls));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared {
            issuer_url: format!("https://localhost:{port}"),
            behaviour: Mutex::new(Behaviour::default()),
            requests: AtomicUsize::new(0),
        });

        let (shutdown, shutdown_rx) = oneshot::channel();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("test-issuer-{port}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test issuer runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("register the listener");
                    serve(listener, acceptor, server_shared, shutdown_rx).await;
                });
                // Dropping the runtime cancels connection tasks still running.
            })
            .expect("spawn the test issuer thread");

        TestIssuer {
            port,
            ca_pem: ca_cert.pem(),
            ca_der,
            shared,
            running: Mutex::new(Some(Running { shutdown, thread })),
        }
    }

    /// `https://localhost:<port>`, no trailing slash: what the discovery document advertises
    /// and what minted tokens carry as `iss` (unless told otherwise).
    pub fn issuer_url(&self) -> String {
        self.shared.issuer_url.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `<issuer>/jwks`.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.shared.issuer_url)
    }

    /// The test CA certificate (PEM) — the extra CA a client must trust.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// Writes the CA to `<dir>/test-issuer-ca.pem` and returns that path.
    pub fn write_ca_bundle(&self, dir: &Path) -> PathBuf {
        let path = dir.join("test-issuer-ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write the CA bundle");
        path
    }

    /// SHA-1 of the CA certificate (lowercase hex): the last certificate the server presents,
    /// i.e. the thumbprint IAM would record.
    pub fn thumbprint(&self) -> String {
        hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.ca_der).as_ref())
    }

    /// The `kid` of the signing key served in the JWKS and put in minted tokens.
    pub fn key_id(&self) -> String {
        signing_key().kid.clone()
    }

    /// The JWKS document as served (when not told to serve an empty one).
    pub fn jwks_json(&self) -> String {
        json!({ "keys": [signing_key().jwk.clone()] }).to_string()
    }

    /// An RS256 token from this issuer for `sub` and `aud`, valid for `ttl` from now.
    pub fn mint_token(&self, sub: &str, aud: &str, ttl: Duration) -> String {
        self.mint_token_with(TokenSpec::new(sub, aud, ttl))
    }

    /// An RS256 token with the claims of `spec`.
    pub fn mint_token_with(&self, spec: TokenSpec) -> String {
        let key = signing_key();
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        match spec.kid.as_deref() {
            None => header["kid"] = Value::String(key.kid.clone()),
            Some("") => {}
            Some(kid) => header["kid"] = Value::String(kid.to_owned()),
        }
        let mut payload = serde_json::Map::new();
        payload.insert(
            "iss".into(),
            Value::String(spec.iss.unwrap_or_else(|| self.issuer_url())),
        );
        if let Some(sub) = spec.sub {
            payload.insert("sub".into(), Value::String(sub));
        }
        if let Some(aud) = spec.aud {
            payload.insert("aud".into(), aud);
        }
        for (name, value) in [("iat", spec.iat), ("nbf", spec.nbf), ("exp", spec.exp)] {
            if let Some(v) = value {
                payload.insert(name.into(), Value::from(v));
            }
        }
        payload.extend(spec.extra);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(payload).to_string())
        );
        let mut signature = vec![0u8; key.key_pair.public().modulus_len()];
        key.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("sign the token");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Serve this `issuer` in the discovery document instead of [`issuer_url`](Self::issuer_url)
    /// (e.g. with a trailing slash); `None` restores it.
    pub fn set_advertised_issuer(&self, issuer: Option<&str>) {
        self.shared.behaviour().advertised_issuer = issuer.map(str::to_owned);
    }

    /// Serve `{"keys": []}` as the JWKS.
    pub fn set_empty_jwks(&self, empty: bool) {
        self.shared.behaviour().empty_jwks = empty;
    }

    /// Accept TCP connections but never answer (not even the TLS handshake): exercises client
    /// timeouts.
    pub fn set_stall(&self, stall: bool) {
        self.shared.behaviour().stall = stall;
    }

    /// HTTP requests answered so far.
    pub fn requests_served(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Stops serving and closes the port; later connections are refused. Idempotent.
    pub fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(Running { shutdown, thread }) = running {
            let _ = shutdown.send(());
            let _ = thread.join();
        }
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                tracing::debug!(error = %e, "test issuer accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let stall = shared.behaviour().stall;
            if stall {
                // Hold the connection open without a word until the server shuts down.
                let _held = tcp;
                return std::future::pending::<()>().await;
            }
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::debug!(error = %e, "test issuer TLS handshake failed");
                    return;
                }
            };
            let service = service_fn(move |req: Request<Incoming>| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(route(&shared, &req)) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(error = %e, "test issuer connection error");
            }
        });
    }
}

fn route(shared: &Shared, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let behaviour = shared.behaviour().clone();
    let json_response = |body: Value| {
        let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
        resp.headers_mut().insert(
            CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        resp
    };
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/.well-known/openid-configuration") => json_response(json!({
            "issuer": behaviour
                .advertised_issuer
                .unwrap_or_else(|| shared.issuer_url.clone()),
            "jwks_uri": format!("{}/jwks", shared.issuer_url),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["aud", "exp", "iat", "iss", "nbf", "sub"],
        })),
        ("GET", "/jwks") => {
            let keys = if behaviour.empty_jwks {
                vec![]
            } else {
                vec![signing_key().jwk.clone()]
            };
            json_response(json!({ "keys": keys }))
        }
        _ => {
            let mut resp = Response::new(Full::new(Bytes::from_static(b"not found")));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            resp
        }
    }
}
