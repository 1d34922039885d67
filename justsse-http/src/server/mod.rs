//! Binding, the accept loop with its connection limit, and shutting down
//! without hanging.

mod backoff;
pub(crate) mod config;
mod connection;
mod descriptors;
mod drive;
mod error;
mod in_flight;
#[cfg(feature = "test")]
mod in_memory;
mod protocol;
pub(crate) mod service;
#[cfg(feature = "tls")]
mod tls;
mod write_deadline;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use backoff::{AcceptBackoff, RateLimitedLog};
pub use config::ServerConfig;
pub use error::Error;
#[cfg(feature = "test")]
pub use in_memory::InMemory;
#[cfg(feature = "tls")]
pub use tls::TlsConfig;

use connection::{Accepted, Builders};
use descriptors::ConnectionBudget;
use crate::routing::layer::AppService;
use crate::request_body::BodyLimits;
use crate::routing::Router;
use crate::server::service::Shared;
use crate::shutdown::Shutdown;
use crate::stream_limits::OpenStreams;

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

    /// Serves HTTPS with `tls`: the same as [`ServerConfig::tls`], after the
    /// [`config`](Self::config).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: crate::server::tls::TlsConfig) -> Self {
        self.config = self.config.tls(tls);
        self
    }

    /// Serves `router` until `shutdown` resolves, then shuts down gracefully: stops
    /// accepting, ends every event stream (after the configured last event), lets
    /// in-flight requests finish, answers those still running after the grace
    /// period `503`, and closes what is left. Returns once every connection is
    /// closed.
    pub async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let Server {
            listener,
            local_addr,
            config,
        } = self;
        let Serving {
            app,
            layered,
            builders,
        } = Serving::new(router, config)?;
        let fd_limit = descriptors::fd_limit();
        let budget = ConnectionBudget::new(fd_limit, app.config.max_connections);
        announce(local_addr, &app.config, fd_limit, budget);
        let grace = app.config.shutdown_grace;
        let permits = Arc::new(Semaphore::new(budget.connections));
        let refusals = Arc::new(Semaphore::new(budget.refusals));
        let mut refused_log = RateLimitedLog::new();
        let mut backoff = AcceptBackoff::new();
        let mut connections = JoinSet::new();

        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                Some(_) = connections.join_next() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        backoff.failed(err).await;
                        continue;
                    }
                },
            };
            backoff.succeeded();
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                crate::observe::connection_rejected("max_connections");
                if let Some(suppressed) = refused_log.allow() {
                    tracing::warn!(%peer, suppressed, limit = budget.connections, "connection limit reached; refusing");
                }
                // Answering takes a descriptor for up to a second; past the
                // refusals that fit in the reserve, the answer gets one try.
                match refusals.clone().try_acquire_owned() {
                    Ok(refusal) => {
                        connections.spawn(async move {
                            backoff::refuse(stream).await;
                            drop(refusal);
                        });
                    }
                    Err(_) => backoff::refuse_at_once(stream),
                }
                continue;
            };
            // Events are small writes that must leave at once.
            let _ = stream.set_nodelay(true);
            connections.spawn(connection::serve(
                stream,
                Accepted {
                    peer,
                    app: app.clone(),
                    layered: layered.clone(),
                    builders: builders.clone(),
                    permit: Some(permit),
                },
            ));
        }

        drop(listener);
        tracing::info!("shutting down: ending event streams, waiting up to {grace:?} for requests");
        app.shutdown.begin();
        if !all_closed(&mut connections, grace).await {
            tracing::warn!("grace period over; answering requests still running 503 and closing");
            app.expired.cancel();
            if !all_closed(&mut connections, EXPIRED_GRACE).await {
                connections.shutdown().await;
            }
        }
        Ok(())
    }
}

/// What every connection of one server shares: the routes (with their layers,
/// built once) and hyper's connection builders.
pub(crate) struct Serving {
    pub(crate) app: Arc<Shared>,
    pub(crate) layered: Option<Arc<AppService>>,
    pub(crate) builders: Arc<Builders>,
}

impl Serving {
    pub(crate) fn new(router: Router, config: ServerConfig) -> Result<Self, Error> {
        let mut router = router;
        let layers = router.take_layers();
        let routes = router.build()?;
        let shutdown = Arc::new(Shutdown::new(config.streams.shutdown_event.clone()));
        let app = Arc::new(Shared {
            routes,
            body_limits: Arc::new(BodyLimits::new(
                config.body_limit,
                config.body_memory,
                config.body_read_timeout,
            )),
            open_streams: Arc::new(OpenStreams::new(config.stream_limits)),
            compressed: Default::default(),
            config,
            shutdown,
            expired: CancellationToken::new(),
        });
        let builders = Arc::new(Builders::new(&app.config));
        // Layers wrap the routes once; each connection shares the result.
        let layered = (!layers.is_empty()).then(|| {
            let routes = app.service();
            Arc::new(layers.into_iter().fold(routes, |inner, wrap| wrap(inner)))
        });
        Ok(Self {
            app,
            layered,
            builders,
        })
    }
}

/// How long the `503`s to requests still running after the grace period have to
/// reach their clients.
const EXPIRED_GRACE: Duration = Duration::from_secs(1);

/// Waits up to `limit` for every connection task to end.
async fn all_closed(connections: &mut JoinSet<()>, limit: Duration) -> bool {
    tokio::time::timeout(limit, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok()
}

fn announce(
    local_addr: SocketAddr,
    config: &ServerConfig,
    fd_limit: Option<u64>,
    budget: ConnectionBudget,
) {
    let scheme = if config.serves_tls() { "https" } else { "http" };
    tracing::info!(
        fd_limit,
        max_connections = budget.connections,
        "listening on {scheme}://{local_addr}"
    );
    if !budget.fits(fd_limit) {
        tracing::warn!(
            fd_limit,
            max_connections = budget.connections,
            "max_connections leaves too few file descriptors free: past the limit, clients will time out instead of getting 503; raise `ulimit -n`"
        );
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
