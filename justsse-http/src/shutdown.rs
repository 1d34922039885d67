//! The server's shutdown signal: every connection waits for it, and so does
//! an event stream its connection's task does not poll (HTTP/2); an
//! HTTP/1.1 stream reads the flag when its connection, woken, polls it. It
//! is polled on each write of every stream, so a poll is one atomic load (a
//! `CancellationToken` takes a lock each time), and a wait's waker is
//! registered again only when it changes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

/// Whether the server is shutting down, and who waits for it.
#[derive(Debug, Default)]
pub(crate) struct Shutdown {
    started: AtomicBool,
    notify: Arc<Notify>,
    /// The event every open stream sends last (`ServerConfig::shutdown_event`).
    event: Option<Bytes>,
}

impl Shutdown {
    /// A shutdown whose streams send `event` last.
    pub(crate) fn new(event: Option<Bytes>) -> Self {
        Self {
            event,
            ..Self::default()
        }
    }

    /// Starts the shutdown: every [`ShutdownWait`] is ready from now on.
    pub(crate) fn begin(&self) {
        self.started.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Whether the shutdown has begun.
    pub(crate) fn begun(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// How an event stream hears of the shutdown: by the flag alone when
    /// `polled_by_connection` (its connection's task polls its body and
    /// wakes on shutdown itself), by a wait of its own otherwise.
    pub(crate) fn for_stream(self: &Arc<Self>, polled_by_connection: bool) -> StreamShutdown {
        match polled_by_connection {
            true => StreamShutdown::Polled(self.clone()),
            false => StreamShutdown::Waits(Box::pin(self.wait())),
        }
    }

    /// A future ready once the shutdown has begun.
    pub(crate) fn wait(self: &Arc<Self>) -> ShutdownWait {
        ShutdownWait {
            notified: self.notify.clone().notified_owned(),
            shutdown: self.clone(),
            waker: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// Ready once [`Shutdown::begin`] was called.
    pub(crate) struct ShutdownWait {
        shutdown: Arc<Shutdown>,
        // Created with the wait: a `begin` after this is seen even before
        // the first poll.
        #[pin]
        notified: OwnedNotified,
        // The waker last registered with `notified`.
        waker: Option<Waker>,
    }
}

impl std::fmt::Debug for ShutdownWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownWait").finish_non_exhaustive()
    }
}

impl Future for ShutdownWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.shutdown.begun() {
            return Poll::Ready(());
        }
        if this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        *this.waker = Some(cx.waker().clone());
        if this.notified.poll(cx).is_ready() || this.shutdown.begun() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// How an event stream hears of the shutdown.
pub(crate) enum StreamShutdown {
    /// Its body is polled by its connection's task (HTTP/1.1), which waits
    /// for the shutdown and is woken by it: the stream reads the flag then,
    /// and keeps no wait (an allocation and a waiter a stream) of its own.
    Polled(Arc<Shutdown>),
    /// Its body is polled by a task of its own (an HTTP/2 stream), or by a
    /// connection this server does not drive: it waits.
    Waits(Pin<Box<ShutdownWait>>),
}

impl StreamShutdown {
    /// The event the stream sends last, once the shutdown has begun.
    pub(crate) fn event(&self) -> Option<&Bytes> {
        match self {
            Self::Polled(shutdown) => shutdown.event.as_ref(),
            Self::Waits(wait) => wait.shutdown.event.as_ref(),
        }
    }

    /// Whether the shutdown has begun; if not, and the stream waits, the
    /// task is woken when it does.
    pub(crate) fn poll_begun(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            Self::Polled(shutdown) => shutdown.begun(),
            Self::Waits(wait) => wait.as_mut().poll(cx).is_ready(),
        }
    }
}

impl std::fmt::Debug for StreamShutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Polled(_) => f.write_str("StreamShutdown::Polled"),
            Self::Waits(_) => f.write_str("StreamShutdown::Waits"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Shutdown;

    #[tokio::test]
    async fn a_wait_is_ready_after_begin_whether_polled_before_or_not() {
        let shutdown = Arc::new(Shutdown::default());
        let polled = shutdown.wait();
        let unpolled = shutdown.wait();
        let waiting = tokio::spawn(polled);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        shutdown.begin();
        waiting.await.expect("ready after begin");
        unpolled.await;
        shutdown.wait().await;
    }
}
