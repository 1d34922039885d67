//! One request, from hyper's parts to our response: route, call the handler with
//! panics contained, prepare event streams, strip HEAD bodies.

use std::any::Any;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::util::BoxCloneSyncService;
use tower_service::Service;

use crate::body::Body;
use crate::server::config::ServerConfig;
use crate::error::{BoxError, HttpError};
use crate::routing::handler::BoxFuture;
use crate::request::{Origin, Params, Request};
use crate::request_body::BodyLimits;
use crate::response::{IntoResponse, Response};
use crate::routing::{AppService, Routed, Routes};
use crate::shutdown::Shutdown;
use crate::sse::{Coded, CompressedStreams, Encoding};
use crate::stream_limits::{OpenStreams, StreamPermit};

/// What every connection of one server shares.
pub(crate) struct Shared {
    pub(crate) routes: Routes,
    pub(crate) config: ServerConfig,
    pub(crate) body_limits: Arc<BodyLimits>,
    /// Shutdown has begun: streams end, connections finish what is in flight.
    pub(crate) shutdown: Arc<Shutdown>,
    /// The grace period is over: requests still running answer 503.
    pub(crate) expired: CancellationToken,
    /// The event streams open now, for their limits.
    pub(crate) open_streams: Arc<OpenStreams>,
    /// The event streams compressed now, for their limit.
    pub(crate) compressed: CompressedStreams,
}

impl Shared {
    /// What requests of a connection from `peer` share.
    pub(crate) fn origin(&self, peer: Option<SocketAddr>, polled_by_connection: bool) -> Arc<Origin> {
        Arc::new(Origin {
            peer,
            limits: self.body_limits.clone(),
            polled_by_connection,
        })
    }
}

impl Shared {
    /// Routes the request and starts its handler. What hyper keeps per
    /// connection is the returned [`Handling`]: a pointer to the handler's boxed
    /// future and two flags, so an idle event stream does not hold a finished
    /// handler's state, and a request costs one allocation for it.
    pub(crate) fn handle(self: &Arc<Self>, req: http::Request<Incoming>, origin: &Arc<Origin>) -> Handling {
        let (parts, body) = req.into_parts();
        if parts.version <= http::Version::HTTP_11 {
            if let Some(refused) = head_over(&parts, self.config.max_header_size) {
                return Handling::ready(refused);
            }
        }
        let routed = self.routes.route(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
        );
        let (handler, params, pattern, streams) = match routed {
            Routed::Found {
                handler,
                params,
                pattern,
                streams,
            } => (handler, Params::from_matched(params), pattern, streams),
            Routed::Answer(response) => return Handling::ready(response),
        };
        // A stream over its limits is refused before its handler runs, so a
        // refused request starts nothing (no subscription, no task).
        let permit = match streams.then(|| self.open_streams.admit(client_ip(origin))) {
            Some(Err(refused)) => return Handling::ready(refused.into_response()),
            Some(Ok(permit)) => permit.map(Box::new),
            None => None,
        };
        let span = request_span(&parts.method, pattern, origin.peer);
        let is_head = parts.method == Method::HEAD;
        // What the client accepts, for a stream's compression: only routes
        // known to stream pay for reading it.
        let encoding = if streams {
            Encoding::negotiate(&parts.headers)
        } else {
            None
        };
        let req = Request::new(parts, params, body, origin.clone());
        let started = {
            let _entered = span.as_deref().map(tracing::Span::enter);
            std::panic::catch_unwind(AssertUnwindSafe(|| handler.call(req)))
        };
        match started {
            Ok(future) => Handling {
                future: Some(future),
                is_head,
                encoding,
                permit,
                origin: Some(origin.clone()),
                app: Some(self.clone()),
                expired: None,
                span,
            },
            Err(panic) => Handling::ready(panicked(&*panic)),
        }
    }

    /// Prepares the handler's response: HEAD loses its body, event streams get
    /// the server's defaults, its shutdown signal and their limits (a stream
    /// over them is answered 503 or 429 instead).
    fn finish(&self, mut response: Response, request: Finishing) -> Response {
        let Finishing {
            is_head,
            encoding,
            permit: admitted,
            client,
            polled_by_connection,
            span,
        } = request;
        // A response that set its own coding is sent as it is.
        let encoding = encoding.filter(|_| !response.headers().contains_key(header::CONTENT_ENCODING));
        let mut coded = Coded::Off;
        if is_head {
            strip_body(&mut response);
        } else if let Some(stream) = response.body_mut().as_sse_mut() {
            // Admitted before the handler ran when a stream was expected; a
            // stream from a route that did not say so is counted now.
            let permit = match admitted {
                Some(permit) => Some(permit),
                None => match self.open_streams.admit(client) {
                    Ok(permit) => permit.map(Box::new),
                    Err(refused) => return refused.into_response(),
                },
            };
            stream.attach(
                &self.config.streams,
                self.shutdown.for_stream(polled_by_connection),
                permit,
                self.open_streams.lifetime(),
            );
            coded = stream.compress(&self.config.streams, encoding, &self.compressed);
            if let Some(span) = span {
                stream.trace(tracing::debug_span!(
                    parent: &*span,
                    "stream",
                    reason = tracing::field::Empty,
                    events = tracing::field::Empty,
                ));
            }
        }
        // With compression on, the answer varies with `Accept-Encoding`.
        if coded != Coded::Off {
            let headers = response.headers_mut();
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
            if let Coded::In(encoding) = coded {
                headers.insert(header::CONTENT_ENCODING, encoding.header());
            }
        }
        response
    }
}

/// What `finish` needs of the request its response answers.
struct Finishing {
    is_head: bool,
    encoding: Option<Encoding>,
    permit: Option<Box<StreamPermit>>,
    client: Option<IpAddr>,
    /// See [`Origin::polled_by_connection`].
    polled_by_connection: bool,
    span: Option<Box<tracing::Span>>,
}

/// The `request` span of one request, at debug level (`route` as written,
/// `topic` filled in by a hub subscription); `None`, at no cost beyond a
/// check, when no subscriber wants it. The level is checked first: without
/// it, a disabled span still goes through tracing's `log` fallback (its
/// fields recorded, then logged when made and when dropped) whenever a
/// dependency turns on tracing's `log` feature and no subscriber is set.
fn request_span(method: &Method, route: &str, peer: Option<SocketAddr>) -> Option<Box<tracing::Span>> {
    if !tracing::level_enabled!(tracing::Level::DEBUG) {
        return None;
    }
    let span = tracing::debug_span!(
        "request",
        %method,
        route,
        peer = peer.map(tracing::field::display),
        topic = tracing::field::Empty,
    );
    (!span.is_disabled()).then(|| Box::new(span))
}

/// One request in flight: the handler's future, with panics contained, and
/// cut short with a 503 when shutdown's grace period is over.
pub(crate) struct Handling {
    future: Option<BoxFuture<Response>>,
    is_head: bool,
    /// The coding the client prefers, for an event stream.
    encoding: Option<Encoding>,
    /// Its place among the open streams, taken before the handler ran (boxed:
    /// only requests for streams, under a limit, have one).
    permit: Option<Box<StreamPermit>>,
    /// Where the request came from, for the per-client stream limit.
    origin: Option<Arc<Origin>>,
    app: Option<Arc<Shared>>,
    /// Registered only once the handler has to wait: a handler that answers at
    /// once costs no allocation for it.
    expired: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// The request's span, entered while the handler runs; an event stream's
    /// span is its child. Boxed, and only when tracing wants it.
    span: Option<Box<tracing::Span>>,
}

impl Handling {
    /// An answer known at once (404, 405, a panic while starting the
    /// handler). It costs an allocation, so that a request in flight stays a
    /// few words: hyper keeps room for one per connection for its whole life.
    fn ready(response: Response) -> Self {
        Self {
            future: Some(Box::pin(std::future::ready(response))),
            is_head: false,
            encoding: None,
            permit: None,
            origin: None,
            app: None,
            expired: None,
            span: None,
        }
    }
}

impl Future for Handling {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(Ok(panicked(&"polled after completion")));
        };
        let polled = {
            let _entered = this.span.as_deref().map(tracing::Span::enter);
            std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)))
        };
        let response = match polled {
            Ok(Poll::Pending) => {
                let Some(app) = &this.app else {
                    return Poll::Pending;
                };
                let expired = this
                    .expired
                    .get_or_insert_with(|| Box::pin(app.expired.clone().cancelled_owned()));
                if expired.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.app = None;
                shutting_down()
            }
            Ok(Poll::Ready(response)) => response,
            Err(panic) => panicked(&*panic),
        };
        this.future = None;
        let response = match this.app.take() {
            Some(app) => {
                let origin = this.origin.take();
                let client = origin.as_deref().and_then(client_ip);
                let polled_by_connection = origin.is_some_and(|origin| origin.polled_by_connection);
                let permit = this.permit.take();
                let request = Finishing {
                    is_head: this.is_head,
                    encoding: this.encoding,
                    permit,
                    client,
                    polled_by_connection,
                    span: this.span.take(),
                };
                app.finish(response, request)
            }
            None => response,
        };
        Poll::Ready(Ok(response))
    }
}

/// 431 (closing the connection) for an HTTP/1 head over `max` bytes. hyper
/// refuses a head that outgrows its buffer while it arrives, but one that
/// arrives whole in one read is parsed even when larger (a 114 KB head passed
/// a 64 KiB limit); HTTP/2 heads are bounded by their header list size.
fn head_over(parts: &http::request::Parts, max: usize) -> Option<Response> {
    let line = parts.method.as_str().len()
        + parts.uri.path_and_query().map_or(1, |uri| uri.as_str().len())
        + " HTTP/1.1\r\n ".len();
    let fields: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + ": \r\n".len())
        .sum();
    let size = line + fields + 2;
    (size > max).then(|| {
        HttpError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the request head is {size} bytes; at most {max} are read"),
        )
        .with_header(header::CONNECTION, HeaderValue::from_static("close"))
        .into_response()
    })
}

fn client_ip(origin: &Origin) -> Option<IpAddr> {
    origin.peer.map(|peer| peer.ip())
}

fn panicked(panic: &(dyn Any + Send)) -> Response {
    tracing::error!(panic = panic_message(panic), "handler panicked");
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

/// The answer to a request still running when shutdown's grace period ends.
fn shutting_down() -> Response {
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is shutting down",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    .into_response()
}

/// A HEAD answer keeps the GET answer's headers, its length included, and no body.
fn strip_body(response: &mut Response) {
    let body = std::mem::take(response.body_mut());
    if let Some(length) = http_body::Body::size_hint(&body).exact() {
        if !body.is_event_stream() {
            response
                .headers_mut()
                .entry(header::CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(length));
        }
    }
    *response.body_mut() = Body::empty();
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "non-string panic payload"
    }
}

impl Shared {
    /// The router and handlers as the innermost tower service, for layers.
    pub(crate) fn service(self: &Arc<Self>) -> AppService {
        // Error is never produced by the routes: theirs are responses.
        AppService::new(BoxCloneSyncService::new(RoutesService(self.clone())))
    }
}

/// The router and handlers as a tower service.
#[derive(Clone)]
struct RoutesService(Arc<Shared>);

impl Service<http::Request<Incoming>> for RoutesService {
    type Response = Response;
    type Error = BoxError;
    type Future = futures_util::future::ErrInto<Handling, BoxError>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: http::Request<Incoming>) -> Self::Future {
        let origin = match req.extensions_mut().remove::<Arc<Origin>>() {
            Some(origin) => origin,
            None => self.0.origin(None, false),
        };
        futures_util::TryFutureExt::err_into(self.0.handle(req, &origin))
    }
}
