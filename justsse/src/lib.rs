//! justsse: declarative controllers with Server-Sent Events as a first-class
//! route kind, served by a small, fast hyper runtime.
//!
//! ```no_run
//! use justsse::prelude::*;
//! use serde::Serialize;
//!
//! #[derive(Clone, Serialize)]
//! struct Tick { n: u32 }
//!
//! struct Clock;
//!
//! #[controller("/clock")]
//! impl Clock {
//!     /// The time, once.
//!     #[get("/")]
//!     async fn now(&self) -> Json<Tick> {
//!         Json(Tick { n: 0 })
//!     }
//!
//!     /// Three ticks, one a second.
//!     #[sse("/ticks")]
//!     async fn ticks(&self) -> impl EventStream {
//!         stream! {
//!             for n in 1..=3 {
//!                 tokio::time::sleep(std::time::Duration::from_secs(1)).await;
//!                 yield Event::named("tick").id(n).json(&Tick { n })?;
//!             }
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), justsse::Error> {
//!     App::new().controller(Clock).serve("127.0.0.1:3000").await
//! }
//! ```
//!
//! **Start with [the guide](guide)**: controllers, path parameters, middleware
//! and guards, events and streams (typed, resumable, started by a `POST`), the
//! hub, progressive enhancement, testing, HTTPS, deployment and OpenAPI, each
//! with code that compiles. The attributes' options are listed on each macro
//! ([`controller`], [`get`], [`sse`], [`uses`], [`guard`], [`wrap`], [`SseEvent`]).
//!
//! Routes can be built without macros, with the same typed chain: see
//! [`route`]. The runtime underneath works by hand too: see [`runtime`].
//!
//! Where things are: the names most applications use are at the root and in
//! the [`prelude`]; handler arguments in [`extract`]; what handlers answer in
//! [`response`]; the route table and hand-built routes in [`route`];
//! middleware in [`middleware`]; topics, resumption and scale-out in [`hub`];
//! clients in [`client`]; the test client in `test` and OpenAPI in `openapi`
//! (features of the same names).
//!
//! Examples in the repository (`cargo run -p <name>`): `tickets` (the
//! contract the guide builds: JSON routes, typed events, auth, a hub topic per
//! ticket, OpenAPI, Redis), `dashboard` (a browser page on one stream),
//! `assistant` (an OpenAI-compatible streaming API, judged by the official SDK)
//! and `mcp` (an MCP server over Streamable HTTP, judged by the official SDKs).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod chain;
pub mod client;
mod context;
mod controller;
mod describe;
mod extractors;
mod generated;
pub mod hub;
pub mod middleware;
mod number;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
mod param;
mod path;
mod plan;
mod probe;
pub mod progressive;
pub mod route;
mod sse_event;
mod state;
mod stream;
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod test;

#[doc(hidden)]
pub mod __private;

/// The justsse guide, the same as `docs/guide.md` in the repository; its code
/// compiles as doctests.
#[doc = include_str!("../guide.md")]
pub mod guide {}

// The names most applications use; the rest are in the modules named for
// what they hold (`extract`, `response`, `route`, `middleware`, `runtime`...).
pub use app::{App, Error};
pub use extractors::{Disconnected, LastEventId, Query, State};
pub use hub::Hub;
pub use justsse_http::http;
pub use justsse_http::{
    Created, Event, Html, HttpError, IntoResponse, Json, KeepAlive, Request, RequestHead, Response,
    ServerConfig, Sse,
};
#[doc = include_str!("attributes/sse_event.md")]
pub use justsse_macros::SseEvent;
#[doc = include_str!("attributes/controller.md")]
pub use justsse_macros::controller;
#[doc = include_str!("attributes/route.md")]
pub use justsse_macros::delete;
#[doc = include_str!("attributes/route.md")]
pub use justsse_macros::get;
#[doc = include_str!("attributes/guard.md")]
pub use justsse_macros::guard;
#[doc = include_str!("attributes/route.md")]
pub use justsse_macros::patch;
#[doc = include_str!("attributes/route.md")]
pub use justsse_macros::post;
#[doc = include_str!("attributes/route.md")]
pub use justsse_macros::put;
#[doc = include_str!("attributes/route.md")]
pub use justsse_macros::sse;
#[doc = include_str!("attributes/uses.md")]
pub use justsse_macros::uses;
#[doc = include_str!("attributes/wrap.md")]
pub use justsse_macros::wrap;
pub use param::Resolve;
pub use progressive::Channel;
pub use sse_event::SseEvent;
pub use stream::EventStream;

/// What a handler takes: values read from the request ([`Extract`](extract::Extract)
/// types), path parameters ([`PathParam`](extract::PathParam), [`Path`](extract::Path)),
/// the app's state, and the context they are read from. The common ones are at
/// the crate's root too.
pub mod extract {
    pub use crate::context::Context;
    pub use crate::extractors::{Disconnected, Extract, LastEventId, Query, State};
    pub use crate::param::{Needs, PathParam, Resolve};
    pub use crate::path::{FromPath, Path};
    pub use crate::state::AppState;
    pub use justsse_http::BodyError;
}

/// What a handler answers with: bodies, their kinds, and the errors of events.
/// The common ones are at the crate's root too.
pub mod response {
    pub use crate::stream::JsonOrStream;
    pub use justsse_http::{
        Body, BodyKind, Compression, Created, Event, EventError, Html, IntoResponse, Json,
        KeepAlive, Response, Sse,
    };
}

/// HTTPS with rustls: a [`TlsConfig`](tls::TlsConfig) for
/// [`App::tls`](crate::App::tls).
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls {
    pub use justsse_http::{TlsConfig, rustls};
}

/// The runtime wired by hand, without controllers: a [`Router`](runtime::Router)
/// of handler functions, a [`Server`](runtime::Server) with its own
/// [`ServerError`](runtime::ServerError). Its handlers take the whole [`Request`]; for typed
/// arguments and middleware chains without macros, see [`route`].
///
/// ```no_run
/// use justsse::runtime::{Router, get};
/// use justsse::{Json, Request};
///
/// # async fn run() -> Result<(), justsse::runtime::ServerError> {
/// let router = Router::new().route("/", get(|_: Request| async { Json("hello") }));
/// justsse::runtime::serve("127.0.0.1:3000", router, justsse::runtime::ctrl_c()).await
/// # }
/// ```
pub mod runtime {
    pub use justsse_http::Error as ServerError;
    pub use justsse_http::{
        BoxError, BoxFuture, Handler, IntoListener, MethodRouter, Params, PathError, RouteError,
        RoutePath, Router, Server, SharedHandler, accepts_event_stream, ctrl_c, delete, get, patch,
        post, put, serve, sse,
    };
}

/// The names most applications use.
///
/// ```
/// use justsse::prelude::*;
///
/// // HTTP's own names come along: statuses and methods.
/// assert_eq!(StatusCode::CREATED.as_u16(), 201);
/// assert_eq!(Method::POST, justsse::http::Method::POST);
/// ```
pub mod prelude {
    pub use crate::{
        App, Channel, Created, Disconnected, Event, EventStream, Html, HttpError, Hub,
        IntoResponse, Json, KeepAlive, LastEventId, Query, Request, RequestHead, Resolve, Response,
        ServerConfig, Sse, SseEvent, State, controller, delete, get, guard, patch, post, put, sse,
        stream, uses, wrap,
    };
    pub use justsse_http::http::{Method, StatusCode};
}

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

#[cfg(all(doctest, feature = "redis", feature = "postgres"))]
#[doc = include_str!("../../docs/scaling.md")]
struct ScalingDoctests;
