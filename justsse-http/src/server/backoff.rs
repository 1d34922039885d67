//! What the accept loop does when it cannot serve a client: back off from
//! `accept` errors instead of spinning, answer clients past the connection
//! limit with a `503`, and log both at a bounded rate, since an attack would
//! otherwise flood the logs too.

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Shortest and longest pause after an `accept` error.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// How long a refused client may take to receive its `503`.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// Pauses after `accept` errors, doubling while they last.
#[derive(Debug)]
pub(crate) struct AcceptBackoff {
    pause: Duration,
    log: RateLimitedLog,
}

impl AcceptBackoff {
    pub(crate) fn new() -> Self {
        Self {
            pause: FIRST_PAUSE,
            log: RateLimitedLog::new(),
        }
    }

    /// A connection was accepted: the next error starts from a short pause.
    pub(crate) fn succeeded(&mut self) {
        self.pause = FIRST_PAUSE;
    }

    /// An `accept` error. Those about one connection that is already gone are
    /// passed over; the others (out of descriptors or memory) pause the loop.
    pub(crate) async fn failed(&mut self, err: io::Error) {
        use io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted, WouldBlock};
        if matches!(
            err.kind(),
            ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
        ) {
            return;
        }
        if let Some(suppressed) = self.log.allow() {
            tracing::error!(
                error = %err,
                pause = ?self.pause,
                suppressed,
                "accept failed; pausing (raise `ulimit -n` or lower max_connections if this is \"too many open files\")"
            );
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
    }
}

/// Allows one log line a second and counts the ones it held back.
#[derive(Debug)]
pub(crate) struct RateLimitedLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    pub(crate) fn new() -> Self {
        Self {
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(lines held back since the last one)` when a line may be written now.
    pub(crate) fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
        {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// The answer past the connection limit: one write, then the socket is closed.
const BUSY: &[u8] = concat!(
    "HTTP/1.1 503 Service Unavailable\r\n",
    "Content-Type: application/json\r\n",
    "Content-Length: 81\r\n",
    "Retry-After: 1\r\n",
    "Connection: close\r\n",
    "\r\n",
    r#"{"error":"service_unavailable","message":"the server is at its connection limit"}"#,
)
.as_bytes();

/// Past the connection limit: a short, complete answer rather than a reset.
/// What the client sent is read and dropped until it closes too (a lingering
/// close): closing with unread bytes would send a reset, which can destroy the
/// answer before the client reads it.
pub(crate) async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Past the connection limit with no refusal slot free either: the answer is
/// written if the socket takes it at once, and the socket closed.
pub(crate) fn refuse_at_once(stream: TcpStream) {
    let _ = stream.try_write(BUSY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_declares_its_length() {
        let text = std::str::from_utf8(BUSY).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .expect("a Content-Length");
        assert_eq!(length.parse::<usize>(), Ok(body.len()));
        assert!(body.starts_with('{') && body.ends_with('}'), "{body}");
    }

    #[test]
    fn one_line_a_second_and_a_count_of_the_rest() {
        let mut log = RateLimitedLog::new();
        assert_eq!(log.allow(), Some(0));
        assert_eq!(log.allow(), None);
        assert_eq!(log.allow(), None);
        log.last = Some(Instant::now() - Duration::from_secs(2));
        assert_eq!(log.allow(), Some(2));
    }
}
