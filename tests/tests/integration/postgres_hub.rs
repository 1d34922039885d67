//! The hub on PostgreSQL, against a real server the tests start: the
//! conformance suite, events published inside the application's transaction
//! (delivered iff it commits, in commit order: the outbox trap forced and
//! missed nothing), two instances, retention, and faults (the server
//! restarted under live streams, the LISTEN connection killed, a long
//! transaction holding a topic).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use justsse::hub::{
    Hub, HubError, PostgresBackend, PostgresConfig, RESYNC, Subscription, conformance,
};
use justsse::prelude::*;
use justsse_tests::{DEADLINE, PostgresServer};

use super::redis_hub::{everywhere, next, publish};

/// A fresh schema per hub, so that each check starts empty.
fn schema() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("hub_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn config(server: &PostgresServer, schema: &str) -> PostgresConfig {
    let mut config = PostgresConfig::new(server.url());
    config.schema = schema.to_owned();
    config
}

async fn connect(config: PostgresConfig) -> PostgresBackend {
    PostgresBackend::connect(config).await.expect("connects")
}

/// Waits until `query` returns `true`, asking again every 20 ms.
async fn until_sql(db: &justsse::hub::tokio_postgres::Client, what: &str, query: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let holds: bool = db.query_one(query, &[]).await.expect(query).get(0);
        if holds {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within the deadline"
        );
        // A pause between questions to another process.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn postgres_backend_passes_the_conformance_suite() {
    let server = PostgresServer::start().await;
    conformance::run(|replay| {
        let mut config = config(&server, &schema());
        config.replay = replay;
        async move { Hub::with_backend(connect(config).await) }
    })
    .await;
}

#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn an_event_published_in_a_transaction_reaches_subscribers_iff_it_commits() {
    let server = PostgresServer::start().await;
    let hub: Hub<String> = Hub::with_backend(connect(config(&server, &schema())).await);
    let mut db = server.client().await;
    db.batch_execute("CREATE TABLE comments (id serial PRIMARY KEY, body text NOT NULL)")
        .await
        .expect("a table of the app's");
    let topic = "ticket-7".to_owned();
    let mut live = hub.subscribe(&topic, None).await;
    publish(&hub, &topic, "opened").await;
    assert_eq!(next(&mut live).await.data_str(), Some("opened"));

    // Rolled back: neither the row nor the event.
    let tx = db.transaction().await.expect("begin");
    tx.execute("INSERT INTO comments (body) VALUES ('oops')", &[])
        .await
        .expect("insert");
    let lost = hub
        .publish_in(&tx, &topic, Event::named("comment").data("oops"))
        .await
        .expect("published in the transaction");
    tx.rollback().await.expect("rollback");

    // Committed: both, the event with the id publish_in gave.
    let tx = db.transaction().await.expect("begin");
    tx.execute("INSERT INTO comments (body) VALUES ('hello')", &[])
        .await
        .expect("insert");
    let sent = hub
        .publish_in(&tx, &topic, Event::named("comment").data("hello"))
        .await
        .expect("published in the transaction");
    tx.commit().await.expect("commit");
    let got = next(&mut live).await;
    assert_eq!(
        got.data_str(),
        Some("hello"),
        "the rolled-back event never came"
    );
    assert_eq!(got.id_str(), sent.id_str());
    assert_eq!(
        lost.id_str(),
        sent.id_str(),
        "a rolled-back number is given again: no gap"
    );
    let rows: i64 = db
        .query_one("SELECT count(*) FROM comments", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 1);

    // A hub on another backend says so.
    let memory: Hub<String> = Hub::new();
    let refused = memory.publish_in(&db, &topic, Event::new().data("x")).await;
    assert!(matches!(refused, Err(HubError::Config(_))), "{refused:?}");
}

/// The outbox trap, forced: T1 publishes first, T2 second, and T2 tries to
/// commit before T1. With numbers taken at insert time T2's event (number 2)
/// would be read first, and T1's (number 1), committed later, skipped by a
/// reader that reads after 2. Here T2 cannot take its number until T1 ends:
/// the test waits until the server shows T2 waiting on T1's lock, commits
/// T1, and both events arrive, in commit order, once.
#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn transactions_committing_out_of_insert_order_skip_nothing() {
    let server = PostgresServer::start().await;
    let s = schema();
    let hub: Hub<String> = Hub::with_backend(connect(config(&server, &s)).await);
    let topic = "trap".to_owned();
    let mut live = hub.subscribe(&topic, None).await;
    let before = publish(&hub, &topic, "T0").await;
    assert_eq!(next(&mut live).await.data_str(), Some("T0"));

    let mut first = server.client().await;
    let t1 = first.transaction().await.expect("begin T1");
    hub.publish_in(&t1, &topic, Event::new().data("T1"))
        .await
        .expect("T1 publishes");
    let (hub2, topic2) = (hub.clone(), topic.clone());
    let mut second = server.client().await;
    let t2 = tokio::spawn(async move {
        let t2 = second.transaction().await.expect("begin T2");
        let sent = hub2
            .publish_in(&t2, &topic2, Event::new().data("T2"))
            .await
            .expect("T2 publishes");
        t2.commit().await.expect("T2 commits");
        sent
    });
    // T2 waits on T1's lock (here), or has committed (with numbers taken
    // at insert time): either way T1 commits after T2 tried to.
    let watcher = server.client().await;
    let waiting = format!(
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%{s}.publish%'"
    );
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !t2.is_finished() {
        let blocked: bool = watcher
            .query_one(&waiting, &[])
            .await
            .expect("pg_stat_activity")
            .get(0);
        if blocked {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "T2 neither waits nor ends"
        );
        // A pause between questions to another process.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t1.commit().await.expect("T1 commits");
    let t2_sent = t2.await.expect("T2 ends");

    let a = next(&mut live).await;
    let b = next(&mut live).await;
    assert_eq!((a.data_str(), b.data_str()), (Some("T1"), Some("T2")));
    assert_eq!(b.id_str(), t2_sent.id_str());
    // A reader resuming from before both gets both too.
    let mut resumed = hub.subscribe(&topic, before.id_str()).await;
    assert_eq!(next(&mut resumed).await.data_str(), Some("T1"));
    assert_eq!(next(&mut resumed).await.data_str(), Some("T2"));
}

/// Many transactions at once on one topic, a quarter rolled back, each
/// holding its lock a moment: a live subscriber and one resuming from the
/// start get exactly the committed events, each once, in id order.
#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn concurrent_transactions_deliver_every_committed_event_once_in_order() {
    let server = PostgresServer::start().await;
    let hub: Hub<String> = Hub::with_backend(connect(config(&server, &schema())).await);
    let topic = "busy".to_owned();
    let start = hub.position(&topic).await;
    let mut live = hub.subscribe(&topic, None).await;
    let writers = (0..6).map(|writer| {
        let (hub, topic, url) = (hub.clone(), topic.clone(), server.url());
        tokio::spawn(async move {
            let (mut db, connection) =
                justsse::hub::tokio_postgres::connect(&url, justsse::hub::tokio_postgres::NoTls)
                    .await
                    .expect("connect");
            tokio::spawn(connection);
            let mut committed = Vec::new();
            for n in 0..20 {
                let tx = db.transaction().await.expect("begin");
                let data = format!("{writer}-{n}");
                hub.publish_in(&tx, &topic, Event::new().data(data.clone()))
                    .await
                    .expect("publish");
                // Another statement while the topic is held.
                tx.execute("SELECT pg_sleep(0.001)", &[])
                    .await
                    .expect("sleep");
                if (writer + n) % 4 == 0 {
                    tx.rollback().await.expect("rollback");
                } else {
                    tx.commit().await.expect("commit");
                    committed.push(data);
                }
            }
            committed
        })
    });
    let mut committed: Vec<String> = futures_util::future::join_all(writers)
        .await
        .into_iter()
        .flat_map(|done| done.expect("a writer"))
        .collect();
    committed.sort();
    assert_eq!(
        read_all(&mut live, committed.len()).await,
        committed,
        "live: each committed event once"
    );
    let mut resumed = hub.subscribe(&topic, start.as_deref()).await;
    assert_eq!(
        read_all(&mut resumed, committed.len()).await,
        committed,
        "resumed from the start"
    );
}

/// `count` events' data, sorted, checking that their ids only grow.
async fn read_all(sub: &mut Subscription, count: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut last = (0u64, 0u64);
    for _ in 0..count {
        let event = next(sub).await;
        let (epoch, seq) = event.id_str().expect("an id").split_once('-').expect("E-S");
        let id = (epoch.parse().expect("epoch"), seq.parse().expect("seq"));
        assert!(id > last, "ids in order: {id:?} after {last:?}");
        last = id;
        seen.push(event.data_str().expect("data").to_owned());
    }
    seen.sort();
    seen
}

#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn two_instances_share_events_and_presence() {
    let server = PostgresServer::start().await;
    let s = schema();
    let quick = |server: &PostgresServer| {
        let mut config = config(server, &s);
        config.presence_every = Duration::from_millis(50);
        config.presence_ttl = Duration::from_millis(400);
        config
    };
    let a: Hub<String> = Hub::with_backend(connect(quick(&server)).await);
    let b: Hub<String> = Hub::with_backend(connect(quick(&server)).await);
    let topic = "shared".to_owned();
    let mut on_b = b.subscribe(&topic, None).await;
    let sent = publish(&a, &topic, "from a").await;
    let got = next(&mut on_b).await;
    assert_eq!(
        (got.data_str(), got.id_str()),
        (Some("from a"), sent.id_str())
    );

    let _on_a = a.subscribe(&topic, None).await;
    everywhere(&a, &topic, 2, "b's subscriber counted on a").await;
    assert_eq!(a.subscribers(&topic).await.expect("counted").here, 1);
}

#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn a_topic_idle_past_its_retention_goes_and_resuming_it_resyncs() {
    let server = PostgresServer::start().await;
    let s = schema();
    let mut config = config(&server, &s);
    config.retain_idle = Some(Duration::from_millis(300));
    config.presence_every = Duration::from_millis(50);
    let hub: Hub<String> = Hub::with_backend(connect(config).await);
    let topic = "brief".to_owned();
    let old = publish(&hub, &topic, "once").await;
    let db = server.client().await;
    until_sql(
        &db,
        "the idle topic deleted",
        &format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {s}.topics) AND NOT EXISTS (SELECT 1 FROM {s}.events)"
        ),
    )
    .await;
    let mut resumed = hub.subscribe(&topic, old.id_str()).await;
    assert_eq!(next(&mut resumed).await.name(), Some(RESYNC));
    // Made again under a new epoch: its ids do not pass for the old ones.
    let again = publish(&hub, &topic, "again").await;
    assert_ne!(
        again
            .id_str()
            .and_then(|id| id.split_once('-'))
            .map(|(e, _)| e),
        old.id_str()
            .and_then(|id| id.split_once('-'))
            .map(|(e, _)| e)
    );
}

#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn a_restarted_server_under_live_streams_loses_nothing() {
    let mut server = PostgresServer::start().await;
    let hub: Hub<String> = Hub::with_backend(connect(config(&server, &schema())).await);
    let topic = "through".to_owned();
    let mut live = hub.subscribe(&topic, None).await;
    let first = publish(&hub, &topic, "before").await;
    assert_eq!(next(&mut live).await.data_str(), Some("before"));

    server.stop();
    let refused = hub
        .publish(&topic, Event::named("news").data("while down"))
        .await;
    assert!(
        matches!(refused, Err(HubError::Unavailable(_))),
        "a publish fails loudly while the database is down: {refused:?}"
    );
    server.restart().await;
    // The hub's session is made again on the next publish.
    let after = publish(&hub, &topic, "after").await;
    let got = next(&mut live).await;
    assert_eq!(
        (got.data_str(), got.id_str()),
        (Some("after"), after.id_str()),
        "the live stream goes on, no gap and no resync"
    );
    let mut resumed = hub.subscribe(&topic, first.id_str()).await;
    assert_eq!(next(&mut resumed).await.data_str(), Some("after"));
}

#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn a_killed_listen_connection_is_made_again_and_misses_nothing() {
    let server = PostgresServer::start().await;
    let hub: Hub<String> = Hub::with_backend(connect(config(&server, &schema())).await);
    let topic = "heard".to_owned();
    let mut live = hub.subscribe(&topic, None).await;
    let db = server.client().await;
    let killed: i64 = db
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'justsse listen'",
            &[],
        )
        .await
        .expect("terminate")
        .get(0);
    assert_eq!(killed, 1, "one LISTEN connection per instance");
    // Published while nobody listens (the instance notices in at most 5 s).
    publish(&hub, &topic, "unheard").await;
    assert_eq!(next(&mut live).await.data_str(), Some("unheard"));
    until_sql(
        &db,
        "listening again",
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'justsse listen'",
    )
    .await;
    publish(&hub, &topic, "heard").await;
    assert_eq!(next(&mut live).await.data_str(), Some("heard"));
}

/// A transaction that published on a topic and stays open holds that topic:
/// other topics flow, readers never wait, and a publish on the held topic
/// fails after `lock_timeout` instead of hanging; the held event arrives at
/// commit, before the ones after it.
#[cfg_attr(missing_postgres, ignore = "needs PostgreSQL, not installed here")]
#[tokio::test]
async fn a_long_transaction_holds_only_its_topic_and_only_for_lock_timeout() {
    let server = PostgresServer::start().await;
    let mut config = config(&server, &schema());
    config.lock_timeout = Duration::from_millis(300);
    let hub: Hub<String> = Hub::with_backend(connect(config).await);
    let (held, free) = ("held".to_owned(), "free".to_owned());
    let mut on_held = hub.subscribe(&held, None).await;
    let mut on_free = hub.subscribe(&free, None).await;
    let mut db = server.client().await;
    let tx = db.transaction().await.expect("begin");
    hub.publish_in(&tx, &held, Event::new().data("slow"))
        .await
        .expect("published in the transaction");

    publish(&hub, &free, "flows").await;
    assert_eq!(next(&mut on_free).await.data_str(), Some("flows"));
    let waited = tokio::time::Instant::now();
    let timed_out = hub.publish(&held, Event::new().data("blocked")).await;
    assert!(
        matches!(timed_out, Err(HubError::Unavailable(_))),
        "{timed_out:?}"
    );
    assert!(
        waited.elapsed() < Duration::from_secs(3),
        "{:?}",
        waited.elapsed()
    );

    tx.commit().await.expect("commit");
    publish(&hub, &held, "next").await;
    assert_eq!(next(&mut on_held).await.data_str(), Some("slow"));
    assert_eq!(next(&mut on_held).await.data_str(), Some("next"));
}
