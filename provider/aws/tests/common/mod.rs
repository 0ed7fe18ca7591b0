//! Test helpers: a plain `moto_server` on a free loopback port, a scripted fake AWS endpoint
//! for answers moto cannot give, and clients pointed at either. Loopback only.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use localops_aws::aws_config::retry::RetryConfig;
use localops_aws::config::default_loader;
use localops_aws::{AwsClients, AwsSettings, Endpoints};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const ACCOUNT: &str = "123456789012";

/// Path of the pinned moto server installed by `tests/setup-env.sh`.
pub fn moto_binary() -> PathBuf {
    if let Ok(p) = std::env::var("LOCALOPS_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("target/localops-venv/bin/moto_server")
}

fn free_port() -> u16 {
    let l = StdListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    l.local_addr().expect("local addr").port()
}

/// A `moto_server` child process; killed on drop.
pub struct MotoServer {
    child: Child,
    pub url: String,
}

impl MotoServer {
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        let bin = moto_binary();
        assert!(
            bin.exists(),
            "{} not found: run `bash tests/setup-env.sh` first",
            bin.display()
        );
        let mut last_err = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(&bin);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            for (k, v) in env {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().expect("spawn moto_server");
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return MotoServer {
                        child,
                        url: format!("http://127.0.0.1:{port}"),
                    };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last_err = format!("moto_server exited with {status}");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_err = "moto_server did not answer within 30s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("could not start moto_server: {last_err}");
    }

    pub fn endpoints(&self) -> Endpoints {
        endpoints(&self.url)
    }

    pub async fn clients(&self) -> AwsClients {
        clients_for(&self.url).await
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn endpoints(url: &str) -> Endpoints {
    Endpoints {
        cloudformation: Some(url.to_owned()),
        iam: Some(url.to_owned()),
        sts: Some(url.to_owned()),
    }
}

/// Test credentials (moto accepts anything); the SDK's own retries use a short backoff so
/// tests that exercise retries stay fast.
pub fn test_loader() -> localops_aws::aws_config::ConfigLoader {
    default_loader()
        .credentials_provider(localops_aws::aws_sdk_sts::config::Credentials::new(
            "AKIDLOCALOPSTEST",
            "test-secret-key",
            None,
            None,
            "localops-tests",
        ))
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(20)))
}

pub async fn clients_for(url: &str) -> AwsClients {
    let settings = AwsSettings {
        endpoints: endpoints(url),
        ..AwsSettings::default()
    };
    AwsClients::from_settings_with_loader(&settings, test_loader())
        .await
        .expect("clients")
}

/// One request seen by [`FakeAws`].
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub headers: HashMap<String, String>,
    pub params: HashMap<String, String>,
}

impl SeenRequest {
    pub fn action(&self) -> &str {
        self.params.get("Action").map(String::as_str).unwrap_or("")
    }
}

/// A scripted answer: HTTP status and XML body.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// Never answers (the connection stays open).
    pub fn hang() -> Self {
        Reply {
            status: 0,
            body: String::new(),
        }
    }

    pub fn ok(body: impl Into<String>) -> Self {
        Reply {
            status: 200,
            body: body.into(),
        }
    }

    /// A query-protocol error document.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Reply {
            status,
            body: format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>",
                xml_escape(message)
            ),
        }
    }
}

/// A `GetCallerIdentity` answer for account 123456789012.
pub fn caller_identity_reply(arn: &str, user_id: &str) -> Reply {
    Reply::ok(format!(
        r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{user_id}</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#
    ))
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

type Handler = dyn Fn(&SeenRequest, usize) -> Reply + Send + Sync;

/// A tiny HTTP/1.1 server on loopback answering AWS query-protocol requests from a script.
/// The handler gets the request and its 0-based index among requests with the same Action.
pub struct FakeAws {
    pub url: String,
    pub seen: Arc<Mutex<Vec<SeenRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeAws {
    pub async fn start(
        handler: impl Fn(&SeenRequest, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<SeenRequest>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen2.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    // Serve requests on this connection until the client closes it.
                    while let Some(req) = read_request(&mut sock).await {
                        let index = {
                            let mut all = seen.lock().unwrap();
                            let n = all.iter().filter(|r| r.action() == req.action()).count();
                            all.push(req.clone());
                            n
                        };
                        let reply = handler(&req, index);
                        if reply.status == 0 {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        let head = format!(
                            "HTTP/1.1 {} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nx-amzn-requestid: fake-request\r\n\r\n",
                            reply.status,
                            reply.body.len()
                        );
                        if sock.write_all(head.as_bytes()).await.is_err()
                            || sock.write_all(reply.body.as_bytes()).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        FakeAws { url, seen, task }
    }

    pub fn requests(&self, action: &str) -> Vec<SeenRequest> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.action() == action)
            .cloned()
            .collect()
    }

    pub async fn clients(&self) -> AwsClients {
        clients_for(&self.url).await
    }
}

impl Drop for FakeAws {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<SeenRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut headers = HashMap::new();
    for line in head.lines().skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&body).to_string();
    let params = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    Some(SeenRequest { headers, params })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn form_decode(s: &str) -> String {
    localops_aws::util::percent_decode(&s.replace('+', " "))
}

/// Runs `f` and returns its output with the elapsed time.
pub async fn timed<F: std::future::Future>(f: F) -> (F::Output, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}
