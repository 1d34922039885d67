//! `bench --guard`: the regression guard, under two minutes. Idle memory per
//! stream, JSON server CPU per request, and paced fan-out (a fixed rate per
//! subscriber, as a real service publishes) server CPU per delivered event,
//! for raw hyper on `hyper::server::conn::http1` (the floor), axum and
//! justsse, as ratios to the floor.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use bench::{await_deliveries, collect_latencies, cpu_micros, quantile_ms};

use crate::{idle_memory, json_load, publish_query, spawn_server, subscribe, wait_for};

const FLOOR: &str = "hyper-http1";
const SERVERS: [&str; 3] = [FLOOR, "axum", "justsse"];

/// One figure of a [`Guarded`].
type Figure = fn(&Guarded) -> f64;

/// What one server measured.
#[derive(Default, Clone, Copy)]
struct Guarded {
    idle_bytes: f64,
    json_cpu_us: f64,
    paced_small_cpu_us: f64,
    paced_small_p99_ms: f64,
    paced_large_cpu_us: f64,
    paced_large_p99_ms: f64,
}

/// What a paced fan-out measured.
pub(crate) struct Paced {
    /// Server CPU µs per delivered event.
    pub(crate) cpu_us: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

/// Server CPU per delivered event and the latencies, with `subs`
/// subscribers receiving `per_second` events a second for `seconds`.
pub(crate) async fn paced(
    addr: SocketAddr,
    pid: u32,
    subs: usize,
    per_second: u64,
    seconds: u64,
) -> Paced {
    let events = per_second * seconds;
    let subscribers = subscribe(addr, subs, Arc::new(AtomicU64::new(events))).await;
    let counting = TaskClock::count(pid);
    let cpu_before = cpu_micros(pid);
    let started = Instant::now();
    publish_query(
        addr,
        &format!("count={events}&every_ms={}", 1000 / per_second),
    )
    .await;
    let (delivered, _) =
        await_deliveries(&subscribers.received, events * subs as u64, started).await;
    let cpu = cpu_micros(pid).saturating_sub(cpu_before);
    if let Some(nanos) = counting.and_then(TaskClock::done) {
        eprintln!(
            "    {subs} x {per_second}/s: {:.3} µs CPU per delivered event (task-clock)",
            nanos as f64 / 1000.0 / delivered.max(1) as f64
        );
    }
    let latencies = collect_latencies(subscribers.tasks).await;
    if delivered < events * subs as u64 {
        eprintln!("    delivered {delivered} of {}", events * subs as u64);
    }
    Paced {
        cpu_us: cpu as f64 / delivered.max(1) as f64,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    }
}

/// `GUARD_PERF=1`: the server's CPU time over a scenario in nanoseconds
/// (`task-clock` of `perf stat` attached to it), finer than the 10 ms ticks
/// of `/proc`, for comparing two builds.
struct TaskClock {
    perf: std::process::Child,
    out: std::path::PathBuf,
}

impl TaskClock {
    fn count(pid: u32) -> Option<Self> {
        std::env::var_os("GUARD_PERF")?;
        let out = std::env::temp_dir().join(format!("guard-perf-{pid}.csv"));
        let perf = std::process::Command::new("perf")
            .args(["stat", "-x,", "-e", "task-clock", "-o"])
            .arg(&out)
            .args(["-p", &pid.to_string()])
            .spawn()
            .ok()?;
        // perf attaches before the scenario starts.
        std::thread::sleep(Duration::from_millis(300));
        Some(Self { perf, out })
    }

    fn done(mut self) -> Option<u64> {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.perf.id().to_string()])
            .status();
        let _ = self.perf.wait();
        let text = std::fs::read_to_string(&self.out).ok()?;
        text.lines()
            .find(|line| line.contains("task-clock"))?
            .split(',')
            .next()?
            .parse::<f64>()
            .ok()
            .map(|ms| (ms * 1e6) as u64)
    }
}

/// Server CPU µs per `GET /json`, 50 connections for `seconds`.
async fn json_cpu(addr: SocketAddr, pid: u32, seconds: u64) -> f64 {
    let counting = TaskClock::count(pid);
    let cpu_before = cpu_micros(pid);
    let started = Instant::now();
    let rps = json_load(addr, 50, seconds).await;
    let requests = rps * started.elapsed().as_secs_f64().min(seconds as f64);
    if let Some(nanos) = counting.and_then(TaskClock::done) {
        eprintln!(
            "    JSON: {:.3} µs CPU per request (task-clock)",
            nanos as f64 / 1000.0 / requests.max(1.0)
        );
    }
    cpu_micros(pid).saturating_sub(cpu_before) as f64 / requests.max(1.0)
}

async fn measure(name: &str, port: u16) -> std::io::Result<Guarded> {
    let idle_bytes = idle_memory(name, port, 10_000).await?;
    let mut server = spawn_server(name, port)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(addr).await;
    let pid = server.id();
    let json_cpu_us = json_cpu(addr, pid, 3).await;
    let small = paced(addr, pid, 1_000, 100, 4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let large = paced(addr, pid, 10_000, 10, 4).await;
    let _ = server.kill();
    let _ = server.wait();
    Ok(Guarded {
        idle_bytes,
        json_cpu_us,
        paced_small_cpu_us: small.cpu_us,
        paced_small_p99_ms: small.p99_ms,
        paced_large_cpu_us: large.cpu_us,
        paced_large_p99_ms: large.p99_ms,
    })
}

/// The median of `values` and, of more than one, their spread (min-max).
fn summary(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    match values.as_slice() {
        [low, .., high] => format!("{median:.2} ({low:.2}-{high:.2})"),
        _ => format!("{median:.2}"),
    }
}

/// `runs` rounds, the three servers measured one after another in each; with
/// more than one round each cell is the median and the spread (min-max).
pub(crate) async fn run(runs: usize) -> std::io::Result<()> {
    let started = Instant::now();
    let mut rounds: Vec<[Guarded; 3]> = Vec::new();
    // GUARD_SERVERS=a,b,c: three other servers in the three columns, such
    // as `justsse@/path/to/an/older/bench-server` beside `justsse` to compare
    // two builds; GUARD_ONLY=justsse (or a list) skips the others (zeros).
    let chosen: Vec<String> = match std::env::var("GUARD_SERVERS") {
        Ok(list) => list.split(',').map(str::to_owned).collect(),
        Err(_) => SERVERS.iter().map(|s| (*s).to_owned()).collect(),
    };
    if chosen.len() != 3 {
        return Err(std::io::Error::other("GUARD_SERVERS names three servers"));
    }
    let only = std::env::var("GUARD_ONLY").ok();
    for round in 0..runs.max(1) {
        let mut all = [Guarded::default(); 3];
        for (i, name) in chosen.iter().enumerate() {
            if only
                .as_deref()
                .is_some_and(|only| !only.split(',').any(|one| one == name))
            {
                continue;
            }
            eprintln!("round {}: {name}:", round + 1);
            all[i] = measure(name, 3400 + i as u16).await?;
        }
        rounds.push(all);
    }
    if !crate::target().suffix.is_empty() {
        println!("On the tickets app as each framework's users write it (`--app`):\n");
    }
    let [a, b, c] = [&chosen[0], &chosen[1], &chosen[2]].map(|n| n.replace('-', " "));
    println!("| scenario | {a} | {b} | {c} | {c} / {a} | {c} / {b} |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let rows: [(&str, Figure); 6] = [
        ("memory per idle stream at 10,000, bytes", |g| g.idle_bytes),
        (
            "JSON GET, server CPU µs per request (50 connections)",
            |g| g.json_cpu_us,
        ),
        (
            "paced fan-out, 1,000 subscribers x 100 events/s, server CPU µs per event",
            |g| g.paced_small_cpu_us,
        ),
        ("paced fan-out, 1,000 x 100/s, p99 latency ms", |g| {
            g.paced_small_p99_ms
        }),
        (
            "paced fan-out, 10,000 subscribers x 10 events/s, server CPU µs per event",
            |g| g.paced_large_cpu_us,
        ),
        ("paced fan-out, 10,000 x 10/s, p99 latency ms", |g| {
            g.paced_large_p99_ms
        }),
    ];
    for (label, pick) in rows {
        let cell = |server: usize| summary(rounds.iter().map(|r| pick(&r[server])).collect());
        // Ratios per round, so a noisy round moves both servers alike.
        let ratio = |other: usize| {
            summary(
                rounds
                    .iter()
                    .map(|r| pick(&r[2]) / pick(&r[other]).max(1e-9))
                    .collect(),
            )
        };
        println!(
            "| {label} | {} | {} | {} | {} | {} |",
            cell(0),
            cell(1),
            cell(2),
            ratio(0),
            ratio(1)
        );
    }
    println!(
        "\n({} round(s), {:.0} s; CPU from /proc/PID/stat in 10 ms ticks)",
        rounds.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
