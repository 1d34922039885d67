//! Hostile clients against the tickets example with its defaults, as the
//! attacker of issue 10 tried them: stalled 1 MiB bodies, bodies at 1 byte/s,
//! silent sockets, half an h2 preface, h2 connections that never send a request.
//! A normal client asks `GET /tickets` every 100 ms throughout. Prints when each
//! attack's connections were closed and what they were told, and the server's
//! memory and descriptors before, at the peak and after.
//!
//! ```sh
//! cargo build --release -p tickets -p bench && target/release/attack
//! target/release/attack --rounds 3   # the same attacks again: memory is reused
//! ```
//!
//! About 65 seconds a round (the default deadlines are 30 s and, for idle
//! HTTP/2, 60 s).
//! All traffic goes to 127.0.0.1; every loop is bounded in count and time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use bench::attacker::{Normal, fds, normal_client, rss_kib, start_tickets};

/// No attack connection may stay open longer than this.
const CAP: Duration = Duration::from_secs(120);

/// How one hostile connection ended: what it was told and when it was closed,
/// counted from the moment it finished its part of the attack.
struct Outcome {
    told: String,
    closed_after: Option<Duration>,
}

/// Reads until the server closes; the first line of what it said.
async fn until_closed(mut stream: TcpStream, since: Instant) -> Outcome {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(CAP, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    let told = String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("(nothing)")
        .to_owned();
    Outcome {
        told,
        closed_after: closed.then(|| since.elapsed()),
    }
}

async fn stalled_body(addr: SocketAddr) -> Outcome {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return refused();
    };
    let head = "POST /tickets HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 1048576\r\n\r\n";
    let mut body = vec![b'a'; 1_048_000];
    body[..12].copy_from_slice(br#"{"subject":""#);
    if stream.write_all(head.as_bytes()).await.is_err() {
        return until_closed(stream, Instant::now()).await;
    }
    // The server may answer (503) and close before the body is all sent.
    let _ = stream.write_all(&body).await;
    until_closed(stream, Instant::now()).await
}

async fn trickling_body(addr: SocketAddr) -> Outcome {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return refused();
    };
    let head = "POST /tickets HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n";
    let since = Instant::now();
    if stream.write_all(head.as_bytes()).await.is_err() {
        return until_closed(stream, since).await;
    }
    let mut buf = [0u8; 4096];
    let mut out = Vec::new();
    while since.elapsed() < CAP {
        if stream.write_all(b"a").await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_one_second) => {}
        }
    }
    let rest = until_closed(stream, since).await;
    let told = String::from_utf8_lossy(&out)
        .lines()
        .next()
        .map_or(rest.told, str::to_owned);
    Outcome {
        told,
        closed_after: rest.closed_after,
    }
}

async fn silent(addr: SocketAddr) -> Outcome {
    match TcpStream::connect(addr).await {
        Ok(stream) => until_closed(stream, Instant::now()).await,
        Err(_) => refused(),
    }
}

async fn half_preface(addr: SocketAddr) -> Outcome {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return refused();
    };
    let _ = stream.write_all(b"PRI * HTTP/2.0\r\n").await;
    until_closed(stream, Instant::now()).await
}

async fn idle_h2(addr: SocketAddr) -> Outcome {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return refused();
    };
    let handshake = hyper::client::conn::http2::handshake::<_, _, Empty<Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await;
    let since = Instant::now();
    let Ok((_sender, conn)) = handshake else {
        return Outcome {
            told: "handshake failed".to_owned(),
            closed_after: Some(since.elapsed()),
        };
    };
    match tokio::time::timeout(CAP, conn).await {
        Ok(Ok(())) => Outcome {
            told: "GOAWAY".to_owned(),
            closed_after: Some(since.elapsed()),
        },
        Ok(Err(err)) => Outcome {
            told: format!("error: {err}"),
            closed_after: Some(since.elapsed()),
        },
        Err(_) => Outcome {
            told: "(nothing)".to_owned(),
            closed_after: None,
        },
    }
}

fn refused() -> Outcome {
    Outcome {
        told: "connect failed".to_owned(),
        closed_after: Some(Duration::ZERO),
    }
}

fn summarize(name: &str, deadline: &str, outcomes: &[Outcome]) {
    let mut told: BTreeMap<&str, usize> = BTreeMap::new();
    for outcome in outcomes {
        *told.entry(outcome.told.as_str()).or_default() += 1;
    }
    let closed: Vec<Duration> = outcomes.iter().filter_map(|o| o.closed_after).collect();
    let open = outcomes.len() - closed.len();
    let slowest = closed.iter().max().copied().unwrap_or_default();
    println!(
        "| {name} | {} | {deadline} | {:.1} s | {open} | {} |",
        outcomes.len(),
        slowest.as_secs_f64(),
        told.iter()
            .map(|(line, n)| format!("{n} × {line}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

/// One round: every attack at once; the outcomes per attack, in order.
async fn attack(addr: SocketAddr, attacks: &[(&str, &str, usize)]) -> Vec<Vec<Outcome>> {
    // ATTACKS=0,2 runs only those (by their row in the table); the others
    // get no connection.
    let only: Option<Vec<usize>> = std::env::var("ATTACKS")
        .ok()
        .map(|list| list.split(',').filter_map(|n| n.parse().ok()).collect());
    let mut groups = Vec::new();
    for (index, (_, _, count)) in attacks.iter().enumerate() {
        let mut set = JoinSet::new();
        let count = match &only {
            Some(only) if !only.contains(&index) => 0,
            _ => *count,
        };
        for _ in 0..count {
            match index {
                0 => set.spawn(stalled_body(addr)),
                1 => set.spawn(trickling_body(addr)),
                2 => set.spawn(silent(addr)),
                3 => set.spawn(half_preface(addr)),
                _ => set.spawn(idle_h2(addr)),
            };
        }
        groups.push(set);
    }
    let mut results = Vec::new();
    for set in groups {
        results.push(set.join_all().await);
    }
    results
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (mut child, addr) = start_tickets().await?;
    let pid = child.id();
    let (rss_before, fds_before) = (rss_kib(pid), fds(pid));

    let normal: Normal = Arc::default();
    let stop_normal = Arc::new(tokio::sync::Notify::new());
    let normal_task = tokio::spawn(normal_client(addr, normal.clone(), stop_normal.clone()));

    let peak = Arc::new(Mutex::new((rss_before, fds_before)));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let mut peak = peak.lock().expect("lock");
                peak.0 = peak.0.max(rss_kib(pid));
                peak.1 = peak.1.max(fds(pid));
            }
        })
    };

    let rounds: usize = std::env::args()
        .skip_while(|arg| arg != "--rounds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let attacks: [(&str, &str, usize); 5] = [
        ("stalled 1 MiB bodies", "body_read_timeout 30 s", 400),
        ("bodies at 1 byte/s", "body_read_timeout 30 s", 50),
        ("silent sockets", "header_read_timeout 30 s", 2000),
        ("half an h2 preface", "header_read_timeout 30 s", 500),
        ("h2, no request", "idle_timeout 60 s", 200),
    ];
    let started = Instant::now();
    let mut results = Vec::new();
    let mut rss_after_rounds = Vec::new();
    for _ in 0..rounds {
        results = attack(addr, &attacks).await;
        // Give the kernel's view of freed memory a moment, then read it.
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_after_rounds.push(rss_kib(pid));
    }
    let attack_took = started.elapsed();
    stop_normal.notify_one();
    let _ = normal_task.await;
    sampler.abort();

    let (rss_after, fds_after) = (rss_kib(pid), fds(pid));
    let (rss_peak, fds_peak) = *peak.lock().expect("lock");
    let _ = child.kill();
    let _ = child.wait();

    println!(
        "tickets example, release build, default ServerConfig; attacks run at once for {:.0} s\n",
        attack_took.as_secs_f64()
    );
    println!(
        "| attack | connections | deadline | all closed within | still open | what they were told |"
    );
    println!("| --- | ---: | --- | ---: | ---: | --- |");
    for ((name, deadline, _), outcomes) in attacks.iter().zip(&results) {
        summarize(name, deadline, outcomes);
    }
    println!("\n| server | before | peak | after |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| resident memory, MiB | {:.1} | {:.1} | {:.1} |",
        rss_before as f64 / 1024.0,
        rss_peak as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    println!("| open descriptors | {fds_before} | {fds_peak} | {fds_after} |");
    if rounds > 1 {
        let after: Vec<String> = rss_after_rounds
            .iter()
            .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
            .collect();
        println!(
            "\nresident memory after each round, MiB: {}",
            after.join(", ")
        );
    }
    println!("\nnormal client, GET /tickets every 100 ms on a new connection throughout:");
    for (line, count) in normal.lock().expect("lock").iter() {
        println!("  {count} × {line}");
    }
    Ok(())
}
