//! What generated code names: `::justsse::__private::*` only. Not public API.

pub use std::boxed::Box;
pub use std::sync::Arc;

pub use justsse_http::{Event, HttpError, Response};

pub use crate::chain::{Arg, Guard, GuardOutcome, Pick};
pub use crate::context::Context;
pub use crate::controller::{Controller, Mount, RouteFuture, RouteInfo, RouteKind};
pub use crate::describe::{
    Describe, DescribeArg, DescribeNothing, DescribeOutput, DescribeParam, DescribeValue, Describer,
};
pub use crate::generated::{generated, next, yielded};
pub use crate::param::{PathParam, Plain};
pub use crate::plan::{
    AsyncGenerator, Events, Function, Generates, Generator, Method, Progressive, Resolve, Respond,
    Streams, guard0, guard1, guard2, guard3, guard4, parsed, plan, resolved,
};
pub use crate::progressive::ProgressiveResponse;
pub use crate::stream::SseResponse;
pub use justsse_http::MethodRouter;

/// What a route's `#[wrap]`s do to its methods, as `Plan::mount` takes it.
pub type WrapRoute = fn(MethodRouter) -> MethodRouter;

use futures_util::Stream;
pub use justsse_http::BoxError;
pub use justsse_http::IntoResponse;
use justsse_http::{Compression, KeepAlive, Sse};
pub use serde;

/// The first path parameter, for a guard closure that names it.
pub type ParamHere = crate::chain::Here;

/// A later path parameter, for a guard closure that names it.
pub type ParamThere<I> = crate::chain::There<I>;

/// The type of a value, without the value.
pub struct TypeOf<T>(std::marker::PhantomData<fn() -> T>);

impl<T> TypeOf<T> {
    /// The type `T`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

/// Two middleware outputs, compared by type: method lookup on `&Outputs<A, B>`
/// finds [`SameOutputs::verdict`] when `A` and `B` are one type (no
/// specialization needed), [`OtherOutputs::verdict`] otherwise.
pub struct Outputs<A, B>(std::marker::PhantomData<fn() -> (A, B)>);

impl<A, B> Outputs<A, B> {
    /// Compares the two.
    pub fn new(_: &TypeOf<A>, _: &TypeOf<B>) -> Self {
        Self(std::marker::PhantomData)
    }
}

/// Two middleware output one type.
pub struct Same;

/// Two middleware output different types.
pub struct Different;

/// Found when both outputs are one type.
pub trait SameOutputs {
    /// [`Same`].
    fn verdict(&self) -> Same;
}

impl<T> SameOutputs for Outputs<T, T> {
    fn verdict(&self) -> Same {
        Same
    }
}

/// Found otherwise.
pub trait OtherOutputs {
    /// [`Different`].
    fn verdict(&self) -> Different;
}

impl<A, B> OtherOutputs for &Outputs<A, B> {
    fn verdict(&self) -> Different {
        Different
    }
}

/// Holds when middleware `F1` and `F2` add different types to the chain.
#[diagnostic::on_unimplemented(
    message = "two middleware of this route add the same type to its chain: `{F1}` and `{F2}`",
    label = "returns the same type as an earlier middleware of this route",
    note = "a chain holds one value per type, found by type; wrap one of the values in a newtype"
)]
pub trait DistinctOutputs<F1, F2> {}

impl<F1, F2> DistinctOutputs<F1, F2> for Different {}

/// Requires the verdict of two middleware, named by the types `F1` and `F2`,
/// to be [`Different`].
pub fn distinct<F1, F2, V: DistinctOutputs<F1, F2>>(_: V) {}

/// The response of a request a step of the route refused (its `Err`).
pub fn refused(err: HttpError) -> Response {
    err.into_response()
}

/// `expr`'s `Ok` value, or the route's answer is its `Err` as a response:
/// `?` without the `Try` machinery, in a mounted route's future.
#[doc(hidden)]
#[macro_export]
macro_rules! __tri {
    ($expr:expr) => {
        match $expr {
            ::core::result::Result::Ok(value) => value,
            ::core::result::Result::Err(err) => return $crate::__private::refused(err),
        }
    };
}

/// A route's description for the OpenAPI document, kept (and type-checked)
/// only with the `openapi` feature, the one reader of it.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "openapi")]
macro_rules! __describer {
    ($describe:expr) => {
        $crate::__private::Describer($describe)
    };
}

/// Without the `openapi` feature nothing reads a route's description.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "openapi"))]
macro_rules! __describer {
    ($describe:expr) => {
        $crate::__private::Describer::NONE
    };
}

/// A JSON (plain) route's response.
pub fn respond<R: IntoResponse>(cx: Context, value: R) -> Response {
    cx.finish(value.into_response())
}

/// What a stream route's attribute sets on its stream: `retry = <ms>`,
/// `keep_alive = off` (0) or `= <ms>`, `compress = off` (0) or `= <level>`.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// The reconnection hint sent first.
    pub retry: Option<u64>,
    /// The keep-alive period, 0 for none; `None` keeps the server's.
    pub keep_alive: Option<u64>,
    /// `compress = off` (0) or `= <level>`; `None` keeps the server's.
    pub compress: Option<u32>,
}

/// A non-generator SSE route's response, with the route's options.
pub fn sse<R: SseResponse<M>, M>(cx: Context, value: R, options: StreamOptions) -> Response {
    with_options(cx.finish(value.into_sse()), options)
}

/// The route table's kind of a stream route answering `R`.
pub const fn stream_kind<R: SseResponse<M>, M>() -> RouteKind {
    R::KIND
}

/// A generator SSE route's response, with the route's options.
pub fn generator<S>(cx: Context, events: S, options: StreamOptions) -> Response
where
    S: Stream<Item = Result<Event, BoxError>> + Send + 'static,
{
    with_options(cx.finish(Sse::new(events).into_response()), options)
}

/// A progressive route's response: JSON, or the value then the channel's events.
pub fn progressive<R: ProgressiveResponse>(
    cx: Context,
    value: R,
    options: StreamOptions,
) -> Response {
    with_options(crate::progressive::respond(cx, value), options)
}

/// A route's stream options when it sets none: the server's.
pub fn server_options() -> StreamOptions {
    StreamOptions {
        retry: None,
        keep_alive: None,
        compress: None,
    }
}

/// The 403's message of a guard that answers `false` and names none.
pub fn forbidden() -> &'static str {
    "forbidden"
}

fn with_options(mut response: Response, options: StreamOptions) -> Response {
    let ms = std::time::Duration::from_millis;
    if let Some(retry) = options.retry {
        response.body_mut().retry_hint(ms(retry));
    }
    match options.keep_alive {
        Some(0) => response.body_mut().keep_alive_default(KeepAlive::off()),
        Some(every) => response
            .body_mut()
            .keep_alive_default(KeepAlive::every(ms(every))),
        None => {}
    }
    match options.compress {
        Some(0) => response.body_mut().compression(Compression::off()),
        Some(level) => response
            .body_mut()
            .compression(Compression::default().level(level)),
        None => {}
    }
    response
}

/// What a `yield` in `stream!` sends: the event, or a typed event's; a value
/// that cannot become one is an event refused when written, which ends the
/// stream with an `error` event. Infallible, so that a `yield` is one
/// `await` (no error path to type-check in every generator).
pub fn into_event<I: crate::sse_event::IntoEvent>(item: I) -> Event {
    item.into_event().unwrap_or_else(Event::refused)
}

pub use justsse_macros::__stream_body as stream_body;

/// Stands in for a generator's body when the controller did not expand, so the
/// signature still type-checks beside the real errors.
pub fn placeholder_stream() -> futures_util::stream::Pending<Result<Event, BoxError>> {
    futures_util::stream::pending()
}

pub use crate::probe::Probe;
