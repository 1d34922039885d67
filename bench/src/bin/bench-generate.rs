//! Streams that start with a POST, side by side: 1,000 concurrent
//! `POST /v1/chat/completions` streams of 50 tokens (a token every 20 ms, the
//! same JSON chunk per token) against justsse (`#[post(.., stream)]` and
//! `stream!`) and axum (`Sse` over an `async_stream`; as served by default, and
//! with `tcp_nodelay` as justsse serves), each server in its own
//! process: tokens delivered per second, server CPU per token, and resident
//! memory per open generation.
//!
//! ```sh
//! cargo build --release -p bench && target/release/bench-generate
//! ```
//!
//! About 20 seconds. All traffic stays on 127.0.0.1; every loop is bounded.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench::attacker::rss_kib;
use bench::cpu_micros;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

const STREAMS: usize = 1_000;
const TOKENS: u32 = 50;
const PACE: Duration = Duration::from_millis(20);
const BODY: &str =
    r#"{"model":"fake-1","stream":true,"messages":[{"role":"user","content":"go"}]}"#;

/// The JSON of token `n`'s chunk, the same for both servers.
fn chunk(n: u32) -> String {
    format!(
        r#"{{"object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":" w{n}"}}}}]}}"#
    )
}

mod justsse_server {
    use justsse::prelude::*;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Request {
        #[allow(dead_code)]
        model: String,
    }

    struct Api;

    #[controller("/v1")]
    impl Api {
        #[post("/chat/completions", stream, keep_alive = off)]
        async fn chat(&self, Json(_request): Json<Request>) -> impl EventStream {
            stream! {
                for n in 0..super::TOKENS {
                    tokio::time::sleep(super::PACE).await;
                    yield Event::new().data(super::chunk(n));
                }
                yield Event::done();
            }
        }
    }

    pub(crate) async fn serve(port: u16) {
        let app = App::new().controller(Api);
        let _ = app.serve(format!("127.0.0.1:{port}")).await;
    }
}

mod axum_server {
    use std::convert::Infallible;

    use axum::response::sse::{Event, Sse};

    #[derive(serde::Deserialize)]
    struct Request {
        #[allow(dead_code)]
        model: String,
    }

    async fn chat(
        axum::Json(_request): axum::Json<Request>,
    ) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
        Sse::new(async_stream::stream! {
            for n in 0..super::TOKENS {
                tokio::time::sleep(super::PACE).await;
                yield Ok(Event::default().data(super::chunk(n)));
            }
            yield Ok(Event::default().data("[DONE]"));
        })
    }

    /// axum as its docs serve it; with `nodelay`, Nagle's algorithm off as
    /// justsse has it (small token writes otherwise wait for the peer's ACK).
    pub(crate) async fn serve(port: u16, nodelay: bool) {
        let app = axum::Router::new().route("/v1/chat/completions", axum::routing::post(chat));
        let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await else {
            return;
        };
        if nodelay {
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        } else {
            let _ = axum::serve(listener, app).await;
        }
    }
}

fn spawn(server: &str) -> std::io::Result<(Child, SocketAddr)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(std::env::current_exe()?)
        .args(["serve", server, &port.to_string()])
        .stdout(Stdio::null())
        .spawn()?;
    Ok((child, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// One POST stream read to its end; the tokens it carried.
async fn one_stream(addr: SocketAddr, tokens: Arc<AtomicU64>) -> Option<()> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    let req = hyper::Request::post("/v1/chat/completions")
        .header("host", "bench")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .ok()?;
    let mut body = sender.send_request(req).await.ok()?.into_body();
    while let Some(frame) = body.frame().await {
        let data = frame.ok()?.into_data().unwrap_or_default();
        let count = data.windows(6).filter(|w| w == b"delta\"").count() as u64;
        tokens.fetch_add(count, Ordering::Relaxed);
    }
    Some(())
}

struct Run {
    tokens: u64,
    seconds: f64,
    cpu_us_per_token: f64,
    kib_per_generation: f64,
}

async fn run(server: &str) -> std::io::Result<Run> {
    let (mut child, addr) = spawn(server)?;
    let started = Instant::now();
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{server} did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id();
    let (rss_before, cpu_before) = (rss_kib(pid), cpu_micros(pid));
    let tokens = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut streams = tokio::task::JoinSet::new();
    for _ in 0..STREAMS {
        streams.spawn(one_stream(addr, tokens.clone()));
    }
    // Midway every generation is open: the memory they hold.
    tokio::time::sleep(PACE * TOKENS / 2).await;
    let rss_open = rss_kib(pid);
    let _ = tokio::time::timeout(Duration::from_secs(60), streams.join_all()).await;
    let seconds = began.elapsed().as_secs_f64();
    let cpu = cpu_micros(pid) - cpu_before;
    let _ = child.kill();
    let _ = child.wait();
    let tokens = tokens.load(Ordering::Relaxed);
    Ok(Run {
        tokens,
        seconds,
        cpu_us_per_token: cpu as f64 / tokens.max(1) as f64,
        kib_per_generation: rss_open.saturating_sub(rss_before) as f64 / STREAMS as f64,
    })
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.get(1).map(String::as_str) == Some("serve") {
        let port: u16 = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(3000);
        runtime.block_on(async {
            match args.get(2).map(String::as_str) {
                Some("axum") => axum_server::serve(port, false).await,
                Some("axum-nodelay") => axum_server::serve(port, true).await,
                _ => justsse_server::serve(port).await,
            }
        });
        return Ok(());
    }
    println!(
        "{STREAMS} concurrent POST streams x {TOKENS} tokens, a token every {} ms, one run\n",
        PACE.as_millis()
    );
    println!(
        "| server | tokens delivered | seconds | tokens/s | server CPU per token, us | KiB per open generation |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut rows = Vec::new();
    for server in ["justsse", "axum", "axum-nodelay"] {
        let run = runtime.block_on(run(server))?;
        println!(
            "| {server} | {} of {} | {:.2} | {:.0} | {:.2} | {:.1} |",
            run.tokens,
            STREAMS as u64 * u64::from(TOKENS),
            run.seconds,
            run.tokens as f64 / run.seconds,
            run.cpu_us_per_token,
            run.kib_per_generation
        );
        rows.push(run);
    }
    if let [ours, _, theirs] = rows.as_slice() {
        println!(
            "\njustsse/axum-nodelay: CPU per token {:.2}x, memory per generation {:.2}x",
            ours.cpu_us_per_token / theirs.cpu_us_per_token,
            ours.kib_per_generation / theirs.kib_per_generation.max(0.001)
        );
    }
    Ok(())
}
