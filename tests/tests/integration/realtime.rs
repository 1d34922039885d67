//! Real-time semantics over sockets: resumption with Last-Event-ID, resync, fan-out
//! to 1,000 subscribers, a stalled subscriber, progressive enhancement, retry
//! hints and the 204 that stops reconnection.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use justsse::hub::{MemoryConfig, RESYNC};
use justsse::prelude::*;
use justsse_tests::{LiveEvents, TestServer, events, json, request, send};
use serde::Serialize;

struct Live {
    hub: Hub<String>,
}

#[derive(Clone, Serialize)]
struct Status {
    build: u32,
    percent: u8,
}

#[controller("/")]
impl Live {
    /// Events of a topic, resumable.
    #[sse("/topics/:topic", retry = 1500)]
    async fn topic(&self, topic: String, last: LastEventId) -> impl EventStream {
        let mut updates = self.hub.subscribe(&topic, last.as_deref()).await;
        stream! {
            while let Some(event) = updates.next().await {
                yield event;
            }
        }
    }

    /// A build's status: JSON, or the status then its progress.
    #[get("/builds/:build", sse)]
    async fn build(
        &self,
        build: u32,
        updates: Option<Channel<Status>>,
    ) -> Result<Json<Status>, HttpError> {
        if build == 0 {
            return Err(HttpError::not_found("no build 0"));
        }
        if let Some(updates) = updates {
            tokio::spawn(async move {
                for percent in [50, 100] {
                    if updates.send(&Status { build, percent }).await.is_err() {
                        return;
                    }
                }
                // Dropping `updates` ends the stream.
            });
        }
        Ok(Json(Status { build, percent: 0 }))
    }

    /// Finished jobs answer 204 so browsers stop reconnecting.
    #[sse("/jobs/:job")]
    async fn job(&self, job: u32) -> Option<Sse> {
        (job != 0).then(|| {
            Sse::new(futures_util::stream::iter([Ok::<_, HttpError>(
                Event::new().data("running"),
            )]))
        })
    }
}

async fn server(replay: usize) -> (TestServer, Hub<String>) {
    let hub = Hub::memory(MemoryConfig {
        replay,
        ..MemoryConfig::default()
    });
    let app = App::new().controller(Live { hub: hub.clone() });
    let config = ServerConfig::default().retry(Duration::from_millis(4000));
    (
        TestServer::with_config(app.into_router().expect("builds"), config).await,
        hub,
    )
}

async fn publish(hub: &Hub<String>, topic: &str, data: String) {
    hub.publish(&topic.to_owned(), Event::named("news").data(data))
        .await
        .expect("publish");
}

fn with_last_id(path: &str, last: &str) -> justsse::http::Request<Full<Bytes>> {
    request("GET", path)
        .header("accept", "text/event-stream")
        .header("last-event-id", last)
        .body(Full::<bytes::Bytes>::default())
        .expect("request")
}

#[tokio::test]
async fn a_client_that_reconnects_with_last_event_id_gets_exactly_the_missed_events() {
    let (server, hub) = server(64).await;
    let (_, mut reader) = events(server.addr, "/topics/t1").await;
    for n in 0..3 {
        publish(&hub, "t1", n.to_string()).await;
    }
    for n in 0..3 {
        assert_eq!(reader.next().await.expect("event").data, n.to_string());
    }
    let last = reader.last_event_id().to_owned();
    assert!(!last.is_empty());
    drop(reader);

    for n in 3..7 {
        publish(&hub, "t1", n.to_string()).await;
    }
    let mut resumed = LiveEvents::new(send(server.addr, with_last_id("/topics/t1", &last)).await);
    for n in 3..7 {
        assert_eq!(
            resumed.next().await.expect("missed event").data,
            n.to_string()
        );
    }
    publish(&hub, "t1", "live".into()).await;
    assert_eq!(
        resumed.next().await.expect("live event").data,
        "live",
        "no gap and no duplicate at the seam"
    );
}

#[tokio::test]
async fn a_client_too_far_behind_gets_resync_then_live_events() {
    let (server, hub) = server(4).await;
    let (_, mut reader) = events(server.addr, "/topics/t2").await;
    publish(&hub, "t2", "first".into()).await;
    reader.next().await.expect("first");
    let last = reader.last_event_id().to_owned();
    drop(reader);
    for n in 0..10 {
        publish(&hub, "t2", n.to_string()).await;
    }
    let mut resumed = LiveEvents::new(send(server.addr, with_last_id("/topics/t2", &last)).await);
    let resync = resumed.next().await.expect("resync");
    assert_eq!(resync.event_type, RESYNC);
    assert_eq!(resync.data, r#"{"reason":"too_old"}"#);
    publish(&hub, "t2", "live".into()).await;
    assert_eq!(resumed.next().await.expect("live").data, "live");
}

/// Regression (issue 10): a resume id `<epoch>-+15` or `<epoch>-015` was read as
/// `<epoch>-15`. Only the spelling the hub wrote is its id; any other is an
/// unknown id, answered with a resync, never a replay from a guessed position.
#[tokio::test]
async fn a_resume_id_in_another_spelling_is_unknown() {
    let (server, hub) = server(64).await;
    let (_, mut reader) = events(server.addr, "/topics/t3").await;
    for n in 0..3 {
        publish(&hub, "t3", n.to_string()).await;
    }
    let first = reader.next().await.expect("event 0").last_event_id;
    let (epoch, seq) = first.rsplit_once('-').expect("<epoch>-<seq>");
    drop(reader);

    let mut canonical =
        LiveEvents::new(send(server.addr, with_last_id("/topics/t3", &first)).await);
    assert_eq!(canonical.next().await.expect("replayed").data, "1");

    for other in [
        format!("{epoch}-+{seq}"),
        format!("{epoch}-0{seq}"),
        format!("+{epoch}-{seq}"),
    ] {
        let mut resumed =
            LiveEvents::new(send(server.addr, with_last_id("/topics/t3", &other)).await);
        let resync = resumed.next().await.expect("resync");
        assert_eq!(resync.event_type, RESYNC, "{other}");
        assert_eq!(resync.data, r#"{"reason":"unknown_id"}"#, "{other}");
    }
}

#[tokio::test]
async fn a_thousand_subscribers_each_get_every_event_of_a_burst_in_order() {
    let (server, hub) = server(1024).await;
    let mut readers = Vec::new();
    for _ in 0..1000 {
        let (_, reader) = events(server.addr, "/topics/burst").await;
        readers.push(reader);
    }
    const BURST: usize = 200;
    for n in 0..BURST {
        publish(&hub, "burst", n.to_string()).await;
    }
    let started = Instant::now();
    let tasks: Vec<_> = readers
        .into_iter()
        .map(|mut reader| {
            tokio::spawn(async move {
                for n in 0..BURST {
                    let event = reader.next().await.expect("event");
                    assert_eq!(event.data, n.to_string(), "in order, none missing");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("every subscriber got the burst");
    }
    eprintln!(
        "1000 subscribers x {BURST} events delivered in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stalled_subscriber_does_not_delay_the_others() {
    let (server, hub) = server(64).await;
    // The stalled client opens the stream and then does not read it.
    let (_, mut stalled) = events(server.addr, "/topics/t3").await;
    let (_, mut healthy) = events(server.addr, "/topics/t3").await;

    // 16 MB of events: far more than the socket buffers of the stalled client hold.
    let payload = "x".repeat(16 * 1024);
    let started = Instant::now();
    let reading = tokio::spawn(async move {
        for n in 0..1024 {
            let event = healthy.next().await.expect("event");
            assert!(event.data.ends_with(&n.to_string()), "in order");
        }
    });
    for n in 0..1024 {
        publish(&hub, "t3", format!("{payload}{n}")).await;
        if n % 32 == 0 {
            // Let the healthy reader keep pace, as a real publisher spreads out.
            tokio::task::yield_now().await;
        }
    }
    let published_in = started.elapsed();
    tokio::time::timeout(Duration::from_secs(20), reading)
        .await
        .expect("the healthy subscriber was not held up")
        .expect("healthy reader");
    assert!(
        published_in < Duration::from_secs(5),
        "publishing took {published_in:?}"
    );

    // When the stalled client finally reads, it is told it missed events.
    let told = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let event = stalled
                .next_untimed()
                .await
                .expect("the stalled client was cut off instead of resynced");
            if event.event_type == RESYNC {
                assert_eq!(event.data, r#"{"reason":"lagged"}"#);
                break;
            }
        }
        // The resync stands for everything up to the latest event; what comes
        // after it is delivered live.
        publish(&hub, "t3", "later".into()).await;
        assert_eq!(
            stalled
                .next_untimed()
                .await
                .expect("live after resync")
                .data,
            "later"
        );
    });
    told.await.expect("the stalled client got a resync");
}

#[tokio::test]
async fn progressive_routes_answer_both_kinds_of_client() {
    let (server, _hub) = server(8).await;
    let plain = justsse_tests::get(server.addr, "/builds/7").await;
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert_eq!(
        json(plain).await,
        serde_json::json!({"build": 7, "percent": 0})
    );

    let (head, mut reader) = events(server.addr, "/builds/7").await;
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    let got: Vec<String> = reader.rest().await.into_iter().map(|e| e.data).collect();
    assert_eq!(
        got,
        [
            r#"{"build":7,"percent":0}"#,
            r#"{"build":7,"percent":50}"#,
            r#"{"build":7,"percent":100}"#,
        ],
        "the value first, then the channel, ending when it is dropped"
    );

    let (head, _) = events(server.addr, "/builds/0").await;
    assert_eq!(
        head.status(),
        404,
        "a rejection is a real status for SSE clients too"
    );
}

#[tokio::test]
async fn retry_hints_route_level_then_app_wide() {
    let (server, _hub) = server(8).await;
    let (_, mut reader) = events(server.addr, "/topics/hints").await;
    let first = reader.chunk().await.expect("first bytes");
    assert!(first.starts_with(b"retry: 1500\n\n"), "{first:?}");

    let (_, mut reader) = events(server.addr, "/builds/1").await;
    let first = reader.chunk().await.expect("first bytes");
    assert!(
        first.starts_with(b"retry: 4000\n\n"),
        "app-wide hint: {first:?}"
    );
}

#[tokio::test]
async fn none_answers_204_so_browsers_stop_reconnecting() {
    let (server, _hub) = server(8).await;
    let (head, _) = events(server.addr, "/jobs/0").await;
    assert_eq!(head.status(), 204);
    let (head, mut reader) = events(server.addr, "/jobs/1").await;
    assert_eq!(head.status(), 200);
    assert_eq!(reader.next().await.expect("event").data, "running");
}
