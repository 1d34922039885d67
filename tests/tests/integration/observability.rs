//! What the server reports through the `metrics` facade, read back with
//! metrics-util's debugging recorder, installed as this thread's recorder (the
//! tests run on a current-thread runtime, server included), so other tests of
//! the binary do not count here.

use std::collections::HashMap;

use justsse::hub::Subscription;
use justsse::prelude::*;
use justsse::route;
use justsse::test::TestClient;
use justsse_tests::until;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

async fn idle() -> impl EventStream {
    stream! {
        std::future::pending::<()>().await;
        yield Event::new().data("never");
    }
}

async fn two() -> impl EventStream {
    stream! {
        yield Event::new().data("one");
        yield Event::new().data("two");
    }
}

async fn stale(hub: State<Hub>) -> Subscription {
    hub.subscribe(&"t".to_owned(), Some("not-an-id")).await
}

async fn ok() -> Json<&'static str> {
    Json("ok")
}

/// What the recorder saw so far: its snapshots drain counters and gauges
/// alike (a gauge reads 0 after a snapshot), so both are added up here; the
/// server only increments and decrements its gauges.
struct Seen {
    snapshotter: Snapshotter,
    values: HashMap<(String, Vec<(String, String)>), f64>,
}

impl Seen {
    /// The value of `name` with `label` (if given), summed over other labels.
    fn get(&mut self, name: &str, label: Option<(&str, &str)>) -> f64 {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let labels = key
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            let slot = self
                .values
                .entry((key.key().name().to_owned(), labels))
                .or_insert(0.0);
            match value {
                DebugValue::Counter(n) => *slot += n as f64,
                DebugValue::Gauge(g) => *slot += g.into_inner(),
                DebugValue::Histogram(h) => *slot += h.len() as f64,
            }
        }
        self.values
            .iter()
            .filter(|((n, labels), _)| {
                n == name
                    && label.is_none_or(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, value)| value)
            .sum()
    }
}

#[tokio::test]
async fn connections_streams_events_and_rejections_are_counted() {
    let recorder = DebuggingRecorder::new();
    let mut seen = Seen {
        snapshotter: recorder.snapshotter(),
        values: HashMap::new(),
    };
    let _recording = metrics::set_default_local_recorder(&recorder);

    let app = App::new()
        .state(Hub::<String>::new())
        .route("/idle", route::sse(idle))
        .route("/two", route::sse(two))
        .route("/stale", route::sse(stale))
        .route("/ok", route::get(ok))
        .config(ServerConfig::default().max_streams(1));
    let client = TestClient::serve(app).await.expect("serves");
    assert_eq!(client.get("/ok").send().await.status(), 200);
    assert!(seen.get("justsse_connections_open", None) >= 1.0);

    let open = client.sse("/idle").send().await;
    assert_eq!(open.status(), 200);
    assert_eq!(seen.get("justsse_streams_open", None), 1.0);
    assert_eq!(client.sse("/idle").send().await.status(), 503);
    let refused = ("reason", "max_streams");
    assert_eq!(
        seen.get("justsse_streams_rejected_total", Some(refused)),
        1.0
    );

    drop(open);
    let left = ("reason", "client_left");
    until("the stream counted as left", || {
        seen.get("justsse_streams_ended_total", Some(left)) == 1.0
    })
    .await;
    assert_eq!(seen.get("justsse_streams_open", None), 0.0);

    let mut events = client.sse("/two").send().await.events();
    while events.next().await.is_some() {}
    let completed = ("reason", "completed");
    until("the stream counted as completed", || {
        seen.get("justsse_streams_ended_total", Some(completed)) == 1.0
    })
    .await;
    assert!(seen.get("justsse_events_sent_total", None) >= 2.0);
    assert!(seen.get("justsse_stream_bytes_sent_total", None) >= 20.0);

    let mut stale = client.sse("/stale").send().await.events();
    assert_eq!(stale.next().await.expect("a resync").event_type, "resync");
    assert_eq!(seen.get("justsse_hub_resyncs_total", None), 1.0);
}

#[tokio::test]
async fn subscribers_over_half_their_buffer_behind_are_counted_as_lagging() {
    let recorder = DebuggingRecorder::new();
    let mut seen = Seen {
        snapshotter: recorder.snapshotter(),
        values: HashMap::new(),
    };
    let _recording = metrics::set_default_local_recorder(&recorder);
    let replay = 8;
    let hub: Hub<String> = Hub::memory(justsse::hub::MemoryConfig {
        replay,
        ..Default::default()
    });
    let topic = "t".to_owned();
    let mut slow = hub.subscribe(&topic, None).await;
    let mut quick = hub.subscribe(&topic, None).await;
    let publish = |n: usize| {
        let hub = hub.clone();
        let topic = topic.clone();
        async move {
            for i in 0..n {
                hub.publish(&topic, Event::new().data(i.to_string()))
                    .await
                    .expect("published");
            }
        }
    };

    // Half the buffer behind is not lagging yet.
    publish(replay / 2).await;
    slow.next().await.expect("an event");
    quick.next().await.expect("an event");
    assert_eq!(seen.get("justsse_hub_lagging_subscribers", None), 0.0);

    // Drained and then more than half behind: one lagging subscriber.
    for _ in 1..replay / 2 {
        slow.next().await.expect("an event");
        quick.next().await.expect("an event");
    }
    publish(replay / 2 + 2).await;
    slow.next().await.expect("an event");
    assert_eq!(seen.get("justsse_hub_lagging_subscribers", None), 1.0);
    quick.next().await.expect("an event");
    assert_eq!(seen.get("justsse_hub_lagging_subscribers", None), 2.0);

    // Caught up: the next read is no longer behind.
    for _ in 1..replay / 2 + 2 {
        quick.next().await.expect("an event");
    }
    publish(1).await;
    quick.next().await.expect("an event");
    assert_eq!(seen.get("justsse_hub_lagging_subscribers", None), 1.0);

    // A lagging subscriber that leaves is no longer counted.
    drop(slow);
    assert_eq!(seen.get("justsse_hub_lagging_subscribers", None), 0.0);
}
