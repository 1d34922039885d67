//! A server never runs out of file descriptors silently (issue 10): its
//! connection limit stays under a lowered `ulimit -n`, so a client past it gets
//! `503` + `Retry-After` rather than a connect timeout; where a configured limit
//! does run out of descriptors, `accept` errors back off and are logged at a
//! bounded rate, and the server recovers once clients leave.
//!
//! The server runs in a process of its own (`ok-server`) started under `ulimit -n`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use justsse_tests::{DEADLINE, read_until_closed, serves_again};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// `ok-server` under a descriptor limit, with its log lines collected.
struct LimitedServer {
    child: Child,
    addr: SocketAddr,
    log: Arc<Log>,
}

/// The server's stderr lines, and a signal for each new one.
#[derive(Default)]
struct Log {
    lines: Mutex<Vec<String>>,
    added: Notify,
}

impl LimitedServer {
    fn start(fd_limit: u32, max_connections: Option<usize>) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {fd_limit} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_ok-server"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(max) = max_connections {
            command.env("MAX_CONNECTIONS", max.to_string());
        }
        let mut child = command.spawn().expect("start ok-server");
        let log = Arc::new(Log::default());
        let stderr = child.stderr.take().expect("stderr");
        let reader = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                reader.lines.lock().expect("log lock").push(line);
                reader.added.notify_waiters();
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("read the address");
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .expect("an address");
        Self { child, addr, log }
    }

    fn log_lines(&self, needle: &str) -> usize {
        let lines = self.log.lines.lock().expect("log lock");
        lines.iter().filter(|line| line.contains(needle)).count()
    }

    /// Waits until `count` lines contain `needle`; fails the test after [`DEADLINE`].
    async fn wait_for_lines(&self, needle: &str, count: usize) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let added = self.log.added.notified();
            tokio::pin!(added);
            added.as_mut().enable();
            if self.log_lines(needle) >= count {
                return;
            }
            assert!(
                tokio::time::timeout_at(deadline, added).await.is_ok(),
                "fewer than {count} log lines with {needle:?}: {:#?}",
                self.log.lines.lock().expect("log lock")
            );
        }
    }

    async fn wait_for_log(&self, needle: &str) {
        self.wait_for_lines(needle, 1).await;
    }

    /// CPU time the server has used, from /proc.
    fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/<pid>/stat");
        // Fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .expect("stat format")
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for LimitedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection that started a request and holds its slot.
async fn hold(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /ok HTTP/1.1\r\n")
        .await
        .expect("write");
    stream
}

#[tokio::test]
async fn the_default_limit_stays_under_the_fd_limit_and_refuses_with_503() {
    // 256 descriptors: 64 kept in reserve, so 192 connections are served.
    let server = LimitedServer::start(256, None);
    server
        .wait_for_log("fd_limit=256 max_connections=192")
        .await;
    let mut held = Vec::new();
    for _ in 0..192 {
        held.push(hold(server.addr).await);
    }
    // Fewer than the 32 refusals the reserve answers at once, so none is cut
    // short by the client's unread request (a reset).
    for _ in 0..20 {
        let mut past = hold(server.addr).await;
        let refused = read_until_closed(&mut past).await;
        assert!(
            refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n")
                && refused.contains("Retry-After: 1\r\n"),
            "{refused:?}"
        );
    }
    // The 192 served connections are all still open, waiting for their heads.
    for stream in &held {
        let mut buf = [0u8; 16];
        assert!(
            matches!(stream.try_read(&mut buf), Err(err) if err.kind() == std::io::ErrorKind::WouldBlock),
            "a served connection was closed or answered"
        );
    }
    assert_eq!(
        server.log_lines("accept failed"),
        0,
        "never out of descriptors"
    );
    drop(held);
    serves_again(server.addr, "/ok").await;
}

#[tokio::test]
async fn out_of_descriptors_accept_backs_off_logs_rarely_and_recovers() {
    // A configured limit far above 64 descriptors: accept will fail.
    let server = LimitedServer::start(64, Some(1000));
    server
        .wait_for_log("max_connections leaves too few file descriptors free")
        .await;
    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(hold(server.addr).await);
    }
    server.wait_for_log("accept failed").await;

    // Under that pressure accept keeps failing. The next two lines must be a
    // second apart or more (the rate limit), and the loop between them must
    // sleep, not spin: a spinning loop burns all that time in CPU.
    let lines = server.log_lines("accept failed");
    server.wait_for_lines("accept failed", lines + 1).await;
    let (cpu, started) = (server.cpu_time(), Instant::now());
    server.wait_for_lines("accept failed", lines + 2).await;
    let (cpu, took) = (server.cpu_time() - cpu, started.elapsed());
    assert!(
        took >= Duration::from_millis(900),
        "two accept errors logged {took:?} apart"
    );
    assert!(cpu * 4 < took, "{cpu:?} of CPU in {took:?}");

    drop(held);
    serves_again(server.addr, "/ok").await;
}
