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
//! Routes can be built without macros, with the same typed chain: see
//! [`route`]. The runtime underneath works by hand too: see [`runtime`].
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod chain;
pub mod client;
mod context;
mod controller;
mod describe;
mod extract;
pub mod hub;
pub mod middleware;
mod number;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
mod param;
mod path;
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

pub use app::{App, Error};
pub use context::Context;
pub use controller::{RouteInfo, RouteKind, RouteTable};
pub use extract::{Disconnected, Extract, LastEventId, Query, State};
pub use hub::Hub;
pub use justsse_http::http;
pub use justsse_http::{
    AppLayer, AppService, Body, BodyError, BodyKind, Created, Event, EventError, Html, HttpError,
    IntoResponse, Json, KeepAlive, Next, Request, RequestHead, Response, ServerConfig, Sse, Wrap,
};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use justsse_http::{TlsConfig, rustls};
pub use justsse_macros::{
    SseEvent, controller, delete, get, guard, patch, post, put, sse, uses, wrap,
};
pub use param::{Needs, PathParam, Resolve};
pub use path::{FromPath, Path};
pub use progressive::Channel;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub use schemars;
pub use sse_event::SseEvent;
pub use state::AppState;
pub use stream::{EventStream, JsonOrStream};

/// The runtime wired by hand, without controllers: a [`Router`](runtime::Router)
/// of handler functions, a [`Server`](runtime::Server) with its own
/// [`Error`](runtime::Error). Its handlers take the whole [`Request`]; for typed
/// arguments and middleware chains without macros, see [`route`].
///
/// ```no_run
/// use justsse::runtime::{Router, get};
/// use justsse::{Json, Request};
///
/// # async fn run() -> Result<(), justsse::runtime::Error> {
/// let router = Router::new().route("/", get(|_: Request| async { Json("hello") }));
/// justsse::runtime::serve("127.0.0.1:3000", router, justsse::runtime::ctrl_c()).await
/// # }
/// ```
pub mod runtime {
    pub use justsse_http::{
        BoxError, BoxFuture, Error, Handler, IntoListener, MethodRouter, Params, PathError,
        RouteError, RoutePath, Router, Server, accepts_event_stream, ctrl_c, delete, get, patch,
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

#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
struct GuideDoctests;

#[cfg(all(doctest, feature = "redis"))]
#[doc = include_str!("../../docs/scaling.md")]
struct ScalingDoctests;
