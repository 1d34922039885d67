//! Serving one accepted connection with a deadline for every stage: its first
//! bytes (until the protocol is known), each HTTP/1.1 request head (hyper's
//! header timer), and an HTTP/2 connection with nothing in flight; then hyper's
//! HTTP/1.1 or HTTP/2 connection, shut down gracefully with the server.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;
use http_body::{Frame, SizeHint};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tower::ServiceExt;

use crate::request::Origin;
use crate::body::Body;
use crate::server::config::ServerConfig;
use crate::server::drive::Drive;
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
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .max_buf_size(config.max_header_size);
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
    let ended = match protocol {
        Protocol::Http1 => {
            let handler = Handler::new(&app, layered, peer);
            let service = service_fn(move |req| handler.handle(req));
            let conn = builders.http1.serve_connection(io, service);
            let never_idle = std::future::pending();
            Drive::new(conn, app.shutdown.wait(), never_idle, GOAWAY_GRACE).await
        }
        Protocol::Http2 => {
            let streams = Arc::new(Streams::default());
            let (handler, counted) = (Handler::new(&app, layered, peer), streams.clone());
            let service = service_fn(move |req| Counted {
                handling: handler.handle(req),
                stream: Some(counted.open()),
            });
            let conn = builders.http2.serve_connection(io, service);
            let timeout = app.config.idle_timeout;
            let idle = streams.idle_for(timeout);
            // Boxed: an HTTP/2 connection is larger than an HTTP/1.1 one, and
            // unboxed every connection's task would be sized for it. HTTP/2
            // connections are few (each carries many streams).
            Box::pin(Drive::new(
                conn,
                app.shutdown.wait(),
                idle,
                GOAWAY_GRACE.min(timeout),
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
    fn new(app: &Arc<Shared>, layered: Option<Arc<AppService>>, peer: SocketAddr) -> Self {
        match layered {
            Some(layered) => Self::Layered(layered, app.origin(Some(peer))),
            None => Self::Routes(app.clone(), app.origin(Some(peer))),
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

/// The requests and responses in flight on one HTTP/2 connection, from the
/// moment hyper hands over a request until its response body is dropped.
#[derive(Debug, Default)]
struct Streams {
    open: AtomicUsize,
    opened: AtomicU64,
    none_open: Notify,
}

impl Streams {
    fn open(self: &Arc<Self>) -> StreamGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        self.opened.fetch_add(1, Ordering::AcqRel);
        StreamGuard(self.clone())
    }

    /// Resolves once no stream has been open for `timeout` in a row.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            if self.open.load(Ordering::Acquire) > 0 {
                self.none_open.notified().await;
                continue;
            }
            let opened = self.opened.load(Ordering::Acquire);
            tokio::time::sleep(timeout).await;
            if self.open.load(Ordering::Acquire) == 0
                && self.opened.load(Ordering::Acquire) == opened
            {
                return;
            }
        }
    }
}

/// One open stream; dropping it closes it.
#[derive(Debug)]
struct StreamGuard(Arc<Streams>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A stored permit if the watcher is not waiting yet: no wake is lost.
            self.0.none_open.notify_one();
        }
    }
}

/// A request in flight that counts as an open stream, and so does its response
/// body until hyper drops it.
struct Counted {
    handling: Answer,
    stream: Option<StreamGuard>,
}

impl Future for Counted {
    type Output = Result<http::Response<CountedBody>, std::convert::Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Poll::Ready(Ok(response)) = Pin::new(&mut this.handling).poll(cx) else {
            return Poll::Pending;
        };
        let stream = this.stream.take();
        let response: Response = response;
        Poll::Ready(Ok(response.map(|body| CountedBody {
            body,
            _stream: stream,
        })))
    }
}

/// A response body that keeps its stream counted as open.
struct CountedBody {
    body: Body,
    _stream: Option<StreamGuard>,
}

impl http_body::Body for CountedBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
