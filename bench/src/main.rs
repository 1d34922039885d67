//! Runs raw hyper, axum and justsse through the same scenarios, one after the
//! other on this machine, and prints the figures with justsse's ratios.
//!
//! ```text
//! cargo run --release -p bench            # about 3 minutes
//! cargo run --release -p bench -- --quick # smaller numbers, for a smoke run
//! cargo run --release -p bench -- --json-only
//! cargo run --release -p bench -- --guard --runs 3        # the regression guard
//! cargo run --release -p bench -- --guard --app --runs 3  # on the tickets app
//! cargo run --release -p bench -- --latency-curve --app   # p50/p99 at 1k-20k, an SVG
//! ```
//!
//! `--app` measures the tickets contract as each framework's users write it
//! (`bench-server <justsse-app|axum-app|hyper-http1-app>`: authentication, a ticket
//! looked up, a topic per ticket, a `connected` event) instead of the minimal
//! endpoints.
//!
//! Each server runs in its own process (`bench-server`), so its resident memory
//! can be read from `/proc`. Clients connect from 127.0.0.1-127.0.0.8 and speak
//! HTTP/1.0 to the event streams (no chunking to parse) and HTTP/1.1 keep-alive
//! to the JSON route. Every event carries its send time; latency is receive time
//! minus send time on the same clock.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::{await_deliveries, collect_latencies, now_micros, quantile_ms, rss_bytes, stamp_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

mod guard;
mod idle_curve;
mod latency_curve;
mod plot;
mod shutdown;
mod soak;

const IMPLS: [&str; 3] = ["hyper", "axum", "justsse"];

/// The requests the load makes: of the minimal endpoints, or of the tickets
/// app (`--app`), whose servers are named `<impl>-app`.
struct Target {
    json: &'static [u8],
    events: &'static [u8],
    publish: &'static str,
    suffix: &'static str,
}

const MINIMAL: Target = Target {
    json: b"GET /json HTTP/1.1\r\nhost: bench\r\n\r\n",
    events: b"GET /events HTTP/1.0\r\naccept: text/event-stream\r\n\r\n",
    publish: "/publish",
    suffix: "",
};

const APP: Target = Target {
    json: b"GET /tickets/1 HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer admin-token\r\n\r\n",
    events: b"GET /tickets/1/events HTTP/1.0\r\naccept: text/event-stream\r\nauthorization: Bearer admin-token\r\n\r\n",
    publish: "/tickets/1/publish",
    suffix: "-app",
};

/// This run's target: the app's with `--app`.
fn target() -> &'static Target {
    static APP_RUN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *APP_RUN.get_or_init(|| std::env::args().any(|a| a == "--app")) {
        &APP
    } else {
        &MINIMAL
    }
}

struct Plan {
    json_rounds: usize,
    json_seconds: u64,
    json_connections: usize,
    small_fanout: usize,
    small_events: u64,
    large_fanout: usize,
    large_events: u64,
}

#[derive(Default, Clone)]
struct Figures {
    json_rps: f64,
    small: Fanout,
    large: Fanout,
    connect_large_s: f64,
    idle_bytes_per_conn: f64,
}

#[derive(Default, Clone)]
struct Fanout {
    events_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    delivered: u64,
    expected: u64,
}

/// Starts `bench-server <name> <port>`. A name written `justsse@/path/to/bench-server`
/// runs that build's server instead, so another commit's build (an older
/// checkout's `target/release/bench-server`) is measured in the same run.
fn spawn_server(name: &str, port: u16) -> std::io::Result<Child> {
    let (name, server) = match name.split_once('@') {
        Some((name, path)) => (name, std::path::PathBuf::from(path)),
        None => (
            name,
            std::env::current_exe()?.with_file_name("bench-server"),
        ),
    };
    let name = format!("{name}{}", target().suffix);
    if !server.exists() {
        build_server(&server)?;
    }
    Command::new(server)
        .args([name.as_str(), &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
}

/// `cargo run -p bench` builds only the `bench` binary: build the servers
/// beside it, with the same profile.
fn build_server(server: &std::path::Path) -> std::io::Result<()> {
    eprintln!("{} is missing; building it", server.display());
    let release = server.parent().and_then(|dir| dir.file_name()) == Some("release".as_ref());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "bench", "--bin", "bench-server"]);
    if release {
        build.arg("--release");
    }
    match build.status()? {
        status if status.success() => Ok(()),
        status => Err(std::io::Error::other(format!(
            "building bench-server failed ({status}); run `cargo build --release -p bench`"
        ))),
    }
}

/// Drops a response head from the front of `pending` once it is whole;
/// whether it was.
fn take_head(pending: &mut Vec<u8>) -> bool {
    match pending.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => {
            pending.drain(..end + 4);
            true
        }
        None => false,
    }
}

async fn wait_for(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "server did not start on {addr}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Requests per second on `GET /json` over keep-alive connections.
async fn json_load(addr: SocketAddr, connections: usize, seconds: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (stop, done) = (stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(addr).await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let mut buf = vec![0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                if stream.write_all(target().json).await.is_err() {
                    return;
                }
                let mut filled = 0;
                loop {
                    let Ok(n) = stream.read(&mut buf[filled..]).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    filled += n;
                    if response_complete(&buf[..filled]) {
                        break;
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let count = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for task in tasks {
        task.abort();
    }
    count as f64 / elapsed
}

/// Whether `buf` holds a whole response (head and `Content-Length` body).
fn response_complete(buf: &[u8]) -> bool {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    buf.len() >= head_end + 4 + length
}

struct Subscribers {
    tasks: Vec<tokio::task::JoinHandle<Vec<u32>>>,
    connected_in: Duration,
    received: Arc<AtomicU64>,
}

/// Opens `n` event streams; returns once every one has its response head.
async fn subscribe(addr: SocketAddr, n: usize, expect: Arc<AtomicU64>) -> Subscribers {
    let connected = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (connected, received, expect) = (connected.clone(), received.clone(), expect.clone());
        tasks.push(tokio::spawn(async move {
            let source = Ipv4Addr::new(127, 0, 0, 1 + (i % 8) as u8);
            let mut latencies = Vec::new();
            let Ok(socket) = TcpSocket::new_v4() else {
                return latencies;
            };
            if socket.bind(SocketAddr::from((source, 0))).is_err() {
                return latencies;
            }
            let Ok(mut stream) = socket.connect(addr).await else {
                return latencies;
            };
            if stream.write_all(target().events).await.is_err() {
                return latencies;
            }
            let mut buf = vec![0u8; 16 * 1024];
            let mut pending: Vec<u8> = Vec::new();
            let mut head_seen = false;
            let mut count = 0u64;
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                if !head_seen {
                    if !take_head(&mut pending) {
                        continue;
                    }
                    head_seen = true;
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                let now = now_micros();
                // Events end with a blank line; each carries "t":<micros>.
                while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
                    if let Some(stamp) = stamp_of(&pending[..end]) {
                        latencies.push(now.saturating_sub(stamp).min(u32::MAX as u64) as u32);
                        count += 1;
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    pending.drain(..end + 2);
                }
                let want = expect.load(Ordering::Relaxed);
                if want > 0 && count >= want {
                    break;
                }
            }
            latencies
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Subscribers {
        tasks,
        connected_in: started.elapsed(),
        received,
    }
}

async fn publish(addr: SocketAddr, count: u64) {
    publish_query(addr, &format!("count={count}")).await;
}

/// `GET /publish?<query>`, until the server has published everything.
async fn publish_query(addr: SocketAddr, query: &str) {
    if let Ok(mut stream) = TcpStream::connect(addr).await {
        let request = format!(
            "GET {}?{query} HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n",
            target().publish
        );
        let _ = stream.write_all(request.as_bytes()).await;
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    }
}

/// Publishes `events` to `subs` subscribers and measures delivery.
async fn fanout(addr: SocketAddr, subs: usize, events: u64) -> (Fanout, Duration) {
    let expect = Arc::new(AtomicU64::new(events));
    let subscribers = subscribe(addr, subs, expect).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    publish(addr, events).await;
    let expected = events * subs as u64;
    let (delivered, elapsed) = await_deliveries(&subscribers.received, expected, started).await;
    let latencies = collect_latencies(subscribers.tasks).await;
    (
        Fanout {
            events_per_s: delivered as f64 / elapsed.as_secs_f64().max(1e-6),
            p50_ms: quantile_ms(&latencies, 0.50),
            p99_ms: quantile_ms(&latencies, 0.99),
            max_ms: latencies.last().map_or(0.0, |&us| us as f64 / 1000.0),
            delivered,
            expected,
        },
        subscribers.connected_in,
    )
}

/// Server memory per idle stream, `streams` of them, on a fresh server.
async fn idle_memory(name: &str, port: u16, streams: usize) -> std::io::Result<f64> {
    let mut server = spawn_server(name, port)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(addr).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_bytes(server.id());
    let idle = subscribe(addr, streams, Arc::new(AtomicU64::new(0))).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_bytes(server.id());
    for task in idle.tasks {
        task.abort();
    }
    let _ = server.kill();
    let _ = server.wait();
    Ok(after.saturating_sub(before) as f64 / streams as f64)
}

/// The streaming scenarios on a fresh server process: idle memory first (so
/// no earlier load has left freed memory for the new streams to reuse), then the
/// two fan-outs.
async fn measure_streams(
    name: &str,
    port: u16,
    plan: &Plan,
    figures: &mut Figures,
) -> std::io::Result<()> {
    let mut server = spawn_server(name, port)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(addr).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let before = rss_bytes(server.id());
    let idle = subscribe(addr, plan.large_fanout, Arc::new(AtomicU64::new(0))).await;
    figures.connect_large_s = idle.connected_in.as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_bytes(server.id());
    figures.idle_bytes_per_conn = after.saturating_sub(before) as f64 / plan.large_fanout as f64;
    eprintln!(
        "  {name}: {} idle streams connected in {:.2} s, {:.0} bytes each",
        plan.large_fanout, figures.connect_large_s, figures.idle_bytes_per_conn
    );
    for task in idle.tasks {
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    for (subs, events, slot) in [
        (plan.small_fanout, plan.small_events, &mut figures.small),
        (plan.large_fanout, plan.large_events, &mut figures.large),
    ] {
        let (fanout, _) = fanout(addr, subs, events).await;
        eprintln!(
            "  {name}: fan-out {subs} subs: {:.0} events/s, p99 {:.1} ms",
            fanout.events_per_s, fanout.p99_ms
        );
        *slot = fanout;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    Ok(())
}

/// JSON throughput with every server up at once, measured in interleaved
/// rounds (a, b, c, a, b, c, ...) so that a slow patch of the shared machine
/// does not land on one server only; the median round counts.
async fn measure_json(names: &[String], plan: &Plan, all: &mut [Figures]) -> std::io::Result<()> {
    let mut servers = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let port = 3200 + i as u16;
        servers.push((
            spawn_server(name, port)?,
            SocketAddr::from(([127, 0, 0, 1], port)),
        ));
    }
    for (_, addr) in &servers {
        wait_for(*addr).await;
    }
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..plan.json_rounds {
        for (i, (_, addr)) in servers.iter().enumerate() {
            rounds[i].push(json_load(*addr, plan.json_connections, plan.json_seconds).await);
        }
    }
    for (i, name) in names.iter().enumerate() {
        rounds[i].sort_by(f64::total_cmp);
        all[i].json_rps = rounds[i][rounds[i].len() / 2];
        eprintln!(
            "  {name}: json {:.0} req/s (median of {:?})",
            all[i].json_rps,
            rounds[i].iter().map(|r| *r as u64).collect::<Vec<_>>()
        );
    }
    for (mut server, _) in servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    Ok(())
}

fn print_table(plan: &Plan, all: &[(String, Figures)]) {
    let get = |name: &str| {
        all.iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    };
    let (hyper, axum, ours) = (get("hyper"), get("axum"), get("justsse"));
    println!("\n| scenario | raw hyper | axum | justsse | justsse / hyper | justsse / axum |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let row = |label: String, f: &dyn Fn(&Figures) -> f64, digits: usize| {
        let (h, a, j) = (f(&hyper), f(&axum), f(&ours));
        println!(
            "| {label} | {h:.digits$} | {a:.digits$} | {j:.digits$} | {:.2} | {:.2} |",
            j / h.max(1e-9),
            j / a.max(1e-9)
        );
    };
    row(
        format!(
            "JSON GET, requests/s ({} connections, median of {} interleaved rounds)",
            plan.json_connections, plan.json_rounds
        ),
        &|f| f.json_rps,
        0,
    );
    for (label, subs, pick) in [
        (
            "small",
            plan.small_fanout,
            (|f: &Figures| f.small.clone()) as fn(&Figures) -> Fanout,
        ),
        ("large", plan.large_fanout, |f: &Figures| f.large.clone()),
    ] {
        let _ = label;
        row(
            format!("fan-out to {subs}, events/s delivered"),
            &|f| pick(f).events_per_s,
            0,
        );
        row(
            format!("fan-out to {subs}, p50 latency ms"),
            &|f| pick(f).p50_ms,
            1,
        );
        row(
            format!("fan-out to {subs}, p99 latency ms"),
            &|f| pick(f).p99_ms,
            1,
        );
        row(
            format!("fan-out to {subs}, max latency ms"),
            &|f| pick(f).max_ms,
            1,
        );
        row(
            format!("fan-out to {subs}, share delivered"),
            &|f| {
                let p = pick(f);
                p.delivered as f64 / p.expected.max(1) as f64
            },
            3,
        );
    }
    row(
        format!("connect {} streams, seconds", plan.large_fanout),
        &|f| f.connect_large_s,
        2,
    );
    row(
        format!(
            "server memory per idle stream at {}, bytes",
            plan.large_fanout
        ),
        &|f| f.idle_bytes_per_conn,
        0,
    );
}

/// The number after `flag` on the command line.
fn flag_value<T: std::str::FromStr>(flag: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1)?.parse().ok()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            json_rounds: 1,
            json_seconds: 2,
            json_connections: 32,
            small_fanout: 200,
            small_events: 100,
            large_fanout: 1000,
            large_events: 20,
        }
    } else {
        Plan {
            json_rounds: 5,
            json_seconds: 2,
            json_connections: 64,
            small_fanout: 1000,
            small_events: 500,
            large_fanout: 10_000,
            large_events: 100,
        }
    };
    let started = Instant::now();
    // BENCH_IMPLS=hyper,justsse-runtime picks servers (default: the three).
    let chosen: Vec<String> = std::env::var("BENCH_IMPLS")
        .map(|list| list.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|_| IMPLS.iter().map(|s| s.to_string()).collect());
    if std::env::args().any(|a| a == "--guard") {
        // --runs N: N interleaved rounds, medians and spreads (default 1).
        let runs = flag_value("--runs").unwrap_or(1);
        return guard::run(runs).await;
    }
    if std::env::args().any(|a| a == "--soak") {
        // --smoke: 30 s at a tenth of the load; else --minutes N (default 10),
        // plotted to docs/soak.svg.
        if std::env::args().any(|a| a == "--smoke") {
            return soak::run(soak::Soak::smoke(), None).await;
        }
        let minutes = flag_value("--minutes").unwrap_or(10.0);
        return soak::run(
            soak::Soak::full(minutes),
            Some(std::path::Path::new("docs/soak.svg")),
        )
        .await;
    }
    if std::env::args().any(|a| a == "--shutdown") {
        return shutdown::run(plan.large_fanout).await;
    }
    if std::env::args().any(|a| a == "--latency-curve") {
        let runs = flag_value("--runs").unwrap_or(1);
        let out = match target().suffix {
            "" => "docs/fanout-latency.svg",
            _ => "docs/fanout-latency-app.svg",
        };
        return latency_curve::run(runs, std::path::Path::new(out)).await;
    }
    if std::env::args().any(|a| a == "--idle-curve") {
        // --runs N: the median of N at each point (default 3).
        let runs = flag_value("--runs").unwrap_or(3);
        return idle_curve::run(runs, std::path::Path::new("docs/idle-memory.svg")).await;
    }
    if std::env::args().any(|a| a == "--idle-only") {
        for (i, name) in chosen.iter().enumerate() {
            let bytes = idle_memory(name, 3100 + i as u16, plan.large_fanout).await?;
            println!(
                "{name}: {bytes:.0} bytes per idle stream at {}",
                plan.large_fanout
            );
        }
        return Ok(());
    }
    let mut figures = vec![Figures::default(); chosen.len()];
    eprintln!("JSON, interleaved rounds:");
    measure_json(&chosen, &plan, &mut figures).await?;
    let json_only = std::env::args().any(|a| a == "--json-only");
    for (i, name) in chosen.iter().enumerate() {
        if json_only {
            break;
        }
        eprintln!("{name}:");
        measure_streams(name, 3100 + i as u16, &plan, &mut figures[i]).await?;
    }
    let all: Vec<(String, Figures)> = chosen.iter().cloned().zip(figures).collect();
    print_table(&plan, &all);
    println!(
        "\n(all three measured in this run, {:.0} s; {} cores)",
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    Ok(())
}
