//! `bench --soak`: the justsse bench server under a steady load and churn for
//! a long time. Steady event streams (each checks that every event arrives, in
//! order), connects and disconnects every second mixing JSON requests and
//! streams, and paced publishing; sampled over time: the server's RSS, open
//! descriptors and tokio tasks. At the end every client leaves and the
//! descriptors and tasks must come back to where they started.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use plotters::prelude::{
    BLACK, BLUE, ChartBuilder, Color, IntoDrawingArea, LineSeries, RED, SVGBackend, WHITE,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use bench::rss_bytes;

use crate::{spawn_server, take_head, wait_for};

/// How hard and how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Soak {
    pub(crate) duration: Duration,
    pub(crate) streams: usize,
    pub(crate) churn_per_s: u32,
    pub(crate) events_per_s: u32,
    pub(crate) sample_every: Duration,
}

impl Soak {
    /// Ten minutes: 2,000 steady streams, 500 connects and disconnects per
    /// second, 200 events per second.
    pub(crate) fn full(minutes: f64) -> Self {
        Soak {
            duration: Duration::from_secs_f64(minutes * 60.0),
            streams: 2_000,
            churn_per_s: 500,
            events_per_s: 200,
            sample_every: Duration::from_secs(10),
        }
    }

    /// Thirty seconds at a tenth of the load, to check the command works.
    pub(crate) fn smoke() -> Self {
        Soak {
            duration: Duration::from_secs(30),
            streams: 200,
            churn_per_s: 50,
            events_per_s: 20,
            sample_every: Duration::from_secs(2),
        }
    }
}

/// One reading of the server process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    rss: u64,
    fds: usize,
    tasks: u64,
}

/// What the steady streams saw, added up.
#[derive(Default)]
struct Steady {
    connected: AtomicU64,
    received: AtomicU64,
    /// Events skipped: an id more than one past the previous.
    lost: AtomicU64,
    /// Events out of order: an id not after the previous.
    reordered: AtomicU64,
    /// Streams that ended while they should have been open.
    dropped: AtomicU64,
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// One request on its own connection, read to its end: the body.
async fn fetch(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut socket = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.0\r\nhost: soak\r\n\r\n");
    socket.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await?;
    Ok(answer
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned()))
}

/// The server's live tokio tasks (its `GET /stats`).
async fn tasks(addr: SocketAddr) -> u64 {
    let body = fetch(addr, "/stats").await.unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|stats| stats["tasks"].as_u64())
        .unwrap_or(0)
}

async fn sample(pid: u32, addr: SocketAddr, started: Instant) -> Sample {
    Sample {
        at: started.elapsed(),
        rss: rss_bytes(pid),
        fds: fds(pid),
        tasks: tasks(addr).await,
    }
}

/// A steady stream (HTTP/1.0: the body is the events, unframed), checking
/// each event's id (`<epoch>-<n>`) follows the one before.
async fn steady_stream(addr: SocketAddr, steady: Arc<Steady>, stop: Arc<AtomicBool>) {
    let Ok(mut socket) = TcpStream::connect(addr).await else {
        steady.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let request = "GET /events HTTP/1.0\r\nhost: soak\r\naccept: text/event-stream\r\n\r\n";
    if socket.write_all(request.as_bytes()).await.is_err() {
        steady.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut head_seen = false;
    let mut last: Option<u64> = None;
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => {
                if !stop.load(Ordering::Relaxed) {
                    steady.dropped.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        if !head_seen {
            if !take_head(&mut pending) {
                continue;
            }
            head_seen = true;
            steady.connected.fetch_add(1, Ordering::Relaxed);
        }
        let mut used = 0;
        while let Some(eol) = pending[used..].iter().position(|&b| b == b'\n') {
            let line = &pending[used..used + eol];
            used += eol + 1;
            let Some(id) = line.strip_prefix(b"id: ") else {
                continue;
            };
            let Some(n) = std::str::from_utf8(id)
                .ok()
                .and_then(|id| id.rsplit_once('-'))
                .and_then(|(_, n)| n.parse::<u64>().ok())
            else {
                continue;
            };
            steady.received.fetch_add(1, Ordering::Relaxed);
            if let Some(previous) = last {
                if n <= previous {
                    steady.reordered.fetch_add(1, Ordering::Relaxed);
                } else if n > previous + 1 {
                    steady.lost.fetch_add(n - previous - 1, Ordering::Relaxed);
                }
            }
            last = Some(n);
        }
        pending.drain(..used);
    }
}

/// One connect and disconnect: a JSON request, or a stream opened, held for
/// a moment and dropped.
async fn churn_once(addr: SocketAddr, stream: bool, hold: Duration) -> bool {
    let work = async {
        if !stream {
            return fetch(addr, "/json")
                .await
                .is_ok_and(|body| body.contains("hello"));
        }
        let Ok(mut socket) = TcpStream::connect(addr).await else {
            return false;
        };
        let request = "GET /events HTTP/1.0\r\nhost: soak\r\naccept: text/event-stream\r\n\r\n";
        if socket.write_all(request.as_bytes()).await.is_err() {
            return false;
        }
        let mut buf = [0u8; 1024];
        let ok = matches!(socket.read(&mut buf).await, Ok(n) if buf[..n].starts_with(b"HTTP/1.") && buf[..n].get(9..12) == Some(b"200"));
        tokio::time::sleep(hold).await;
        ok
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .unwrap_or(false)
}

pub(crate) async fn run(soak: Soak, plot: Option<&Path>) -> std::io::Result<()> {
    let port = 3700;
    let mut server = spawn_server("justsse", port)?;
    let pid = server.id();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(addr).await;
    let started = Instant::now();
    let baseline = sample(pid, addr, started).await;
    eprintln!(
        "soak for {:.0} s: {} steady streams, {} connects/s, {} events/s; baseline {:.1} MB, {} fds, {} tasks",
        soak.duration.as_secs_f64(),
        soak.streams,
        soak.churn_per_s,
        soak.events_per_s,
        baseline.rss as f64 / 1e6,
        baseline.fds,
        baseline.tasks
    );

    let steady = Arc::new(Steady::default());
    let stop = Arc::new(AtomicBool::new(false));
    let streams: Vec<_> = (0..soak.streams)
        .map(|_| tokio::spawn(steady_stream(addr, steady.clone(), stop.clone())))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while steady.connected.load(Ordering::Relaxed) < soak.streams as u64 {
        assert!(
            Instant::now() < deadline,
            "the steady streams did not all open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Publishing: one paced request a second.
    let published = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let publisher = {
        let (published, running) = (published.clone(), running.clone());
        let every_ms = (1000 / soak.events_per_s.max(1)).max(1);
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                let path = format!("/publish?count={}&every_ms={every_ms}", soak.events_per_s);
                if let Ok(body) = fetch(addr, &path).await {
                    published.fetch_add(body.trim().parse().unwrap_or(0), Ordering::Relaxed);
                }
            }
        })
    };
    // Churn: connects at a steady pace, alternating JSON and streams.
    let churned = Arc::new(AtomicU64::new(0));
    let churn_failed = Arc::new(AtomicU64::new(0));
    let churner = {
        let (churned, failed, running) = (churned.clone(), churn_failed.clone(), running.clone());
        let period = Duration::from_secs_f64(1.0 / f64::from(soak.churn_per_s.max(1)));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n: u64 = 0;
            while running.load(Ordering::Relaxed) {
                tick.tick().await;
                n += 1;
                let (churned, failed) = (churned.clone(), failed.clone());
                // Streams held from 0 to 490 ms.
                let hold = Duration::from_millis(n * 37 % 500);
                tokio::spawn(async move {
                    match churn_once(addr, n.is_multiple_of(2), hold).await {
                        true => churned.fetch_add(1, Ordering::Relaxed),
                        false => failed.fetch_add(1, Ordering::Relaxed),
                    };
                });
            }
        })
    };

    let mut samples = vec![baseline];
    let end = started + soak.duration;
    while Instant::now() < end {
        tokio::time::sleep(soak.sample_every.min(end - Instant::now())).await;
        let s = sample(pid, addr, started).await;
        eprintln!(
            "  {:>5.0} s: RSS {:.1} MB, {} fds, {} tasks; {} events published, {} connects",
            s.at.as_secs_f64(),
            s.rss as f64 / 1e6,
            s.fds,
            s.tasks,
            published.load(Ordering::Relaxed),
            churned.load(Ordering::Relaxed)
        );
        samples.push(s);
    }
    running.store(false, Ordering::Relaxed);
    let _ = publisher.await;
    churner.abort();
    // What the last publish sent reaches every stream.
    let expected = published.load(Ordering::Relaxed) * soak.streams as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while steady.received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let loaded = sample(pid, addr, started).await;

    // Every client leaves; the server must give back what they held.
    stop.store(true, Ordering::Relaxed);
    for stream in streams {
        stream.abort();
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // churn's last holds
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut after = sample(pid, addr, started).await;
    while (after.fds > baseline.fds || after.tasks > baseline.tasks) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = sample(pid, addr, started).await;
    }
    let _ = server.kill();
    let _ = server.wait();

    // Warm-up: the first fifth of the run.
    let warm_from = soak.duration / 5;
    let warm: Vec<&Sample> = samples.iter().filter(|s| s.at >= warm_from).collect();
    let (warm_first, warm_max) = (
        warm.first().map_or(0, |s| s.rss),
        warm.iter().map(|s| s.rss).max().unwrap_or(0),
    );
    let growth = (loaded.rss as f64 / warm_first.max(1) as f64 - 1.0) * 100.0;
    let received = steady.received.load(Ordering::Relaxed);
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| load | {} steady streams, {} connects/s (JSON and streams alternating), {} events/s, {:.0} s |",
        soak.streams,
        soak.churn_per_s,
        soak.events_per_s,
        soak.duration.as_secs_f64()
    );
    println!(
        "| RSS after warm-up, at the end, highest | {:.1} MB, {:.1} MB ({growth:+.1} %), {:.1} MB |",
        warm_first as f64 / 1e6,
        loaded.rss as f64 / 1e6,
        warm_max as f64 / 1e6
    );
    println!(
        "| descriptors: baseline, loaded, after the clients left | {}, {}, {} |",
        baseline.fds, loaded.fds, after.fds
    );
    println!(
        "| tokio tasks: baseline, loaded, after the clients left | {}, {}, {} |",
        baseline.tasks, loaded.tasks, after.tasks
    );
    println!(
        "| events published; delivered to steady streams (of {expected}) | {}; {received} |",
        published.load(Ordering::Relaxed)
    );
    println!(
        "| lost, reordered, steady streams dropped | {}, {}, {} |",
        steady.lost.load(Ordering::Relaxed),
        steady.reordered.load(Ordering::Relaxed),
        steady.dropped.load(Ordering::Relaxed)
    );
    println!(
        "| connects and disconnects done, failed | {}, {} |",
        churned.load(Ordering::Relaxed),
        churn_failed.load(Ordering::Relaxed)
    );
    if let Some(plot) = plot {
        draw(&samples, plot).map_err(|err| std::io::Error::other(err.to_string()))?;
        eprintln!("wrote {}", plot.display());
    }
    let clean = steady.lost.load(Ordering::Relaxed) == 0
        && steady.reordered.load(Ordering::Relaxed) == 0
        && steady.dropped.load(Ordering::Relaxed) == 0
        && received == expected
        && after.fds <= baseline.fds
        && after.tasks <= baseline.tasks;
    if !clean {
        return Err(std::io::Error::other(
            "the soak found a loss, a leak or a drop (table above)",
        ));
    }
    Ok(())
}

/// RSS (MB) and descriptors (hundreds) over minutes.
fn draw(samples: &[Sample], out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(out, (720, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let minutes = samples
        .last()
        .map_or(1.0, |s| s.at.as_secs_f64() / 60.0)
        .max(0.1);
    let top = samples
        .iter()
        .map(|s| (s.rss as f64 / 1e6).max(s.fds as f64 / 100.0))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "justsse under soak: server RSS and descriptors",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..minutes, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("minutes")
        .y_desc("RSS, MB / descriptors, hundreds")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            samples
                .iter()
                .map(|s| (s.at.as_secs_f64() / 60.0, s.rss as f64 / 1e6)),
            BLUE.stroke_width(2),
        ))?
        .label("RSS, MB")
        .legend(|(x, y)| plotters::prelude::PathElement::new([(x, y), (x + 16, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            samples
                .iter()
                .map(|s| (s.at.as_secs_f64() / 60.0, s.fds as f64 / 100.0)),
            RED.stroke_width(2),
        ))?
        .label("descriptors / 100")
        .legend(|(x, y)| plotters::prelude::PathElement::new([(x, y), (x + 16, y)], RED));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}
