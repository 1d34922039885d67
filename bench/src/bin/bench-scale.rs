//! Scale-out figures: two instances with 1,000 subscribers each, on one Redis
//! node, on a Redis Cluster of three masters (and three replicas), and on
//! PostgreSQL, topics spread; a paced publisher; events delivered per second,
//! latency from publish to receipt, and the Redis commands or SQL statements
//! each published event costs (`INFO commandstats` of every master, or
//! `pg_stat_statements`, before and after). Starts its own `redis-server`s and
//! PostgreSQL on free ports (Debian packages `redis-server`, `postgresql`);
//! neither is durable (no AOF, `fsync=off`): the figures are the engines'
//! work, not the disk's.
//!
//! ```text
//! cargo run --release -p bench --bin bench-scale
//! cargo run --release -p bench --bin bench-scale -- --seconds 30
//! ```
//!
//! The two instances are two backends in this process, each with its own
//! connections and readers, as two processes would have.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use bench::{event_data, gather_latencies, now_micros, quantile_ms};
use justsse::Event;
use justsse::hub::tokio_postgres::Client;
use justsse::hub::{Hub, PostgresBackend, PostgresConfig, RedisBackend, RedisConfig};
use justsse_tests::{PostgresServer, RedisCluster, RedisServer};

const INSTANCES: usize = 2;
/// Per instance.
const SUBSCRIBERS: usize = 1000;
const TOPICS: usize = 100;
/// Events per second the publisher is paced at.
const RATES: [u64; 3] = [500, 2000, 5000];
const END: &str = "end";

/// The send stamp in an event's data.
fn stamp(event: &Event) -> Option<u64> {
    bench::stamp_of(event.data_str()?.as_bytes())
}

/// Calls per command, summed over `masters` (`INFO commandstats`).
fn commands(masters: &[u16]) -> HashMap<String, u64> {
    let mut calls = HashMap::new();
    for port in masters {
        let output = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "INFO", "commandstats"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for line in output.lines() {
            let Some((name, stats)) = line
                .strip_prefix("cmdstat_")
                .and_then(|l| l.split_once(':'))
            else {
                continue;
            };
            let count = stats
                .split(',')
                .find_map(|field| field.strip_prefix("calls="))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            *calls.entry(name.to_owned()).or_default() += count;
        }
    }
    calls
}

/// Where the engine's work is counted.
enum Counter<'a> {
    /// The Redis masters' ports.
    Redis(&'a [u16]),
    /// A connection to the PostgreSQL, with `pg_stat_statements`.
    Postgres(&'a Client),
}

impl Counter<'_> {
    /// Calls so far, by command or by the hub's statement.
    async fn count(&self) -> HashMap<String, u64> {
        match self {
            Counter::Redis(masters) => commands(masters),
            Counter::Postgres(client) => statements(client).await,
        }
    }
}

/// Calls of the hub's statements so far: `publish`, `read` (the reader's
/// fetch), `other`.
async fn statements(client: &Client) -> HashMap<String, u64> {
    let rows = client
        .query(
            "SELECT query, calls FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'",
            &[],
        )
        .await
        .expect("pg_stat_statements");
    let mut calls = HashMap::new();
    for row in rows {
        let (query, count): (String, i64) = (row.get(0), row.get(1));
        let kind = if query.contains(".publish(") {
            "publish"
        } else if query.contains("JOIN") {
            "read"
        } else {
            "other"
        };
        *calls.entry(kind.to_owned()).or_default() += count.unsigned_abs();
    }
    calls
}

struct Row {
    delivered: usize,
    expected: usize,
    published_per_s: f64,
    delivered_per_s: f64,
    latencies: Vec<u32>,
    per_event: HashMap<String, f64>,
}

async fn redis_hubs(configs: &[RedisConfig]) -> Vec<Hub<usize>> {
    let mut hubs: Vec<Hub<usize>> = Vec::new();
    for config in configs {
        let backend = RedisBackend::connect(config.clone())
            .await
            .expect("connects");
        hubs.push(Hub::with_backend(backend));
    }
    hubs
}

async fn run(hubs: Vec<Hub<usize>>, counter: &Counter<'_>, rate: u64, seconds: u64) -> Row {
    let mut tasks = Vec::new();
    for hub in &hubs {
        for n in 0..SUBSCRIBERS {
            let mut subscription = hub.subscribe(&(n % TOPICS), None).await;
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while let Ok(Some(event)) =
                    tokio::time::timeout(Duration::from_secs(30), subscription.next()).await
                {
                    if event.name() == Some(END) {
                        break;
                    }
                    if let Some(t) = stamp(&event) {
                        latencies.push(now_micros().saturating_sub(t) as u32);
                    }
                }
                latencies
            }));
        }
    }
    let before = counter.count().await;
    let events = rate * seconds;
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate as u32);
    let started = Instant::now();
    let mut publishes = Vec::with_capacity(events as usize);
    for n in 0..events {
        tick.tick().await;
        // Each publish on its own: the pace does not wait for Redis's reply.
        let hub = hubs[n as usize % hubs.len()].clone();
        publishes.push(tokio::spawn(async move {
            let event = Event::named("tick").data(event_data(n));
            if let Err(err) = hub.publish(&(n as usize % TOPICS), event).await {
                eprintln!("publish failed: {err}");
            }
        }));
    }
    for publish in publishes {
        let _ = publish.await;
    }
    let published_for = started.elapsed().as_secs_f64();
    let after = counter.count().await;
    for topic in 0..TOPICS {
        let _ = hubs[0].publish(&topic, Event::named(END).data("")).await;
    }
    let mut latencies = gather_latencies(tasks).await;
    let delivered_for = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let per_event = after
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "info" | "cluster|slots" | "cluster|shards"))
        .map(|(name, calls)| {
            let delta = calls - before.get(name).copied().unwrap_or(0);
            (name.clone(), delta as f64 / events as f64)
        })
        .filter(|(_, per)| *per > 0.0)
        .collect();
    Row {
        delivered: latencies.len(),
        expected: events as usize * INSTANCES * SUBSCRIBERS / TOPICS,
        published_per_s: events as f64 / published_for,
        delivered_per_s: latencies.len() as f64 / delivered_for,
        latencies,
        per_event,
    }
}

fn print(topology: &str, rate: u64, row: &Row, [first, second]: [&str; 2]) {
    let total: f64 = row.per_event.values().sum();
    let of = |name: &str| row.per_event.get(name).copied().unwrap_or(0.0);
    println!(
        "| {topology} | {rate} | {:.0} | {} of {} | {:.0} | {:.1} | {:.1} | {:.1} | {total:.2} | {:.2} | {:.2} | {:.2} |",
        row.published_per_s,
        row.delivered,
        row.expected,
        row.delivered_per_s,
        quantile_ms(&row.latencies, 0.5),
        quantile_ms(&row.latencies, 0.99),
        quantile_ms(&row.latencies, 1.0),
        of(first),
        of(second),
        total - of(first) - of(second),
    );
}

#[tokio::main]
async fn main() {
    let seconds = std::env::args()
        .skip_while(|arg| arg != "--seconds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let node = RedisServer::start().await;
    let cluster = RedisCluster::start().await;
    println!(
        "{INSTANCES} instances x {SUBSCRIBERS} subscribers, {TOPICS} topics, {seconds} s per row\n"
    );
    println!(
        "| Redis | asked ev/s | published ev/s | delivered | deliveries/s | p50 ms | p99 ms | max ms | commands/event | XADD | XREAD | other |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    const REDIS: [&str; 2] = ["xadd", "xread"];
    for rate in RATES {
        let hubs = redis_hubs(&vec![RedisConfig::new(node.url()); INSTANCES]).await;
        let row = run(hubs, &Counter::Redis(&[node.port]), rate, seconds).await;
        print("one node", rate, &row, REDIS);
        let hubs = redis_hubs(&vec![RedisConfig::cluster(cluster.urls()); INSTANCES]).await;
        let masters = cluster.masters();
        let row = run(hubs, &Counter::Redis(&masters), rate, seconds).await;
        print("cluster, 3 masters", rate, &row, REDIS);
    }
    drop((node, cluster));

    let postgres =
        PostgresServer::start_with(&["shared_preload_libraries=pg_stat_statements"]).await;
    let db = postgres.client().await;
    db.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .expect("pg_stat_statements (package postgresql-contrib)");
    println!(
        "\n| PostgreSQL | asked ev/s | published ev/s | delivered | deliveries/s | p50 ms | p99 ms | max ms | statements/event | publish | read | other |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (n, rate) in RATES.into_iter().enumerate() {
        let mut hubs = Vec::new();
        for _ in 0..INSTANCES {
            let mut config = PostgresConfig::new(postgres.url());
            // A fresh schema per rate: each row starts from empty tables.
            config.schema = format!("bench_{n}");
            let backend = PostgresBackend::connect(config).await.expect("connects");
            hubs.push(Hub::with_backend(backend));
        }
        let row = run(hubs, &Counter::Postgres(&db), rate, seconds).await;
        print("one server", rate, &row, ["publish", "read"]);
    }
}
