//! Shared by the bench servers and the load client: the scenario's payloads.

pub mod attacker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch: the send stamp carried by each event.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The JSON every server answers on `GET /json`.
#[derive(serde::Serialize)]
pub struct Hello {
    /// A greeting.
    pub message: &'static str,
    /// A number.
    pub n: u32,
}

/// The data of event `n`, stamped now: `{"t":<micros>,"n":<n>,"pad":"..."}`.
pub fn event_data(n: u64) -> String {
    format!(r#"{{"t":{},"n":{n},"pad":"{}"}}"#, now_micros(), PAD)
}

/// Padding that brings an event to about 100 bytes on the wire.
pub const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// The send stamp of one encoded event (`"t":<micros>` in its data).
pub fn stamp_of(event: &[u8]) -> Option<u64> {
    let at = event.windows(4).position(|w| w == b"\"t\":")? + 4;
    let digits = event[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&event[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// CPU time (user + system) process `pid` has used, in microseconds, from
/// `/proc/PID/stat` (clock ticks of 10 ms; 0 where there is no `/proc`).
pub fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) * 10_000
}

/// The resident memory of process `pid`, in bytes (0 when it cannot be read):
/// `VmRSS`, or the field of `/proc/<pid>/status` that `RSS_FIELD` names
/// (`RssAnon:` leaves out the code pages a run happens to touch).
pub fn rss_bytes(pid: u32) -> u64 {
    let field = std::env::var("RSS_FIELD").unwrap_or_else(|_| "VmRSS:".to_owned());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field.as_str()))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Waits until `received` reaches `expected`, nothing more arrives for 3 s
/// (losses), or 60 s pass. Returns what was delivered and over how long,
/// counted from `started` to the last delivery.
pub async fn await_deliveries(
    received: &AtomicU64,
    expected: u64,
    started: Instant,
) -> (u64, Duration) {
    let deadline = started + Duration::from_secs(60);
    let (mut last_seen, mut last_change) = (0, Instant::now());
    loop {
        let got = received.load(Ordering::Relaxed);
        if got >= expected
            || Instant::now() > deadline
            || last_change.elapsed() > Duration::from_secs(3)
        {
            break;
        }
        if got != last_seen {
            (last_seen, last_change) = (got, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let delivered = received.load(Ordering::Relaxed);
    let elapsed = if delivered >= expected {
        started.elapsed()
    } else {
        last_change.duration_since(started)
    };
    (delivered, elapsed)
}

/// The `p` quantile (0..1) of sorted latencies in µs, in milliseconds.
pub fn quantile_ms(sorted_us: &[u32], p: f64) -> f64 {
    let at = ((sorted_us.len() as f64 * p) as usize).min(sorted_us.len().saturating_sub(1));
    sorted_us.get(at).map_or(0.0, |&us| f64::from(us) / 1000.0)
}

/// Stops the subscriber tasks and gathers their latencies (µs), sorted.
pub async fn collect_latencies(tasks: Vec<tokio::task::JoinHandle<Vec<u32>>>) -> Vec<u32> {
    for task in &tasks {
        task.abort();
    }
    let mut latencies = gather_latencies(tasks).await;
    latencies.sort_unstable();
    latencies
}

/// Waits for subscriber tasks that end on their own and gathers their
/// latencies (µs), unsorted (a task that failed adds none).
pub async fn gather_latencies(tasks: Vec<tokio::task::JoinHandle<Vec<u32>>>) -> Vec<u32> {
    let mut latencies = Vec::new();
    for task in tasks {
        if let Ok(mut l) = task.await {
            latencies.append(&mut l);
        }
    }
    latencies
}
