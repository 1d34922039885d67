//! Limits that keep one client from hurting the server: header read timeout
//! (slowloris), header size, connection count, and panics contained to one request.

use std::time::{Duration, Instant};

use justsse::runtime::{Router, get};
use justsse::{Json, Request, ServerConfig};
use justsse_tests::{DEADLINE, TestServer, json, raw_exchange, serves_again};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn router() -> Router {
    Router::new()
        .route("/ok", get(|_: Request| async { Json("ok") }))
        .route(
            "/panic",
            get(|_: Request| async {
                if true {
                    panic!("handler bug");
                }
                Json("unreachable")
            }),
        )
}

#[tokio::test]
async fn slowloris_is_closed_within_the_header_read_timeout() {
    let timeout = Duration::from_secs(1);
    let server = TestServer::with_config(
        router(),
        ServerConfig::default().header_read_timeout(timeout),
    )
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let started = Instant::now();
    let head =
        b"GET /ok HTTP/1.1\r\nhost: t\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut closed_after = None;
    // One byte every 200 ms: five times faster than the "one a second" attacker,
    // so a per-byte timer reset would keep the connection open for 15 s.
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                closed_after = Some(started.elapsed());
                break;
            }
            Ok(Ok(_)) => {
                // hyper may answer 408 before closing; keep reading until closed.
                continue;
            }
            Err(_still_open) => {}
        }
    }
    let closed_after = closed_after.expect("the connection was never closed");
    assert!(
        closed_after < timeout + Duration::from_millis(800),
        "closed after {closed_after:?}, timeout {timeout:?}"
    );
}

#[tokio::test]
async fn oversize_header_is_431() {
    let server =
        TestServer::with_config(router(), ServerConfig::default().max_header_size(16 * 1024)).await;
    let big = "a".repeat(32 * 1024);
    let head = format!("GET /ok HTTP/1.1\r\nhost: t\r\nx-big: {big}\r\n\r\n");
    let answer = raw_exchange(server.addr, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    // A head under the limit is served.
    let small = "a".repeat(4 * 1024);
    let head =
        format!("GET /ok HTTP/1.1\r\nhost: t\r\nconnection: close\r\nx-small: {small}\r\n\r\n");
    let answer = raw_exchange(server.addr, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
}

/// Regression: a head sent in one write was parsed whole when one read
/// brought all of it, so heads up to ~114 KB passed the 64 KiB limit.
#[tokio::test]
async fn a_head_over_the_limit_is_431_even_in_one_write() {
    let server = TestServer::start(router()).await;
    for size in [66 * 1024, 100 * 1024, 114 * 1024] {
        let big = "b".repeat(size);
        let head = format!("GET /ok HTTP/1.1\r\nhost: t\r\nx-big: {big}\r\n\r\n");
        let answer = raw_exchange(server.addr, head.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{size}: {answer:.200}");
    }
    let fits = "c".repeat(60 * 1024);
    let head = format!("GET /ok HTTP/1.1\r\nhost: t\r\nconnection: close\r\nx-c: {fits}\r\n\r\n");
    let answer = raw_exchange(server.addr, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
}

#[tokio::test]
async fn past_max_connections_new_clients_get_503_and_are_closed() {
    let server =
        TestServer::with_config(router(), ServerConfig::default().max_connections(2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        held.push(stream);
    }
    // Make sure both were accepted and are being served.
    for stream in &mut held {
        stream
            .write_all(b"GET /ok HTTP/1.1\r\nhost: t\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
            .await
            .expect("answer")
            .expect("read");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    }
    let refused = raw_exchange(server.addr, b"GET /ok HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert!(
        refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{refused}"
    );
    let body = refused.split("\r\n\r\n").nth(1).expect("a body");
    let body: serde_json::Value = serde_json::from_str(body).expect("JSON body");
    assert_eq!(body["error"], "service_unavailable");

    // A freed slot is usable again.
    drop(held.pop());
    serves_again(server.addr, "/ok").await;
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let server = TestServer::start(router()).await;
    for _ in 0..3 {
        let response = justsse_tests::get(server.addr, "/panic").await;
        assert_eq!(response.status(), 500);
        assert_eq!(
            json(response).await,
            serde_json::json!({"error": "internal_server_error", "message": "internal server error"})
        );
        let response = justsse_tests::get(server.addr, "/ok").await;
        assert_eq!(response.status(), 200);
    }
}
