//! What the attack benches share: the tickets example as a child process,
//! its memory and descriptors, and a normal client asking throughout.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The resident memory of process `pid`, in KiB (0 if unknown).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How many descriptors process `pid` has open.
pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

/// Starts the release tickets example (beside this binary) on a free port,
/// logging warnings only; returns once it accepts connections.
pub async fn start_tickets() -> std::io::Result<(Child, SocketAddr)> {
    let exe = std::env::current_exe()?.with_file_name("tickets");
    if !exe.exists() {
        eprintln!(
            "{} is missing: build it first with `cargo build --release -p tickets -p bench`",
            exe.display()
        );
        std::process::exit(2);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(exe)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let ready = std::time::Instant::now();
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(10),
            "tickets did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((child, addr))
}

/// What the normal client saw: status lines (or failures) and their counts.
pub type Normal = Arc<Mutex<BTreeMap<String, u64>>>;

/// Asks `GET /tickets` every 100 ms on a new connection until `until` is
/// notified, counting the status lines (or failures) it saw in `seen`.
pub async fn normal_client(addr: SocketAddr, seen: Normal, until: Arc<tokio::sync::Notify>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = until.notified() => return,
            _ = tick.tick() => {}
        }
        let outcome = tokio::time::timeout(Duration::from_secs(5), async {
            let mut stream = TcpStream::connect(addr).await.ok()?;
            stream
                .write_all(b"GET /tickets HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
                .await
                .ok()?;
            let mut out = Vec::new();
            stream.read_to_end(&mut out).await.ok()?;
            let text = String::from_utf8_lossy(&out).into_owned();
            text.lines().next().map(str::to_owned)
        })
        .await;
        let key = match outcome {
            Ok(Some(line)) => line,
            Ok(None) => "failed (reset or nothing)".to_owned(),
            Err(_) => "timed out after 5 s".to_owned(),
        };
        *seen.lock().expect("lock").entry(key).or_default() += 1;
    }
}
