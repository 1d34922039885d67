//! A client that leaves: the handler's stream is dropped promptly, even while it
//! waits idle for its next event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use justsse::prelude::*;
use justsse::runtime::{Router, sse};
use justsse::{KeepAlive, Request, ServerConfig};
use justsse_tests::{TestServer, events, request, send_h2};
use tokio::sync::Notify;

/// Notifies when dropped, i.e. when the stream that holds it is dropped.
struct DropGuard(Arc<Notify>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

/// A route whose stream sends one event and then waits forever, holding a guard.
fn idle_route(dropped: Arc<Notify>) -> Router {
    Router::new().route(
        "/idle",
        sse(move |_: Request| {
            let guard = DropGuard(dropped.clone());
            async move {
                let events = async_stream::stream! {
                    let _guard = guard;
                    yield Ok::<_, std::convert::Infallible>(Event::named("ready").data(""));
                    std::future::pending::<()>().await;
                };
                Sse::new(events)
            }
        }),
    )
}

async fn assert_dropped_within(dropped: &Notify, closed_at: Instant, limit: Duration) {
    tokio::time::timeout(limit, dropped.notified())
        .await
        .expect("the idle stream was not dropped after the client left");
    assert!(closed_at.elapsed() < limit);
}

#[tokio::test]
async fn http1_client_closing_its_socket_drops_the_idle_stream() {
    let dropped = Arc::new(Notify::new());
    // Keep-alive off: the server must notice the close without writing anything.
    let config = ServerConfig::default().keep_alive(KeepAlive::off());
    let server = TestServer::with_config(idle_route(dropped.clone()), config).await;
    let (_, mut reader) = events(server.addr, "/idle").await;
    assert_eq!(reader.next().await.expect("ready").event_type, "ready");
    drop(reader);
    let closed_at = Instant::now();
    assert_dropped_within(&dropped, closed_at, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn h2_client_going_away_drops_the_idle_stream() {
    let dropped = Arc::new(Notify::new());
    let config = ServerConfig::default().keep_alive(KeepAlive::off());
    let server = TestServer::with_config(idle_route(dropped.clone()), config).await;
    let req = request("GET", &server.url("/idle"))
        .header("accept", "text/event-stream")
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    let mut reader = justsse_tests::LiveEvents::new(send_h2(server.addr, req).await);
    assert_eq!(reader.next().await.expect("ready").event_type, "ready");
    drop(reader);
    let closed_at = Instant::now();
    assert_dropped_within(&dropped, closed_at, Duration::from_secs(2)).await;
}

/// A progressive route whose background task waits for its client to leave.
struct Watch {
    gone: Arc<Notify>,
}

#[controller("/")]
impl Watch {
    #[get("/watch", sse)]
    async fn watch(&self, updates: Option<Channel<u32>>) -> Json<u32> {
        if let Some(updates) = updates {
            let gone = self.gone.clone();
            tokio::spawn(async move {
                updates.closed().await;
                gone.notify_one();
            });
        }
        Json(0)
    }
}

/// Regression: a progressive stream's task learnt that its client had left
/// only at its next send (5 s later in the tickets example), so clients that
/// opened and dropped streams at once piled up tasks.
#[tokio::test]
async fn a_channel_s_task_learns_its_client_left_at_once() {
    let gone = Arc::new(Notify::new());
    let app = App::new().controller(Watch { gone: gone.clone() });
    let config = ServerConfig::default().keep_alive(KeepAlive::off());
    let server = TestServer::with_config(app.into_router().expect("builds"), config).await;
    let (_, mut reader) = events(server.addr, "/watch").await;
    assert_eq!(reader.next().await.expect("first").data, "0");
    drop(reader);
    let closed_at = Instant::now();
    assert_dropped_within(&gone, closed_at, Duration::from_secs(1)).await;

    let req = request("GET", &server.url("/watch"))
        .header("accept", "text/event-stream")
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    let mut reader = justsse_tests::LiveEvents::new(send_h2(server.addr, req).await);
    assert_eq!(reader.next().await.expect("first").data, "0");
    drop(reader);
    let closed_at = Instant::now();
    assert_dropped_within(&gone, closed_at, Duration::from_secs(1)).await;
}
