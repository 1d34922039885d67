//! A connection's socket with a deadline on writes that make no progress: a
//! peer that stops reading (its receive window and our send buffer full) is
//! cut after the write timeout, whatever it still answers (an HTTP/2 `PING`
//! answer needs no reading of our data), so the bytes queued for it are freed.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub(crate) struct WriteDeadline<I> {
    io: I,
    timeout: Duration,
    /// Armed while a write waits; made at the first wait, reset after.
    stalled: Option<Pin<Box<Sleep>>>,
    /// Whether the last write attempt is still waiting.
    waiting: bool,
}

impl<I> WriteDeadline<I> {
    pub(crate) fn new(io: I, timeout: Duration) -> Self {
        Self {
            io,
            timeout,
            stalled: None,
            waiting: false,
        }
    }

    /// What a write that returned `polled` means: progress disarms the
    /// deadline; a wait arms it (from the first wait on) and fails once it
    /// has passed.
    fn check<T>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.waiting = false;
            return polled;
        }
        let timeout = self.timeout;
        let stalled = match &mut self.stalled {
            Some(stalled) if self.waiting => stalled,
            Some(stalled) => {
                stalled.as_mut().reset(Instant::now() + timeout);
                stalled
            }
            None => self.stalled.insert(Box::pin(tokio::time::sleep(timeout))),
        };
        self.waiting = true;
        ready!(stalled.as_mut().poll(cx));
        crate::observe::timeout("write");
        tracing::debug!("the peer read nothing within the write timeout; closing");
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer read nothing within the write timeout",
        )))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WriteDeadline<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.check(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.check(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.check(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::WriteDeadline;

    #[tokio::test(start_paused = true)]
    async fn a_write_waiting_past_the_timeout_fails_and_progress_resets_it() {
        let (near, mut far) = tokio::io::duplex(8);
        let mut io = WriteDeadline::new(near, Duration::from_secs(5));
        io.write_all(b"12345678").await.expect("room for 8");
        // Full: the next write waits. The far side reads just in time.
        let reader = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            let mut buf = [0; 8];
            let _ = tokio::io::AsyncReadExt::read_exact(&mut far, &mut buf).await;
            far
        });
        io.write_all(b"abcdefgh").await.expect("read within 4 s");
        let _far = reader.await.expect("reader");
        // Nobody reads any more: the next write fails after 5 s of waiting.
        let started = tokio::time::Instant::now();
        let err = io.write_all(b"more").await.expect_err("nobody reads");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }
}
