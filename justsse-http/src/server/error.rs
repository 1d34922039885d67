//! The server's own errors: it could not start (an address, a route, a TLS
//! key, a configured event) or lost its listener. Errors of one request are
//! [`HttpError`](crate::HttpError)s, answered and logged, never these.

use std::io;

/// An error of the server itself: it could not start or lost its listener.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address could not be bound.
    #[error("failed to bind {addr}: {source}")]
    Bind {
        /// What was asked for.
        addr: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// The address did not resolve to any socket address.
    #[error("address {0:?} resolves to no socket address")]
    NoAddress(String),
    /// The listener's local address could not be read.
    #[error("failed to read the listener's address: {0}")]
    LocalAddr(#[source] io::Error),
    /// An event given to the configuration is invalid.
    #[error("invalid event: {0}")]
    Event(#[source] crate::sse::EventError),
    /// A route could not be added to the router.
    #[error(transparent)]
    Route(#[from] crate::routing::RouteError),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
}
