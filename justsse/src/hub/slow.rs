//! What a subscriber that falls behind gets: the slow-consumer policies.
//!
//! A subscription is polled when its client can take more bytes; a client that
//! reads slowly (or stops) finds, when it is polled again, more events ready
//! than it could take. The policy wraps the backend's stream with a queue of
//! at most `max_lag` events: when more than that are ready at once, the
//! subscriber is behind by more than its bound and the policy acts, counted in
//! `justsse_slow_consumer_total{policy}` (the `metrics` facade).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use justsse_http::Event;

use super::resync;

/// What a subscriber more than `max_lag` events behind gets.
///
/// - [`Resync`](SlowConsumer::Resync): the events it missed are skipped; it
///   gets one [`RESYNC`](super::RESYNC) event (id of the newest) and goes on
///   live, and should refetch its state. The hub's default.
/// - [`Disconnect`](SlowConsumer::Disconnect): its stream ends; its client
///   reconnects with the id of the last event it got (`Last-Event-ID`) and is
///   replayed from there while the topic still holds it.
/// - [`Conflate`](SlowConsumer::Conflate): of the events waiting, it keeps only
///   the newest per [key](Event::key) (a price per symbol), in the order of
///   those newest ones; events without a key are kept, and when those alone
///   overflow the queue it gets a resync.
///
/// ```
/// use justsse::hub::{Hub, SlowConsumer};
///
/// # async fn run() {
/// let hub: Hub<String> = Hub::new().slow_consumer(SlowConsumer::Conflate { max_lag: 64 });
/// // Or for one subscription (one route), over the hub's:
/// let prices = hub
///     .subscribe(&"prices".to_owned(), None)
///     .await
///     .slow_consumer(SlowConsumer::Disconnect { max_lag: 256 });
/// # let _ = prices;
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlowConsumer {
    /// Skip to live after one resync event.
    Resync {
        /// The events a subscriber may be behind before the policy acts.
        max_lag: usize,
    },
    /// End the stream, for the client to resume where it was.
    Disconnect {
        /// The events a subscriber may be behind before the policy acts.
        max_lag: usize,
    },
    /// Keep only the newest event per key.
    Conflate {
        /// The events a subscriber may be behind before the policy acts.
        max_lag: usize,
    },
}

impl SlowConsumer {
    /// The label in `justsse_slow_consumer_total{policy}`.
    pub fn label(&self) -> &'static str {
        match self {
            SlowConsumer::Resync { .. } => "resync",
            SlowConsumer::Disconnect { .. } => "disconnect",
            SlowConsumer::Conflate { .. } => "conflate",
        }
    }

    fn max_lag(&self) -> usize {
        match *self {
            SlowConsumer::Resync { max_lag }
            | SlowConsumer::Disconnect { max_lag }
            | SlowConsumer::Conflate { max_lag } => max_lag.max(1),
        }
    }

    fn counted(&self) {
        metrics::counter!("justsse_slow_consumer_total", "policy" => self.label()).increment(1);
    }
}

/// The events a backend stream has ready, taken under a policy: what a
/// [`Subscription`] with a [`SlowConsumer`] polls through.
pub(super) struct Police {
    policy: SlowConsumer,
    /// Events taken from the backend and not yet given to the stream.
    queue: VecDeque<Event>,
    /// The policy ended the stream (disconnect).
    ended: bool,
    /// The backend's stream has ended: it is not polled again (some streams
    /// panic if they are), what is queued is still given.
    drained: bool,
}

/// A backend's stream of events.
pub(super) type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

impl Police {
    pub(super) fn new(policy: SlowConsumer) -> Self {
        Self {
            policy,
            queue: VecDeque::new(),
            ended: false,
            drained: false,
        }
    }

    /// Takes what is ready, up to one past the bound.
    fn fill(&mut self, events: &mut Events, cx: &mut Context<'_>) {
        while !self.drained && self.queue.len() <= self.policy.max_lag() {
            match events.as_mut().poll_next(cx) {
                Poll::Ready(Some(event)) => self.take(event),
                Poll::Ready(None) => self.drained = true,
                Poll::Pending => return,
            }
        }
    }

    /// Queues `event`; a conflating queue drops the older event of its key.
    fn take(&mut self, event: Event) {
        if let (SlowConsumer::Conflate { .. }, Some(key)) = (self.policy, event.key_str())
            && let Some(older) = self
                .queue
                .iter()
                .position(|queued| queued.key_str() == Some(key))
        {
            self.queue.remove(older);
            self.policy.counted();
        }
        self.queue.push_back(event);
    }

    /// Behind by more than the bound: what the policy says.
    fn overflowed(&mut self, events: &mut Events, cx: &mut Context<'_>) {
        self.policy.counted();
        match self.policy {
            SlowConsumer::Disconnect { .. } => {
                self.queue.clear();
                self.ended = true;
            }
            SlowConsumer::Resync { .. } | SlowConsumer::Conflate { .. } => {
                // Everything ready is skipped; the newest's id is where the
                // subscriber goes on from.
                let mut newest = self.queue.pop_back();
                self.queue.clear();
                while !self.drained {
                    match events.as_mut().poll_next(cx) {
                        Poll::Ready(Some(event)) => newest = Some(event),
                        Poll::Ready(None) => self.drained = true,
                        Poll::Pending => break,
                    }
                }
                let id = newest.as_ref().and_then(Event::id_str).unwrap_or_default();
                self.queue.push_back(resync(id, "lagged"));
            }
        }
    }

    /// The next event of `events` under the policy.
    pub(super) fn poll_next(
        &mut self,
        events: &mut Events,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Event>> {
        if self.ended {
            return Poll::Ready(None);
        }
        self.fill(events, cx);
        if self.queue.len() > self.policy.max_lag() {
            self.overflowed(events, cx);
            if self.ended {
                return Poll::Ready(None);
            }
        }
        match self.queue.pop_front() {
            Some(event) => Poll::Ready(Some(event)),
            None if self.drained => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::hub::{RESYNC, Subscription};

    /// A backend stream of `count` events that panics if polled after its end,
    /// as `futures_util::stream::unfold` does.
    fn ending(count: u32) -> Subscription {
        Subscription::new(futures_util::stream::unfold(0, move |n| async move {
            (n < count).then(|| (Event::new().data(n.to_string()).key("k"), n + 1))
        }))
    }

    #[tokio::test]
    async fn an_ended_backend_is_not_polled_again_and_its_queue_is_given() {
        for policy in [
            SlowConsumer::Resync { max_lag: 4 },
            SlowConsumer::Disconnect { max_lag: 4 },
            SlowConsumer::Conflate { max_lag: 4 },
        ] {
            let mut events = ending(2).slow_consumer(policy);
            let got: Vec<_> = (&mut events).collect().await;
            assert_eq!(
                got.len(),
                if policy.label() == "conflate" { 1 } else { 2 },
                "{policy:?}"
            );
            assert!(
                events.next().await.is_none(),
                "{policy:?}: ended, and stays so"
            );

            // Behind, then the end: what the policy says still comes.
            let mut events = ending(10).slow_consumer(policy);
            let got: Vec<_> = (&mut events).collect().await;
            assert!(events.next().await.is_none(), "{policy:?}");
            let names: Vec<_> = got.iter().map(|e| (e.name(), e.data_str())).collect();
            let expected = match policy {
                SlowConsumer::Resync { .. } => vec![(Some(RESYNC), Some(r#"{"reason":"lagged"}"#))],
                SlowConsumer::Disconnect { .. } => vec![],
                _ => vec![(None, Some("9"))],
            };
            assert_eq!(names, expected, "{policy:?}");
        }
    }
}
