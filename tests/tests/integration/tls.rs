//! HTTPS: HTTP/2 and HTTP/1.1 chosen by ALPN over rustls, many streams on one
//! HTTP/2 connection, every connection deadline over TLS, flow control per
//! stream, keep-alive pings that find a dead peer, and graceful shutdown.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use justsse::hub::Hub;
use justsse::prelude::*;
use justsse::{Disconnected, route};
use justsse_tests::tls::TestCert;
use justsse_tests::{DEADLINE, LiveEvents, TestServer, http, request, returns_within};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// The topic every `/events` stream follows.
const TOPIC: &str = "t";

async fn json_ok() -> Json<&'static str> {
    Json("ok")
}

async fn echo(body: Json<serde_json::Value>) -> Json<serde_json::Value> {
    body
}

async fn events(hub: State<Hub>, last: LastEventId) -> impl EventStream {
    let mut live = hub.subscribe(&TOPIC.to_owned(), last.as_deref()).await;
    stream! {
        while let Some(event) = live.next().await {
            yield event;
        }
    }
}

/// Tells the test when a held stream's client is gone.
struct Gone(Arc<Notify>);

async fn held(gone: State<Gone>, disconnected: Disconnected) -> impl EventStream {
    let notify = gone.0.clone();
    tokio::spawn(async move {
        disconnected.await;
        notify.notify_one();
    });
    stream! {
        yield Event::named("held").data("open");
        std::future::pending::<()>().await;
    }
}

struct Served {
    server: TestServer,
    hub: Hub,
    gone: Arc<Notify>,
    cert: TestCert,
}

async fn serve(config: ServerConfig) -> Served {
    let cert = TestCert::new();
    let (hub, gone) = (Hub::new(), Arc::new(Notify::new()));
    let app = App::new()
        .state(hub.clone())
        .state(Gone(gone.clone()))
        .route("/json", route::get(json_ok))
        .route("/echo", route::post(echo))
        .route("/events", route::sse(events))
        .route("/held", route::sse(held));
    let router = app.into_router().expect("builds");
    let server = TestServer::with_config(router, config.tls(cert.server())).await;
    Served {
        server,
        hub,
        gone,
        cert,
    }
}

/// An HTTP/2 client over TLS, with windows like a browser's: a large one for
/// the connection, a smaller one per stream.
async fn h2_client<I>(io: I) -> http2::SendRequest<Full<Bytes>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http2::Builder::new(TokioExecutor::new())
        .initial_connection_window_size(8 << 20)
        .initial_stream_window_size(64 * 1024)
        .handshake(TokioIo::new(io))
        .await
        .expect("h2 handshake");
    tokio::spawn(conn);
    sender
}

fn get(path: &str) -> http::Request<Full<Bytes>> {
    request("GET", path)
        .header("accept", "text/event-stream")
        .body(Full::default())
        .expect("request")
}

async fn send_h2(
    sender: &mut http2::SendRequest<Full<Bytes>>,
    req: http::Request<Full<Bytes>>,
) -> http::Response<Incoming> {
    let mut req = req;
    *req.uri_mut() = format!("https://localhost{}", req.uri())
        .parse()
        .expect("uri");
    req.headers_mut().remove("host");
    tokio::time::timeout(DEADLINE, sender.send_request(req))
        .await
        .expect("response in time")
        .expect("response")
}

/// Publishes `count` events of about `size` bytes each.
async fn publish(hub: &Hub, from: usize, count: usize, size: usize) {
    for n in from..from + count {
        let data = format!("{n:>size$}");
        hub.publish(&TOPIC.to_owned(), Event::named("n").data(data))
            .await
            .expect("publish");
    }
}

/// Waits until `reader` has received event number `last`; returns how many
/// events it saw.
async fn read_through(reader: &mut LiveEvents, last: usize) -> usize {
    let mut seen = 0;
    loop {
        let event = reader.next().await.expect("an event");
        seen += 1;
        if event.data.trim() == last.to_string() {
            return seen;
        }
    }
}

#[tokio::test]
async fn http2_over_tls_carries_twenty_streams_on_one_connection() {
    let served = serve(ServerConfig::default()).await;
    let tls = served
        .cert
        .connect(served.server.addr, &[b"h2", b"http/1.1"])
        .await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut sender = h2_client(tls).await;

    let response = send_h2(
        &mut sender,
        request("GET", "/json")
            .body(Full::default())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(justsse_tests::text(response).await, "\"ok\"");

    let mut readers = Vec::new();
    for _ in 0..20 {
        let response = send_h2(&mut sender, get("/events")).await;
        assert_eq!(response.status(), 200);
        readers.push(LiveEvents::new(response));
    }
    publish(&served.hub, 1, 3, 10).await;
    for reader in &mut readers {
        for n in 1..=3 {
            assert_eq!(
                reader.next().await.expect("event").data.trim(),
                n.to_string()
            );
        }
    }
}

#[tokio::test]
async fn http1_over_tls_when_the_client_offers_only_http1() {
    let served = serve(ServerConfig::default()).await;
    let tls = served
        .cert
        .connect(served.server.addr, &[b"http/1.1"])
        .await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, conn) = http1::handshake(TokioIo::new(tls))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let response = sender.send_request(get("/events")).await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_11);
    let mut reader = LiveEvents::new(response);
    publish(&served.hub, 1, 1, 10).await;
    assert_eq!(reader.next().await.expect("event").data.trim(), "1");
}

/// Reads until the server closes; how long it took.
async fn closed_after<I: AsyncRead + Unpin>(mut io: I) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(DEADLINE, async {
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await
    .expect("the server closed the connection in time");
    start.elapsed()
}

#[tokio::test]
async fn a_handshake_that_does_not_finish_is_closed_at_the_header_timeout() {
    let timeout = Duration::from_millis(300);
    let served = serve(ServerConfig::default().header_read_timeout(timeout)).await;

    let silent = TcpStream::connect(served.server.addr)
        .await
        .expect("connect");
    assert!(closed_after(silent).await >= timeout - Duration::from_millis(50));

    // The first bytes of a TLS record (a handshake record of 512 bytes), then nothing.
    let mut half = TcpStream::connect(served.server.addr)
        .await
        .expect("connect");
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");
    assert!(closed_after(half).await >= timeout - Duration::from_millis(50));
}

#[tokio::test]
async fn after_the_handshake_the_first_request_has_the_header_timeout() {
    let timeout = Duration::from_millis(300);
    let served = serve(ServerConfig::default().header_read_timeout(timeout)).await;
    let tls = served
        .cert
        .connect(served.server.addr, &[b"h2", b"http/1.1"])
        .await;
    assert!(closed_after(tls).await >= timeout - Duration::from_millis(50));
}

#[tokio::test]
async fn a_stalled_body_over_tls_is_answered_408() {
    let served = serve(ServerConfig::default().body_read_timeout(Duration::from_millis(300))).await;
    let mut tls = served
        .cert
        .connect(served.server.addr, &[b"http/1.1"])
        .await;
    tls.write_all(
        b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":",
    )
    .await
    .expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(DEADLINE, tls.read_to_end(&mut answer))
        .await
        .expect("answered and closed in time")
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn an_idle_http2_connection_over_tls_is_closed() {
    let served = serve(ServerConfig::default().idle_timeout(Duration::from_millis(300))).await;
    let tls = served.cert.connect(served.server.addr, &[b"h2"]).await;
    let (sender, conn) =
        http2::handshake::<_, _, Full<Bytes>>(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2 handshake");
    tokio::time::timeout(DEADLINE, conn)
        .await
        .expect("the server ended the idle connection in time")
        .expect("a clean end (GOAWAY)");
    drop(sender);
}

#[tokio::test]
async fn a_stream_whose_reader_stopped_does_not_stall_its_siblings() {
    let served = serve(ServerConfig::default()).await;
    let tls = served.cert.connect(served.server.addr, &[b"h2"]).await;
    let mut sender = h2_client(tls).await;
    // Never read: its window (64 KiB) fills, and the server must hold its
    // events back without holding back the other stream's.
    let stalled = send_h2(&mut sender, get("/events")).await;
    let mut reader = LiveEvents::new(send_h2(&mut sender, get("/events")).await);

    // 2 MiB in batches of 100 events of 1 KiB, each batch read by the live
    // stream before the next is published.
    let mut received = 0;
    for batch in 0..20 {
        let from = batch * 100 + 1;
        publish(&served.hub, from, 100, 1024).await;
        received += read_through(&mut reader, from + 99).await;
    }
    assert_eq!(received, 2000, "the live stream got every event, in order");

    // The stalled stream was held back, not buffered without end: read now,
    // it has fallen behind and is told to resync.
    let mut stalled = LiveEvents::new(stalled);
    loop {
        let event = stalled.next().await.expect("an event");
        assert_ne!(
            event.data.trim(),
            "2000",
            "2 MiB waited for a reader that stopped"
        );
        if event.event_type == "resync" {
            break;
        }
    }
}

/// A connection that can be frozen: then it neither reads nor writes, like a
/// peer whose network vanished.
struct Freezable {
    inner: TcpStream,
    frozen: Arc<AtomicBool>,
}

impl AsyncRead for Freezable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Freezable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn keep_alive_pings_find_a_peer_that_vanished() {
    let ping = Duration::from_millis(200);
    let served = serve(ServerConfig::default().http2_keep_alive(Some((ping, ping)))).await;
    let frozen = Arc::new(AtomicBool::new(false));
    let tcp = TcpStream::connect(served.server.addr)
        .await
        .expect("connect");
    let io = Freezable {
        inner: tcp,
        frozen: frozen.clone(),
    };
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls = served
        .cert
        .client(&[b"h2"])
        .connect(name, io)
        .await
        .expect("handshake");
    let mut sender = h2_client(tls).await;
    let mut reader = LiveEvents::new(send_h2(&mut sender, get("/held")).await);
    assert_eq!(reader.next().await.expect("event").data, "open");

    // The stream is in flight, so the connection is never idle: only a ping
    // that goes unanswered can tell the peer is gone.
    frozen.store(true, Ordering::SeqCst);
    tokio::time::timeout(DEADLINE, served.gone.notified())
        .await
        .expect("the server closed the connection of a peer that stopped answering pings");
}

#[tokio::test]
async fn shutdown_ends_every_http2_stream_within_the_grace() {
    let grace = Duration::from_secs(2);
    let mut served = serve(ServerConfig::default().shutdown_grace(grace)).await;
    let tls = served.cert.connect(served.server.addr, &[b"h2"]).await;
    let mut sender = h2_client(tls).await;
    let mut readers = Vec::new();
    for _ in 0..5 {
        readers.push(LiveEvents::new(send_h2(&mut sender, get("/held")).await));
    }
    for reader in &mut readers {
        assert_eq!(reader.next().await.expect("event").data, "open");
    }
    let started = Instant::now();
    let task = served.server.signal_stop();
    for reader in &mut readers {
        assert!(reader.next().await.is_none(), "the stream ended");
    }
    returns_within(task, grace + Duration::from_secs(1)).await;
    assert!(started.elapsed() < grace + Duration::from_secs(1));
}

#[tokio::test]
async fn bad_certificate_files_are_startup_errors_naming_them() {
    let dir = std::env::temp_dir().join(format!("justsse-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cert = TestCert::new();
    let (cert_path, key_path, junk) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("junk.pem"),
    );
    std::fs::write(&cert_path, &cert.cert_pem).expect("write");
    std::fs::write(&key_path, &cert.key_pem).expect("write");
    std::fs::write(&junk, "not pem").expect("write");

    assert!(justsse::tls::TlsConfig::from_pem_files(&cert_path, &key_path).is_ok());
    let error = |result: Result<justsse::tls::TlsConfig, justsse::runtime::ServerError>| {
        result.expect_err("refused").to_string()
    };
    let missing = error(justsse::tls::TlsConfig::from_pem_files(
        dir.join("none.pem"),
        &key_path,
    ));
    assert!(missing.contains("none.pem"), "{missing}");
    let no_cert = error(justsse::tls::TlsConfig::from_pem_files(&junk, &key_path));
    assert!(
        no_cert.contains("junk.pem") && no_cert.contains("certificate"),
        "{no_cert}"
    );
    let no_key = error(justsse::tls::TlsConfig::from_pem_files(&cert_path, &junk));
    assert!(
        no_key.contains("junk.pem") && no_key.contains("key"),
        "{no_key}"
    );
    let other = TestCert::new();
    std::fs::write(&junk, &other.key_pem).expect("write");
    let mismatch = error(justsse::tls::TlsConfig::from_pem_files(&cert_path, &junk));
    assert!(
        mismatch.contains("cert.pem") && mismatch.contains("junk.pem"),
        "{mismatch}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_response_over_h2_reaches_the_client_whole() {
    let served = serve(ServerConfig::default()).await;
    let tls = served.cert.connect(served.server.addr, &[b"h2"]).await;
    let mut sender = h2_client(tls).await;
    let body = serde_json::json!({"text": "x".repeat(200_000)});
    let req = request("POST", "/echo")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let response = send_h2(&mut sender, req).await;
    assert_eq!(response.status(), 200);
    let bytes = tokio::time::timeout(DEADLINE, response.into_body().collect())
        .await
        .expect("in time")
        .expect("body")
        .to_bytes();
    let echoed: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(echoed, body);
}
