//! Graceful shutdown never hangs on open streams: streams end (after a last
//! event), in-flight requests finish, and what is left is closed after the grace.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use http_body_util::Full;
use justsse::runtime::{Router, get, sse};
use justsse::{Event, Json, Request, ServerConfig, Sse};
use justsse_tests::{DEADLINE, TestServer, events, json, request, returns_within, send};

async fn endless(_: Request) -> Sse {
    let events = async_stream::stream! {
        yield Ok::<_, std::convert::Infallible>(Event::named("hello").data("hi"));
        std::future::pending::<()>().await;
    };
    Sse::new(events)
}

/// Counts handlers of `/slow` and `/stuck` that have started, so a test stops
/// the server while one surely runs.
#[derive(Clone)]
struct Started(Arc<Semaphore>);

impl Default for Started {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(0)))
    }
}

impl Started {
    fn one(&self) {
        self.0.add_permits(1);
    }

    async fn wait(&self) {
        tokio::time::timeout(DEADLINE, self.0.acquire())
            .await
            .expect("the handler started in time")
            .expect("semaphore open")
            .forget();
    }
}

fn router_telling(started: &Started) -> Router {
    let (slow, stuck) = (started.clone(), started.clone());
    Router::new()
        .route("/events", sse(endless))
        .route(
            "/slow",
            get(move |_: Request| {
                slow.one();
                async {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    Json("finished")
                }
            }),
        )
        .route(
            "/stuck",
            get(move |_: Request| {
                stuck.one();
                async {
                    std::future::pending::<()>().await;
                    Json("never")
                }
            }),
        )
}

fn router() -> Router {
    router_telling(&Started::default())
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
        assert_eq!(reader.retry(), Some(Duration::from_secs(5)));
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
    let started = Started::default();
    let mut server =
        TestServer::with_config(router_telling(&started), ServerConfig::default()).await;
    let addr = server.addr;
    let in_flight =
        tokio::spawn(async move { json(justsse_tests::get(addr, "/slow").await).await });
    started.wait().await;
    let task = server.signal_stop();
    assert_eq!(
        in_flight.await.expect("no panic"),
        serde_json::json!("finished")
    );
    returns_within(task, DEADLINE).await;
}

/// A request still running when the grace period ends is answered, never
/// closed bare (issue 10): 503 with `Retry-After`, then the connection closes.
#[tokio::test]
async fn stuck_requests_get_503_after_the_grace() {
    let grace = Duration::from_millis(500);
    let started = Started::default();
    let config = ServerConfig::default().shutdown_grace(grace);
    let mut server = TestServer::with_config(router_telling(&started), config).await;
    let addr = server.addr;
    let stuck = tokio::spawn(async move { justsse_tests::get(addr, "/stuck").await });
    started.wait().await;
    let signalled = Instant::now();
    let task = server.signal_stop();
    returns_within(task, grace + Duration::from_secs(2)).await;
    assert!(
        signalled.elapsed() >= grace,
        "the grace period was waited for"
    );
    let response = tokio::time::timeout(DEADLINE, stuck)
        .await
        .expect("client released")
        .expect("an answer, not a bare close");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        json(response).await,
        serde_json::json!({"error": "service_unavailable", "message": "the server is shutting down"})
    );
}

#[tokio::test]
async fn no_new_connections_after_shutdown() {
    let server = TestServer::start(router()).await;
    let addr = server.addr;
    assert_eq!(
        send(
            addr,
            request("GET", "/slow")
                .body(Full::<bytes::Bytes>::default())
                .expect("req")
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
