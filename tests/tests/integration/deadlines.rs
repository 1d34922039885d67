//! Every connection has a deadline for progress (issue 10): its first bytes, a
//! half-sent h2 preface, an HTTP/2 connection with nothing in flight, a request
//! body that arrives too slowly, and one memory budget for all bodies in flight.
//! Each test is able to fail: without its timer the connection stays open.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use justsse::runtime::{Router, get, post, sse};
use justsse::{Event, Json, KeepAlive, Request, ServerConfig, Sse};
use justsse_tests::{DEADLINE, TestServer, request, send};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Slack for a deadline to fire and the close to reach the client.
const SLACK: Duration = Duration::from_millis(900);

fn router() -> Router {
    Router::new()
        .route("/ok", get(|_: Request| async { Json("ok") }))
        .route(
            "/echo",
            post(|mut req: Request| async move {
                match req.bytes().await {
                    Ok(body) => Ok(Json(body.len())),
                    Err(err) => Err(justsse::HttpError::from(err)),
                }
            }),
        )
        .route(
            "/events",
            sse(|_: Request| async {
                let events = async_stream::stream! {
                    yield Ok::<_, Infallible>(Event::named("hello").data("hi"));
                    std::future::pending::<()>().await;
                };
                Sse::new(events).keep_alive(KeepAlive::every(Duration::from_millis(100)))
            }),
        )
}

/// Reads until the server closes `stream`; returns what it sent and when it
/// closed. Fails the test if it stays open past `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection was still open after {limit:?}; it sent {:?}",
        String::from_utf8_lossy(&out)
    );
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

async fn server_with(config: ServerConfig) -> TestServer {
    TestServer::with_config(router(), config).await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_within_the_header_read_timeout() {
    let timeout = Duration::from_millis(500);
    let server = server_with(ServerConfig::default().header_read_timeout(timeout)).await;
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let (sent, after) = closed_within(&mut silent, timeout + SLACK).await;
    assert_eq!(sent, "", "nothing to answer a client that said nothing");
    assert!(
        after >= timeout,
        "closed after {after:?}, before the timeout"
    );
    // The server still serves.
    assert_eq!(justsse_tests::get(server.addr, "/ok").await.status(), 200);
}

/// Sends `GET /ok` on `stream` and reads the whole answer (it is small).
async fn get_ok(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .expect("write");
    let mut out = Vec::new();
    while !out.ends_with(b"\"ok\"") {
        read_more(stream, &mut out, "before answering").await;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads what `stream` sends next into `out`; fails the test if nothing comes
/// within the deadline or the server closed it (`when` says when).
async fn read_more(stream: &mut TcpStream, out: &mut Vec<u8>, when: &str) {
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
        .await
        .expect("more in time")
        .expect("read");
    assert!(n > 0, "closed {when}: {:?}", String::from_utf8_lossy(out));
    out.extend_from_slice(&buf[..n]);
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_a_header_timeout_after_its_last_response() {
    let timeout = Duration::from_millis(500);
    let server = server_with(ServerConfig::default().header_read_timeout(timeout)).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // Requests closer together than the timeout keep it open.
    for _ in 0..4 {
        assert!(get_ok(&mut stream).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(timeout / 2).await;
    }
    assert!(get_ok(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Then half a head, and nothing more.
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nho")
        .await
        .expect("write");
    let (sent, after) = closed_within(&mut stream, timeout + SLACK).await;
    assert_eq!(sent, "", "nothing to answer half a head");
    assert!(
        after >= timeout - Duration::from_millis(50),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn an_event_stream_outlives_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let server = server_with(ServerConfig::default().header_read_timeout(timeout)).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET /events HTTP/1.1\r\nhost: t\r\naccept: text/event-stream\r\n\r\n")
        .await
        .expect("write");
    // Keep-alive comments every 100 ms for four header timeouts: still open.
    let until = Instant::now() + timeout * 4;
    let mut out = Vec::new();
    while Instant::now() < until {
        read_more(&mut stream, &mut out, "while streaming").await;
    }
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("event: hello"), "{out}");
}

#[tokio::test]
async fn half_an_h2_preface_is_closed_within_the_header_read_timeout() {
    let timeout = Duration::from_millis(500);
    let server = server_with(ServerConfig::default().header_read_timeout(timeout)).await;
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    stalled
        .write_all(b"PRI * HTTP/2.0\r\n")
        .await
        .expect("write");
    closed_within(&mut stalled, timeout + SLACK).await;
}

#[tokio::test]
async fn an_h2_preface_without_a_handshake_is_closed_within_the_idle_timeout() {
    let idle = Duration::from_millis(400);
    let server = server_with(ServerConfig::default().idle_timeout(idle)).await;
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    stalled
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("write");
    // The idle timeout, then as long again for the handshake to end.
    closed_within(&mut stalled, idle * 2 + SLACK).await;
}

#[tokio::test]
async fn an_idle_h2_connection_gets_goaway_and_is_closed_but_not_while_it_streams() {
    let idle = Duration::from_millis(400);
    let server = server_with(ServerConfig::default().idle_timeout(idle)).await;

    // A handshake and no request: closed by the server.
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (_sender, conn) = hyper::client::conn::http2::handshake::<_, _, Full<Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .expect("h2 handshake");
    let started = Instant::now();
    tokio::time::timeout(idle * 2 + SLACK, conn)
        .await
        .expect("the server closed the idle connection")
        .expect("closed with GOAWAY, not an error");
    assert!(started.elapsed() >= idle, "closed before the idle timeout");

    // A connection with an open event stream is not idle: ten keep-alives
    // (a second, more than twice the idle timeout) arrive on it.
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    let conn = tokio::spawn(conn);
    let req = request("GET", "/events")
        .header("accept", "text/event-stream")
        .body(Full::<Bytes>::default())
        .expect("request");
    let response = sender.send_request(req).await.expect("response");
    let mut reader = justsse_tests::LiveEvents::new(response);
    assert_eq!(reader.next().await.expect("hello").event_type, "hello");
    let mut keep_alives = 0;
    while keep_alives < 10 {
        let chunk = tokio::time::timeout(DEADLINE, reader.chunk())
            .await
            .expect("a chunk in time")
            .expect("the stream is still open");
        keep_alives += usize::from(chunk.starts_with(b":"));
    }
    assert!(!conn.is_finished(), "the streaming connection stays open");

    // Once the stream ends, the connection is idle again and closed.
    drop(reader);
    tokio::time::timeout(idle * 2 + SLACK, conn)
        .await
        .expect("closed once idle")
        .expect("no panic")
        .expect("closed with GOAWAY");
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_is_closed() {
    let timeout = Duration::from_millis(500);
    let server = server_with(ServerConfig::default().body_read_timeout(timeout)).await;
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    stalled
        .write_all(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n0123456789")
        .await
        .expect("write");
    let (answer, after) = closed_within(&mut stalled, timeout + SLACK).await;
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#""error":"request_timeout""#), "{answer}");
    assert!(after >= timeout, "answered after {after:?}");
}

#[tokio::test]
async fn a_body_trickling_in_is_cut_at_the_total_timeout() {
    let timeout = Duration::from_millis(600);
    let server = server_with(ServerConfig::default().body_read_timeout(timeout)).await;
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 1000\r\n\r\n")
        .await
        .expect("write");
    // One byte every 50 ms: a timer reset by each byte would never fire.
    let started = Instant::now();
    let mut answer = [0u8; 64];
    let n = loop {
        assert!(started.elapsed() < DEADLINE, "never answered");
        let _ = slow.write_all(b"x").await;
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(50), slow.read(&mut answer)).await
        {
            break read.expect("read");
        }
    };
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    assert!(
        started.elapsed() < timeout + SLACK,
        "answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bodies_in_flight_share_one_memory_budget() {
    let limit = 16 * 1024;
    let config = ServerConfig::default()
        .body_limit(limit)
        .body_memory(4 * limit)
        .body_read_timeout(Duration::from_millis(1500));
    let server = server_with(config).await;
    let head = format!("POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: {limit}\r\n\r\n");
    let almost = vec![b'x'; limit - 1024];

    // Six uploads that stall one KiB short of their end: 90 KiB in flight, so
    // the budget of 64 KiB holds at most four; the others are refused at once.
    let mut uploads = Vec::new();
    for _ in 0..6 {
        let mut upload = TcpStream::connect(server.addr).await.expect("connect");
        upload.write_all(head.as_bytes()).await.expect("write");
        upload.write_all(&almost).await.expect("write");
        uploads.push(upload);
    }
    let mut answers = Vec::new();
    for upload in &mut uploads {
        let (answer, _) = closed_within(upload, DEADLINE).await;
        answers.push(answer);
    }
    let refused = answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 503"))
        .count();
    let timed_out = answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 408"))
        .count();
    assert_eq!(refused + timed_out, 6, "{answers:#?}");
    assert!(refused >= 2, "{refused} refused: {answers:#?}");
    for answer in answers.iter().filter(|a| a.starts_with("HTTP/1.1 503")) {
        assert!(answer.contains("retry-after: 1\r\n"), "{answer}");
    }

    // Every stalled body is gone: the budget takes a whole body again.
    let full = request("POST", "/echo")
        .body(Full::new(Bytes::from(vec![b'y'; limit])))
        .expect("request");
    let response = send(server.addr, full).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        justsse_tests::json(response).await,
        serde_json::json!(limit)
    );
}
