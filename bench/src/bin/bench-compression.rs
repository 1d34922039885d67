//! Compressed event streams measured: bytes on the wire per event against the
//! same events uncompressed (tickets events and a price-ticker feed), the
//! server's CPU per delivered event at 1,000 subscribers with and without
//! compression, the memory of an idle compressed stream, and the time to the
//! first event; and, with `--slow`, the server's memory while clients that
//! stopped reading sit under each slow-consumer policy (that healthy clients
//! beside them get every event is tests/tests/integration/slow_consumers.rs).
//!
//! ```text
//! cargo run --release -p bench --bin bench-compression          # about a minute
//! cargo run --release -p bench --bin bench-compression -- --subscribers 200
//! ```
//!
//! The server runs in a process of its own (this binary with `--serve`), so
//! its CPU time and resident memory are its own; the clients decode what they
//! receive (with the test helpers' decoder) and count events as a browser
//! parses them.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use justsse::client::Parser;
use justsse::hub::{Hub, SlowConsumer};
use justsse::prelude::*;
use justsse::response::Compression;
use justsse_tests::decode::Decoded;
use tokio::sync::broadcast;

/// The codings compared; `identity` is the uncompressed stream.
const CODINGS: [&str; 5] = ["identity", "gzip", "br", "zstd", "deflate"];

// ---------------------------------------------------------------- the server

struct Feed {
    prices: broadcast::Sender<(u64, String)>,
    comments: broadcast::Sender<(u64, String)>,
    /// The same prices through a hub, for the slow-consumer policies.
    hub: Hub<&'static str>,
}

#[derive(serde::Deserialize)]
struct PolicyQuery {
    policy: String,
}

#[controller("/")]
impl Feed {
    /// A price ticker: one event per price change.
    #[sse("/prices")]
    async fn prices(&self) -> impl EventStream {
        let mut prices = self.prices.subscribe();
        stream! {
            while let Ok((id, price)) = prices.recv().await {
                yield Event::named("price").id(id).data(price);
            }
        }
    }

    /// The ticker under a slow-consumer policy (`?policy=resync|disconnect|conflate`).
    #[sse("/policed")]
    async fn policed(&self, query: Query<PolicyQuery>) -> impl EventStream {
        let policy = match query.0.policy.as_str() {
            "disconnect" => SlowConsumer::Disconnect { max_lag: 256 },
            "conflate" => SlowConsumer::Conflate { max_lag: 256 },
            _ => SlowConsumer::Resync { max_lag: 256 },
        };
        let mut prices = self
            .hub
            .subscribe(&"prices", None)
            .await
            .slow_consumer(policy);
        stream! {
            while let Some(price) = prices.next().await {
                yield price;
            }
        }
    }

    /// A ticket's stream as the tickets example sends it: `connected` with
    /// the ticket, then each comment.
    #[sse("/tickets/1/events")]
    async fn tickets(&self) -> impl EventStream {
        let mut comments = self.comments.subscribe();
        stream! {
            yield Event::named("connected").data(r#"{"id":1,"subject":"printer on fire","status":"open","assignee":"ops"}"#);
            while let Ok((id, comment)) = comments.recv().await {
                yield Event::named("comment").id(id).data(comment);
            }
        }
    }
}

/// The `n`th price of the ticker: a few symbols, prices moving a little.
fn price(n: u64) -> String {
    const SYMBOLS: [&str; 8] = [
        "ACME", "GLOBX", "INITECH", "UMBRL", "HOOLI", "STARK", "WAYNE", "TYRELL",
    ];
    let symbol = SYMBOLS[(n % 8) as usize];
    let cents = 10_000 + (n * 7919 % 900);
    format!(
        r#"{{"symbol":"{symbol}","price":{}.{:02},"change":{}.{:02},"volume":{},"at":"2026-12-04T19:{:02}:{:02}Z"}}"#,
        cents / 100,
        cents % 100,
        n % 3,
        n * 37 % 100,
        1_000 + n * 13 % 50_000,
        n / 60 % 60,
        n % 60
    )
}

/// The `n`th comment of a ticket, as the tickets example serializes one.
fn comment(n: u64) -> String {
    const BODIES: [&str; 5] = [
        "on it, rebooting the printer",
        "still on fire, calling facilities",
        "facilities say the extinguisher is on its way",
        "fire is out; the printer is not",
        "ordered a new printer, closing next week",
    ];
    format!(
        r#"{{"id":{},"ticket":1,"author":"agent-{}","body":"{}","created_at":"2026-12-04T19:{:02}:{:02}Z"}}"#,
        n + 1,
        n % 4,
        BODIES[(n % 5) as usize],
        n / 60 % 60,
        n % 60
    )
}

async fn serve(port: u16) {
    let (prices, _) = broadcast::channel(4096);
    let (comments, _) = broadcast::channel(4096);
    let hub: Hub<&'static str> = Hub::new();
    let publish = (prices.clone(), comments.clone(), hub.clone());
    let app = App::new()
        .config(ServerConfig::default().compression(Compression::default().max_streams(100_000)))
        .controller(Feed {
            prices,
            comments,
            hub,
        });
    // Publishing is driven over stdin: `<kind> <count> <per second>` a line.
    tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut next = 0u64;
        while let Ok(Some(line)) = lines.next_line().await {
            let mut words = line.split_whitespace();
            let kind = words.next().unwrap_or("price").to_owned();
            let count: u64 = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let rate: u64 = words.next().and_then(|n| n.parse().ok()).unwrap_or(100);
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
            for _ in 0..count {
                tick.tick().await;
                next += 1;
                match kind.as_str() {
                    "comment" => {
                        let _ = publish.1.send((next, comment(next)));
                    }
                    "hub" => {
                        let text = price(next);
                        let symbol = text[11..].split('"').next().unwrap_or("").to_owned();
                        let event = Event::named("price").data(text).key(symbol);
                        let _ = publish.2.publish(&"prices", event).await;
                    }
                    _ => {
                        let _ = publish.0.send((next, price(next)));
                    }
                }
            }
        }
    });
    app.serve(format!("127.0.0.1:{port}"))
        .await
        .expect("serves");
}

// ---------------------------------------------------------------- the client

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start() -> Self {
        let port = justsse_tests::nginx::free_port();
        let child = Command::new(std::env::current_exe().expect("this binary"))
            .args(["--serve", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        justsse_tests::listening(port, "the bench server").await;
        Self {
            child,
            addr: ([127, 0, 0, 1], port).into(),
        }
    }

    fn publish(&mut self, kind: &str, count: u64, per_second: u64) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("its stdin");
        writeln!(stdin, "{kind} {count} {per_second}").expect("the server reads");
    }

    /// CPU time (user + system) the server has used.
    fn cpu(&self) -> Duration {
        Duration::from_micros(bench::cpu_micros(self.child.id()))
    }

    fn rss(&self) -> u64 {
        bench::rss_bytes(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One subscriber: its decoded events counted, its wire bytes kept.
struct Subscriber {
    body: Decoded,
    parser: Parser,
    events: u64,
}

impl Subscriber {
    async fn open(addr: SocketAddr, path: &str, coding: &str) -> Self {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        let request = justsse_tests::request("GET", path)
            .header("accept", "text/event-stream")
            .header("accept-encoding", coding)
            .body(Full::<Bytes>::default())
            .expect("a request");
        let response = sender.send_request(request).await.expect("a response");
        let sent = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        assert_eq!(
            sent.as_deref().unwrap_or("identity"),
            coding,
            "the server speaks {coding}"
        );
        Self {
            body: Decoded::new(response),
            parser: Parser::new(),
            events: 0,
        }
    }

    /// Reads until `events` events in all have come.
    async fn until(&mut self, events: u64) {
        while self.events < events {
            let frame = self
                .body
                .frame()
                .await
                .expect("the stream goes on")
                .expect("reads");
            if let Ok(data) = frame.into_data() {
                self.events += self.parser.feed(&data).len() as u64;
            }
        }
    }
}

async fn bytes_per_event(kind: &str, path: &str, events: u64) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    for coding in CODINGS {
        let mut server = Server::start().await;
        let mut subscriber = Subscriber::open(server.addr, path, coding).await;
        let first = if kind == "comment" { 1 } else { 0 };
        subscriber.until(first).await;
        let before = subscriber.body.wire_bytes();
        // Paced, so that each event is written (and flushed) on its own, as
        // in a live feed.
        server.publish(kind, events, 500);
        subscriber.until(first + events).await;
        let per_event = (subscriber.body.wire_bytes() - before) as f64 / events as f64;
        rows.push((coding.to_owned(), per_event));
    }
    rows
}

async fn cpu_per_event(subscribers: usize, events: u64) -> Vec<(String, f64, f64)> {
    let mut rows = Vec::new();
    for coding in ["identity", "gzip", "br", "zstd"] {
        let mut server = Server::start().await;
        let mut all = Vec::new();
        for _ in 0..subscribers {
            all.push(Subscriber::open(server.addr, "/prices", coding).await);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let done = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = all
            .into_iter()
            .map(|mut subscriber| {
                let done = done.clone();
                tokio::spawn(async move {
                    subscriber.until(events).await;
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        let cpu = server.cpu();
        let started = Instant::now();
        server.publish("price", events, 50);
        for reader in readers {
            reader.await.expect("a reader");
        }
        let elapsed = started.elapsed();
        let used = server.cpu() - cpu;
        let delivered = (subscribers as u64 * events) as f64;
        rows.push((
            coding.to_owned(),
            used.as_secs_f64() * 1e6 / delivered,
            elapsed.as_secs_f64(),
        ));
    }
    rows
}

async fn idle_memory(streams: usize) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    for coding in ["identity", "gzip", "br", "zstd"] {
        let server = Server::start().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let base = server.rss();
        let mut open = Vec::new();
        for _ in 0..streams {
            let mut subscriber = Subscriber::open(server.addr, "/tickets/1/events", coding).await;
            subscriber.until(1).await;
            open.push(subscriber);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        rows.push((
            coding.to_owned(),
            (server.rss() - base) as f64 / streams as f64,
        ));
        drop(open);
    }
    rows
}

async fn first_event(connections: usize) -> Vec<(String, f64, f64)> {
    let mut rows = Vec::new();
    let server = Server::start().await;
    for coding in ["identity", "gzip", "br", "zstd"] {
        let mut times = Vec::new();
        for _ in 0..connections {
            let started = Instant::now();
            let mut subscriber = Subscriber::open(server.addr, "/tickets/1/events", coding).await;
            subscriber.until(1).await;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        rows.push((coding.to_owned(), at(0.5), at(0.99)));
    }
    rows
}

/// The server's memory while `stalled` clients per policy stop reading and
/// `healthy` ones read everything, sampled every 10,000 events.
async fn slow_memory(stalled: usize) {
    println!("## Server memory with clients that stopped reading ({stalled} per policy)\n");
    println!("| events published (2,000/s) | server RSS, MiB |");
    println!("| ---: | ---: |");
    let mut server = Server::start().await;
    let mut stuck = Vec::new();
    for policy in ["resync", "disconnect", "conflate"] {
        for _ in 0..stalled {
            let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
            socket.set_recv_buffer_size(2048).expect("a small buffer");
            let mut stream = socket.connect(server.addr).await.expect("connects");
            let head = format!(
                "GET /policed?policy={policy} HTTP/1.1\r\nhost: b\r\naccept: text/event-stream\r\n\r\n"
            );
            tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
                .await
                .expect("sends");
            stuck.push(stream);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("| 0 | {:.1} |", server.rss() as f64 / 1048576.0);
    for round in 1..=4 {
        server.publish("hub", 10_000, 2_000);
        tokio::time::sleep(Duration::from_millis(5_300)).await;
        println!(
            "| {} | {:.1} |",
            round * 10_000,
            server.rss() as f64 / 1048576.0
        );
    }
    drop(stuck);
}

fn flag<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1))
        .and_then(|value| value.parse().ok())
}

#[tokio::main]
async fn main() {
    if let Some(port) = flag::<u16>("--serve") {
        serve(port).await;
        return;
    }
    if std::env::args().any(|arg| arg == "--slow") {
        slow_memory(100).await;
        return;
    }
    let subscribers = flag("--subscribers").unwrap_or(1_000);
    println!("## Bytes on the wire per event (paced 500/s, each event flushed on its own)\n");
    println!("| events | coding | bytes per event | of uncompressed |");
    println!("| --- | --- | ---: | ---: |");
    for (kind, path, label) in [
        ("comment", "/tickets/1/events", "tickets comments"),
        ("price", "/prices", "price ticker"),
    ] {
        let rows = bytes_per_event(kind, path, 1_000).await;
        let plain = rows[0].1;
        for (coding, bytes) in rows {
            println!(
                "| {label} | {coding} | {bytes:.1} | {:.1} % |",
                bytes * 100.0 / plain
            );
        }
    }
    println!(
        "\n## Server CPU per delivered event, {subscribers} subscribers x 100 events at 50/s\n"
    );
    println!("| coding | CPU per delivered event, us | ratio | wall, s |");
    println!("| --- | ---: | ---: | ---: |");
    let rows = cpu_per_event(subscribers, 100).await;
    let plain = rows[0].1;
    for (coding, us, wall) in rows {
        println!("| {coding} | {us:.2} | {:.2}x | {wall:.1} |", us / plain);
    }
    println!(
        "\n## Resident memory per idle stream, {subscribers} streams (after their first event)\n"
    );
    println!("| coding | bytes per stream |");
    println!("| --- | ---: |");
    for (coding, bytes) in idle_memory(subscribers).await {
        println!("| {coding} | {bytes:.0} |");
    }
    println!("\n## Time to the first event, 200 connections one after another\n");
    println!("| coding | p50 ms | p99 ms |");
    println!("| --- | ---: | ---: |");
    for (coding, p50, p99) in first_event(200).await {
        println!("| {coding} | {p50:.3} | {p99:.3} |");
    }
}
