//! justsse: declarative controllers with Server-Sent Events as a first-class
//! route kind, served by a small, fast hyper runtime.
//!
//! This crate is what applications depend on. Today it re-exports the runtime
//! ([`justsse_http`]) and offers an event-stream [`client`] parser; the controller
//! macros build on both.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use justsse::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), justsse::Error> {
//!     let router = Router::new()
//!         .route("/hello", get(|_| async { Json("hello") }))
//!         .route("/ticks", sse(|_| async {
//!             let ticks = futures_util::stream::iter(
//!                 (1..=3).map(|n| Ok::<_, Infallible>(Event::named("tick").id(n).data("tick"))),
//!             );
//!             Sse::new(ticks)
//!         }));
//!     justsse::serve("127.0.0.1:3000", router, justsse::ctrl_c()).await
//! }
//! ```

pub mod client;

pub use justsse_http::*;

/// The names most applications use.
pub mod prelude {
    pub use justsse_http::{
        Event, HttpError, IntoResponse, Json, KeepAlive, Request, Response, Router, Server,
        ServerConfig, Sse, delete, get, patch, post, put, sse,
    };
}

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
