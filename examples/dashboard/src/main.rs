//! A dashboard page served by justsse (HTML and a little JS, no build step):
//! a build's progress bar filling, and a live chart of this server's CPU and
//! memory, sampled each second, and an activity feed that follows two hub
//! topics (deploys and alerts) on one stream. All arrive over `EventSource`.
//!
//! ```text
//! cargo run -p dashboard     # then open http://127.0.0.1:3000 (PORT to change)
//! ```

use std::time::{Duration, Instant};

use justsse::prelude::*;
use serde::Serialize;

/// A build, as Pikku's build-progress example reports it.
#[derive(Clone, Serialize)]
struct Build {
    id: u32,
    percent: u8,
    state: &'static str,
}

/// One sample of this process.
#[derive(Serialize)]
struct Metrics {
    /// CPU used since the last sample, in percent of one core.
    cpu: f64,
    /// Resident memory, in MiB.
    rss_mib: f64,
}

/// CPU time (user + system) of this process in clock ticks, and its resident
/// pages, from `/proc/self/stat` and `/proc/self/statm` (Linux; zeros elsewhere).
fn process_sample() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
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
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let cpu_ticks = ticks(11) + ticks(12);
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    (cpu_ticks, pages)
}

/// Linux's clock tick rate for `/proc` times (USER_HZ), 100 on every mainstream kernel.
const TICKS_PER_SECOND: f64 = 100.0;

/// What the activity feed sends.
#[derive(SseEvent)]
enum Activity {
    /// A deploy went live (`event: deploy`, its description as a JSON string).
    Deploy(String),
    /// Something needs a look (`event: alert`).
    Alert(String),
}

/// What the metrics stream sends.
#[derive(SseEvent)]
enum Sampled {
    /// One sample (`event: metrics`).
    Metrics(Metrics),
    /// How many pages follow the activity feed, when it changes (`event:
    /// viewers`, `{"watching": n}`): the hub's presence count of its topic.
    Viewers { watching: usize },
}

/// The hub topics the activity feed follows, on one stream.
const FEED: [&str; 2] = ["deploys", "alerts"];

struct Dashboard {
    hub: Hub<&'static str>,
}

/// Made-up activity: a deploy every 2 s and an alert every 3 s.
async fn simulate(hub: Hub<&'static str>) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    for n in 1u64.. {
        every.tick().await;
        if n % 2 == 0 {
            let deploy = Activity::Deploy(format!("deploy #{} is live", n / 2));
            if let Ok(event) = deploy.to_event() {
                let _ = hub.publish(&"deploys", event).await;
            }
        }
        if n % 3 == 0 {
            let alert = Activity::Alert(format!("disk 8{}% full", n % 10));
            if let Ok(event) = alert.to_event() {
                let _ = hub.publish(&"alerts", event).await;
            }
        }
    }
}

#[controller("/")]
impl Dashboard {
    /// The page.
    #[get("/")]
    async fn page(&self) -> Html<&'static str> {
        Html(include_str!("../static/index.html"))
    }

    /// A build's state, or for an event stream its progress until done.
    #[get("/builds/:id", sse)]
    async fn build(&self, id: u32, progress: Option<Channel<Build>>) -> Json<Build> {
        if let Some(progress) = progress {
            tokio::spawn(async move {
                for step in 1..=10u8 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let percent = step * 10;
                    let state = if percent == 100 { "done" } else { "running" };
                    if progress.send(&Build { id, percent, state }).await.is_err() {
                        return;
                    }
                }
            });
        }
        Json(Build {
            id,
            percent: 0,
            state: "queued",
        })
    }

    /// Deploys and alerts on one stream: a reconnect resumes both topics where
    /// it stopped.
    #[sse("/feed", events = Activity)]
    async fn feed(&self, last: LastEventId) -> justsse::hub::Subscription {
        self.hub.subscribe_all(&FEED, last.as_deref()).await
    }

    /// This server's CPU and memory, each second, and the feed's viewers.
    #[sse("/metrics", events = Sampled)]
    async fn metrics(&self) -> impl EventStream {
        let hub = self.hub.clone();
        stream! {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            let (mut last_ticks, _) = process_sample();
            let mut last = Instant::now();
            let mut watching = None;
            loop {
                every.tick().await;
                // Every feed follows both topics: its viewers are one's subscribers.
                let now = hub.subscribers(&FEED[0]).await.map(|p| p.everywhere).ok();
                if now.is_some() && now != watching {
                    watching = now;
                    let viewers = Sampled::Viewers { watching: now.unwrap_or(0) };
                    yield viewers;
                }
                let (ticks, pages) = process_sample();
                let elapsed = last.elapsed().as_secs_f64().max(0.001);
                let cpu = (ticks.saturating_sub(last_ticks)) as f64 / TICKS_PER_SECOND / elapsed * 100.0;
                (last_ticks, last) = (ticks, Instant::now());
                let sample = Metrics { cpu, rss_mib: pages as f64 * 4096.0 / 1048576.0 };
                yield Sampled::Metrics(sample);
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let hub = Hub::new();
    tokio::spawn(simulate(hub.clone()));
    let app = App::new().controller(Dashboard { hub });
    // TLS_CERT and TLS_KEY (PEM files) set: HTTPS and HTTP/2.
    let (app, scheme) = match justsse::tls::TlsConfig::from_env()? {
        Some(tls) => (app.tls(tls), "https"),
        None => (app, "http"),
    };
    println!("dashboard on {scheme}://127.0.0.1:{port}\n");
    print!("{}", app.routes());
    app.serve(format!("127.0.0.1:{port}")).await
}
