//! justsse and axum over the same TLS stack (rustls with ring), side by side:
//! fan-out to 1,000 subscribers on 10 HTTP/2 connections, fan-out to 1,000
//! subscribers on 1,000 HTTP/1.1 connections, and full TLS handshakes per
//! second. Server CPU time per delivered event comes from `/proc/PID/stat`.
//!
//! ```text
//! cargo build --release -p bench && target/release/bench-tls [--quick]
//! ```

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench::{await_deliveries, collect_latencies, cpu_micros, now_micros, quantile_ms, stamp_of};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

const IMPLS: [&str; 2] = ["justsse", "axum"];

struct Tls {
    h2: TlsConnector,
    http1: TlsConnector,
}

impl Tls {
    async fn connect(
        connector: &TlsConnector,
        addr: SocketAddr,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        connector.connect(name, tcp).await
    }
}

fn connector(cert: &rustls::pki_types::CertificateDer<'static>, alpn: &[u8]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    let _ = roots.add(cert.clone());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    TlsConnector::from(Arc::new(config))
}

fn get(path: &str) -> hyper::Request<Empty<Bytes>> {
    hyper::Request::builder()
        .uri(format!("https://localhost{path}"))
        .header("accept", "text/event-stream")
        .body(Empty::new())
        .expect("request")
}

/// Reads one event stream, recording each event's latency (µs).
async fn read_events(
    response: hyper::Response<hyper::body::Incoming>,
    received: Arc<AtomicU64>,
    want: u64,
) -> Vec<u32> {
    let mut body = response.into_body();
    let mut pending: Vec<u8> = Vec::new();
    let mut latencies = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        let now = now_micros();
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            if let Some(stamp) = stamp_of(&pending[..end]) {
                latencies.push(now.saturating_sub(stamp).min(u64::from(u32::MAX)) as u32);
                received.fetch_add(1, Ordering::Relaxed);
            }
            pending.drain(..end + 2);
        }
        if latencies.len() as u64 >= want {
            break;
        }
    }
    latencies
}

struct Fanout {
    events_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_event: f64,
    delivered: u64,
    expected: u64,
}

/// Opens `subscribers` streams over `connections` connections (HTTP/2 when
/// there are fewer connections than streams), publishes `events`, and
/// measures their delivery.
async fn fanout(
    tls: &Tls,
    addr: SocketAddr,
    pid: u32,
    connections: usize,
    subscribers: usize,
    events: u64,
) -> Fanout {
    let received = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(subscribers);
    let per_connection = subscribers / connections;
    for _ in 0..connections {
        // HTTP/2 when streams share connections, HTTP/1.1 (one each) otherwise.
        let Some(mut sender) = open(tls, addr, per_connection > 1).await else {
            continue;
        };
        for _ in 0..per_connection {
            let Ok(response) = sender.send(get("/events")).await else {
                continue;
            };
            tasks.push(tokio::spawn(read_events(
                response,
                received.clone(),
                events,
            )));
        }
    }
    let expected = events * tasks.len() as u64;
    let cpu_before = cpu_micros(pid);
    let started = Instant::now();
    publish(tls, addr, events).await;
    let (delivered, elapsed) = await_deliveries(&received, expected, started).await;
    let cpu = cpu_micros(pid).saturating_sub(cpu_before);
    let latencies = collect_latencies(tasks).await;
    Fanout {
        events_per_s: delivered as f64 / elapsed.as_secs_f64().max(1e-6),
        p50_ms: quantile_ms(&latencies, 0.50),
        p99_ms: quantile_ms(&latencies, 0.99),
        cpu_us_per_event: cpu as f64 / delivered.max(1) as f64,
        delivered,
        expected,
    }
}

/// A client connection: HTTP/2 or HTTP/1.1.
enum Sender {
    H2(http2::SendRequest<Empty<Bytes>>),
    Http1(http1::SendRequest<Empty<Bytes>>),
}

impl Sender {
    async fn send(
        &mut self,
        req: hyper::Request<Empty<Bytes>>,
    ) -> hyper::Result<hyper::Response<hyper::body::Incoming>> {
        match self {
            Self::H2(sender) => sender.send_request(req).await,
            Self::Http1(sender) => sender.send_request(req).await,
        }
    }
}

async fn open(tls: &Tls, addr: SocketAddr, h2: bool) -> Option<Sender> {
    if h2 {
        let io = Tls::connect(&tls.h2, addr).await.ok()?;
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .initial_connection_window_size(16 << 20)
            .initial_stream_window_size(1 << 20)
            .handshake(TokioIo::new(io))
            .await
            .ok()?;
        tokio::spawn(conn);
        Some(Sender::H2(sender))
    } else {
        let io = Tls::connect(&tls.http1, addr).await.ok()?;
        let (sender, conn) = http1::handshake(TokioIo::new(io)).await.ok()?;
        tokio::spawn(conn);
        Some(Sender::Http1(sender))
    }
}

async fn publish(tls: &Tls, addr: SocketAddr, count: u64) {
    let Ok(io) = Tls::connect(&tls.http1, addr).await else {
        return;
    };
    let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(io)).await else {
        return;
    };
    tokio::spawn(conn);
    if let Ok(response) = sender
        .send_request(get(&format!("/publish?count={count}")))
        .await
    {
        let _ = response.into_body().collect().await;
    }
}

/// Full handshakes (a new connection, `GET /json`, closed) per second, by
/// `clients` concurrent clients for `seconds`.
async fn handshakes(tls: &Tls, addr: SocketAddr, clients: usize, seconds: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (connector, done) = (tls.http1.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let Ok(io) = Tls::connect(&connector, addr).await else {
                    continue;
                };
                let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(io)).await else {
                    continue;
                };
                tokio::spawn(conn);
                let mut req = get("/json");
                req.headers_mut().insert(
                    "connection",
                    hyper::header::HeaderValue::from_static("close"),
                );
                let answered = match sender.send_request(req).await {
                    Ok(response) => response.into_body().collect().await.is_ok(),
                    Err(_) => false,
                };
                if answered {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn spawn_server(
    name: &str,
    port: u16,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?.with_file_name("bench-server"))
        .args([name, &port.to_string()])
        .env("TLS_CERT", cert)
        .env("TLS_KEY", key)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
}

async fn wait_for(tls: &Tls, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Tls::connect(&tls.http1, addr).await.is_err() {
        assert!(Instant::now() < deadline, "server did not start on {addr}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Default)]
struct Figures {
    rows: Vec<(String, f64)>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (subscribers, events, seconds) = if quick { (200, 50, 2) } else { (1000, 200, 5) };
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .map_err(std::io::Error::other)?;
    let dir = std::env::temp_dir().join(format!("bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem())?;
    std::fs::write(&key_path, signing_key.serialize_pem())?;
    let tls = Tls {
        h2: connector(cert.der(), b"h2"),
        http1: connector(cert.der(), b"http/1.1"),
    };

    let mut all: Vec<(&str, Figures)> = Vec::new();
    for (i, name) in IMPLS.iter().enumerate() {
        let port = 3300 + i as u16;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut server = spawn_server(name, port, &cert_path, &key_path)?;
        wait_for(&tls, addr).await;
        let pid = server.id();
        let mut figures = Figures::default();
        let h2 = fanout(&tls, addr, pid, 10, subscribers, events).await;
        eprintln!(
            "{name}: h2 fan-out delivered {}/{}",
            h2.delivered, h2.expected
        );
        let h1 = fanout(&tls, addr, pid, subscribers, subscribers, events).await;
        eprintln!(
            "{name}: TLS HTTP/1.1 fan-out delivered {}/{}",
            h1.delivered, h1.expected
        );
        let rate = handshakes(&tls, addr, 16, seconds).await;
        for (label, fanout) in [
            ("HTTP/2, 10 connections", &h2),
            ("HTTP/1.1, one connection each", &h1),
        ] {
            figures.rows.push((
                format!("fan-out to {subscribers} over {label}, events/s delivered"),
                fanout.events_per_s,
            ));
            figures.rows.push((
                format!("fan-out to {subscribers} over {label}, server CPU µs/event"),
                fanout.cpu_us_per_event,
            ));
            figures.rows.push((
                format!("fan-out to {subscribers} over {label}, p50 latency ms"),
                fanout.p50_ms,
            ));
            figures.rows.push((
                format!("fan-out to {subscribers} over {label}, p99 latency ms"),
                fanout.p99_ms,
            ));
        }
        figures.rows.push((
            "TLS handshakes + GET /json per second (16 clients)".to_owned(),
            rate,
        ));
        let _ = server.kill();
        let _ = server.wait();
        all.push((name, figures));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("| scenario ({events} events) | justsse | axum | justsse / axum |");
    println!("| --- | ---: | ---: | ---: |");
    let (justsse, axum) = (&all[0].1, &all[1].1);
    for ((label, ours), (_, theirs)) in justsse.rows.iter().zip(&axum.rows) {
        println!(
            "| {label} | {ours:.1} | {theirs:.1} | {:.2} |",
            ours / theirs.max(1e-9)
        );
    }
    Ok(())
}
