//! Telling HTTP/1.1 from HTTP/2 (h2c prior knowledge) by a connection's first
//! bytes, and handing those bytes back to hyper.
//!
//! hyper-util's auto builder does the same without a timer, so a client that
//! sends nothing, or half of the h2 preface, held its socket forever. Here the
//! caller bounds [`detect`] with a deadline.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

/// What every HTTP/2 connection opens with (RFC 9113, section 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

/// Reads until the first bytes tell the protocol: the full h2 preface, or a
/// byte that departs from it. `Ok(None)` when the client closed first. The
/// bytes read are returned inside the [`Rewind`] for hyper to read again.
pub(crate) async fn detect<I: AsyncRead + Unpin>(
    mut io: I,
) -> io::Result<Option<(Protocol, Rewind<I>)>> {
    let mut seen = [0u8; H2_PREFACE.len()];
    let mut len = 0;
    let protocol = loop {
        let read = io.read(&mut seen[len..]).await?;
        if read == 0 {
            return Ok(None);
        }
        len += read;
        if seen[..len] != H2_PREFACE[..len] {
            break Protocol::Http1;
        }
        if len == H2_PREFACE.len() {
            break Protocol::Http2;
        }
    };
    Ok(Some((
        protocol,
        Rewind {
            seen,
            start: 0,
            end: len as u8,
            inner: TokioIo::new(io),
        },
    )))
}

/// A tokio IO, seen by hyper, that first replays the bytes [`detect`] read, then reads from `inner`.
/// The replayed bytes live inline: no allocation per connection.
#[derive(Debug)]
pub(crate) struct Rewind<I> {
    seen: [u8; H2_PREFACE.len()],
    start: u8,
    end: u8,
    inner: TokioIo<I>,
}

impl<I: AsyncRead + Unpin> Read for Rewind<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.start < this.end {
            let pending = &this.seen[usize::from(this.start)..usize::from(this.end)];
            let n = pending.len().min(buf.remaining());
            buf.put_slice(&pending[..n]);
            // n <= 24, so it fits.
            this.start += n as u8;
            // The rest of what has arrived in the same read: hyper then
            // parses a request head at once, where the replayed bytes alone
            // would make it read again and grow its read buffer to twice its
            // size for the connection's whole life. Pending or an error
            // here waits for the next read; the replayed bytes are delivered.
            if this.start == this.end && buf.remaining() > 0 {
                let _ = Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> Write for Rewind<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::{Protocol, detect};
    use hyper::rt::{Read, ReadBuf};
    use tokio::io::AsyncWriteExt;

    /// The first read after detection hands hyper the replayed bytes and what
    /// followed them, so a request head that arrived whole parses from one
    /// read (a second read would make hyper double its buffer for good).
    #[tokio::test]
    async fn the_first_read_after_detection_returns_the_whole_head() {
        let head = b"GET /events HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n\r\n";
        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(head).await.expect("write");
        let (protocol, mut io) = detect(server).await.expect("read").expect("bytes");
        assert_eq!(protocol, Protocol::Http1);
        let mut storage = [0u8; 256];
        let mut buf = ReadBuf::new(&mut storage);
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut io).poll_read(cx, buf.unfilled()))
            .await
            .expect("read");
        assert_eq!(buf.filled(), head);
    }
}
