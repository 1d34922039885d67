//! Generations detached from the request that started them: a `POST` starts
//! one in a hub topic of its own; it goes on when the client leaves, and a
//! `GET` with `Last-Event-ID` resumes it, getting the rest exactly once up to
//! `[DONE]`. `client::EventSource` starts it with a `POST` and resumes it by
//! `GET` by itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use bytes::Bytes;
use http_body_util::Full;
use justsse::client::{EventSource, SourceItem};
use justsse::hub::Subscription;
use justsse::prelude::*;
use justsse_tests::{DEADLINE, LiveEvents, TestServer, request, send};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
struct Start {
    /// The client's name for the generation (an idempotency key).
    id: String,
    words: u32,
}

fn is_done(event: &Event) -> bool {
    event.data_str() == Some("[DONE]")
}

struct Generator {
    hub: Hub<String>,
    /// Told when a generation has produced its last event.
    finished: Arc<Notify>,
}

#[controller("/gen")]
impl Generator {
    /// Starts a generation: a word every 30 ms, then `[DONE]`.
    #[post("/", stream)]
    async fn start(&self, Json(start): Json<Start>) -> Subscription {
        let (words, finished) = (start.words, self.finished.clone());
        let generation = stream! {
            for n in 0..words {
                tokio::time::sleep(Duration::from_millis(30)).await;
                yield Event::named("token").data(format!("w{n}"));
            }
            yield Event::done();
            finished.notify_one();
        };
        self.hub.detach(&start.id, generation).await.until(is_done)
    }

    /// Follows a generation from `Last-Event-ID`.
    #[sse("/:id")]
    async fn resume(&self, id: String, last: LastEventId) -> Subscription {
        self.hub
            .subscribe(&id, last.as_deref())
            .await
            .until(is_done)
    }
}

async fn server(config: ServerConfig) -> (TestServer, Arc<Notify>) {
    let finished = Arc::new(Notify::new());
    let app = App::new().controller(Generator {
        hub: Hub::new(),
        finished: finished.clone(),
    });
    let router = app.into_router().expect("builds");
    (TestServer::with_config(router, config).await, finished)
}

fn words(events: &[justsse::client::MessageEvent]) -> Vec<String> {
    events.iter().map(|event| event.data.clone()).collect()
}

#[tokio::test]
async fn a_generation_goes_on_without_its_client_and_resumes_exactly_once() {
    let (server, finished) = server(ServerConfig::default()).await;
    let start = request("POST", "/gen")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(
            br#"{"id": "g1", "words": 20}"#,
        )))
        .expect("request");
    let mut first = LiveEvents::new(send(server.addr, start).await);
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(first.next().await.expect("a word"));
    }
    let last_id = seen[2].last_event_id.clone();
    drop(first);
    // The client is gone; the generation goes on to its end all the same.
    tokio::time::timeout(DEADLINE, finished.notified())
        .await
        .expect("the generation finished without its client");
    let resume = request("GET", "/gen/g1")
        .header("accept", "text/event-stream")
        .header("last-event-id", last_id)
        .body(Full::<Bytes>::default())
        .expect("request");
    let mut rest = LiveEvents::new(send(server.addr, resume).await);
    seen.extend(rest.rest().await);
    let mut expected: Vec<String> = (0..20).map(|n| format!("w{n}")).collect();
    expected.push("[DONE]".to_owned());
    assert_eq!(words(&seen), expected, "every word once, in order");
}

#[tokio::test]
async fn event_source_posts_then_resumes_by_get_when_its_stream_is_cut() {
    // Every stream is cut after about 200 ms (the lifetime's `retry: 1000`
    // then holds the client a second): the client must resume by GET with
    // its Last-Event-ID; sending the POST again would start the words over.
    let config = ServerConfig::default()
        .max_stream_lifetime(Duration::from_millis(200))
        .retry(Duration::from_millis(50));
    let (server, _) = server(config).await;
    let mut source = EventSource::builder(server.url("/gen"))
        .post_json(&serde_json::json!({"id": "g2", "words": 20}))
        .resume_at("/gen/g2")
        .build()
        .expect("a source");
    let mut seen = Vec::new();
    let mut opened = 0;
    tokio::time::timeout(DEADLINE, async {
        while let Some(item) = source.next().await {
            match item.expect("no error") {
                SourceItem::Open => opened += 1,
                SourceItem::Message(event) => {
                    let done = event.data == "[DONE]";
                    seen.push(event);
                    if done {
                        break;
                    }
                }
                SourceItem::Resync(event) => panic!("resync: {}", event.data),
            }
        }
    })
    .await
    .expect("[DONE] in time");
    let mut expected: Vec<String> = (0..20).map(|n| format!("w{n}")).collect();
    expected.push("[DONE]".to_owned());
    assert_eq!(words(&seen), expected, "every word once, in order");
    assert!(opened >= 2, "resumed {} times", opened - 1);
}
