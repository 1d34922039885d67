//! The cost of a `yield`: `stream!` (justsse's generator) beside
//! async-stream's `stream!`, each yielding two million clones of one event
//! that a single-threaded runtime reads as fast as it can. Nanoseconds per
//! event, three rounds; the event's clone is in both.
//!
//! ```sh
//! cargo run --release -p bench --bin bench-yield
//! ```
//!
//! A few seconds.

use std::time::Instant;

use futures_util::{Stream, StreamExt};
use justsse::Event;

const EVENTS: usize = 2_000_000;

/// Nanoseconds per event read from `events`.
async fn per_event<E>(events: impl Stream<Item = Result<Event, E>>) -> f64 {
    let started = Instant::now();
    let read = events
        .filter(|event| std::future::ready(event.is_ok()))
        .count()
        .await;
    assert_eq!(read, EVENTS, "every event read");
    started.elapsed().as_nanos() as f64 / EVENTS as f64
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let event = Event::named("comment").data(r#"{"id":1,"text":"hello"}"#);
    println!("| round | justsse `stream!`, ns per event | async-stream `stream!`, ns per event |");
    println!("| ---: | ---: | ---: |");
    for round in 1..=3 {
        let one = event.clone();
        let ours = runtime.block_on(per_event(justsse::stream! {
            for _ in 0..EVENTS {
                yield one.clone();
            }
        }));
        let one = event.clone();
        let theirs = runtime.block_on(per_event(async_stream::stream! {
            for _ in 0..EVENTS {
                yield Ok::<_, std::convert::Infallible>(one.clone());
            }
        }));
        println!("| {round} | {ours:.1} | {theirs:.1} |");
    }
}
