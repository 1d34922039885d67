//! Server-sent events: the [`Event`] builder, the wire encoder, and [`Sse`], the
//! response that streams events.

mod body;
mod compress;
mod encode;
mod event;
mod keep_alive;

use std::time::Duration;

use futures_util::{Stream, TryStreamExt};
use http::HeaderMap;
use http::header::{self, HeaderValue, IntoHeaderName};

pub use event::{Event, EventError};
pub use keep_alive::KeepAlive;

pub(crate) use body::{SseBody, StreamDefaults};
pub use compress::Compression;
pub(crate) use compress::{Coded, CompressedStreams, Encoding};
pub use encode::encode;
pub(crate) use encode::retry_hint;

use crate::body::Body;
use crate::error::{BoxError, HttpError};
use crate::response::{IntoResponse, Response};

/// The `error` event a stream ends with when it fails with `err`: data
/// `{"message": ...}`, the message of an [`HttpError`] with a
/// 4xx status, otherwise a generic one (the error itself is logged).
///
/// ```
/// use justsse_http::{HttpError, sse::error_event};
///
/// let event = error_event(HttpError::bad_request("no such model").into());
/// assert_eq!(event.to_string(), "event: error\ndata: {\"message\":\"no such model\"}\n\n");
/// ```
pub fn error_event(err: BoxError) -> Event {
    let err = match err.downcast::<crate::HttpError>() {
        Ok(http) => *http,
        Err(other) => crate::HttpError::internal(other),
    };
    err.log();
    let message = serde_json::json!({ "message": err.message() }).to_string();
    Event::named("error").data(message)
}

/// A response that streams server-sent events.
///
/// The stream's items are `Result<Event, E>`: each event is written and flushed as
/// it is produced; an error ends the stream with one `error` event whose data is
/// `{"message": ...}` (the message of an [`HttpError`] with a 4xx
/// status, otherwise a generic one, the real error going to the logs). When the
/// client leaves, the stream is dropped. When the server shuts down, the stream
/// ends.
///
/// Headers: `Content-Type: text/event-stream`, `Cache-Control: no-cache` and
/// `X-Accel-Buffering: no` (so nginx does not buffer). No `Connection` header, no
/// compression.
///
/// ```
/// use justsse_http::{Event, KeepAlive, Sse};
/// use std::convert::Infallible;
/// use std::time::Duration;
///
/// let events = futures_util::stream::iter((1..=3).map(|n| {
///     Ok::<_, Infallible>(Event::named("tick").id(n).data(n.to_string()))
/// }));
/// let response = Sse::new(events)
///     .keep_alive(KeepAlive::every(Duration::from_secs(5)))
///     .retry(Duration::from_secs(2));
/// ```
pub struct Sse {
    stream: body::EventStream,
    keep_alive: Option<KeepAlive>,
    retry: Option<Duration>,
    compression: Option<Compression>,
    headers: Option<Box<HeaderMap>>,
}

impl std::fmt::Debug for Sse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sse")
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Sse {
    /// Streams `events`.
    pub fn new<S, E>(events: S) -> Self
    where
        S: Stream<Item = Result<Event, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Self {
            stream: Box::pin(events.map_err(Into::into)),
            keep_alive: None,
            retry: None,
            compression: None,
            headers: None,
        }
    }

    /// Compression for this stream; without it, the server's
    /// ([`ServerConfig::compression`](crate::ServerConfig::compression)) applies.
    ///
    /// ```
    /// use justsse_http::{Compression, Event, Sse};
    /// use std::convert::Infallible;
    ///
    /// let events = futures_util::stream::iter([Ok::<_, Infallible>(Event::named("hi"))]);
    /// let response = Sse::new(events).compression(Compression::off());
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// Keep-alive for this stream; without it, the server's default applies.
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }

    /// Sends a `retry:` hint first: how long the client waits before reconnecting.
    pub fn retry(mut self, after: Duration) -> Self {
        self.retry = Some(after);
        self
    }

    /// Adds a response header (`Set-Cookie`, a CORS header, your own). Several
    /// values of one name are all sent; a header the stream sets itself
    /// (`Cache-Control`) is replaced by yours.
    ///
    /// ```
    /// use justsse_http::http::{HeaderValue, header};
    /// use justsse_http::{Event, Sse};
    /// use std::convert::Infallible;
    ///
    /// let events = futures_util::stream::iter([Ok::<_, Infallible>(Event::named("hi"))]);
    /// let response = Sse::new(events)
    ///     .header(header::SET_COOKIE, HeaderValue::from_static("seen=1; Path=/"))
    ///     .header("x-stream-version", HeaderValue::from_static("2"));
    /// ```
    pub fn header(mut self, name: impl IntoHeaderName, value: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .append(name, value);
        self
    }
}

impl IntoResponse for Sse {
    const BODY: crate::response::BodyKind = crate::response::BodyKind::EventStream;

    fn into_response(self) -> Response {
        let first = self.retry.map(|after| Event::new().retry(after));
        let mut body = SseBody::new(self.stream, self.keep_alive, first);
        if let Some(compression) = self.compression {
            body.set_compression(compression);
        }
        let mut response = Response::new(Body::sse(body));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        if let Some(own) = self.headers {
            headers.extend(*own);
        }
        response
    }
}

/// An invalid event is a bug on the server's side: 500, logged.
impl From<EventError> for HttpError {
    fn from(err: EventError) -> Self {
        HttpError::internal(err)
    }
}
