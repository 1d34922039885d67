//! Keep-alive comments in the idle gaps of an event stream.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// How often an idle event stream sends a keep-alive comment (`:`).
///
/// Keep-alives stop proxies from closing quiet streams and are how a dead peer is
/// noticed. Every event resets the clock, so a busy stream sends none.
/// The default is every 15 seconds.
///
/// ```
/// use justsse_http::KeepAlive;
/// use std::time::Duration;
///
/// assert_eq!(KeepAlive::default().interval(), Some(Duration::from_secs(15)));
/// assert_eq!(KeepAlive::every(Duration::from_secs(5)).interval(), Some(Duration::from_secs(5)));
/// assert_eq!(KeepAlive::off().interval(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive(Option<Duration>);

impl KeepAlive {
    /// A comment after every `interval` without an event. A zero interval is
    /// taken as one millisecond.
    pub fn every(interval: Duration) -> Self {
        Self(Some(interval.max(Duration::from_millis(1))))
    }

    /// No keep-alive comments.
    pub fn off() -> Self {
        Self(None)
    }

    /// The interval, or `None` when off.
    pub fn interval(self) -> Option<Duration> {
        self.0
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self::every(Duration::from_secs(15))
    }
}

/// The timer of one stream. Writing an event only records the time; the timer is
/// moved when it fires, so a busy stream does not touch the timer wheel per event.
#[derive(Debug)]
pub(crate) struct KeepAliveTimer {
    interval: Duration,
    last_write: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl KeepAliveTimer {
    pub(crate) fn new(interval: Duration) -> Self {
        let now = Instant::now();
        Self {
            interval,
            last_write: now,
            sleep: Box::pin(tokio::time::sleep_until(now + interval)),
        }
    }

    pub(crate) fn wrote(&mut self) {
        self.last_write = Instant::now();
    }

    /// Ready when a keep-alive is due; the caller then writes one.
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = self.last_write + self.interval;
            if due > Instant::now() {
                self.sleep.as_mut().reset(due);
                continue;
            }
            self.last_write = Instant::now();
            self.sleep.as_mut().reset(self.last_write + self.interval);
            return Poll::Ready(());
        }
    }
}
