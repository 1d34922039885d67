//! Accepting connections, serving them with hyper-util's auto builder (HTTP/1.1
//! and h2c), enforcing connection limits, and shutting down without hanging.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::error::Error;
use crate::router::Router;
use crate::service::App;

/// Where a server listens: an address to bind (`"127.0.0.1:3000"`, a
/// [`SocketAddr`]) or a listener already bound (tokio's or std's).
pub trait IntoListener {
    /// Binds, or hands over the listener.
    fn into_listener(self) -> impl Future<Output = Result<TcpListener, Error>> + Send;
}

/// Pending connections the kernel queues for us. tokio's default of 1,024
/// drops SYNs when thousands of clients (re)connect at once, as event-stream
/// clients do after a restart, and each drop costs a client a second or more.
const BACKLOG: u32 = 4096;

async fn bind_addr(addr: String) -> Result<TcpListener, Error> {
    let bind_error = |source| Error::Bind {
        addr: addr.clone(),
        source,
    };
    let mut last_error = None;
    for resolved in tokio::net::lookup_host(addr.as_str())
        .await
        .map_err(bind_error)?
    {
        let socket = if resolved.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        };
        let listener = socket.and_then(|socket| {
            socket.set_reuseaddr(true)?;
            socket.bind(resolved)?;
            socket.listen(BACKLOG)
        });
        match listener {
            Ok(listener) => return Ok(listener),
            Err(err) => last_error = Some(err),
        }
    }
    match last_error {
        Some(err) => Err(bind_error(err)),
        None => Err(Error::NoAddress(addr)),
    }
}

impl IntoListener for &str {
    fn into_listener(self) -> impl Future<Output = Result<TcpListener, Error>> + Send {
        bind_addr(self.to_owned())
    }
}

impl IntoListener for String {
    fn into_listener(self) -> impl Future<Output = Result<TcpListener, Error>> + Send {
        bind_addr(self)
    }
}

impl IntoListener for SocketAddr {
    fn into_listener(self) -> impl Future<Output = Result<TcpListener, Error>> + Send {
        bind_addr(self.to_string())
    }
}

impl IntoListener for TcpListener {
    fn into_listener(self) -> impl Future<Output = Result<TcpListener, Error>> + Send {
        std::future::ready(Ok(self))
    }
}

impl IntoListener for std::net::TcpListener {
    fn into_listener(self) -> impl Future<Output = Result<TcpListener, Error>> + Send {
        let listener = self
            .set_nonblocking(true)
            .and_then(|()| TcpListener::from_std(self))
            .map_err(|source| Error::Bind {
                addr: "an std listener".to_owned(),
                source,
            });
        std::future::ready(listener)
    }
}

/// A bound server, not yet serving. Binding first lets the caller learn the real
/// port when it asked for port 0.
///
/// ```no_run
/// use justsse_http::{Router, Server, ServerConfig, get};
///
/// # async fn run() -> Result<(), justsse_http::Error> {
/// let router = Router::new().route("/", get(|_| async { "hello" }));
/// let server = Server::bind("127.0.0.1:0").await?.config(ServerConfig::default());
/// println!("listening on http://{}", server.local_addr());
/// server.serve(router, justsse_http::ctrl_c()).await
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: ServerConfig,
}

impl Server {
    /// Binds an address or takes a bound listener.
    pub async fn bind(listener: impl IntoListener) -> Result<Self, Error> {
        let listener = listener.into_listener().await?;
        let local_addr = listener.local_addr().map_err(Error::LocalAddr)?;
        Ok(Self {
            listener,
            local_addr,
            config: ServerConfig::default(),
        })
    }

    /// The address the server listens on, with the real port.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sets the limits and defaults.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Serves `router` until `shutdown` resolves, then shuts down gracefully: stops
    /// accepting, ends every event stream (after the configured last event), lets
    /// in-flight requests finish, and closes whatever is left after the grace
    /// period. Returns once every connection is closed.
    pub async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let routes = router.build()?;
        let Server {
            listener,
            local_addr,
            config,
        } = self;
        let grace = config.shutdown_grace;
        let app = Arc::new(App {
            routes,
            config,
            shutdown: CancellationToken::new(),
        });
        let builder = Arc::new(connection_builder(&app.config));
        let permits = Arc::new(Semaphore::new(app.config.max_connections));
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        tracing::info!("listening on http://{local_addr}");

        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                Some(_) = connections.join_next() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        accept_failed(err).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "connection limit reached; refusing");
                connections.spawn(refuse(stream));
                continue;
            };
            // Events are small writes that must leave at once.
            let _ = stream.set_nodelay(true);
            let app = app.clone();
            let builder = builder.clone();
            let watcher = graceful.watcher();
            connections.spawn(async move {
                // The connection borrows the shared builder rather than owning
                // a copy of it: a copy in every connection's task is 1.5 KiB.
                let service = service_fn(move |req| app.handle(req));
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                if let Err(err) = watcher.watch(conn).await {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                drop(permit);
            });
        }

        drop(listener);
        tracing::info!("shutting down: ending event streams, waiting up to {grace:?} for requests");
        app.shutdown.cancel();
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("grace period over; closing the remaining connections");
        }
        connections.shutdown().await;
        Ok(())
    }
}

/// Binds `listener` and serves `router` until `shutdown` resolves, with the
/// default [`ServerConfig`]. See [`Server`] to learn the bound port or set limits.
///
/// ```no_run
/// use justsse_http::{Router, get};
///
/// # async fn run() -> Result<(), justsse_http::Error> {
/// let router = Router::new().route("/", get(|_| async { "hello" }));
/// justsse_http::serve("127.0.0.1:3000", router, justsse_http::ctrl_c()).await
/// # }
/// ```
pub async fn serve(
    listener: impl IntoListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    Server::bind(listener).await?.serve(router, shutdown).await
}

/// A shutdown future that resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
pub async fn ctrl_c() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

fn connection_builder(config: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(config.max_header_size);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(config.max_header_size).unwrap_or(u32::MAX));
    builder
}

/// Accept errors: the per-connection kinds are passing; others (out of file
/// descriptors) get a short pause so the loop does not spin.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) {
        return;
    }
    tracing::error!(error = %err, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Past the connection limit: a short, complete answer rather than a reset.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str =
        r#"{"error":"service_unavailable","message":"the server is at its connection limit"}"#;
    let busy = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(busy.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
