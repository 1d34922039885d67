//! Server limits and defaults.

use std::time::Duration;

use bytes::BytesMut;

use crate::server::Error;
use crate::sse::{Compression, Event, KeepAlive, StreamDefaults, encode, retry_hint};
use crate::stream_limits::StreamLimits;

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
    pub(crate) body_read_timeout: Duration,
    pub(crate) body_memory: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_header_size: usize,
    /// `None`: derived from the file-descriptor limit when serving starts.
    pub(crate) max_connections: Option<usize>,
    pub(crate) shutdown_grace: Duration,
    pub(crate) streams: StreamDefaults,
    pub(crate) stream_limits: StreamLimits,
    pub(crate) http2_keep_alive: Option<(Duration, Duration)>,
    pub(crate) write_timeout: Duration,
    pub(crate) stream_buffer: usize,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::server::tls::TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            body_memory: 64 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_header_size: 64 * 1024,
            max_connections: None,
            shutdown_grace: Duration::from_secs(10),
            streams: StreamDefaults::default(),
            stream_limits: StreamLimits::default(),
            http2_keep_alive: Some((Duration::from_secs(30), Duration::from_secs(20))),
            write_timeout: Duration::from_secs(30),
            stream_buffer: 32 * 1024,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerConfig {
    /// Largest request body read, in bytes (default 1 MiB); past it, 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long a whole request body may take to arrive once a handler reads it
    /// (default 30 s, enough for the default 1 MiB limit at 35 KB/s); past it the
    /// client gets `408 Request Timeout` and the connection is closed. Raise it
    /// with [`body_limit`](Self::body_limit) for large uploads.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// How many bytes of request bodies still arriving all connections may hold
    /// together (default 64 MiB, never less than the body limit). A body that
    /// would pass it is answered `503` with `Retry-After` and its connection
    /// closed, so slow uploads cannot fill the memory.
    pub fn body_memory(mut self, bytes: usize) -> Self {
        self.body_memory = bytes;
        self
    }

    /// How long a client may take to send a request head (default 30 s); past it
    /// the connection is closed. It also bounds a new connection's first bytes
    /// (before the protocol is known, whatever it is) and an HTTP/1.1
    /// connection waiting for its next request.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long an HTTP/2 connection may stay open with no request or stream in
    /// flight (default 60 s), its handshake included: then it is sent `GOAWAY`
    /// and closed. A connection carrying an event stream is never idle.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Largest request head, in bytes (default 64 KiB; at least 8 KiB); past it, 431.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes.max(8 * 1024);
        self
    }

    /// How often an HTTP/2 connection is sent a `PING`, and how long the peer
    /// has to answer before the connection is closed (default every 30 s,
    /// 20 s to answer): a peer gone without a word (a laptop closed, a network
    /// changed) is found even while its streams wait for events. `None` sends
    /// no pings.
    pub fn http2_keep_alive(mut self, every_and_timeout: Option<(Duration, Duration)>) -> Self {
        self.http2_keep_alive = every_and_timeout;
        self
    }

    /// How long a write to a client may wait with nothing accepted (default
    /// 30 s): then the connection is closed, every stream on it ended and
    /// what was queued for it freed. Only a peer that reads nothing at all is
    /// cut: any progress starts the wait over. It catches what keep-alive
    /// `PING`s cannot, a client that answers pings but never reads its data.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The most bytes of one HTTP/2 event stream queued in the server for a
    /// client that reads slower than events come (default 32 KiB; at least
    /// 1 KiB). Past it the stream's handler is not polled: a hub subscription
    /// falls behind and, once the topic's replay buffer has moved past it,
    /// gets a `resync` (the slow-consumer policy), while the events wait in
    /// the hub's shared buffer rather than in a copy per client. With the
    /// event batch being written (up to 16 KiB), a stream holds at most about
    /// 48 KiB: a connection of 200 streams about 10 MiB. HTTP/1.1 streams are
    /// bounded by [`max_header_size`](Self::max_header_size), hyper's buffer
    /// for both directions.
    pub fn stream_buffer(mut self, bytes: usize) -> Self {
        self.stream_buffer = bytes.clamp(1024, u32::MAX as usize);
        self
    }

    /// Serves HTTPS with `tls` (ALPN `h2` and `http/1.1`). The TLS handshake
    /// must finish within the [header read timeout](Self::header_read_timeout).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: crate::server::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Whether the server speaks TLS.
    pub(crate) fn serves_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Most connections served at once. Past it, new connections are answered
    /// `503 Service Unavailable` with `Retry-After` and closed.
    ///
    /// The default is 50,000, lowered to stay under the process's file-descriptor
    /// limit (`ulimit -n`, read when serving starts and logged) with a reserve
    /// for the answers to refused clients and the application's own files and
    /// sockets: a server out of descriptors can tell nobody anything.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections.max(1));
        self
    }

    /// The most event streams open at once (default: no limit but the
    /// connection limit). One more is answered `503` with `Retry-After` before
    /// it starts; other routes are not counted.
    pub fn max_streams(mut self, streams: usize) -> Self {
        self.stream_limits.total = Some(streams.max(1));
        self
    }

    /// The most event streams one client may hold open at once (default: no
    /// limit). One more is answered `429` with `Retry-After`, before its
    /// handler runs. A client is an IPv4 address, or an IPv6 network of
    /// [`ipv6_prefix`](Self::ipv6_prefix) bits (a /64 by default).
    ///
    /// There is no default because the server cannot tell a client from a
    /// proxy: behind a load balancer every client has the balancer's address,
    /// and any default would cap the whole service. A server facing clients
    /// directly should set it (the tickets example sets 32: a browser needs one
    /// stream per tab); behind a proxy, set the limit on the proxy.
    pub fn max_streams_per_ip(mut self, streams: usize) -> Self {
        self.stream_limits.per_ip = Some(streams.max(1));
        self
    }

    /// How many leading bits of an IPv6 address name one client for
    /// [`max_streams_per_ip`](Self::max_streams_per_ip) (default 64: one host
    /// usually holds a whole /64 and may use any address in it; 128 counts
    /// each address, 48 each site).
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.stream_limits.ipv6_prefix = bits.min(128);
        self
    }

    /// The longest an event stream stays open (default: as long as the client
    /// stays). At the end (each stream's a little earlier, up to a tenth, so
    /// clients do not all come back at once) it sends a `retry: 1000` hint and
    /// closes; the browser reconnects, with its `Last-Event-ID`, possibly to
    /// another instance behind the load balancer, which is what rebalances them.
    ///
    /// ```
    /// use justsse_http::ServerConfig;
    /// use std::time::Duration;
    ///
    /// let config = ServerConfig::default()
    ///     .max_streams(10_000)
    ///     .max_streams_per_ip(20)
    ///     .max_stream_lifetime(Duration::from_secs(30 * 60));
    /// ```
    pub fn max_stream_lifetime(mut self, lifetime: Duration) -> Self {
        self.stream_limits.lifetime = Some(lifetime);
        self
    }

    /// How long shutdown waits for in-flight requests (default 10 s). A request
    /// still running then is answered `503` with `Retry-After`, and its
    /// connection closed.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Keep-alive of event streams that set none themselves (default every 15 s).
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.streams.keep_alive = keep_alive;
        self
    }

    /// How event streams are compressed when the client asks (on by default:
    /// see [`Compression`]); a stream's own setting
    /// ([`Sse::compression`](crate::Sse::compression)) wins.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.streams.compression = compression;
        self
    }

    /// A `retry:` hint sent first on every event stream that sets none itself:
    /// how long browsers wait before reconnecting (theirs is about 3 s).
    pub fn retry(mut self, after: Duration) -> Self {
        self.streams.retry = Some(retry_hint(after));
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
