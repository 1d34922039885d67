//! Helpers the integration tests share: a server on port 0 that stops with its
//! handle, a small HTTP client over real sockets, and an event-stream reader.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use justsse::ServerConfig;
use justsse::client::{EventReader, MessageEvent};
use justsse::runtime::{Router, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use justsse::http;

pub mod decode;
pub mod nginx;
pub mod postgres;
pub mod raw_h2;
pub mod redis;
pub mod sdk;
pub mod tls;

pub use postgres::PostgresServer;
pub use redis::{RedisCluster, RedisServer};

/// How long any single wait in a test may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A server on 127.0.0.1 with a port of its own, stopped by [`TestServer::stop`]
/// or when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), justsse::runtime::ServerError>>>,
}

impl TestServer {
    /// Starts `router` with the default configuration.
    pub async fn start(router: Router) -> Self {
        Self::with_config(router, ServerConfig::default()).await
    }

    /// Starts `router` with `config`.
    pub async fn with_config(router: Router, config: ServerConfig) -> Self {
        let server = Server::bind("127.0.0.1:0")
            .await
            .expect("bind port 0")
            .config(config);
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0, "the bound port is reported");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(router, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Signals shutdown and returns the server future's handle.
    pub fn signal_stop(&mut self) -> JoinHandle<Result<(), justsse::runtime::ServerError>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().expect("server task present")
    }

    /// Signals shutdown and waits for the server to return.
    pub async fn stop(mut self) {
        returns_within(self.signal_stop(), DEADLINE).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Waits for a stopping server's task: it must return `Ok` within `limit`.
pub async fn returns_within(
    task: JoinHandle<Result<(), justsse::runtime::ServerError>>,
    limit: Duration,
) {
    tokio::time::timeout(limit, task)
        .await
        .unwrap_or_else(|_| panic!("the server did not return within {limit:?}"))
        .expect("server task does not panic")
        .expect("server returns Ok");
}

/// A request with an optional body, sent over HTTP/1.1.
pub fn request(method: &str, path: &str) -> http::request::Builder {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "test")
}

/// Sends `req` (with any body: [`Full`], a stream of frames) over a new
/// HTTP/1.1 connection to `addr`.
pub async fn send<B>(addr: SocketAddr, req: http::Request<B>) -> http::Response<Incoming>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    tokio::time::timeout(DEADLINE, sender.send_request(req))
        .await
        .expect("response in time")
        .expect("response")
}

/// Sends `req` over a new h2c (prior knowledge) connection to `addr`.
pub async fn send_h2(
    addr: SocketAddr,
    req: http::Request<Full<Bytes>>,
) -> http::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);
    tokio::time::timeout(DEADLINE, sender.send_request(req))
        .await
        .expect("response in time")
        .expect("response")
}

/// GET `path` with no body.
pub async fn get(addr: SocketAddr, path: &str) -> http::Response<Incoming> {
    send(
        addr,
        request("GET", path)
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await
}

/// The whole body as text.
pub async fn text(response: http::Response<Incoming>) -> String {
    let body = tokio::time::timeout(DEADLINE, response.into_body().collect())
        .await
        .expect("body in time")
        .expect("body");
    String::from_utf8(body.to_bytes().to_vec()).expect("utf-8 body")
}

/// The whole body as JSON.
pub async fn json(response: http::Response<Incoming>) -> serde_json::Value {
    let text = text(response).await;
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text:?}"))
}

/// An event stream read by a test: justsse's [`EventReader`] over the body
/// decoded as its `Content-Encoding` says, with each read bounded by
/// [`DEADLINE`], and every (decoded) byte kept.
pub struct LiveEvents {
    reader: EventReader<decode::Decoded>,
    /// Whether the stream came compressed.
    pub compressed: bool,
    /// Every byte received so far, decoded.
    pub raw: Vec<u8>,
}

impl LiveEvents {
    /// Reads the body of `response`.
    pub fn new(response: http::Response<Incoming>) -> Self {
        let body = decode::Decoded::new(response);
        Self {
            compressed: body.is_compressed(),
            reader: EventReader::new(body),
            raw: Vec::new(),
        }
    }

    /// The next event, `None` when the stream ended; fails the test after `DEADLINE`.
    pub async fn next(&mut self) -> Option<MessageEvent> {
        tokio::time::timeout(DEADLINE, self.next_untimed())
            .await
            .expect("an event or the end of the stream in time")
    }

    /// The next event, without a deadline.
    pub async fn next_untimed(&mut self) -> Option<MessageEvent> {
        loop {
            if let Some(event) = self.reader.pop() {
                return Some(event);
            }
            self.chunk().await?;
        }
    }

    /// The next raw chunk of bytes, `None` at the end of the stream.
    pub async fn chunk(&mut self) -> Option<Bytes> {
        let chunk = self.reader.chunk().await?.ok()?;
        self.raw.extend_from_slice(&chunk);
        Some(chunk)
    }

    /// Reads until the stream ends and returns the events it still sent.
    pub async fn rest(&mut self) -> Vec<MessageEvent> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }

    /// The id of the last event received.
    pub fn last_event_id(&self) -> &str {
        self.reader.last_event_id()
    }

    /// The reconnection time the stream set with `retry:`, if it did.
    pub fn retry(&self) -> Option<Duration> {
        self.reader.retry()
    }
}

/// Opens an event stream at `path` (with `Accept: text/event-stream`).
pub async fn events(addr: SocketAddr, path: &str) -> (http::Response<()>, LiveEvents) {
    let req = request("GET", path)
        .header("accept", "text/event-stream")
        .body(Full::<Bytes>::default())
        .expect("request");
    let response = send(addr, req).await;
    let (parts, body) = response.into_parts();
    let head = http::Response::from_parts(parts.clone(), ());
    (
        head,
        LiveEvents::new(http::Response::from_parts(parts, body)),
    )
}

/// Writes `bytes` on a raw connection and reads until the server closes it.
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    read_until_closed(&mut stream).await
}

/// Everything the server sends on `stream` until it closes it; fails the test
/// if that takes longer than [`DEADLINE`].
pub async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut out))
        .await
        .expect("server closes in time")
        .expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

/// Asks `GET path` on new connections until one is answered 200, for a server
/// that was refusing clients; fails the test after [`DEADLINE`].
pub async fn serves_again(addr: SocketAddr, path: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let head = format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
    loop {
        let answer = raw_exchange(addr, head.as_bytes()).await;
        if answer.starts_with("HTTP/1.1 200") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never served again: {answer}"
        );
        // A pause between attempts, not a wait for the answer: each attempt
        // is a full request, and the loop ends on its condition or the deadline.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `holds` is true, yielding between checks (a test's own
/// runtime, server included, keeps running), or panics naming `what` at the
/// deadline.
pub async fn until(what: &str, mut holds: impl FnMut() -> bool) {
    tokio::time::timeout(DEADLINE, async {
        while !holds() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within the deadline"));
}

/// Waits until something listens on 127.0.0.1:`port` (another process
/// starting), failing the test after [`DEADLINE`].
pub async fn listening(port: u16, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not listen on {port}"
        );
        // A pause between connection attempts to another process.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
