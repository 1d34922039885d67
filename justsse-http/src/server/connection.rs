//! Serving one accepted connection with a deadline for every stage: its first
//! bytes (until the protocol is known), each HTTP/1.1 request head (counted
//! from the end of the response before it), and an HTTP/2 connection with
//! nothing in flight; then hyper's HTTP/1.1 or HTTP/2 connection, shut down
//! gracefully with the server.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tower::ServiceExt;

use crate::request::Origin;
use crate::server::config::ServerConfig;
use crate::server::drive::{Drive, OnIdle};
use crate::server::in_flight::{Counted, InFlight};
use crate::error::HttpError;
use crate::routing::layer::AppService;
use crate::server::protocol::{Protocol, detect};
use crate::response::{IntoResponse, Response};
use crate::server::service::{Shared, Handling};
use crate::server::write_deadline::WriteDeadline;

/// How long an HTTP/2 peer has at most to acknowledge the `GOAWAY` that closes
/// an idle connection (or to finish its handshake) before the socket is closed
/// anyway; never longer than the idle timeout itself.
const GOAWAY_GRACE: Duration = Duration::from_secs(5);

/// hyper's connection builders, shared by every connection rather than copied
/// into each.
pub(crate) struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Builders {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        let mut http1 = http1::Builder::new();
        // No timer: the header read timeout is the connection's own
        // (`InFlight::quiet_for`), where hyper's makes a timer per request.
        http1.max_buf_size(config.max_header_size);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(config.max_header_size).unwrap_or(u32::MAX))
            .max_send_buf_size(config.stream_buffer);
        if let Some((every, timeout)) = config.http2_keep_alive {
            http2
                .keep_alive_interval(Some(every))
                .keep_alive_timeout(timeout);
        }
        Self {
            http1,
            http2,
            #[cfg(feature = "tls")]
            tls: config
                .tls
                .as_ref()
                .map(|tls| tokio_rustls::TlsAcceptor::from(tls.rustls.clone())),
        }
    }
}

/// Serves `stream` until it closes, the client stalls past a deadline, or the
/// server shuts down; the connection's permit is given back then.
///
/// Not an `async fn`: the task would keep its arguments beside the ones it
/// hands on (each of these futures lives as long as its connection).
pub(crate) fn serve(
    stream: TcpStream,
    accepted: Accepted,
) -> impl Future<Output = ()> + Send + 'static {
    let stream = WriteDeadline::new(stream, accepted.app.config.write_timeout);
    #[cfg(feature = "tls")]
    if let Some(acceptor) = accepted.builders.tls.clone() {
        // Boxed: a TLS session is large, and unboxed every plain connection's
        // task would be sized for it.
        let tls: BoxedServe = Box::pin(serve_tls(acceptor, stream, accepted));
        return Either::Left(tls);
    }
    Either::<BoxedServe, _>::Right(serve_io(stream, accepted))
}

/// Serving a connection whose future is boxed (TLS).
type BoxedServe = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What serving an accepted connection needs besides its IO.
pub(crate) struct Accepted {
    pub(crate) peer: SocketAddr,
    pub(crate) app: Arc<Shared>,
    pub(crate) layered: Option<Arc<AppService>>,
    pub(crate) builders: Arc<Builders>,
    /// The connection's place among the server's, if it counts.
    pub(crate) permit: Option<OwnedSemaphorePermit>,
}

/// The TLS handshake, within the header read timeout, then HTTP inside it.
#[cfg(feature = "tls")]
async fn serve_tls(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: WriteDeadline<TcpStream>,
    accepted: Accepted,
) {
    let (peer, app) = (accepted.peer, &accepted.app);
    let deadline = app.config.header_read_timeout;
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(deadline, acceptor.accept(stream)) => handshake,
        () = app.shutdown.wait() => return,
    };
    match handshake {
        Ok(Ok(tls)) => serve_io(tls, accepted).await,
        Ok(Err(err)) => tracing::debug!(%peer, error = %err, "TLS handshake failed"),
        Err(_elapsed) => {
            crate::observe::timeout("tls_handshake");
            tracing::debug!(%peer, "TLS handshake not done within the header read timeout; closing");
        }
    }
}

/// Tells the protocol by the first bytes (within the header read timeout),
/// then serves it.
pub(crate) async fn serve_io<I>(io: I, accepted: Accepted)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Accepted {
        peer,
        app,
        layered,
        builders,
        permit: _permit,
    } = accepted;
    let _open = crate::observe::OpenConnection::new();
    let detected = tokio::select! {
        detected = tokio::time::timeout(app.config.header_read_timeout, detect(io)) => detected,
        () = app.shutdown.wait() => return,
    };
    let (protocol, io) = match detected {
        Ok(Ok(Some(detected))) => detected,
        Ok(Ok(None)) => return,
        Ok(Err(err)) => {
            tracing::debug!(%peer, error = %err, "connection failed before its first request");
            return;
        }
        Err(_elapsed) => {
            crate::observe::timeout("header");
            tracing::debug!(%peer, "no request within the header read timeout; closing");
            return;
        }
    };
    // Both protocols count each request in flight until its response body
    // is dropped: what their idle deadlines watch.
    let in_flight = Arc::new(InFlight::default());
    // An HTTP/1.1 connection's task polls its response bodies, and wakes
    // on shutdown: its event streams read the flag then.
    let polled_by_connection = protocol == Protocol::Http1;
    let handler = Handler::new(&app, layered, peer, polled_by_connection);
    let counted = in_flight.clone();
    let service = service_fn(move |req| Counted::new(handler.handle(req), counted.open()));
    let ended = match protocol {
        Protocol::Http1 => {
            let conn = builders.http1.serve_connection(io, service);
            // The header deadline: from the connection's start, then from each
            // response's end, until the next request head is complete.
            let waiting = in_flight.quiet_for(app.config.header_read_timeout);
            Drive::new(conn, app.shutdown.wait(), waiting, OnIdle::Close).await
        }
        Protocol::Http2 => {
            let conn = builders.http2.serve_connection(io, service);
            let timeout = app.config.idle_timeout;
            let idle = in_flight.quiet_for(timeout);
            // Boxed: an HTTP/2 connection is larger than an HTTP/1.1 one, and
            // unboxed every connection's task would be sized for it. HTTP/2
            // connections are few (each carries many streams).
            Box::pin(Drive::new(
                conn,
                app.shutdown.wait(),
                idle,
                OnIdle::GoAway(GOAWAY_GRACE.min(timeout)),
            ))
            .await
        }
    };
    if let Err(err) = ended {
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
}

/// What answers a connection's requests: the router straight, or the layers
/// around it.
enum Handler {
    Routes(Arc<Shared>, Arc<Origin>),
    /// The connection's origin rides in each request's extensions through the
    /// layers to the routes.
    Layered(Arc<AppService>, Arc<Origin>),
}

impl Handler {
    fn new(
        app: &Arc<Shared>,
        layered: Option<Arc<AppService>>,
        peer: SocketAddr,
        polled_by_connection: bool,
    ) -> Self {
        let origin = app.origin(Some(peer), polled_by_connection);
        match layered {
            Some(layered) => Self::Layered(layered, origin),
            None => Self::Routes(app.clone(), origin),
        }
    }

    fn handle(&self, mut req: http::Request<hyper::body::Incoming>) -> Answer {
        match self {
            Self::Routes(app, origin) => Answer::Routed(app.handle(req, origin)),
            Self::Layered(layered, origin) => {
                req.extensions_mut().insert(origin.clone());
                Answer::Layered(Box::pin(AppService::clone(layered).oneshot(req)))
            }
        }
    }
}

/// One request's answer in the making. Small, since hyper keeps room for one
/// per connection for the connection's whole life: the layered variant is
/// boxed (it carries the request until the service is ready).
enum Answer {
    Routed(Handling),
    Layered(Pin<Box<tower::util::Oneshot<AppService, http::Request<hyper::body::Incoming>>>>),
}

impl Future for Answer {
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Routed(handling) => Pin::new(handling).poll(cx),
            Self::Layered(oneshot) => oneshot.as_mut().poll(cx).map(|answered| {
                Ok(answered.unwrap_or_else(|err| HttpError::internal(err).into_response()))
            }),
        }
    }
}

