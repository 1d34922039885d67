//! Prints the memory the in-memory hub holds per topic and per subscriber,
//! measured as the growth of this process's resident set.
//!
//! ```text
//! cargo run --release -p hub-memory
//! ```

use futures_util::FutureExt;
use justsse::Event;
use justsse::hub::Hub;

/// Resident set size in bytes, from `/proc/self/statm` (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), justsse::hub::HubError> {
    const TOPICS: u64 = 100_000;
    const SUBSCRIBERS: usize = 100_000;
    let data = "x".repeat(100);

    let hub: Hub<u64> = Hub::new();
    let before = rss();
    for topic in 0..TOPICS {
        hub.publish(&topic, Event::named("comment").data(data.clone()))
            .await?;
    }
    let per_topic = (rss() - before) as f64 / TOPICS as f64;
    println!("topic holding one 100-byte event: {per_topic:.0} bytes");

    let hub: Hub<u64> = Hub::new();
    hub.publish(&0, Event::new().data("warm")).await?;
    let before = rss();
    let mut subscriptions = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let mut subscription = hub.subscribe(&0, None).await;
        // Poll once so the subscription is waiting, as a live one is.
        assert!(subscription.next().now_or_never().is_none());
        subscriptions.push(subscription);
    }
    let per_subscriber = (rss() - before) as f64 / SUBSCRIBERS as f64;
    println!("idle subscriber: {per_subscriber:.0} bytes");
    Ok(())
}
