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
//! The runtime underneath ([`justsse_http`]) is re-exported: [`Router`], [`Sse`],
//! [`Event`], [`serve`] and the rest work by hand too.

mod app;
mod chain;
pub mod client;
mod context;
mod controller;
mod extract;
pub mod hub;
mod number;
mod param;
pub mod progressive;
mod state;
mod stream;

#[doc(hidden)]
pub mod __private;

pub use justsse_http::*;

pub use app::{App, Error};
pub use context::Context;
pub use controller::{Controller, Mount, RouteInfo, RouteKind, RouteResult, RouteTable};
pub use extract::{Disconnected, Extract, LastEventId, Query};
pub use hub::Hub;
/// The runtime's error: binding, invalid routes (also reachable as `Error::Server`).
pub use justsse_http::Error as ServerError;
pub use justsse_macros::{controller, delete, get, guard, patch, post, put, sse, uses, wrap};
pub use param::{Needs, PathParam, Resolve};
pub use progressive::Channel;
pub use state::{AppState, State};
pub use stream::EventStream;

/// The names most applications use.
pub mod prelude {
    pub use crate::{
        App, Channel, Disconnected, Event, EventStream, Html, HttpError, Hub, IntoResponse, Json,
        KeepAlive, LastEventId, Query, Request, RequestHead, Resolve, Response, Router, Server,
        ServerConfig, Sse, State, controller, delete, get, guard, patch, post, put, sse, stream,
        uses,
    };
    pub use justsse_http::http::StatusCode;
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
