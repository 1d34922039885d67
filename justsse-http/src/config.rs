//! Server limits and defaults.

use std::time::Duration;

use bytes::BytesMut;

use crate::error::Error;
use crate::sse::{Event, KeepAlive, StreamDefaults, encode};

/// Limits and defaults of a [`Server`](crate::Server).
///
/// ```
/// use justsse_http::{Event, KeepAlive, ServerConfig};
/// use std::time::Duration;
///
/// let config = ServerConfig::default()
///     .body_limit(64 * 1024)
///     .header_read_timeout(Duration::from_secs(5))
///     .keep_alive(KeepAlive::every(Duration::from_secs(20)))
///     .shutdown_event(Event::named("bye").retry(Duration::from_secs(5)))
///     .expect("a valid event");
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(crate) body_limit: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_header_size: usize,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_grace: Duration,
    pub(crate) streams: StreamDefaults,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            max_header_size: 64 * 1024,
            max_connections: 50_000,
            shutdown_grace: Duration::from_secs(10),
            streams: StreamDefaults::default(),
        }
    }
}

impl ServerConfig {
    /// Largest request body read, in bytes (default 1 MiB); past it, 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long a client may take to send a request head (default 30 s); past it
    /// the connection is closed. Also bounds idle keep-alive connections.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Largest request head, in bytes (default 64 KiB; at least 8 KiB); past it, 431.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes.max(8 * 1024);
        self
    }

    /// Most connections served at once (default 50,000). Past it, new connections
    /// are answered `503 Service Unavailable` and closed.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long shutdown waits for in-flight requests before closing them (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Keep-alive of event streams that set none themselves (default every 15 s).
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.streams.keep_alive = keep_alive;
        self
    }

    /// A `retry:` hint sent first on every event stream that sets none itself:
    /// how long browsers wait before reconnecting (theirs is about 3 s).
    pub fn retry(mut self, after: Duration) -> Self {
        let mut buf = BytesMut::new();
        // A retry-only event is always valid.
        let _ = encode(&Event::new().retry(after), &mut buf);
        self.streams.retry = Some(buf.freeze());
        self
    }

    /// A last event every open stream receives when the server shuts down, for
    /// example a `retry` hint so clients come back later. Fails if the event is
    /// invalid.
    pub fn shutdown_event(mut self, event: Event) -> Result<Self, Error> {
        let mut buf = BytesMut::new();
        encode(&event, &mut buf).map_err(Error::Event)?;
        self.streams.shutdown_event = Some(buf.freeze());
        Ok(self)
    }
}
