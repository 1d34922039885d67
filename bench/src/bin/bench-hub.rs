//! Fan-out through the hub alone, in-memory and on Redis Streams, in one run:
//! 1,000 subscribers on one topic, 200 stamped events published as fast as
//! possible; events delivered per second and latency from publish to receipt.
//! Starts its own `redis-server` on a free port (Debian package `redis-server`).
//!
//! ```text
//! cargo run --release -p bench --bin bench-hub
//! ```

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bench::{event_data, gather_latencies, now_micros, quantile_ms};
use justsse::Event;
use justsse::hub::{Hub, RedisBackend, RedisConfig};

const SUBSCRIBERS: usize = 1000;
const EVENTS: u64 = 200;

/// The send stamp in an event's data.
fn stamp(event: &Event) -> Option<u64> {
    bench::stamp_of(event.data_str()?.as_bytes())
}

async fn run(name: &str, hub: Hub<u8>) {
    let mut tasks = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut subscription = hub.subscribe(&0, None).await;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(EVENTS as usize);
            while latencies.len() < EVENTS as usize {
                let Ok(Some(event)) =
                    tokio::time::timeout(Duration::from_secs(10), subscription.next()).await
                else {
                    break;
                };
                if let Some(t) = stamp(&event) {
                    latencies.push(now_micros().saturating_sub(t) as u32);
                }
            }
            latencies
        }));
    }
    // Let every subscriber start waiting (and a Redis reader follow the topic).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let started = Instant::now();
    for n in 0..EVENTS {
        if let Err(err) = hub
            .publish(&0, Event::named("tick").data(event_data(n)))
            .await
        {
            eprintln!("{name}: publish failed: {err}");
            return;
        }
    }
    let mut all = gather_latencies(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| quantile_ms(&all, p);
    println!(
        "| {name} | {} of {} | {:.0} | {:.1} | {:.1} | {:.1} |",
        all.len(),
        SUBSCRIBERS as u64 * EVENTS,
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

#[tokio::main]
async fn main() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(6391, |a| a.port());
    let redis = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn();
    let Ok(mut redis) = redis else {
        eprintln!("redis-server is not installed (apt-get install redis-server)");
        return;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    println!("| backend | delivered | events/s | p50 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    run("in-memory", Hub::new()).await;
    match RedisBackend::connect(RedisConfig::new(format!("redis://127.0.0.1:{port}/"))).await {
        Ok(backend) => run("Redis Streams", Hub::with_backend(backend)).await,
        Err(err) => eprintln!("cannot reach the redis-server it started: {err}"),
    }
    let _ = redis.kill();
    let _ = redis.wait();
}
