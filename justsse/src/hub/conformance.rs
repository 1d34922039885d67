//! The semantics every hub backend keeps, as a suite to run against yours
//! (feature `test`): ids in publish order per topic, replay after an id,
//! `resync` when events are gone, merged topics resuming each exactly, and
//! an exact local subscriber count. The in-memory and Redis backends (single
//! server and Cluster) pass it in this repository's tests.
//!
//! ```
//! use justsse::hub::{Hub, MemoryConfig, conformance};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // A fresh hub for each check, keeping `replay` events per topic.
//! conformance::run(|replay| async move {
//!     Hub::memory(MemoryConfig { replay, ..MemoryConfig::default() })
//! })
//! .await;
//! # }
//! ```
//!
//! Each check panics (as a test's assertion does) naming what differs.

use std::future::Future;
use std::time::Duration;

use justsse_http::Event;

use super::{Hub, RESYNC, Subscription};

/// Runs every check, each on a fresh hub from `hub(replay)`: a backend that
/// keeps `replay` events per topic (the checks of old ids use 4, the others 64).
pub async fn run<F, Fut>(mut hub: F)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Hub<String>>,
{
    resumes_exactly_after_an_id(hub(64).await).await;
    unknown_and_too_old_ids_resync(hub(4).await).await;
    keeps_publish_order_per_topic(hub(64).await).await;
    merged_topics_resume_each_exactly(hub(64).await).await;
    a_merged_topic_whose_history_is_gone_resyncs_alone(hub(4).await).await;
    counts_its_subscribers(hub(4).await).await;
    keys_reach_subscribers_for_conflation(hub(64).await).await;
}

async fn next(sub: &mut Subscription) -> Event {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event within 10 s")
        .expect("the subscription goes on")
}

async fn publish(hub: &Hub<String>, topic: &str, data: &str) -> Event {
    hub.publish(&topic.to_owned(), Event::named("news").data(data))
        .await
        .expect("publish")
}

/// An id as the order it gives: `<ms>-<seq>` (the memory and Redis backends)
/// or a number.
fn order_of(id: &str) -> (u64, u64) {
    let number = |text: &str| text.parse::<u64>().expect("an id of numbers");
    match id.split_once('-') {
        Some((ms, seq)) => (number(ms), number(seq)),
        None => (number(id), 0),
    }
}

/// A subscriber that resumes after an id gets exactly what came after it,
/// then live events, none twice.
pub async fn resumes_exactly_after_an_id(hub: Hub<String>) {
    let topic = "resume".to_owned();
    // Live when it returns, on every backend: no waiting.
    let mut live = hub.subscribe(&topic, None).await;
    for n in 0..3 {
        publish(&hub, &topic, &n.to_string()).await;
    }
    let mut last = String::new();
    for n in 0..3 {
        let event = next(&mut live).await;
        assert_eq!(event.data_str(), Some(n.to_string().as_str()), "in order");
        last = event.id_str().expect("id").to_owned();
    }
    drop(live);
    publish(&hub, &topic, "3").await;
    publish(&hub, &topic, "4").await;
    let mut back = hub.subscribe(&topic, Some(&last)).await;
    assert_eq!(next(&mut back).await.data_str(), Some("3"));
    assert_eq!(next(&mut back).await.data_str(), Some("4"));
    publish(&hub, &topic, "5").await;
    assert_eq!(
        next(&mut back).await.data_str(),
        Some("5"),
        "live after the replay, no duplicate"
    );
}

/// An id older than the topic keeps, or unknown, gets one `resync`.
pub async fn unknown_and_too_old_ids_resync(hub: Hub<String>) {
    let topic = "old".to_owned();
    let first = publish(&hub, &topic, "first").await;
    // Enough that approximate trimming (whole nodes of 100 entries) drops the first.
    for n in 0..400 {
        publish(&hub, &topic, &n.to_string()).await;
    }
    let mut old = hub.subscribe(&topic, first.id_str()).await;
    let resync = next(&mut old).await;
    assert_eq!(resync.name(), Some(RESYNC));
    assert_eq!(resync.data_str(), Some(r#"{"reason":"too_old"}"#));
    let mut unknown = hub.subscribe(&topic, Some("not-an-id")).await;
    assert_eq!(next(&mut unknown).await.name(), Some(RESYNC));
}

/// A merged stream's events by topic (their data starts with the topic).
async fn by_topic(sub: &mut Subscription, count: usize) -> (Vec<String>, String) {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..count {
        let event = next(sub).await;
        cursor = event.id_str().expect("a cursor").to_owned();
        seen.push(format!(
            "{}:{}",
            event.name().unwrap_or_default(),
            event.data_str().unwrap_or_default()
        ));
    }
    seen.sort();
    (seen, cursor)
}

/// A merged stream's cursor resumes each of its topics exactly.
pub async fn merged_topics_resume_each_exactly(hub: Hub<String>) {
    let topics = ["m-a".to_owned(), "m-b".to_owned(), "m-c".to_owned()];
    let mut live = hub.subscribe_all(&topics, None).await;
    publish(&hub, "m-a", "a1").await;
    publish(&hub, "m-b", "b1").await;
    let (seen, cursor) = by_topic(&mut live, 2).await;
    assert_eq!(seen, ["news:a1", "news:b1"]);
    assert!(
        !cursor.contains(['\r', '\n', '\0']) && cursor.len() < 200,
        "{cursor}"
    );
    drop(live);

    // While away: more on two topics, and the first events of the third,
    // which the stream had not seen anything of.
    publish(&hub, "m-a", "a2").await;
    publish(&hub, "m-c", "c1").await;
    publish(&hub, "m-b", "b2").await;
    publish(&hub, "m-c", "c2").await;
    let mut back = hub.subscribe_all(&topics, Some(&cursor)).await;
    let (seen, cursor) = by_topic(&mut back, 4).await;
    assert_eq!(seen, ["news:a2", "news:b2", "news:c1", "news:c2"]);
    publish(&hub, "m-b", "b3").await;
    let (seen, _) = by_topic(&mut back, 1).await;
    assert_eq!(seen, ["news:b3"], "live after the replay, no duplicate");

    // The cursor of the fourth event resumes after it: one more, not five.
    drop(back);
    publish(&hub, "m-a", "a3").await;
    let mut again = hub.subscribe_all(&topics, Some(&cursor)).await;
    let (seen, _) = by_topic(&mut again, 2).await;
    assert_eq!(seen, ["news:a3", "news:b3"]);
}

/// In a merged stream, a topic whose history is gone resyncs alone while
/// the others resume.
pub async fn a_merged_topic_whose_history_is_gone_resyncs_alone(hub: Hub<String>) {
    let topics = ["g-old".to_owned(), "g-kept".to_owned()];
    let mut live = hub.subscribe_all(&topics, None).await;
    publish(&hub, "g-old", "o1").await;
    publish(&hub, "g-kept", "k1").await;
    let (_, cursor) = by_topic(&mut live, 2).await;
    drop(live);
    for n in 0..400 {
        publish(&hub, "g-old", &n.to_string()).await;
    }
    publish(&hub, "g-kept", "k2").await;
    let mut back = hub.subscribe_all(&topics, Some(&cursor)).await;
    let (seen, cursor) = by_topic(&mut back, 2).await;
    assert_eq!(
        seen,
        [
            r#"news:k2"#.to_owned(),
            r#"resync:{"reason":"too_old","topic":"g-old"}"#.to_owned()
        ]
    );
    // The resync's cursor holds the old topic's latest position: live
    // from there, nothing replayed twice.
    drop(back);
    publish(&hub, "g-old", "fresh").await;
    let mut after = hub.subscribe_all(&topics, Some(&cursor)).await;
    let (seen, _) = by_topic(&mut after, 1).await;
    assert_eq!(seen, ["news:fresh"]);

    // A cursor made for another list of topics: each topic resyncs.
    let mut other = hub.subscribe_all(&topics[..1], Some(&cursor)).await;
    let (seen, _) = by_topic(&mut other, 1).await;
    assert_eq!(seen, [r#"resync:{"reason":"unknown_id","topic":"g-old"}"#]);
}

/// Concurrent publishes on one topic reach a subscriber in the order their
/// ids give.
pub async fn keeps_publish_order_per_topic(hub: Hub<String>) {
    let topic = "order".to_owned();
    let mut live = hub.subscribe(&topic, None).await;
    let sent: Vec<Event> = futures_util::future::join_all((0..50).map(|n| {
        let hub = hub.clone();
        let topic = topic.clone();
        async move { publish(&hub, &topic, &n.to_string()).await }
    }))
    .await;
    let mut ids: Vec<String> = sent
        .iter()
        .map(|e| e.id_str().expect("id").to_owned())
        .collect();
    ids.sort_by_key(|id| order_of(id));
    for id in ids {
        assert_eq!(
            next(&mut live).await.id_str(),
            Some(id.as_str()),
            "the order the ids give"
        );
    }
}

/// This instance's count is exact: subscribers, merged ones included,
/// counted while they live.
pub async fn counts_its_subscribers(hub: Hub<String>) {
    let topic = "presence".to_owned();
    assert_eq!(hub.subscribers(&topic).await.expect("counted").here, 0);
    let one = hub.subscribe(&topic, None).await;
    let merged = hub
        .subscribe_all(&[topic.clone(), "other".to_owned()], None)
        .await;
    let counted = hub.subscribers(&topic).await.expect("counted");
    assert_eq!(counted.here, 2);
    assert!(counted.everywhere >= 2, "{counted:?}");
    drop(one);
    drop(merged);
    assert_eq!(hub.subscribers(&topic).await.expect("counted").here, 0);
}

/// An event's [key](Event::key), which a conflating subscriber keeps the
/// newest of, reaches subscribers (live and replayed), and only them: it is
/// not on the wire.
pub async fn keys_reach_subscribers_for_conflation(hub: Hub<String>) {
    let topic = "keyed".to_owned();
    let mut live = hub.subscribe(&topic, None).await;
    let sent = hub
        .publish(&topic, Event::named("price").data("101.5").key("ACME"))
        .await
        .expect("publish");
    let got = next(&mut live).await;
    assert_eq!(got.key_str(), Some("ACME"), "live");
    assert!(!got.to_string().contains("ACME"), "the key is not sent");
    hub.publish(&topic, Event::named("price").data("7"))
        .await
        .expect("publish");
    let mut replayed = hub.subscribe(&topic, sent.id_str()).await;
    assert_eq!(
        next(&mut replayed).await.key_str(),
        None,
        "an event without one has none"
    );
    let before = hub.position(&topic).await;
    hub.publish(&topic, Event::named("price").data("102").key("ACME"))
        .await
        .expect("publish");
    let mut replayed = hub.subscribe(&topic, before.as_deref()).await;
    assert_eq!(
        next(&mut replayed).await.key_str(),
        Some("ACME"),
        "replayed"
    );
}
