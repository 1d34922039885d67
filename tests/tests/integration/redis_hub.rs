//! The hub on Redis Streams, against a real `redis-server`: the conformance suite
//! both backends pass, two app instances sharing one Redis, and Redis dying and
//! coming back under live streams.

use std::time::Duration;

use justsse::hub::{
    Hub, HubError, MemoryConfig, RESYNC, RedisBackend, RedisConfig, Subscription, conformance,
};
use justsse::prelude::*;
use justsse_tests::{DEADLINE, LiveEvents, RedisServer, TestServer, events, request, send};

async fn redis_hub(server: &RedisServer, replay: usize) -> Hub<String> {
    let mut config = RedisConfig::new(server.url());
    config.replay = replay;
    Hub::with_backend(RedisBackend::connect(config).await.expect("connects"))
}

fn memory_hub(replay: usize) -> Hub<String> {
    Hub::memory(MemoryConfig {
        replay,
        ..MemoryConfig::default()
    })
}

pub(super) async fn next(sub: &mut Subscription) -> Event {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event in time")
        .expect("the subscription goes on")
}

pub(super) async fn publish(hub: &Hub<String>, topic: &str, data: &str) -> Event {
    hub.publish(&topic.to_owned(), Event::named("news").data(data))
        .await
        .expect("publish")
}

#[tokio::test]
async fn memory_backend_passes_the_conformance_suite() {
    conformance::run(|replay| async move { memory_hub(replay) }).await;
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn redis_backend_passes_the_conformance_suite() {
    let redis = RedisServer::start().await;
    conformance::run(|replay| redis_hub(&redis, replay)).await;
}

/// An instance whose announcements come every 50 ms and count for 400 ms.
async fn quick_presence_hub(server: &RedisServer) -> Hub<String> {
    let mut config = RedisConfig::new(server.url());
    config.presence_every = Duration::from_millis(50);
    config.presence_ttl = Duration::from_millis(400);
    Hub::with_backend(RedisBackend::connect(config).await.expect("connects"))
}

/// Waits until `hub` counts `expected` subscribers of `topic` everywhere.
pub(super) async fn everywhere(hub: &Hub<String>, topic: &str, expected: usize, why: &str) {
    let topic = topic.to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let counted = hub.subscribers(&topic).await.expect("counted").everywhere;
        if counted == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{why}: {counted} subscribers everywhere, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn presence_adds_up_instances_and_forgets_a_crashed_one() {
    let redis = RedisServer::start().await;
    let (a, b) = (
        quick_presence_hub(&redis).await,
        quick_presence_hub(&redis).await,
    );
    let topic = "watched".to_owned();
    let _on_a = [
        a.subscribe(&topic, None).await,
        a.subscribe(&topic, None).await,
    ];
    let on_b = b.subscribe(&topic, None).await;
    everywhere(&a, &topic, 3, "two here, one on b").await;
    everywhere(&b, &topic, 3, "one here, two on a").await;
    assert_eq!(a.subscribers(&topic).await.expect("counted").here, 2);

    // A subscriber leaves b: a hears it at b's next announcement.
    drop(on_b);
    everywhere(&a, &topic, 2, "b announced its zero").await;

    // b gets a subscriber and then crashes (dropped without withdrawing it):
    // a counts it until b's last announcement expires, then forgets it.
    let on_b = b.subscribe(&topic, None).await;
    everywhere(&a, &topic, 3, "b's new subscriber").await;
    // Nothing awaits between the two: b's last announcement still counts one.
    drop(b);
    drop(on_b);
    let crashed = tokio::time::Instant::now();
    everywhere(&a, &topic, 2, "b's announcement expired").await;
    assert!(
        crashed.elapsed() < Duration::from_millis(400 + 50 + 500),
        "forgotten within the ttl (and a poll): {:?}",
        crashed.elapsed()
    );
}

struct Live {
    hub: Hub<String>,
}

#[controller("/")]
impl Live {
    #[sse("/topics/:topic")]
    async fn topic(&self, topic: String, last: LastEventId) -> justsse::hub::Subscription {
        self.hub.subscribe(&topic, last.as_deref()).await
    }

    #[post("/topics/:topic")]
    async fn publish(
        &self,
        topic: String,
        Json(data): Json<String>,
    ) -> Result<StatusCode, HttpError> {
        self.hub
            .publish(&topic, Event::named("news").data(data))
            .await?;
        Ok(StatusCode::CREATED)
    }
}

async fn instance(redis: &RedisServer) -> (TestServer, Hub<String>) {
    let hub = redis_hub(redis, 256).await;
    let app = App::new().controller(Live { hub: hub.clone() });
    (
        TestServer::start(app.into_router().expect("builds")).await,
        hub,
    )
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn two_instances_share_one_stream_and_a_reconnect_may_land_on_either() {
    let redis = RedisServer::start().await;
    let (a, hub_a) = instance(&redis).await;
    let (b, _hub_b) = instance(&redis).await;
    let (_, mut on_a) = events(a.addr, "/topics/shared").await;
    // Both streams follow the topic once their response heads have arrived.
    let (_, mut on_b) = events(b.addr, "/topics/shared").await;

    for n in 0..5 {
        publish(&hub_a, "shared", &n.to_string()).await;
    }
    let mut last = String::new();
    for n in 0..5 {
        let from_a = on_a.next().await.expect("event on A");
        let from_b = on_b.next().await.expect("event on B");
        assert_eq!(from_a.data, n.to_string());
        assert_eq!(
            (from_b.data.as_str(), from_b.last_event_id.as_str()),
            (from_a.data.as_str(), from_a.last_event_id.as_str())
        );
        last = from_a.last_event_id;
    }
    drop(on_a);

    for n in 5..8 {
        publish(&hub_a, "shared", &n.to_string()).await;
    }
    let resume = request("GET", "/topics/shared")
        .header("accept", "text/event-stream")
        .header("last-event-id", &last)
        .body(http_body_util::Full::<bytes::Bytes>::default())
        .expect("request");
    let mut back_on_b = LiveEvents::new(send(b.addr, resume).await);
    for n in 5..8 {
        assert_eq!(
            back_on_b.next().await.expect("missed event").data,
            n.to_string()
        );
    }
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn redis_dying_and_coming_back_under_live_streams() {
    let mut redis = RedisServer::start().await;
    let (server, hub) = instance(&redis).await;
    let (_, mut reader) = events(server.addr, "/topics/outage").await;
    publish(&hub, "outage", "before").await;
    assert_eq!(reader.next().await.expect("before").data, "before");

    redis.kill();
    // Publishing fails visibly: an error for the caller, a 503 over HTTP.
    let err = hub
        .publish(&"outage".to_owned(), Event::new().data("lost"))
        .await
        .expect_err("Redis is down");
    assert!(matches!(err, HubError::Unavailable(_)), "{err}");
    let req = request("POST", "/topics/outage")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"\"x\"",
        )))
        .expect("request");
    assert_eq!(send(server.addr, req).await.status(), 503);
    // Regression: only the first failed at once; later ones each waited out
    // six backed-off reconnects (7.5 s). Every one is refused promptly.
    for _ in 0..5 {
        let started = tokio::time::Instant::now();
        let err = hub
            .publish(&"outage".to_owned(), Event::new().data("lost"))
            .await
            .expect_err("Redis is still down");
        assert!(matches!(err, HubError::Unavailable(_)), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "refused after {:?}",
            started.elapsed()
        );
    }
    // The server itself keeps serving.
    assert_eq!(justsse_tests::get(server.addr, "/nope").await.status(), 404);

    redis.restart().await;
    // The restarted Redis lost the stream: the subscriber is told to resync...
    let resync = reader.next().await.expect("a resync after the outage");
    assert_eq!(resync.event_type, RESYNC);
    // ...and then receives what is published once Redis is back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match hub
            .publish(&"outage".to_owned(), Event::named("news").data("after"))
            .await
        {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("publishing never recovered: {err}"),
        }
    }
    assert_eq!(reader.next().await.expect("after").data, "after");
}

/// A topic nobody publishes to any more (a finished generation, say) leaves
/// Redis after `retain_idle`: each publish sets its key's expiry. A client
/// resuming from it afterwards gets a resync; before, a replay.
#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn an_idle_topic_expires_from_redis_after_its_retention() {
    let redis = RedisServer::start().await;
    let mut config = RedisConfig::new(redis.url());
    config.retain_idle = Some(Duration::from_millis(300));
    let hub: Hub<String> =
        Hub::with_backend(RedisBackend::connect(config).await.expect("connects"));
    let topic = "fleeting".to_owned();
    let first = hub
        .publish(&topic, Event::new().data("1"))
        .await
        .expect("publish");
    hub.publish(&topic, Event::new().data("2"))
        .await
        .expect("publish");
    let mut replayed = hub.subscribe(&topic, first.id_str()).await;
    assert_eq!(
        replayed.next().await.expect("replayed").data_str(),
        Some("2")
    );
    drop(replayed);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let mut resumed = hub.subscribe(&topic, first.id_str()).await;
        let event = tokio::time::timeout(DEADLINE, resumed.next())
            .await
            .expect("an event")
            .expect("an event");
        if event.name() == Some(RESYNC) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the topic never expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
