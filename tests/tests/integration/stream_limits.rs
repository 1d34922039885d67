//! Limits on event streams: in total (503), per client IP (429), both with
//! `Retry-After` and giving places back when streams end; and a maximum
//! lifetime after which a stream sends a `retry` hint and closes.

use std::time::Duration;

use justsse::prelude::*;
use justsse::route;
use justsse::test::{TestClient, TestResponse};
use justsse_tests::DEADLINE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// A stream that stays open, sending nothing but keep-alives.
async fn idle() -> impl EventStream {
    stream! {
        std::future::pending::<()>().await;
        yield Event::new().data("never");
    }
}

async fn ok() -> Json<&'static str> {
    Json("ok")
}

fn app(config: ServerConfig) -> App {
    App::new()
        .route("/idle", route::sse(idle))
        .route("/ok", route::get(ok))
        .config(config)
}

async fn open(client: &TestClient) -> TestResponse {
    client.sse("/idle").send().await
}

/// Opens streams until one is admitted, within the deadline: a place given
/// back is seen by the next request.
async fn admitted(client: &TestClient) -> TestResponse {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let response = open(client).await;
            if response.status() == 200 {
                return response;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("a place within the deadline")
}

#[tokio::test]
async fn past_the_total_a_stream_is_answered_503_with_retry_after() {
    let client = TestClient::serve(app(ServerConfig::default().max_streams(2)))
        .await
        .expect("serves");
    let first = open(&client).await;
    let second = open(&client).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let refused = open(&client).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(
        client.get("/ok").send().await.status(),
        200,
        "only streams count"
    );

    drop(first);
    let third = admitted(&client).await;
    assert_eq!(third.status(), 200);
    assert_eq!(open(&client).await.status(), 503, "full again");
    drop(second);
}

/// Opens `/idle` from `ip`, over a socket bound there; the status code.
async fn status_from(addr: std::net::SocketAddr, ip: [u8; 4]) -> (u16, tokio::net::TcpStream) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from((ip, 0)))
        .expect("bind the client address");
    let mut stream = socket.connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /idle HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n")
        .await
        .expect("write");
    let mut head = vec![0; 12];
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut head))
        .await
        .expect("an answer in time")
        .expect("read");
    let status = std::str::from_utf8(&head[9..12])
        .expect("ASCII")
        .parse()
        .expect("a status");
    (status, stream)
}

#[tokio::test]
async fn past_its_share_a_client_is_answered_429_and_others_are_not() {
    let client = TestClient::serve(app(ServerConfig::default().max_streams_per_ip(2)))
        .await
        .expect("serves");
    let addr = client.addr().expect("a socket");
    let (first, _a) = status_from(addr, [127, 0, 0, 1]).await;
    let (second, _b) = status_from(addr, [127, 0, 0, 1]).await;
    assert_eq!((first, second), (200, 200));
    let refused = open(&client).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.header("retry-after"), Some("5"));
    let (other, _c) = status_from(addr, [127, 0, 0, 2]).await;
    assert_eq!(other, 200, "another client has its own share");
}

#[tokio::test(start_paused = true)]
async fn at_the_end_of_its_lifetime_a_stream_says_retry_and_closes() {
    let lifetime = Duration::from_secs(600);
    let client = TestClient::new(app(ServerConfig::default().max_stream_lifetime(lifetime)))
        .expect("builds");
    let started = tokio::time::Instant::now();
    let mut events = open(&client).await.events();
    assert!(events.next().await.is_none(), "it ends, with no event");
    let lived = started.elapsed();
    assert!(
        lived <= lifetime && lived >= lifetime - lifetime / 10,
        "lived {lived:?} of {lifetime:?}"
    );
    assert_eq!(events.retry(), Some(Duration::from_millis(1000)));
}

/// The address the per-client limit counts, as middleware and handlers see it.
async fn whoami(head: &RequestHead) -> Result<String, HttpError> {
    Ok(head
        .peer_addr()
        .map(|peer| peer.ip().to_string())
        .unwrap_or_default())
}

async fn echo(ip: String) -> String {
    ip
}

#[tokio::test]
async fn the_client_address_is_the_connection_s_peer() {
    let app = App::new().route("/whoami", route::get(echo).uses(whoami));
    let client = TestClient::serve(app).await.expect("serves");
    assert_eq!(client.get("/whoami").send().await.text().await, "127.0.0.1");
    // Through tower layers too.
    let layered = App::new()
        .route("/whoami", route::get(echo).uses(whoami))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let client = TestClient::serve(layered).await.expect("serves");
    assert_eq!(client.get("/whoami").send().await.text().await, "127.0.0.1");
}

/// How many times `counted` ran.
static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A stream whose handler counts its starts, as a subscription or a task would.
async fn counted() -> impl EventStream {
    STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    idle().await
}

/// Regression: the limits were checked after the handler had run, so each
/// refused request had already subscribed or spawned its work (71k refused
/// requests started 71k tasks).
#[tokio::test]
async fn a_refused_stream_never_runs_its_handler() {
    let app = App::new()
        .route("/counted", route::sse(counted))
        .config(ServerConfig::default().max_streams(1));
    let client = TestClient::serve(app).await.expect("serves");
    let open = client.sse("/counted").send().await;
    assert_eq!(open.status(), 200);
    for _ in 0..20 {
        let refused = client.sse("/counted").send().await;
        assert_eq!(refused.status(), 503);
    }
    assert_eq!(
        STARTED.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the admitted stream's handler ran"
    );
    drop(open);
}
