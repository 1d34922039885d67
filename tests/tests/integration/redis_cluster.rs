//! The hub on a real Redis Cluster (three masters, three replicas, made by
//! `redis-cli --cluster create` on free ports): the conformance suite of one
//! node, topics spread over every master and read by one reader per shard,
//! and a master crashing under live streams and publishing.

use justsse::hub::{Hub, RESYNC, RedisBackend, RedisConfig, Subscription};
use justsse::prelude::*;
use justsse_tests::{DEADLINE, RedisCluster};

use justsse::hub::conformance;

use super::redis_hub::{next, publish};

async fn cluster_hub(cluster: &RedisCluster, replay: usize, wait_replicas: usize) -> Hub<String> {
    let mut config = RedisConfig::cluster(cluster.urls());
    config.replay = replay;
    config.wait_replicas = wait_replicas;
    Hub::with_backend(RedisBackend::connect(config).await.expect("connects"))
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn cluster_backend_passes_the_conformance_suite_with_topics_on_every_master() {
    let cluster = RedisCluster::start().await;
    conformance::run(|replay| cluster_hub(&cluster, replay, 0)).await;

    // Two instances, 48 topics: each published on one, received on the other.
    let (a, b) = (
        cluster_hub(&cluster, 64, 0).await,
        cluster_hub(&cluster, 64, 0).await,
    );
    let topics: Vec<String> = (0..48).map(|n| format!("spread-{n}")).collect();
    let mut subscriptions = Vec::new();
    for topic in &topics {
        subscriptions.push(b.subscribe(topic, None).await);
    }
    for topic in &topics {
        publish(&a, topic, topic).await;
    }
    for (topic, subscription) in topics.iter().zip(&mut subscriptions) {
        assert_eq!(next(subscription).await.data_str(), Some(topic.as_str()));
    }
    // The topics' streams are spread over all three masters.
    for master in cluster.masters() {
        let keys = cluster.cli(master, &["--scan", "--pattern", "justsse:{*}t:spread-*"]);
        assert!(
            keys.lines().count() >= 4,
            "master {master} holds {} of the 48 topics",
            keys.lines().count()
        );
    }
}

/// What a subscriber saw: each acknowledged event in order, or a resync where
/// some are missing; never a silent gap, a duplicate or a reordering.
fn check(who: &str, acked: &[String], seen: &[Event]) -> usize {
    let log: Vec<String> = seen
        .iter()
        .map(|e| {
            format!(
                "{}={}",
                e.id_str().unwrap_or_default(),
                e.data_str().unwrap_or_default()
            )
        })
        .collect();
    let mut at = 0;
    let mut resynced = false;
    let mut resyncs = 0;
    for event in seen {
        if event.name() == Some(RESYNC) {
            resynced = true;
            resyncs += 1;
            continue;
        }
        let data = event.data_str().unwrap_or_default();
        match acked[at..].iter().position(|a| a == data) {
            Some(skipped) => {
                assert!(
                    skipped == 0 || resynced,
                    "{who}: {:?} missing without a resync",
                    &acked[at..at + skipped]
                );
                at += skipped + 1;
                resynced = false;
            }
            // A publish that failed may still have landed; an acknowledged
            // one seen again would be a duplicate or a reordering.
            None => assert!(
                !acked[..at].iter().any(|a| a == data),
                "{who}: {data} again, or out of order, in {log:?}"
            ),
        }
    }
    assert_eq!(at, acked.len(), "{who} saw the last acknowledged event");
    resyncs
}

/// Reads `subscription` until it has the event `last`.
async fn until(subscription: &mut Subscription, last: &str) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let event = next(subscription).await;
        let done = event.data_str() == Some(last);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn a_master_failing_over_costs_subscribers_nothing_or_one_resync() {
    let mut cluster = RedisCluster::start().await;
    // Each acknowledged publish is on a replica too.
    let publisher = cluster_hub(&cluster, 1024, 1).await;
    let other = cluster_hub(&cluster, 1024, 1).await;
    let topic = "failover".to_owned();
    let mut here = publisher.subscribe(&topic, None).await;
    let mut there = other.subscribe(&topic, None).await;
    let mut acked = Vec::new();
    let mut attempt = 0;
    let mut publish_one = async |acked: &mut Vec<String>| {
        attempt += 1;
        let data = format!("e{attempt}");
        let event = Event::named("news").data(data.clone());
        match publisher.publish(&topic, event).await {
            Ok(sent) => {
                acked.push(data);
                Some(sent)
            }
            Err(_) => None,
        }
    };
    let mut before = None;
    for _ in 0..20 {
        before = publish_one(&mut acked).await.or(before);
    }
    let before = before.expect("published before the crash");
    let master = cluster
        .master_holding("}t:failover")
        .expect("a master holds the topic");
    cluster.kill(master);
    let crashed = tokio::time::Instant::now();

    // Publishing goes on through the failover: a publish either fails (not
    // acknowledged) or lands.
    let mut failed = 0;
    while !cluster.failed_over(master) {
        assert!(crashed.elapsed() < DEADLINE * 3, "no failover");
        if publish_one(&mut acked).await.is_none() {
            failed += 1;
        }
    }
    let failed_over = crashed.elapsed();
    cluster.rejoin(master).await;
    for _ in 0..20 {
        if publish_one(&mut acked).await.is_none() {
            failed += 1;
        }
    }
    let last = acked.last().expect("acknowledged events").clone();
    let resyncs_here = check(
        "the publishing instance",
        &acked,
        &until(&mut here, &last).await,
    );
    let resyncs_there = check("another instance", &acked, &until(&mut there, &last).await);
    // A client that saw an event before the crash resumes after it.
    let mut resumed = other.subscribe(&topic, before.id_str()).await;
    let after: Vec<String> = acked
        .iter()
        .skip_while(|data| Some(data.as_str()) != before.data_str())
        .skip(1)
        .cloned()
        .collect();
    let resyncs_resumed = check(
        "a resumed client",
        &after,
        &until(&mut resumed, &last).await,
    );
    eprintln!(
        "failover: replica promoted {failed_over:?} after the crash; {} publishes acknowledged, \
         {failed} failed meanwhile; resyncs: {resyncs_here} here, {resyncs_there} there, \
         {resyncs_resumed} resumed",
        acked.len()
    );
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn a_topic_whose_slot_moves_to_another_master_streams_on_unbroken() {
    let cluster = RedisCluster::start().await;
    let publisher = cluster_hub(&cluster, 1024, 0).await;
    let other = cluster_hub(&cluster, 1024, 0).await;
    let topic = "moving".to_owned();
    let mut there = other.subscribe(&topic, None).await;
    let mut acked = Vec::new();
    let mut attempt = 0;
    let mut publish_some = async |acked: &mut Vec<String>| {
        for _ in 0..5 {
            attempt += 1;
            publish(&publisher, &topic, &format!("m{attempt}")).await;
            acked.push(format!("m{attempt}"));
        }
    };
    publish_some(&mut acked).await;
    let from = cluster
        .master_holding("}t:moving")
        .expect("a master holds the topic");
    let to = cluster
        .masters()
        .into_iter()
        .find(|&port| port != from)
        .expect("another master");
    let key = cluster.cli(from, &["--scan", "--pattern", "*}t:moving"]);
    let slot = cluster.cli(from, &["CLUSTER", "KEYSLOT", key.trim()]);
    let slot = slot.trim();
    let id = |port| cluster.cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
    let (from_id, to_id) = (id(from), id(to));

    // The slot is migrating: the keys still on `from` are served there; one
    // already moved is answered with ASK.
    cluster.cli(to, &["CLUSTER", "SETSLOT", slot, "IMPORTING", &from_id]);
    cluster.cli(from, &["CLUSTER", "SETSLOT", slot, "MIGRATING", &to_id]);
    publish_some(&mut acked).await;
    let keys = cluster.cli(from, &["CLUSTER", "GETKEYSINSLOT", slot, "1000"]);
    let keys: Vec<&str> = keys.lines().collect();
    let port = to.to_string();
    let mut migrate = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
    migrate.extend(keys.iter().copied());
    assert_eq!(cluster.cli(from, &migrate).trim(), "OK", "{keys:?} moved");
    publish_some(&mut acked).await;

    // The slot is `to`'s: `from` answers MOVED.
    for master in cluster.masters() {
        cluster.cli(master, &["CLUSTER", "SETSLOT", slot, "NODE", &to_id]);
    }
    publish_some(&mut acked).await;
    assert_eq!(
        cluster.master_holding("}t:moving"),
        Some(to),
        "the stream moved"
    );

    let last = acked.last().expect("published").clone();
    let resyncs = check("a subscriber", &acked, &until(&mut there, &last).await);
    assert_eq!(resyncs, 0, "a migration loses nothing");
    // A reconnecting client resumes on the new master.
    let mut resumed = other.subscribe(&topic, Some("0-0")).await;
    check(
        "a resumed client",
        &acked,
        &until(&mut resumed, &last).await,
    );
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn a_failover_to_a_replica_that_missed_events_resyncs_instead_of_a_silent_gap() {
    let mut cluster = RedisCluster::start().await;
    // No WAIT: the master acknowledges events its replica may never get.
    let publisher = cluster_hub(&cluster, 1024, 0).await;
    let other = cluster_hub(&cluster, 1024, 0).await;
    let topic = "diverged".to_owned();
    let mut here = publisher.subscribe(&topic, None).await;
    let mut there = other.subscribe(&topic, None).await;
    let mut sent = Vec::new();
    for n in 1..=5 {
        sent.push(publish(&publisher, &topic, &format!("d{n}")).await);
    }
    until(&mut here, "d5").await;
    until(&mut there, "d5").await;
    let master = cluster
        .master_holding("}t:diverged")
        .expect("a master holds the topic");
    let replica = cluster.replica_of(master).expect("the master's replica");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !cluster.in_sync(master) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replica has d1..d5: {}",
            cluster.cli(master, &["ROLE"])
        );
        tokio::task::yield_now().await;
    }

    // The replica freezes and the master drops its link (what it already
    // sent would still be read from the socket on thaw); d6..d8 reach the
    // master and every subscriber, never the replica; then the master dies
    // and the replica takes over.
    cluster.freeze(replica);
    cluster.cli(master, &["CLIENT", "KILL", "TYPE", "replica"]);
    for n in 6..=8 {
        sent.push(publish(&publisher, &topic, &format!("d{n}")).await);
    }
    until(&mut here, "d8").await;
    until(&mut there, "d8").await;
    cluster.kill(master);
    cluster.thaw(replica);
    // Publishing waits through the failover; an attempt that fails may
    // still have landed, so each is named apart (d9-1, d9-2...).
    let crashed = tokio::time::Instant::now();
    let mut attempt = 0;
    loop {
        assert!(crashed.elapsed() < DEADLINE * 3, "no failover");
        attempt += 1;
        let event = Event::named("news").data(format!("d9-{attempt}"));
        if publisher.publish(&topic, event).await.is_ok() {
            break;
        }
    }

    // Each live subscriber is told first (its last event, d8, is not in the
    // new master's stream, so what followed it there is unknown), then goes
    // on from there: d9s may be covered by the resync, d10 comes live.
    for subscription in [&mut here, &mut there] {
        let first = next(subscription).await;
        assert_eq!(first.name(), Some(RESYNC), "{:?}", first.data_str());
    }
    publish(&publisher, &topic, "d10").await;
    for subscription in [&mut here, &mut there] {
        for event in until(subscription, "d10").await {
            let data = event.data_str().unwrap_or_default();
            assert!(data.starts_with("d9-") || data == "d10", "{data}");
        }
    }
    // A browser that saw d7 reconnects: d7 is gone, so it is told, not
    // silently resumed after it.
    let mut resumed = other.subscribe(&topic, sent[6].id_str()).await;
    let first = next(&mut resumed).await;
    assert_eq!(first.name(), Some(RESYNC), "{:?}", first.data_str());
    // One that saw d4 (replicated) resumes after it: d5, the d9s, d10.
    let mut resumed = other.subscribe(&topic, sent[3].id_str()).await;
    let replayed: Vec<String> = until(&mut resumed, "d10")
        .await
        .iter()
        .map(|event| event.data_str().unwrap_or_default().to_owned())
        .collect();
    let d9s = &replayed[1..replayed.len() - 1];
    assert!(
        replayed[0] == "d5" && !d9s.is_empty() && d9s.iter().all(|d| d.starts_with("d9-")),
        "{replayed:?}"
    );
}
