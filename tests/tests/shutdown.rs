//! Graceful shutdown never hangs on open streams: streams end (after a last
//! event), in-flight requests finish, and what is left is closed after the grace.

use std::time::{Duration, Instant};

use http_body_util::Full;
use justsse::{Event, Json, Request, Router, ServerConfig, Sse, get, sse};
use justsse_tests::{DEADLINE, TestServer, events, json, request, returns_within, send};

async fn endless(_: Request) -> Sse {
    let events = async_stream::stream! {
        yield Ok::<_, std::convert::Infallible>(Event::named("hello").data("hi"));
        std::future::pending::<()>().await;
    };
    Sse::new(events)
}

async fn slow(_: Request) -> Json<&'static str> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    Json("finished")
}

async fn stuck(_: Request) -> Json<&'static str> {
    std::future::pending::<()>().await;
    Json("never")
}

fn router() -> Router {
    Router::new()
        .route("/events", sse(endless))
        .route("/slow", get(slow))
        .route("/stuck", get(stuck))
}

#[tokio::test]
async fn fifty_open_streams_end_and_the_server_returns_within_the_grace() {
    let grace = Duration::from_secs(2);
    let config = ServerConfig::default()
        .shutdown_grace(grace)
        .shutdown_event(
            Event::named("bye")
                .retry(Duration::from_secs(5))
                .data("restarting"),
        )
        .expect("valid event");
    let mut server = TestServer::with_config(router(), config).await;
    let mut readers = Vec::new();
    for _ in 0..50 {
        let (_, mut reader) = events(server.addr, "/events").await;
        assert_eq!(reader.next().await.expect("hello").event_type, "hello");
        readers.push(reader);
    }

    let signalled = Instant::now();
    let task = server.signal_stop();
    for reader in &mut readers {
        let last = reader.next().await.expect("the shutdown event");
        assert_eq!(
            (last.event_type.as_str(), last.data.as_str()),
            ("bye", "restarting")
        );
        assert_eq!(
            reader.parser().reconnection_time(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(reader.next().await, None, "the stream ended");
    }
    returns_within(task, grace + Duration::from_secs(1)).await;
    // Streams end at once; nothing waited for the grace period.
    assert!(
        signalled.elapsed() < grace,
        "took {:?}",
        signalled.elapsed()
    );
}

#[tokio::test]
async fn in_flight_json_requests_finish() {
    let mut server = TestServer::with_config(router(), ServerConfig::default()).await;
    let addr = server.addr;
    let in_flight =
        tokio::spawn(async move { json(justsse_tests::get(addr, "/slow").await).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let task = server.signal_stop();
    assert_eq!(
        in_flight.await.expect("no panic"),
        serde_json::json!("finished")
    );
    returns_within(task, DEADLINE).await;
}

#[tokio::test]
async fn stuck_requests_are_closed_after_the_grace() {
    let grace = Duration::from_millis(500);
    let mut server =
        TestServer::with_config(router(), ServerConfig::default().shutdown_grace(grace)).await;
    let addr = server.addr;
    let stuck = tokio::spawn(async move {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        let req = request("GET", "/stuck")
            .body(Full::<bytes::Bytes>::default())
            .expect("request");
        sender.send_request(req).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let signalled = Instant::now();
    let task = server.signal_stop();
    returns_within(task, grace + Duration::from_secs(1)).await;
    assert!(
        signalled.elapsed() >= grace,
        "the grace period was waited for"
    );
    let outcome = tokio::time::timeout(DEADLINE, stuck)
        .await
        .expect("client released")
        .expect("no panic");
    assert!(
        outcome.is_err(),
        "the stuck request was closed, not answered: {outcome:?}"
    );
}

#[tokio::test]
async fn no_new_connections_after_shutdown() {
    let server = TestServer::start(router()).await;
    let addr = server.addr;
    assert_eq!(
        send(
            addr,
            request("GET", "/slow").body(Full::default()).expect("req")
        )
        .await
        .status(),
        200
    );
    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}
