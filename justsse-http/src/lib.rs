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
    // Layers, bottom to top; a file imports only from its own layer or lower
    // ones (tests/layering.rs checks it):
    // 1. errors, paths, limits and observation;
    mod error;
    mod observe;
    mod shutdown;
    mod stream_limits;
    // 2. messages: bodies, requests, responses and the event-stream encoding;
    mod body;
    mod request;
    mod request_body;
    mod response;
    pub mod sse;
    // 3. routing: the router, handlers, wrapping middleware, tower layers;
    mod routing;
    // 4. the server: configuration, connections, serving one request.
    mod server;

    pub use body::Body;
    pub use error::{BodyError, BoxError, HttpError};
    pub use request::{Params, Request, RequestHead};
    pub use response::{BodyKind, Created, Html, IntoResponse, Json, Response};
    pub use routing::{
        AppLayer, AppService, BoxFuture, Handler, MethodRouter, Next, RouteError, Router,
        SharedHandler, Wrap, accepts_event_stream, delete, get, patch, post, put, sse,
    };
    pub use server::{Error, IntoListener, Server, ServerConfig, ctrl_c, serve};
    pub use sse::{Compression, Event, EventError, KeepAlive, Sse};

    pub use http;
}

#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub use server::InMemory;

/// rustls, whose configuration [`TlsConfig::from_rustls`] takes.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use rustls;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use server::TlsConfig;
