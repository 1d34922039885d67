//! The response body: empty, a full buffer, or an event stream.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use crate::error::BoxError;
use crate::sse::SseBody;

/// The body of every response justsse sends.
///
/// Plain responses carry their bytes at once (so hyper writes a `Content-Length`);
/// event streams are polled event by event, each flushed as it is produced.
#[derive(Default)]
pub struct Body {
    kind: Kind,
    /// Values that live as long as the body: dropped when the response is done
    /// or abandoned (see [`Body::hold`]). Behind a thin pointer: every
    /// response carries the field and few fill it.
    held: Option<Box<Held>>,
}

/// What [`Body::hold`] keeps.
struct Held {
    _value: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
enum Kind {
    #[default]
    Empty,
    Full(Bytes),
    Sse(Box<SseBody>),
    /// Any other body, such as one a tower layer wrapped (compression).
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Empty => f.write_str("Empty"),
            Kind::Full(bytes) => f.debug_tuple("Full").field(&bytes.len()).finish(),
            Kind::Sse(body) => f.debug_tuple("Sse").field(body).finish(),
            Kind::Boxed(_) => f.write_str("Boxed"),
        }
    }
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Self::of(Kind::Empty)
    }

    /// A body made of these bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Self::empty()
        } else {
            Self::of(Kind::Full(bytes))
        }
    }

    /// Any other body: its frames are sent as it produces them. An error
    /// while producing them is logged and ends the body (hyper then closes the
    /// connection if the body was shorter than it announced).
    ///
    /// ```
    /// use justsse_http::Body;
    /// use http_body_util::Full;
    ///
    /// let body = Body::new(Full::new(bytes::Bytes::from_static(b"hello")));
    /// ```
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self::of(Kind::Boxed(UnsyncBoxBody::new(body.map_err(Into::into))))
    }

    fn of(kind: Kind) -> Self {
        Self { kind, held: None }
    }

    /// Keeps `value` alive as long as this body: it is dropped when the response
    /// has been sent, or when the client leaves before that. Dropping is how
    /// cleanup tied to a response (for example a disconnect signal) runs.
    pub fn hold(mut self, value: impl Send + Sync + 'static) -> Self {
        self.held = Some(Box::new(Held {
            _value: Box::new(value),
        }));
        self
    }

    pub(crate) fn sse(body: SseBody) -> Self {
        Self::of(Kind::Sse(Box::new(body)))
    }

    pub(crate) fn as_sse_mut(&mut self) -> Option<&mut SseBody> {
        match &mut self.kind {
            Kind::Sse(body) => Some(body),
            _ => None,
        }
    }

    /// For an event stream that sends no `retry:` hint of its own yet: sends
    /// one telling the client to wait `after` before reconnecting, first. Other
    /// bodies are left as they are.
    pub fn retry_hint(&mut self, after: std::time::Duration) {
        if let Kind::Sse(body) = &mut self.kind {
            body.default_retry(&crate::sse::retry_hint(after));
        }
    }

    /// For an event stream that sets no keep-alive of its own: uses
    /// `keep_alive` instead of the server's (a route's `keep_alive = off`:
    /// some model clients choke on comment lines). Other bodies are left as
    /// they are.
    pub fn keep_alive_default(&mut self, keep_alive: crate::sse::KeepAlive) {
        if let Kind::Sse(body) = &mut self.kind {
            body.default_keep_alive(keep_alive);
        }
    }

    /// For an event stream: compresses it as `compression` says, whatever the
    /// server's setting. Other bodies are left as they are.
    pub fn compression(&mut self, compression: crate::sse::Compression) {
        if let Kind::Sse(body) = &mut self.kind {
            body.set_compression(compression);
        }
    }

    /// Whether this body is an event stream.
    pub fn is_event_stream(&self) -> bool {
        matches!(self.kind, Kind::Sse(_))
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::full(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::full(Bytes::from_static(text.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match &mut this.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(_) => match std::mem::take(&mut this.kind) {
                Kind::Full(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                _ => Poll::Ready(None),
            },
            Kind::Sse(body) => Pin::new(body.as_mut())
                .poll_frame(cx)
                .map(|frame| frame.map(Ok)),
            Kind::Boxed(body) => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Err(err))) => {
                    tracing::warn!(error = %err, "response body failed; ending it");
                    this.kind = Kind::Empty;
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Boxed(body) => body.is_end_stream(),
            Kind::Full(_) | Kind::Sse(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Sse(_) => SizeHint::default(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}
