//! What is in flight on one connection, from the moment hyper hands over a
//! request until its response body is dropped, and the deadline of a
//! connection with nothing in flight: an HTTP/1.1 connection waiting for (or
//! slowly receiving) its next request head, an idle HTTP/2 connection.
//!
//! A request costs two counters and one clock read, and no timer: the
//! connection's one timer is armed only while nothing is in flight and is
//! moved only when it fires (hyper's own header timer was made, registered
//! and removed again for every request: about 1,900 instructions of each).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The requests and responses in flight on one connection.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    /// How many are open (the low half) and how many were ever opened (the
    /// high half, wrapping: a change says the connection was used), in one
    /// word so that opening one and closing one are one operation each.
    counts: AtomicU64,
    /// The watcher, woken when the last open one ends; registered only while
    /// something is open when it looks.
    none_open: AtomicWaker,
}

/// One more open, one more opened.
const OPENING: u64 = 1 | 1 << 32;

impl InFlight {
    pub(crate) fn open(self: &Arc<Self>) -> Open {
        self.counts.fetch_add(OPENING, Ordering::AcqRel);
        Open(self.clone())
    }

    /// How many are open, and how many were ever opened (wrapping).
    fn counts(&self) -> (u32, u32) {
        let counts = self.counts.load(Ordering::Acquire);
        (counts as u32, (counts >> 32) as u32)
    }

    /// Resolves once nothing has been in flight for `timeout` in a row.
    pub(crate) fn quiet_for(self: &Arc<Self>, timeout: Duration) -> Quiet {
        Quiet {
            in_flight: self.clone(),
            // Whole milliseconds, rounded up: a timeout under one is not none.
            timeout_ms: u32::try_from(timeout.as_nanos().div_ceil(1_000_000)).unwrap_or(u32::MAX),
            seen: 0,
            since: Some(Instant::now()),
            timer: None,
        }
    }
}

/// One request or response in flight; dropping it ends it.
#[derive(Debug)]
pub(crate) struct Open(Arc<InFlight>);

impl Drop for Open {
    fn drop(&mut self) {
        if self.0.counts.fetch_sub(1, Ordering::AcqRel) as u32 == 1 {
            self.0.none_open.wake();
        }
    }
}

/// See [`InFlight::quiet_for`]. Polled by its connection's task only, whose
/// waker does not change: a timer or a registration made with it holds.
pub(crate) struct Quiet {
    in_flight: Arc<InFlight>,
    timeout_ms: u32,
    /// `opened` when last looked at.
    seen: u32,
    /// Since when nothing has been open, while nothing is; `None` while
    /// something is, the task's waker then with `none_open`.
    since: Option<Instant>,
    /// Armed while nothing is open, and polled with the task's waker before
    /// every `Pending`: a poll after that only asks whether it fired (a poll
    /// of tokio's timer costs more than the rest of a request's share of
    /// this). Boxed, and dropped while something is open, so that a
    /// connection carrying an event stream keeps no timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Future for Quiet {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            let (open, opened) = this.in_flight.counts();
            if open > 0 {
                // Registered while something was open, and nothing opened
                // since: nothing reached zero (which takes the waker).
                if this.since.is_none() && opened == this.seen {
                    return Poll::Pending;
                }
                this.since = None;
                this.timer = None;
                this.seen = opened;
                this.in_flight.none_open.register(cx.waker());
                // Looked at again: the last one may have ended before the
                // registration.
                continue;
            }
            let since = match this.since {
                Some(since) if opened == this.seen => since,
                _ => {
                    this.seen = opened;
                    *this.since.insert(Instant::now())
                }
            };
            let deadline = since + Duration::from_millis(u64::from(this.timeout_ms));
            let timer = match &mut this.timer {
                Some(timer) if !timer.is_elapsed() => return Poll::Pending,
                Some(timer) => timer,
                None => this
                    .timer
                    .insert(Box::pin(tokio::time::sleep_until(deadline))),
            };
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if timer.deadline() < deadline {
                // Used since the timer was set: it is moved to the new
                // deadline, and polled again to hold the waker.
                timer.as_mut().reset(deadline);
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            return Poll::Ready(());
        }
    }
}

pin_project_lite::pin_project! {
    /// A request in flight, counted as open, and so is its response body
    /// until hyper drops it.
    pub(crate) struct Counted<F> {
        #[pin]
        answering: F,
        open: Option<Open>,
    }
}

impl<F> Counted<F> {
    pub(crate) fn new(answering: F, open: Open) -> Self {
        Self {
            answering,
            open: Some(open),
        }
    }
}

impl<F, B, E> Future for Counted<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<CountedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answered = ready!(this.answering.poll(cx));
        let open = this.open.take();
        Poll::Ready(answered.map(|response| response.map(|body| CountedBody { body, _open: open })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request counted as open.
    pub(crate) struct CountedBody<B> {
        #[pin]
        body: B,
        _open: Option<Open>,
    }
}

impl<B: http_body::Body> http_body::Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::InFlight;

    #[tokio::test(start_paused = true)]
    async fn quiet_is_timed_from_the_last_request_and_waits_for_open_ones() {
        let in_flight = Arc::new(InFlight::default());
        let timeout = Duration::from_secs(10);
        let started = Instant::now();
        let quiet = tokio::spawn(in_flight.quiet_for(timeout));
        // A request every 7 s, for 35 s: never quiet for 10.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(7)).await;
            drop(in_flight.open());
        }
        // A long one (an event stream), open for 25 s.
        let open = in_flight.open();
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert!(!quiet.is_finished(), "quiet while a request was open");
        drop(open);
        let ended = Instant::now();
        quiet.await.expect("quiet");
        assert_eq!(ended - started, Duration::from_secs(60));
        assert_eq!(Instant::now() - ended, timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn quiet_hears_the_end_of_a_request_opened_after_the_last_one_ended() {
        let in_flight = Arc::new(InFlight::default());
        let timeout = Duration::from_secs(10);
        let quiet = tokio::spawn(in_flight.quiet_for(timeout));
        let first = in_flight.open();
        tokio::time::sleep(Duration::from_secs(1)).await;
        // The first ends (which takes the watcher's waker) and the next one
        // opens before the watcher looks again.
        drop(first);
        let next = in_flight.open();
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert!(!quiet.is_finished(), "quiet while a request was open");
        drop(next);
        let ended = Instant::now();
        tokio::time::timeout(timeout * 3, quiet)
            .await
            .expect("the end of the next request was heard")
            .expect("quiet");
        assert_eq!(Instant::now() - ended, timeout);
    }
}
