//! The memory attacks of issue 33 against the tickets example as the README
//! runs it (release, defaults, no Redis), each on a fresh process: the
//! server's resident memory before, at the peak and after, what the attacking
//! requests were told, and what a normal client (`GET /tickets` every 100 ms)
//! saw meanwhile.
//!
//! ```sh
//! cargo build --release -p tickets -p bench && target/release/memory-attack
//! target/release/memory-attack comments churn no-read   # some of them
//! ```
//!
//! - `comments`: 300 comments of 1 MB on one ticket, then 100 on each of three
//!   more; then the most the limits let through, 4,500 comments of 4 KiB.
//! - `churn`: 5 HTTP/2 connections opening `/status` streams, 190 at a time,
//!   each dropped as soon as its headers arrive, for 10 s.
//! - `no-read`: 5 clients (127.0.0.2-6), each one HTTP/2 connection of 200
//!   admin streams with the largest windows, never reading; 1,000 comments of
//!   4 KiB; then the write timeout (30 s) must close them. `no-read-wide`:
//!   the same with 32 clients of 32 streams each (all within the example's
//!   per-client limit: 1,024 streams).
//!
//! About two minutes in all. Every loop is bounded in count and time, and all
//! traffic goes to 127.0.0.0/8.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bench::attacker::{Normal, normal_client, rss_kib, start_tickets};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use justsse_tests::raw_h2;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// Counts of what requests were told (their status lines, or failures).
type Told = BTreeMap<String, u64>;

/// One request on a new connection; its status line.
async fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> String {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(head.as_bytes()).await.ok()?;
        // The server may refuse from the head and close: the rest is moot.
        let _ = stream.write_all(body).await;
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        text.lines().next().map(str::to_owned)
    };
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Ok(Some(line)) => line,
        Ok(None) => "failed (reset or nothing)".to_owned(),
        Err(_) => "timed out after 10 s".to_owned(),
    }
}

/// `POST path` with a JSON `body`.
async fn post(addr: SocketAddr, path: &str, body: &str) -> String {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    exchange(addr, &head, body.as_bytes()).await
}

/// A comment of `bytes` bytes as JSON.
fn comment(bytes: usize) -> String {
    format!(r#"{{"body":"{}"}}"#, "c".repeat(bytes))
}

async fn open_tickets(addr: SocketAddr, count: usize) {
    for _ in 0..count {
        let line = post(addr, "/tickets", r#"{"subject":"attacked"}"#).await;
        assert!(line.contains("201"), "a ticket: {line}");
    }
}

async fn comments(addr: SocketAddr) -> Told {
    let mut told = Told::new();
    open_tickets(addr, 4).await;
    let big = comment(1_000_000);
    for (ticket, count) in [(1, 300), (2, 100), (3, 100), (4, 100)] {
        for _ in 0..count {
            let line = post(addr, &format!("/tickets/{ticket}/comments"), &big).await;
            *told.entry(format!("1 MB: {line}")).or_default() += 1;
        }
    }
    let most = comment(4096);
    for n in 0..4_500 {
        let line = post(addr, &format!("/tickets/{}/comments", n % 4 + 1), &most).await;
        *told.entry(format!("4 KiB: {line}")).or_default() += 1;
    }
    told
}

/// An HTTP/2 connection's request sender, its connection driven in the
/// background; `None` if the server cannot be reached.
async fn h2_sender(
    addr: SocketAddr,
) -> Option<hyper::client::conn::http2::SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let (sender, conn) = hyper::client::conn::http2::handshake::<_, _, Empty<Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

async fn churn(addr: SocketAddr) -> Told {
    let told = Arc::new(Mutex::new(Told::new()));
    let until = Instant::now() + Duration::from_secs(10);
    let mut connections = JoinSet::new();
    for _ in 0..5 {
        let told = told.clone();
        connections.spawn(async move {
            while Instant::now() < until {
                // A connection the server closed (it sends GOAWAY to clients
                // resetting too many streams) is replaced, as an attacker would.
                let Some(sender) = h2_sender(addr).await else {
                    *told
                        .lock()
                        .expect("lock")
                        .entry("connect failed".to_owned())
                        .or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                *told
                    .lock()
                    .expect("lock")
                    .entry("connections".to_owned())
                    .or_default() += 1;
                while Instant::now() < until && !sender.is_closed() {
                    let mut batch = JoinSet::new();
                    for _ in 0..190 {
                        let mut sender = sender.clone();
                        batch.spawn(async move {
                            let req = hyper::Request::get(format!("http://{addr}/status"))
                                .header("accept", "text/event-stream")
                                .body(Empty::<Bytes>::new())
                                .expect("a request");
                            // The response (headers only) is dropped at once:
                            // its stream is reset.
                            match sender.send_request(req).await {
                                Ok(response) => response.status().to_string(),
                                Err(_) => "failed (connection closed)".to_owned(),
                            }
                        });
                    }
                    let statuses = batch.join_all().await;
                    let mut told = told.lock().expect("lock");
                    for status in statuses {
                        *told.entry(status).or_default() += 1;
                    }
                }
            }
        });
    }
    connections.join_all().await;
    let told = told.lock().expect("lock");
    told.clone()
}

/// `clients` clients (127.0.0.2 on), each one HTTP/2 connection of
/// `streams` admin streams with the largest windows, never reading.
async fn no_read(addr: SocketAddr, clients: u8, streams: u32) -> Told {
    let mut told = Told::new();
    open_tickets(addr, 1).await;
    let mut stalled = Vec::new();
    for client in 2..2 + clients {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a buffer size");
        socket
            .bind(SocketAddr::from(([127, 0, 0, client], 0)))
            .expect("a loopback address");
        let Ok(mut stream) = socket.connect(addr).await else {
            *told.entry("connect failed".to_owned()).or_default() += 1;
            continue;
        };
        let mut hello = raw_h2::preface_with_huge_windows();
        for n in 0..streams {
            hello.extend(raw_h2::get_event_stream(
                2 * n + 1,
                "/tickets/1/events",
                Some("Bearer admin-token"),
            ));
        }
        if stream.write_all(&hello).await.is_ok() {
            stalled.push(stream);
        }
    }
    let most = comment(4096);
    for _ in 0..1_000 {
        let line = post(addr, "/tickets/1/comments", &most).await;
        *told.entry(format!("comment: {line}")).or_default() += 1;
    }
    // The write timeout (30 s) closes each: reading now finds the end of
    // what the server managed to send, then the close.
    tokio::time::sleep(Duration::from_secs(35)).await;
    for mut stream in stalled {
        let mut sink = vec![0; 64 * 1024];
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await
        .is_ok();
        let key = if closed {
            "stalled connection closed by the server"
        } else {
            "stalled connection still open after 45 s"
        };
        *told.entry(key.to_owned()).or_default() += 1;
    }
    told
}

/// Runs `name` against a fresh tickets process; prints one table row and
/// what the attack and the normal client were told.
async fn run(name: &str) -> std::io::Result<()> {
    let (mut child, addr) = start_tickets().await?;
    let pid = child.id();
    let before = rss_kib(pid);
    let normal: Normal = Arc::default();
    let stop = Arc::new(tokio::sync::Notify::new());
    let normal_task = tokio::spawn(normal_client(addr, normal.clone(), stop.clone()));
    let peak = Arc::new(Mutex::new(before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut peak = peak.lock().expect("lock");
                *peak = (*peak).max(rss_kib(pid));
            }
        })
    };
    let started = Instant::now();
    let told = match name {
        "comments" => comments(addr).await,
        "churn" => churn(addr).await,
        "no-read-wide" => no_read(addr, 32, 32).await,
        _ => no_read(addr, 5, 200).await,
    };
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib(pid);
    stop.notify_one();
    let _ = normal_task.await;
    sampler.abort();
    let peak = *peak.lock().expect("lock");
    let _ = child.kill();
    let _ = child.wait();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "| {name} | {:.0} s | {:.1} | {:.1} | {:.1} |",
        took.as_secs_f64(),
        mib(before),
        mib(peak),
        mib(after)
    );
    for (line, count) in told {
        println!("|   | {count} x {line} | | | |");
    }
    let normal = normal.lock().expect("lock");
    let seen: Vec<String> = normal
        .iter()
        .map(|(line, n)| format!("{n} x {line}"))
        .collect();
    println!("|   | normal client: {} | | | |", seen.join("; "));
    Ok(())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut chosen: Vec<String> = std::env::args().skip(1).collect();
    if chosen.is_empty() {
        chosen = ["comments", "churn", "no-read", "no-read-wide"]
            .map(str::to_owned)
            .to_vec();
    }
    println!("tickets example, release build, defaults; a fresh process per attack\n");
    println!("| attack | took | RSS before, MiB | peak | 3 s after |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for name in &chosen {
        run(name).await?;
    }
    Ok(())
}
