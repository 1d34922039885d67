//! The SSE encoder: bytes per second, and allocations per event (counted with
//! allocation-counter and printed before the timings); and a typed event
//! (`#[derive(SseEvent)]`) built and encoded beside the same event built by hand.

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_main};
use justsse::{Event, SseEvent};
use justsse_http::sse::encode;
use serde::Serialize;

fn events() -> Vec<(&'static str, Event)> {
    let json =
        r#"{"t":1764338400000000,"n":42,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
    vec![
        ("small", Event::named("tick").id(42).data(json)),
        (
            "multiline",
            Event::new().data("line one\nline two\r\nline three\rline four".repeat(8)),
        ),
        (
            "frozen",
            Event::named("tick")
                .id(42)
                .data(json)
                .freeze()
                .expect("valid"),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (name, event) in events() {
        let mut probe = BytesMut::new();
        encode(&event, &mut probe).expect("valid");
        let len = probe.len();
        // A warm buffer, as the SSE body keeps one per stream.
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let counts = allocation_counter::measure(|| {
            for _ in 0..1000 {
                encode(&event, &mut buf).expect("valid");
                buf.clear();
            }
        });
        println!(
            "encode/{name}: {len} bytes, {:.3} allocations per event",
            counts.count_total as f64 / 1000.0
        );
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                encode(&event, &mut buf).expect("valid");
                buf.clear();
            })
        });
    }
    group.finish();
}

#[derive(Serialize)]
struct Comment {
    author: &'static str,
    body: &'static str,
}

#[derive(SseEvent)]
enum TicketEvent {
    Comment(Comment),
    Moved { from: u32, to: u32 },
}

/// Building the event and encoding it: typed against by hand, same data.
fn typed(c: &mut Criterion) {
    let mut group = c.benchmark_group("typed");
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let comment = || Comment {
        author: "ada",
        body: "the printer is on fire again",
    };
    group.bench_function("by_hand/newtype", |b| {
        b.iter(|| {
            let event = Event::named("comment").json(&comment()).expect("valid");
            encode(&event, &mut buf).expect("valid");
            buf.clear();
        })
    });
    group.bench_function("typed/newtype", |b| {
        b.iter(|| {
            let event = TicketEvent::Comment(comment()).to_event().expect("valid");
            encode(&event, &mut buf).expect("valid");
            buf.clear();
        })
    });
    #[derive(Serialize)]
    struct Moved {
        from: u32,
        to: u32,
    }
    group.bench_function("by_hand/fields", |b| {
        b.iter(|| {
            let event = Event::named("moved")
                .json(&Moved { from: 1, to: 2 })
                .expect("valid");
            encode(&event, &mut buf).expect("valid");
            buf.clear();
        })
    });
    group.bench_function("typed/fields", |b| {
        b.iter(|| {
            let event = TicketEvent::Moved { from: 1, to: 2 }
                .to_event()
                .expect("valid");
            encode(&event, &mut buf).expect("valid");
            buf.clear();
        })
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench, super::typed);
}

criterion_main!(group::benches);
