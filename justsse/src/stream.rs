//! What SSE handlers return.

use futures_util::Stream;
use justsse_http::http::HeaderMap;
use justsse_http::{BoxError, Event, HttpError, IntoResponse, Response, Sse};

use crate::controller::RouteKind;
use crate::describe::Describer;
use crate::sse_event::SseEvent;

/// A stream of events, as an `#[sse]` handler produces it: items are
/// `Result<Event, E>`; an `Err` ends the stream with one `error` event.
///
/// A generator handler (an `#[sse]` method whose body ends in
/// [`stream!`](crate::stream!)) declares `-> impl EventStream`.
pub trait EventStream: Stream<Item = Result<Event, BoxError>> + Send + 'static {}

impl<S: Stream<Item = Result<Event, BoxError>> + Send + 'static> EventStream for S {}

/// Marks a stream returned as is.
#[derive(Debug)]
pub struct AsStream<E>(E);

/// Marks a response built by the handler.
#[derive(Debug)]
pub struct AsSse;

/// Marks a handler result that may reject before streaming.
#[derive(Debug)]
pub struct AsResult<M>(M);

/// What a non-generator `#[sse]` handler may return: [`Sse`], any
/// `Stream<Item = Result<Event, E>>` or `Stream<Item = Event>` (a hub
/// subscription), `Result` of either with an [`HttpError`]
/// (rejects the request with a real status before the stream starts), or
/// `Option` of either (`None` answers 204 so the browser stops reconnecting), or
/// `(HeaderMap, _)` of any of these (response headers such as `Set-Cookie`),
/// or a [`Response`] built by hand (a protocol that chooses per request
/// between `202`, JSON and a stream).
#[diagnostic::on_unimplemented(
    message = "an event-stream route (`#[sse]`, or `stream` on `#[post]` and the like) cannot return `{Self}`",
    note = "return `Sse`, an `impl Stream<Item = Result<Event, E>>`, a `Result` of either with `HttpError`, or write a generator body with `yield`"
)]
pub trait SseResponse<M> {
    /// The route table's kind: an event stream, or for [`JsonOrStream`]
    /// JSON or a stream.
    const KIND: RouteKind = RouteKind::Sse;

    /// The names of the events it sends, when its type tells them (a stream
    /// of an [`SseEvent`] type).
    const EVENTS: &'static [&'static str] = &[];

    /// Describes the events' data for the OpenAPI document.
    #[doc(hidden)]
    const DESCRIBE: Describer = Describer::NONE;

    /// The response.
    fn into_sse(self) -> Response;
}

/// Marks a stream of typed events.
#[derive(Debug)]
pub struct AsTyped;

/// A stream of [`SseEvent`] values, such as `TicketEvent`s: each is sent as its
/// named event; one whose data fails to serialize ends the stream with an
/// `error` event.
impl<S, T> SseResponse<AsTyped> for S
where
    S: Stream<Item = T> + Send + 'static,
    T: SseEvent + 'static,
{
    const EVENTS: &'static [&'static str] = T::NAMES;
    const DESCRIBE: Describer = Describer(T::describe_events);

    fn into_sse(self) -> Response {
        Sse::new(futures_util::StreamExt::map(self, |event| event.to_event())).into_response()
    }
}

/// Marks a fallible stream of typed events.
#[derive(Debug)]
pub struct AsTypedResults<E>(E);

/// A stream of `Result<T, E>` with `T` an [`SseEvent`]: an `Err` ends the stream
/// with one `error` event.
impl<S, T, E> SseResponse<AsTypedResults<E>> for S
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: SseEvent + 'static,
    E: Into<BoxError> + 'static,
{
    const EVENTS: &'static [&'static str] = T::NAMES;
    const DESCRIBE: Describer = Describer(T::describe_events);

    fn into_sse(self) -> Response {
        let events = futures_util::StreamExt::map(self, |item| {
            item.map_err(Into::into)
                .and_then(|event| event.to_event().map_err(BoxError::from))
        });
        Sse::new(events).into_response()
    }
}

impl SseResponse<AsSse> for Sse {
    fn into_sse(self) -> Response {
        self.into_response()
    }
}

impl<S, E> SseResponse<AsStream<E>> for S
where
    S: Stream<Item = Result<Event, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn into_sse(self) -> Response {
        Sse::new(self).into_response()
    }
}

/// Marks a response the handler built itself.
#[derive(Debug)]
pub struct AsResponse;

/// A [`Response`] the handler built itself, for a protocol that chooses its
/// status, headers and body kind per request (MCP's one endpoint answers
/// `202` with no body, JSON-RPC as JSON, or an event stream): the route table
/// lists it as `json+sse`. Build its stream with [`Sse`], so that the route's
/// options (`retry`, `keep_alive`) and limits still apply.
///
/// ```
/// use justsse::prelude::*;
///
/// struct Rpc;
///
/// #[controller("/rpc")]
/// impl Rpc {
///     /// `202` for a notification, else the events of the call.
///     #[post("/", stream)]
///     async fn call(&self, Json(call): Json<serde_json::Value>) -> Response {
///         if call.get("id").is_none() {
///             return StatusCode::ACCEPTED.into_response();
///         }
///         Sse::new(stream! { yield Event::new().data("done"); }).into_response()
///     }
/// }
/// ```
impl SseResponse<AsResponse> for Response {
    const KIND: RouteKind = RouteKind::Progressive;

    fn into_sse(self) -> Response {
        self
    }
}

/// Marks a stream of plain events, such as a hub [`Subscription`](crate::hub::Subscription).
#[derive(Debug)]
pub struct AsEvents;

/// A stream of events that cannot fail, such as a hub subscription: return it
/// from an `#[sse]` handler as it is.
impl<S> SseResponse<AsEvents> for S
where
    S: Stream<Item = Event> + Send + 'static,
{
    fn into_sse(self) -> Response {
        Sse::new(futures_util::StreamExt::map(
            self,
            Ok::<_, std::convert::Infallible>,
        ))
        .into_response()
    }
}

/// Marks an optional stream: `None` answers 204.
#[derive(Debug)]
pub struct AsOption<M>(M);

/// `None` answers `204 No Content`, which tells a browser's `EventSource` to stop
/// reconnecting: the way to end a stream for good.
impl<T: SseResponse<M>, M> SseResponse<AsOption<M>> for Option<T> {
    const KIND: RouteKind = T::KIND;
    const EVENTS: &'static [&'static str] = T::EVENTS;
    const DESCRIBE: Describer = T::DESCRIBE;

    fn into_sse(self) -> Response {
        match self {
            Some(value) => value.into_sse(),
            None => justsse_http::http::StatusCode::NO_CONTENT.into_response(),
        }
    }
}

/// Marks a stream with response headers.
#[derive(Debug)]
pub struct AsWithHeaders<M>(M);

/// Response headers (`Set-Cookie`, CORS, your own) before the stream: return
/// `(HeaderMap, stream)` from an `#[sse]` handler. They replace headers of the
/// same name the stream sets itself.
impl<T: SseResponse<M>, M> SseResponse<AsWithHeaders<M>> for (HeaderMap, T) {
    const KIND: RouteKind = T::KIND;
    const EVENTS: &'static [&'static str] = T::EVENTS;
    const DESCRIBE: Describer = T::DESCRIBE;

    fn into_sse(self) -> Response {
        let mut response = self.1.into_sse();
        response.headers_mut().extend(self.0);
        response
    }
}

impl<T: SseResponse<M>, M> SseResponse<AsResult<M>> for Result<T, HttpError> {
    const KIND: RouteKind = T::KIND;
    const EVENTS: &'static [&'static str] = T::EVENTS;
    const DESCRIBE: Describer = T::DESCRIBE;

    fn into_sse(self) -> Response {
        match self {
            Ok(value) => value.into_sse(),
            Err(err) => err.into_response(),
        }
    }
}

/// What a stream route answers when the request chooses between a JSON
/// answer and an event stream, as OpenAI's `"stream": true` does: the route
/// table lists it as `json+sse`, and the OpenAPI document shows both the JSON
/// schema of `T` and the route's events.
///
/// ```
/// use justsse::prelude::*;
/// use justsse::response::JsonOrStream;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Ask { text: String, stream: bool }
///
/// struct Echo;
///
/// #[controller("/echo")]
/// impl Echo {
///     /// The text back, at once or word by word.
///     #[post("/", stream)]
///     async fn echo(&self, Json(ask): Json<Ask>) -> JsonOrStream<String> {
///         if !ask.stream {
///             return JsonOrStream::json(ask.text);
///         }
///         JsonOrStream::stream(stream! {
///             for word in ask.text.split(' ').map(str::to_owned).collect::<Vec<_>>() {
///                 yield Event::named("word").data(word);
///             }
///         })
///     }
/// }
/// ```
#[derive(Debug)]
pub struct JsonOrStream<T>(Answer<T>);

#[derive(Debug)]
enum Answer<T> {
    Json(T),
    Stream(Response),
}

impl<T> JsonOrStream<T> {
    /// Answers `value` as JSON (`200`).
    pub fn json(value: T) -> Self {
        Self(Answer::Json(value))
    }

    /// Answers with the event stream `events` (what an `#[sse]` handler may
    /// return: a `stream!`, an `impl Stream` of events, [`Sse`]...).
    pub fn stream<S: SseResponse<M>, M>(events: S) -> Self {
        Self(Answer::Stream(events.into_sse()))
    }
}

/// Any route may answer it, a `GET` too (its table kind is then that of a
/// response whose body the type does not tell).
impl<T: serde::Serialize> IntoResponse for JsonOrStream<T> {
    fn into_response(self) -> Response {
        self.into_sse()
    }
}

/// Marks a choice of JSON or a stream.
#[derive(Debug)]
pub struct AsJsonOrStream;

impl<T: serde::Serialize> SseResponse<AsJsonOrStream> for JsonOrStream<T> {
    const KIND: RouteKind = RouteKind::Progressive;

    fn into_sse(self) -> Response {
        match self.0 {
            Answer::Json(value) => justsse_http::Json(value).into_response(),
            Answer::Stream(response) => response,
        }
    }
}

/// A stream of events written as a generator: `yield` an [`Event`], or a value
/// of a `#[derive(SseEvent)]` type (sent as its named event), to send it; one
/// stream may yield both. `?` ends the stream with one `error` event (its
/// message shown when the error is an [`HttpError`] with a 4xx status,
/// otherwise a generic one), as does a typed event whose data does not
/// serialize; `return;` ends it, and `for await item in stream { .. }` reads
/// another stream.
///
/// Inside a `#[controller]`, an `#[sse]` handler whose body ends in `stream! { .. }`
/// is a generator handler: the stream owns the controller and the arguments, and
/// lives until the client leaves. (`yield` must sit inside `stream!`: stable Rust
/// refuses it anywhere else.)
///
/// ```
/// use justsse::{Event, stream};
///
/// let countdown = stream! {
///     for n in (1..=3).rev() {
///         yield Event::named("count").id(n).json(&n)?;
///     }
/// };
///
/// #[derive(justsse::SseEvent)]
/// enum Launch {
///     Countdown { left: u32 },
///     Liftoff,
/// }
///
/// let launch = stream! {
///     yield Event::new().comment("typed events and events, in one stream");
///     yield Launch::Countdown { left: 1 };
///     yield Launch::Liftoff;
/// };
/// ```
#[macro_export]
macro_rules! stream {
    ($($body:tt)*) => {
        $crate::__private::stream_body!($crate, $($body)*)
    };
}
