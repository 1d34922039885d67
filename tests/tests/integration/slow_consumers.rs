//! The slow-consumer policies over real sockets: a client that stops reading
//! (a small receive buffer, its response body left unread) while thousands of
//! events are published, beside a healthy client reading everything; then the
//! slow one reads again and gets what its route's policy says: a resync and
//! live events, the end of its stream with a cursor to resume from, or only
//! the newest price per symbol. Each action is counted in
//! `justsse_slow_consumer_total{policy}`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use justsse::hub::{Hub, MemoryConfig, RESYNC, SlowConsumer};
use justsse::prelude::*;
use justsse_tests::{LiveEvents, TestServer, request};
use tokio::net::TcpSocket;

const SYMBOLS: [&str; 8] = [
    "ACME", "GLOBX", "INITECH", "UMBRL", "HOOLI", "STARK", "WAYNE", "TYRELL",
];
const PUBLISHED: u64 = 6_000;
const MAX_LAG: usize = 16;

struct Prices {
    hub: Hub<&'static str>,
}

#[controller("/")]
impl Prices {
    #[sse("/healthy")]
    async fn healthy(&self, last: LastEventId) -> impl EventStream {
        let mut prices = self.hub.subscribe(&"prices", last.as_deref()).await;
        stream! { while let Some(price) = prices.next().await { yield price; } }
    }

    #[sse("/resync")]
    async fn resync(&self) -> impl EventStream {
        self.policed(SlowConsumer::Resync { max_lag: MAX_LAG })
            .await
    }

    #[sse("/disconnect")]
    async fn disconnect(&self) -> impl EventStream {
        self.policed(SlowConsumer::Disconnect { max_lag: MAX_LAG })
            .await
    }

    #[sse("/conflate")]
    async fn conflate(&self) -> impl EventStream {
        self.policed(SlowConsumer::Conflate { max_lag: MAX_LAG })
            .await
    }
}

impl Prices {
    async fn policed(&self, policy: SlowConsumer) -> impl EventStream + use<> {
        let mut prices = self
            .hub
            .subscribe(&"prices", None)
            .await
            .slow_consumer(policy);
        stream! { while let Some(price) = prices.next().await { yield price; } }
    }
}

/// The `n`th price: about 4 KB, keyed by its symbol. Large, so that what
/// the kernel's socket buffers take before the server feels the stall (a few
/// megabytes, as the machine's autotuning decides) is a small part of the
/// 6,000 (at 600 bytes it was half of them on a busy machine).
fn price(n: u64) -> Event {
    let symbol = SYMBOLS[(n % SYMBOLS.len() as u64) as usize];
    let data = format!(
        r#"{{"symbol":"{symbol}","n":{n},"pad":"{}"}}"#,
        "x".repeat(4000)
    );
    Event::named("price").data(data).key(symbol)
}

fn n_of(event: &justsse::client::MessageEvent) -> u64 {
    let at = event.data.find(r#""n":"#).expect("a price") + 4;
    event.data[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}

fn symbol_of(event: &justsse::client::MessageEvent) -> String {
    let at = event.data.find(r#""symbol":""#).expect("a price") + 10;
    event.data[at..]
        .split('"')
        .next()
        .expect("a symbol")
        .to_owned()
}

/// Opens `path` on a socket with a small receive buffer and leaves the body
/// unread: the server's writes back up to the subscription.
async fn stalled(addr: SocketAddr, path: &str) -> justsse::http::Response<hyper::body::Incoming> {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(2048).expect("a small buffer");
    let stream = socket.connect(addr).await.expect("connects");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let req = request("GET", path)
        .header("accept", "text/event-stream")
        .body(Full::<Bytes>::default())
        .expect("a request");
    sender.send_request(req).await.expect("a response")
}

/// Reads `events` until `done` says it has what it waits for (`true`) or the
/// stream ends (`false`).
async fn read_until(
    events: &mut LiveEvents,
    got: &mut Vec<justsse::client::MessageEvent>,
    mut done: impl FnMut(&justsse::client::MessageEvent) -> bool,
) -> bool {
    while let Some(event) = events.next().await {
        let finished = done(&event);
        got.push(event);
        if finished {
            return true;
        }
    }
    false
}

/// Publishes every price while a healthy client reads them all, in order.
/// The first reaches the slow client too, which then stops reading: its
/// events from here on are what its policy lets through.
async fn flood(
    server: &TestServer,
    hub: &Hub<&'static str>,
    slow: &mut LiveEvents,
) -> Vec<justsse::client::MessageEvent> {
    let (_, mut healthy) = justsse_tests::events(server.addr, "/healthy").await;
    let subscribed = async {
        while hub.subscribers(&"prices").await.map_or(0, |p| p.here) < 2 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(justsse_tests::DEADLINE, subscribed)
        .await
        .expect("both subscribed");
    hub.publish(&"prices", price(0)).await.expect("published");
    let first = slow.next().await.expect("the first price");
    assert_eq!(n_of(&first), 0);
    let publisher = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for n in 1..PUBLISHED {
                hub.publish(&"prices", price(n)).await.expect("published");
            }
        })
    };
    for n in 0..PUBLISHED {
        let event = healthy
            .next()
            .await
            .expect("the healthy client gets every price");
        assert_eq!(n_of(&event), n, "in order, none missed");
    }
    publisher.await.expect("publishes");
    vec![first]
}

async fn fixture() -> (TestServer, Hub<&'static str>) {
    let hub: Hub<&'static str> = Hub::memory(MemoryConfig {
        replay: 100_000,
        topic_bytes: 256 << 20,
        total_bytes: 512 << 20,
        ..MemoryConfig::default()
    });
    let app = App::new().controller(Prices { hub: hub.clone() });
    (
        TestServer::start(app.into_router().expect("builds")).await,
        hub,
    )
}

/// The events the slow client got before it stalled: in order from 0.
fn in_order_until_the_stall(events: &[justsse::client::MessageEvent]) -> usize {
    let mut n = 0;
    while n < events.len() && events[n].event_type == "price" && n_of(&events[n]) == n as u64 {
        n += 1;
    }
    assert!(
        (n as u64) < PUBLISHED,
        "the client did stall ({n} in order)"
    );
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_skips_what_a_stalled_client_missed_and_goes_on_live() {
    let (server, hub) = fixture().await;
    let mut events = LiveEvents::new(stalled(server.addr, "/resync").await);
    let mut got = flood(&server, &hub, &mut events).await;
    let newest = hub.position(&"prices").await.expect("a position");
    // Each time it is found behind, one resync carrying the newest id then;
    // in between, what it can take, in order; until it has caught up.
    assert!(read_until(&mut events, &mut got, |e| e.last_event_id == newest).await);
    let stalled_at = in_order_until_the_stall(&got);
    assert_eq!(
        got[stalled_at].event_type, RESYNC,
        "the prices in order, then a resync"
    );
    let mut after = 0;
    for event in &got[stalled_at..] {
        if event.event_type == RESYNC {
            // What follows a resync is newer than what it skipped to.
            after = event
                .last_event_id
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a hub id");
        } else {
            assert!(
                n_of(event) >= after,
                "{} after a resync to {after}",
                n_of(event)
            );
        }
    }
    let skipped = PUBLISHED as usize - got.iter().filter(|e| e.event_type == "price").count();
    assert!(
        skipped * 2 > PUBLISHED as usize,
        "most of the backlog skipped: {skipped}"
    );
    // Then live events.
    hub.publish(&"prices", Event::named("after").data("live"))
        .await
        .expect("published");
    assert_eq!(events.next().await.expect("live").event_type, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_ends_a_stalled_stream_and_its_cursor_resumes_it() {
    let (server, hub) = fixture().await;
    let mut events = LiveEvents::new(stalled(server.addr, "/disconnect").await);
    let mut got = flood(&server, &hub, &mut events).await;
    assert!(
        !read_until(&mut events, &mut got, |_| false).await,
        "the stream ended"
    );
    let stalled_at = in_order_until_the_stall(&got);
    assert_eq!(
        stalled_at,
        got.len(),
        "nothing but the prices in order, then the end"
    );
    let cursor = got
        .last()
        .map(|e| e.last_event_id.clone())
        .unwrap_or_default();

    // The client comes back with its cursor: the rest, from where it was.
    let resumed = justsse_tests::send(
        server.addr,
        request("GET", "/healthy")
            .header("accept", "text/event-stream")
            .header("last-event-id", cursor)
            .body(Full::<Bytes>::default())
            .expect("a request"),
    )
    .await;
    let mut resumed = LiveEvents::new(resumed);
    let next = resumed.next().await.expect("replayed");
    assert_eq!(
        n_of(&next),
        stalled_at as u64,
        "resumed right after the last it got"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflate_keeps_the_newest_price_per_symbol() {
    let (server, hub) = fixture().await;
    let mut events = LiveEvents::new(stalled(server.addr, "/conflate").await);
    let mut got = flood(&server, &hub, &mut events).await;
    // Not keyed: kept, after the newest prices.
    hub.publish(&"prices", Event::named("after").data("live"))
        .await
        .expect("published");
    assert!(read_until(&mut events, &mut got, |event| event.event_type == "after").await);
    let stalled_at = in_order_until_the_stall(&got);
    let rest = &got[stalled_at..got.len() - 1];
    assert!(
        rest.iter().all(|e| e.event_type == "price"),
        "no resync: {:?}",
        rest.first()
    );
    // The backlog ends with the newest price of each symbol, each once.
    let newest = |symbol: &str| {
        let i = SYMBOLS.iter().position(|s| *s == symbol).expect("a symbol") as u64;
        let last = PUBLISHED - 1;
        last - (last + SYMBOLS.len() as u64 - i) % SYMBOLS.len() as u64
    };
    let tail = &rest[rest.len().saturating_sub(SYMBOLS.len())..];
    let mut symbols: Vec<String> = tail.iter().map(symbol_of).collect();
    assert!(
        tail.iter().all(|e| n_of(e) == newest(&symbol_of(e))),
        "the newest of each"
    );
    symbols.sort();
    symbols.dedup();
    assert_eq!(symbols.len(), SYMBOLS.len(), "every symbol once");
    let backlog = PUBLISHED as usize - stalled_at;
    assert!(
        rest.len() * 4 < backlog,
        "most of the backlog was conflated away: {} sent of {backlog}",
        rest.len()
    );
}

#[test]
fn each_action_is_counted_by_policy() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let counted = metrics::with_local_recorder(&recorder, || {
        let hub: Hub<&str> = Hub::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            for policy in [
                SlowConsumer::Resync { max_lag: 2 },
                SlowConsumer::Disconnect { max_lag: 2 },
                SlowConsumer::Conflate { max_lag: 2 },
            ] {
                let mut subscription = hub.subscribe(&"t", None).await.slow_consumer(policy);
                for n in 0..5 {
                    hub.publish(&"t", Event::new().data(n.to_string()).key("same"))
                        .await
                        .expect("published");
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), subscription.next()).await;
            }
        });
        snapshotter.snapshot().into_vec()
    });
    let mut by_policy: HashMap<String, u64> = HashMap::new();
    for (key, _, _, value) in counted {
        if key.key().name() == "justsse_slow_consumer_total" {
            let policy = key
                .key()
                .labels()
                .find(|l| l.key() == "policy")
                .expect("labelled")
                .value()
                .to_owned();
            if let metrics_util::debugging::DebugValue::Counter(n) = value {
                *by_policy.entry(policy).or_default() += n;
            }
        }
    }
    assert_eq!(by_policy.get("resync"), Some(&1), "{by_policy:?}");
    assert_eq!(by_policy.get("disconnect"), Some(&1), "{by_policy:?}");
    assert!(
        by_policy.get("conflate").is_some_and(|n| *n >= 4),
        "four older events of one key dropped: {by_policy:?}"
    );
}
