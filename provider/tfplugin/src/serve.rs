//! Serving a provider the way go-plugin (and so Terraform) expects: the magic-cookie check,
//! protocol negotiation, the handshake line on stdout, optional automatic mutual TLS, and
//! the controller's Shutdown. Also the `--debug` mode, where the provider is started by hand
//! and Terraform attaches to it through `TF_REATTACH_PROVIDERS`.

use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::proto::health::{self, health_check_response::ServingStatus};
use crate::proto::plugin;
use crate::proto::tfplugin6::provider_server::ProviderServer as ProviderService;
use crate::provider::Provider;
use crate::server::ProviderServer;
use crate::tls;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const CORE_PROTOCOL_VERSION: u32 = 1;
const APP_PROTOCOL_VERSION: u32 = 6;

/// After a shutdown request, in-flight calls get this long to finish before the process
/// exits anyway (Terraform kills plugins that take more than 2 s after Shutdown).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// States and plans of big resources can exceed gRPC's 4 MiB default message size, which
/// would fail the call outright.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Registry address, e.g. `registry.terraform.io/localops/localops`; the key of the
    /// `TF_REATTACH_PROVIDERS` value printed in debug mode.
    pub address: String,
    /// Serve without being started by Terraform and print how to attach to it.
    pub debug: bool,
}

/// Serves until Terraform shuts the provider down (or, in debug mode, until Ctrl-C).
pub fn serve(provider: impl Provider, options: ServeOptions) -> ExitCode {
    crate::logging::init();
    if !options.debug && std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE)
    {
        eprintln!(
            "This binary is a plugin for Terraform: Terraform starts it and talks to it; it is \
             not meant to be run directly.\n\nTo use it, declare the provider in a Terraform \
             configuration and run terraform. To debug it, run it with --debug and follow the \
             instructions it prints."
        );
        return ExitCode::FAILURE;
    }
    if !options.debug
        && let Err(message) = negotiate_protocol(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok())
    {
        eprintln!("{message}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(ProviderServer::new(provider), options));
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// go-plugin lists the versions the host speaks; we speak only 6.
fn negotiate_protocol(offered: Option<String>) -> Result<(), String> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(());
    };
    if offered
        .split(',')
        .any(|v| v.trim().parse::<u32>() == Ok(APP_PROTOCOL_VERSION))
    {
        Ok(())
    } else {
        Err(format!(
            "This provider speaks Terraform plugin protocol {APP_PROTOCOL_VERSION}, but this \
             Terraform offers only {offered}. Use Terraform 1.0 or later."
        ))
    }
}

/// PLUGIN_MIN_PORT/PLUGIN_MAX_PORT as go-plugin passes them (0 or unset: any free port).
fn port_range() -> Result<Option<(u16, u16)>, String> {
    let read = |name: &str| -> Result<u16, String> {
        match std::env::var(name) {
            Err(_) => Ok(0),
            Ok(v) if v.trim().is_empty() => Ok(0),
            Ok(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{name}={v:?} is not a port number")),
        }
    };
    let (min, max) = (read("PLUGIN_MIN_PORT")?, read("PLUGIN_MAX_PORT")?);
    Ok(match (min, max) {
        (0, 0) => None,
        (min, 0) => Some((min, u16::MAX)),
        (min, max) if min <= max => Some((min, max)),
        (min, max) => {
            return Err(format!(
                "PLUGIN_MIN_PORT {min} is above PLUGIN_MAX_PORT {max}"
            ));
        }
    })
}

async fn bind(range: Option<(u16, u16)>) -> Result<TcpListener, String> {
    let Some((min, max)) = range else {
        return TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"));
    };
    for port in min..=max {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(listener);
        }
    }
    Err(format!("no free port between {min} and {max} on 127.0.0.1"))
}

async fn run(server: ProviderServer, options: ServeOptions) -> Result<(), String> {
    let listener = bind(if options.debug { None } else { port_range()? }).await?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;

    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !options.debug && !pem.trim().is_empty() => Some(tls::auto_mtls(&pem)?),
        _ => None,
    };
    let shutdown = CancellationToken::new();

    if options.debug {
        print_reattach_instructions(&options.address, address);
    } else {
        let cert = tls.as_ref().map_or(String::new(), |t| {
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(&t.server_cert_der)
        });
        let line =
            format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{address}|grpc|{cert}\n");
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(line.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot write the handshake: {e}"))?;
        drop(stdout);
        redirect_stdout_to_stderr();
    }
    tracing::info!(
        address = %address,
        tls = tls.is_some(),
        debug = options.debug,
        "Serving Terraform plugin protocol 6"
    );

    spawn_signal_handlers(shutdown.clone(), options.debug);
    let incoming = accept_loop(listener, tls.map(|t| TlsAcceptor::from(t.config)));
    let controller = Controller {
        shutdown: shutdown.clone(),
        debug: options.debug,
    };
    let serving = tonic::transport::Server::builder()
        .add_service(
            ProviderService::new(server.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(plugin::grpc_controller_server::GrpcControllerServer::new(
            controller,
        ))
        .add_service(health::health_server::HealthServer::new(Health))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => result.map_err(|e| format!("the plugin server failed: {e}"))?,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::debug!("In-flight calls did not finish in time; exiting anyway"),
    }
    // Whatever still runs is told to stop before the process goes away.
    server.stop_token().cancel();
    tracing::info!("Plugin server stopped");
    Ok(())
}

fn print_reattach_instructions(registry_address: &str, address: SocketAddr) {
    let reattach = serde_json::json!({
        registry_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "tcp", "String": address.to_string() },
        }
    });
    let message = format!(
        "Provider started in debug mode. In the shell where you run terraform, set:\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Terraform then uses this process instead of starting the provider itself. \
         Stop it with Ctrl-C.\n"
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(message.as_bytes());
    let _ = stdout.flush();
}

/// After the handshake nothing may reach stdout: go-plugin would read it as protocol.
/// Pointing descriptor 1 at stderr catches stray prints from any library.
fn redirect_stdout_to_stderr() {
    // SAFETY: dup2 on the process's own standard descriptors; no Rust object owns fd 1
    // exclusively, and stdout's buffer was flushed above.
    let result = unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) };
    if result < 0 {
        tracing::warn!("could not redirect stdout to stderr");
    }
}

fn spawn_signal_handlers(shutdown: CancellationToken, debug: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers");
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = terminate.recv() => {
                    tracing::info!("SIGTERM received; shutting down");
                    shutdown.cancel();
                    return;
                }
                _ = interrupt.recv() => {
                    if debug {
                        tracing::info!("Interrupted; shutting down");
                        shutdown.cancel();
                        return;
                    }
                    // Ctrl-C reaches the whole process group. Terraform handles it by calling
                    // StopProvider and waiting for us, so exiting here would lose the state of
                    // whatever is being created.
                    tracing::debug!("SIGINT received; ignored (Terraform sends StopProvider)");
                }
            }
        }
    });
}

/// Accepts connections with TCP_NODELAY (without it every small gRPC response waits for the
/// peer's delayed ACK: 0.65 s instead of 0.08 s per plan) and, under TLS, completes each
/// handshake in its own task so one slow client cannot block others.
fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
) -> tokio_stream::wrappers::ReceiverStream<Result<Connection, std::io::Error>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if let Err(e) = stream.set_nodelay(true) {
                tracing::warn!("cannot set TCP_NODELAY: {e}");
            }
            let sender = sender.clone();
            match tls.clone() {
                None => {
                    if sender.send(Ok(Connection::Plain(stream))).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls_stream) => {
                                let _ =
                                    sender.send(Ok(Connection::Tls(Box::new(tls_stream)))).await;
                            }
                            Err(e) => tracing::warn!(peer = %peer, "TLS handshake failed: {e}"),
                        }
                    });
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}

enum Connection {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connected for Connection {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Connection::Plain(s) => s.is_write_vectored(),
            Connection::Tls(s) => s.is_write_vectored(),
        }
    }
}

struct Controller {
    shutdown: CancellationToken,
    debug: bool,
}

#[tonic::async_trait]
impl plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<plugin::Empty>,
    ) -> Result<Response<plugin::Empty>, Status> {
        if self.debug {
            // One debug server outlives many terraform runs.
            tracing::debug!("Shutdown requested; ignored in debug mode");
        } else {
            tracing::debug!("Shutdown requested by Terraform");
            self.shutdown.cancel();
        }
        Ok(Response::new(plugin::Empty {}))
    }
}

struct Health;

#[tonic::async_trait]
impl health::health_server::Health for Health {
    async fn check(
        &self,
        _request: Request<health::HealthCheckRequest>,
    ) -> Result<Response<health::HealthCheckResponse>, Status> {
        Ok(Response::new(health::HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_negotiation() {
        assert!(negotiate_protocol(None).is_ok());
        assert!(negotiate_protocol(Some("5,6".into())).is_ok());
        assert!(negotiate_protocol(Some("6".into())).is_ok());
        let err = negotiate_protocol(Some("4,5".into())).unwrap_err();
        assert!(err.contains("protocol 6"));
    }

    #[test]
    fn shared_arc_compiles() {
        // The TLS config is shared between connection tasks.
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<std::sync::Arc<rustls::ServerConfig>>();
    }
}
