//! The runtime behind justsse: a hyper 1.x server (HTTP/1.1 and h2c), a matchit
//! router with method dispatch, JSON plumbing, and an event-stream body that
//! follows the WHATWG server-sent events rules.
//!
//! It is usable by hand; the `justsse` crate's macros generate code against it.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use justsse_http::{Event, Json, Router, Sse, get, sse};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), justsse_http::Error> {
//!     let router = Router::new()
//!         .route("/hello", get(|_| async { Json("hello") }))
//!         .route("/ticks", sse(|_| async {
//!             let ticks = futures_util::stream::iter(
//!                 (1..=3).map(|n| Ok::<_, Infallible>(Event::named("tick").id(n).data("tick"))),
//!             );
//!             Sse::new(ticks)
//!         }));
//!     justsse_http::serve("127.0.0.1:3000", router, justsse_http::ctrl_c()).await
//! }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Items of the `runtime` feature (on by default). Without it the crate is
/// the route-path grammar alone, so that `justsse-macros` can check paths at
/// compile time without building a server.
macro_rules! runtime {
    ($($item:item)*) => {$(
        #[cfg(feature = "runtime")]
        $item
    )*};
}

mod path;

pub use path::{PathError, RoutePath};

runtime! {
    mod accept;
    mod body;
    mod config;
    mod connection;
    mod descriptors;
    mod error;
    mod handler;
    mod layer;
    mod protocol;
    mod request;
    mod request_body;
    mod response;
    mod router;
    mod server;
    mod observe;
    mod service;
    mod stream_limits;
    pub mod sse;
    mod wrap;
    mod write_deadline;

    pub use body::Body;
    pub use config::ServerConfig;
    pub use error::{BodyError, BoxError, Error, HttpError};
    pub use handler::{BoxFuture, Handler};
    pub use layer::{AppLayer, AppService};
    pub use request::{Params, Request, RequestHead};
    pub use response::{BodyKind, Created, Html, IntoResponse, Json, Response};
    pub use router::{
        MethodRouter, RouteError, Router, accepts_event_stream, delete, get, patch, post, put, sse,
    };
    pub use server::{IntoListener, Server, ctrl_c, serve};
    pub use sse::{Event, EventError, KeepAlive, Sse};
    pub use wrap::{Next, Wrap};

    pub use http;
}

#[cfg(feature = "test")]
mod in_memory;
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub use in_memory::InMemory;

#[cfg(feature = "tls")]
mod tls;
/// rustls, whose configuration [`TlsConfig::from_rustls`] takes.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use rustls;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::TlsConfig;
