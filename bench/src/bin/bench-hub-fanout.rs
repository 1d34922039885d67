//! The in-memory hub's fan-out alone, paced: 10,000 subscriber tasks on one
//! topic (2 worker threads), events published one at a time, each once every
//! subscriber has the one before, each subscriber polled as hyper polls a
//! body (twice more after an event); the process's CPU time per delivered event
//! and the time from a publish to its last delivery. No sockets: what the
//! hub's reader costs per subscriber per event, which the guard's paced
//! fan-out measures together with hyper and the kernel.
//!
//! ```text
//! cargo run --release -p bench --bin bench-hub-fanout              # 10,000 x 200, 5 runs
//! cargo run --release -p bench --bin bench-hub-fanout -- 1000 500 3  # subscribers, events, runs
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use justsse::Event;
use justsse::hub::{Hub, MemoryConfig};
use tokio::sync::Notify;

/// CPU time (user + system) of this process so far, in 10 ms ticks.
fn cpu_time() -> Duration {
    Duration::from_micros(bench::cpu_micros(std::process::id()))
}

/// One run: CPU per delivered event and the median time from publish to
/// last delivery.
async fn run(subscribers: usize, events: usize) -> (Duration, Duration) {
    let hub: Hub<u64> = Hub::memory(MemoryConfig::default());
    let received = Arc::new(AtomicUsize::new(0));
    let all_in = Arc::new(Notify::new());
    let mut tasks = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let mut subscription = hub.subscribe(&1, None).await;
        let (received, all_in) = (received.clone(), all_in.clone());
        tasks.push(tokio::spawn(async move {
            let count = || {
                if received.fetch_add(1, Ordering::AcqRel) + 1 == subscribers {
                    all_in.notify_one();
                }
            };
            while subscription.next().await.is_some() {
                count();
                // As hyper polls a response body: again at once for more
                // ready events (this poll), then again after the write.
                let more = std::future::poll_fn(|cx| {
                    std::task::Poll::Ready(subscription.poll_next_unpin(cx))
                });
                match more.await {
                    std::task::Poll::Ready(None) => break,
                    std::task::Poll::Ready(Some(_)) => count(),
                    std::task::Poll::Pending => {}
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut spans = Vec::with_capacity(events);
    let cpu = cpu_time();
    for n in 0..events {
        received.store(0, Ordering::Release);
        let started = Instant::now();
        let event = Event::named("tick").data(n.to_string());
        if let Err(err) = hub.publish(&1, event).await {
            eprintln!("publish failed: {err}");
        }
        all_in.notified().await;
        spans.push(started.elapsed());
    }
    let cpu = cpu_time() - cpu;
    for task in tasks {
        task.abort();
    }
    spans.sort();
    let per_event = cpu / u32::try_from(subscribers * events).unwrap_or(u32::MAX);
    (per_event, spans[spans.len() / 2])
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let subscribers = args.first().copied().unwrap_or(10_000);
    let events = args.get(1).copied().unwrap_or(200);
    let runs = args.get(2).copied().unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut cpu = Vec::new();
    let mut last = Vec::new();
    for _ in 0..runs {
        let (per_event, span) = runtime.block_on(run(subscribers, events));
        println!(
            "{subscribers} x {events}: {:.0} ns CPU per delivered event, {:.2} ms publish to last delivery (median)",
            per_event.as_nanos(),
            span.as_secs_f64() * 1e3
        );
        cpu.push(per_event);
        last.push(span);
    }
    cpu.sort();
    last.sort();
    println!(
        "median of {runs}: {:.0} ns CPU per delivered event, {:.2} ms to last delivery",
        cpu[cpu.len() / 2].as_nanos(),
        last[last.len() / 2].as_secs_f64() * 1e3
    );
}
