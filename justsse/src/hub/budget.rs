//! The bytes the local logs of one hub may hold: per topic and in total. A
//! topic over its share drops its own oldest events; the hub over its total
//! drops the oldest events of any topic, in the order they were published. A
//! subscriber that still needed a dropped event gets a `resync` when it reads,
//! exactly as with the count bound, since both move the log's oldest number.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Weak};

use justsse_http::Event;

use super::topic::{Topic, lock};

/// What an event held in a log costs beside its bytes: the `Event` itself and
/// the shared encoding's header.
const EVENT_OVERHEAD: usize = 160;

/// The bytes `event` holds while a log keeps it: its encoding, the fields kept
/// beside it (a frozen event keeps both), and the overhead.
pub(crate) fn cost(event: &Event) -> usize {
    event.encoded_len() + event.size() + EVENT_OVERHEAD
}

pub(crate) struct Budget {
    /// The most one topic's log may hold.
    pub(crate) topic: usize,
    /// The most every log together may hold.
    total: usize,
    held: AtomicUsize,
    /// Events held, to tell when `order` is mostly stale.
    events: AtomicUsize,
    /// Every event pushed, oldest first, by topic and local number; entries of
    /// events already gone are skipped when reached, and swept out when they
    /// are most of the queue.
    order: Mutex<VecDeque<(Weak<Topic>, u64)>>,
}

impl Budget {
    pub(crate) fn new(topic: usize, total: usize) -> Self {
        let total = total.max(1);
        Self {
            topic: topic.clamp(1, total),
            total,
            held: AtomicUsize::new(0),
            events: AtomicUsize::new(0),
            order: Mutex::new(VecDeque::new()),
        }
    }

    /// A log took an event costing `cost`, and dropped `count` events costing
    /// `freed` of its own to stay within its share. Called under the log's
    /// lock, so an event is counted before anything can drop it.
    pub(crate) fn charge(&self, cost: usize, count: usize, freed: usize) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.held.fetch_add(cost, Ordering::AcqRel);
        self.released(count, freed);
    }

    /// `topic` pushed event number `seq` (charged already): while the total is
    /// over, drops the hub's oldest events, whichever topic holds them.
    pub(crate) fn pushed(&self, topic: Weak<Topic>, seq: u64) {
        let mut order = lock(self.order.lock());
        order.push_back((topic, seq));
        while self.held.load(Ordering::Acquire) > self.total {
            let Some((oldest, through)) = order.pop_front() else {
                break;
            };
            if let Some(topic) = oldest.upgrade() {
                let dropped = topic.drop_through(through);
                if dropped > 0 {
                    metrics::counter!("justsse_hub_events_dropped_total", "reason" => "total_bytes")
                        .increment(dropped as u64);
                }
            }
        }
        if order.len() > 2 * self.events.load(Ordering::Relaxed) + 64 {
            order.retain(|(topic, seq)| topic.upgrade().is_some_and(|topic| topic.holds(*seq)));
        }
        drop(order);
        metrics::gauge!("justsse_hub_bytes").set(self.held.load(Ordering::Acquire) as f64);
    }

    /// `count` events costing `bytes` left a log (dropped, or their topic freed).
    pub(crate) fn released(&self, count: usize, bytes: usize) {
        if count > 0 || bytes > 0 {
            self.events.fetch_sub(count, Ordering::Relaxed);
            self.held.fetch_sub(bytes, Ordering::AcqRel);
        }
    }

    /// The bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use justsse_http::Event;

    use super::{Budget, cost};
    use crate::hub::topic::Topic;

    #[test]
    fn the_total_holds_under_any_mix_of_topics_and_is_given_back() {
        let budget = Arc::new(Budget::new(50_000, 200_000));
        let topics: Vec<Arc<Topic>> = (0..10)
            .map(|_| Arc::new(Topic::new(1024, budget.clone())))
            .collect();
        let mut kept = 0;
        for n in 0..2_000usize {
            let data = "z".repeat(n % 3_000);
            let topic = &topics[n * 7 % topics.len()];
            let pushed = topic.push(|seq| Event::new().id(seq).data(data).freeze());
            kept = cost(&pushed.expect("valid"));
            assert!(budget.held() <= 200_000, "held {} after {n}", budget.held());
        }
        assert!(budget.held() >= kept, "the newest event is kept");
        drop(topics);
        assert_eq!(budget.held(), 0, "freed topics give their bytes back");
    }
}
