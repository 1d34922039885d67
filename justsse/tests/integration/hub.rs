//! The hub alone: resumption, resync, topic freeing, and a property test of
//! random publishes, subscribes and slow reads.

use std::time::Duration;

use futures_util::FutureExt;
use justsse::Event;
use justsse::hub::{Hub, MemoryConfig, RESYNC, Subscription};
use proptest::prelude::*;

fn seq(event: &Event) -> u64 {
    let id = event.id_str().expect("hub events have ids");
    id.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// What is readable now, without waiting.
fn ready(sub: &mut Subscription, at_most: usize) -> Vec<Event> {
    let mut got = Vec::new();
    while got.len() < at_most {
        match sub.next().now_or_never() {
            Some(Some(event)) => got.push(event),
            _ => break,
        }
    }
    got
}

fn reason(event: &Event) -> String {
    let data: serde_json::Value =
        serde_json::from_str(event.data_str().unwrap_or("{}")).expect("json");
    data["reason"].as_str().unwrap_or_default().to_owned()
}

fn hub(replay: usize) -> Hub<&'static str> {
    Hub::memory(MemoryConfig {
        replay,
        retain_idle: Duration::from_secs(60),
        ..MemoryConfig::default()
    })
}

/// Whether a subscriber resuming after `id` on `topic` gets a resync (the
/// events after it are gone) rather than a replay.
async fn resumes_with_resync(hub: &Hub<&'static str>, topic: &'static str, id: &Event) -> bool {
    let mut sub = hub.subscribe(&topic, id.id_str()).await;
    let first = ready(&mut sub, 1);
    first.first().and_then(Event::name) == Some(RESYNC)
}

#[tokio::test]
async fn an_event_over_the_largest_size_is_refused_and_nothing_is_kept() {
    let hub = hub(16).max_event_size(1000);
    let mut live = hub.subscribe(&"t", None).await;
    let refused = hub.publish(&"t", Event::new().data("x".repeat(1001))).await;
    assert!(
        matches!(
            refused,
            Err(justsse::hub::HubError::TooLarge {
                size: 1001,
                max: 1000
            })
        ),
        "{refused:?}"
    );
    let err = justsse::HttpError::from(refused.expect_err("refused"));
    assert_eq!(err.status(), justsse::http::StatusCode::PAYLOAD_TOO_LARGE);
    assert!(ready(&mut live, 1).is_empty(), "nothing was published");
    hub.publish(&"t", Event::new().data("x".repeat(1000)))
        .await
        .expect("the largest size is taken");
    assert_eq!(ready(&mut live, 2).len(), 1);
}

#[tokio::test]
async fn a_topic_over_its_bytes_drops_its_oldest_events_and_resumers_resync() {
    let hub = Hub::memory(MemoryConfig {
        topic_bytes: 100_000,
        ..MemoryConfig::default()
    });
    let mut sent = Vec::new();
    for n in 0..10 {
        let data = format!("{n}{}", "x".repeat(20_000));
        sent.push(
            hub.publish(&"t", Event::new().data(data))
                .await
                .expect("publish"),
        );
    }
    // An event costs about twice its 20 KB (its encoding and its fields):
    // two fit in 100 KB, so resuming after the 7th replays the last two...
    let mut recent = hub.subscribe(&"t", sent[7].id_str()).await;
    let replayed = ready(&mut recent, 10);
    assert_eq!(replayed.len(), 2, "the newest two are kept");
    assert!(replayed[0].data_str().is_some_and(|d| d.starts_with('8')));
    // ...while one that needed an older one is told to resync.
    assert!(resumes_with_resync(&hub, "t", &sent[5]).await);
}

#[tokio::test]
async fn the_hub_over_its_total_drops_the_oldest_events_of_any_topic_first() {
    let hub = Hub::memory(MemoryConfig {
        topic_bytes: 200_000,
        total_bytes: 300_000,
        ..MemoryConfig::default()
    });
    let big = || Event::new().data("y".repeat(20_000));
    let first = hub.publish(&"old", big()).await.expect("publish");
    hub.publish(&"old", big()).await.expect("publish");
    // Fill the hub through other topics, each within its own share: about
    // 40 KB an event, nine events are over 300 KB, and the two oldest go.
    let mut newest = Vec::new();
    for topic in ["a", "b", "c", "d", "e", "f", "g"] {
        newest.push(hub.publish(&topic, big()).await.expect("publish"));
    }
    assert!(
        resumes_with_resync(&hub, "old", &first).await,
        "the hub's oldest events went first, though their topic is small"
    );
    // The newest topic's event is still there: resuming from before it (the
    // topic's start, number 0) replays it.
    let last = newest.last().expect("seven");
    let before = format!(
        "{}0",
        last.id_str()
            .expect("id")
            .trim_end_matches(char::is_numeric)
    );
    let mut replay = hub.subscribe(&"g", Some(before.as_str())).await;
    assert_eq!(ready(&mut replay, 2).len(), 1, "the newest event is kept");
}

#[tokio::test]
async fn past_the_most_topics_the_longest_idle_go_and_subscribed_ones_stay() {
    let hub = Hub::memory(MemoryConfig {
        max_topics: 16,
        ..MemoryConfig::default()
    });
    let _watcher = hub.subscribe(&"watched", None).await;
    let kept = hub
        .publish(&"watched", Event::new().data("w"))
        .await
        .expect("publish");
    let first = hub
        .publish(&"idle-0", Event::new().data("0"))
        .await
        .expect("publish");
    for n in 1..40 {
        let topic: &'static str = Box::leak(format!("idle-{n}").into_boxed_str());
        hub.publish(&topic, Event::new().data("n"))
            .await
            .expect("publish");
    }
    assert!(
        resumes_with_resync(&hub, "idle-0", &first).await,
        "the longest idle topic was freed"
    );
    let mut resumed = hub.subscribe(&"watched", None).await;
    assert!(ready(&mut resumed, 1).is_empty());
    let mut replay = hub
        .subscribe(&"watched", Some(kept.id_str().expect("id")))
        .await;
    assert!(
        ready(&mut replay, 1).is_empty(),
        "nothing after the kept event"
    );
    assert_eq!(hub.subscribers(&"watched").await.expect("count").here, 3);
}

#[tokio::test]
async fn resume_after_an_id_replays_exactly_what_came_after() {
    let hub = hub(16);
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            hub.publish(&"t", Event::new().data(n.to_string()))
                .await
                .expect("publish"),
        );
    }
    let mut sub = hub.subscribe(&"t", ids[1].id_str()).await;
    let got: Vec<String> = ready(&mut sub, 10)
        .iter()
        .map(|e| e.data_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(got, ["2", "3", "4"]);
    hub.publish(&"t", Event::new().data("5"))
        .await
        .expect("publish");
    assert_eq!(
        ready(&mut sub, 10)[0].data_str(),
        Some("5"),
        "live after replay, no gap"
    );
    let mut latest = hub.subscribe(&"t", ids[4].id_str()).await;
    assert!(
        ready(&mut latest, 10)
            .iter()
            .all(|e| e.data_str() == Some("5"))
    );
}

#[tokio::test]
async fn too_old_and_unknown_ids_get_one_resync_then_live_events() {
    let hub = hub(2);
    let first = hub
        .publish(&"t", Event::new().data("0"))
        .await
        .expect("publish");
    for n in 1..5 {
        hub.publish(&"t", Event::new().data(n.to_string()))
            .await
            .expect("publish");
    }
    let cases = [
        (first.id_str().expect("id").to_owned(), "too_old"),
        ("garbage".into(), "unknown_id"),
        ("1-999".into(), "unknown_id"),
    ];
    for (round, (last, why)) in cases.into_iter().enumerate() {
        let mut sub = hub.subscribe(&"t", Some(&last)).await;
        let got = ready(&mut sub, 10);
        assert_eq!(got.len(), 1, "{last}: {got:?}");
        assert_eq!(got[0].name(), Some(RESYNC));
        assert_eq!(reason(&got[0]), why);
        assert_eq!(
            seq(&got[0]),
            5 + round as u64,
            "the resync carries the latest id"
        );
        hub.publish(&"t", Event::new().data("live"))
            .await
            .expect("publish");
        assert_eq!(ready(&mut sub, 10)[0].data_str(), Some("live"));
    }
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_gets_resync_and_continues() {
    let hub = hub(4);
    let mut slow = hub.subscribe(&"t", None).await;
    for n in 0..10 {
        hub.publish(&"t", Event::new().data(n.to_string()))
            .await
            .expect("publish");
    }
    let got = ready(&mut slow, 20);
    assert_eq!(got.len(), 1);
    assert_eq!(reason(&got[0]), "lagged");
    hub.publish(&"t", Event::new().data("10"))
        .await
        .expect("publish");
    assert_eq!(ready(&mut slow, 20)[0].data_str(), Some("10"));
}

#[tokio::test]
async fn invalid_events_are_refused_by_publish() {
    let hub = hub(4);
    let err = hub
        .publish(&"t", Event::named("a\nb"))
        .await
        .expect_err("invalid name");
    assert!(err.to_string().contains("line break"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn idle_topics_are_freed() {
    let hub: Hub<u32> = Hub::memory(MemoryConfig {
        replay: 8,
        retain_idle: Duration::from_secs(60),
        ..MemoryConfig::default()
    });
    // A topic with subscribers only is freed when the last one leaves.
    let sub = hub.subscribe(&1, None).await;
    drop(sub);
    // Topics with events are kept for returning clients, then freed.
    for topic in 0..1000 {
        hub.publish(&topic, Event::new().data("x"))
            .await
            .expect("publish");
    }
    let early = hub.subscribe(&5, Some("0-0")).await;
    drop(early);
    tokio::time::advance(Duration::from_secs(61)).await;
    // Any operation may sweep; the sweep frees the idle topics, so resuming
    // from one of their ids now finds nothing to replay.
    hub.publish(&9999, Event::new().data("y"))
        .await
        .expect("publish");
    let mut late = hub.subscribe(&5, None).await;
    assert!(ready(&mut late, 4).is_empty());
    hub.publish(&5, Event::new().data("z"))
        .await
        .expect("publish");
    let got = ready(&mut late, 4);
    assert_eq!(seq(&got[0]), 1, "topic 5 started over after being freed");
}

#[derive(Debug, Clone)]
enum Op {
    Publish,
    /// Subscribe with the id of the n-th published event (if any), no id, or garbage.
    Subscribe(Option<usize>, bool),
    /// Read up to n ready events from subscriber i.
    Read(usize, usize),
    Drop(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Publish),
        1 => (prop::option::of(0usize..64), any::<bool>()).prop_map(|(n, garbage)| Op::Subscribe(n, garbage)),
        3 => (0usize..8, 0usize..6).prop_map(|(i, n)| Op::Read(i, n)),
        1 => (0usize..8).prop_map(Op::Drop),
    ]
}

struct Tracked {
    sub: Subscription,
    /// The seq of the last event delivered (or resumed after).
    last: u64,
    replay: u64,
}

impl Tracked {
    fn check(&mut self, events: Vec<Event>) -> Result<(), TestCaseError> {
        for event in events {
            let n = seq(&event);
            if event.name() == Some(RESYNC) {
                let why = reason(&event);
                if why == "lagged" || why == "too_old" {
                    prop_assert!(
                        n.saturating_sub(self.last) > self.replay,
                        "resync {why} at {n} after {} with replay {}",
                        self.last,
                        self.replay
                    );
                }
                self.last = n;
            } else {
                prop_assert_eq!(n, self.last + 1, "gap, duplicate or reordering");
                self.last = n;
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_gap_duplicate_or_reordering_the_buffer_could_prevent(ops in prop::collection::vec(op(), 1..120), replay in 1usize..8) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let hub = hub(replay);
            let mut published: Vec<Event> = Vec::new();
            let mut subs: Vec<Tracked> = Vec::new();
            for op in ops {
                match op {
                    Op::Publish => published.push(hub.publish(&"t", Event::new().data("x")).await.expect("publish")),
                    Op::Subscribe(n, garbage) => {
                        let latest = published.len() as u64;
                        let (last_id, last) = match n.and_then(|n| published.get(n)) {
                            _ if garbage => (Some("nope".to_owned()), latest),
                            Some(event) => (event.id_str().map(str::to_owned), seq(event)),
                            None => (None, latest),
                        };
                        let mut tracked = Tracked { sub: hub.subscribe(&"t", last_id.as_deref()).await, last, replay: replay as u64 };
                        if garbage {
                            // The resync it must send first carries the latest id.
                            let first = ready(&mut tracked.sub, 1);
                            prop_assert_eq!(first.len(), 1);
                            prop_assert_eq!(first[0].name(), Some(RESYNC));
                            prop_assert_eq!(seq(&first[0]), latest);
                        }
                        subs.push(tracked);
                    }
                    Op::Read(i, n) => {
                        if let Some(tracked) = subs.get_mut(i) {
                            let events = ready(&mut tracked.sub, n);
                            tracked.check(events)?;
                        }
                    }
                    Op::Drop(i) => {
                        if i < subs.len() {
                            subs.remove(i);
                        }
                    }
                }
            }
            // Drained, every subscriber ends at the latest event: nothing lost at the tail.
            let latest = published.len() as u64;
            for tracked in &mut subs {
                let events = ready(&mut tracked.sub, usize::MAX);
                tracked.check(events)?;
                prop_assert_eq!(tracked.last, latest);
            }
            Ok(())
        })?;
    }
}

/// Regression: `subscribe_all` with a topic named 1,000 times followed it
/// 1,000 times, so each publish sent 1,000 copies (16 MB per event).
#[tokio::test]
async fn a_topic_named_many_times_in_subscribe_all_is_followed_once() {
    let hub = hub(16);
    let topics = vec!["same"; 1000];
    let mut all = hub.subscribe_all(&topics, None).await;
    hub.publish(&"same", Event::new().data("once"))
        .await
        .expect("publish");
    assert_eq!(ready(&mut all, 10).len(), 1, "one copy of the event");
    assert_eq!(hub.subscribers(&"same").await.expect("count").here, 1);
}
