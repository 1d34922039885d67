//! One topic's local log: a ring buffer that is both the replay buffer and the
//! fan-out queue. Subscribers read it with their own cursor, so replay and live
//! delivery are one path, a publish never waits for a subscriber, and a
//! subscriber that falls behind the buffer learns it by its cursor. Both backends
//! fan out through it: the in-memory one publishes into it, the Redis one feeds it
//! from its single reader per instance.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};

use futures_util::Stream;
use justsse_http::{Event, EventError};
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;
use tokio::time::Instant;

use super::budget::{Budget, cost};
use super::resync;

pub(crate) fn lock<T>(result: Result<T, PoisonError<T>>) -> T {
    // A panic while holding the lock cannot leave the log half-written (each
    // change is one push/pop), so the data is still consistent.
    result.unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Topic {
    log: RwLock<Log>,
    published: Arc<Notify>,
    pub(crate) subscribers: AtomicUsize,
    replay: usize,
    /// The bytes this log and the hub's logs together may hold.
    budget: Arc<Budget>,
}

struct Log {
    /// The local number the next event gets; the first is 1.
    next: u64,
    /// The last events, oldest first: `events[i]` has number `next - len + i`.
    events: VecDeque<Event>,
    /// What `events` hold, by [`cost`].
    bytes: usize,
    last_activity: Instant,
}

impl Log {
    fn oldest(&self) -> u64 {
        self.next - self.events.len() as u64
    }

    /// Drops the oldest event; its cost, `None` when there is none.
    fn drop_oldest(&mut self) -> Option<usize> {
        let oldest = cost(&self.events.pop_front()?);
        self.bytes -= oldest;
        Some(oldest)
    }

    /// The id of the newest event, which a resync carries.
    fn latest_id(&self) -> &str {
        self.events
            .back()
            .and_then(Event::id_str)
            .unwrap_or_default()
    }
}

/// Drops live events a replay already delivered.
pub(crate) type Skip = Box<dyn FnMut(&Event) -> bool + Send>;

/// What a subscriber resuming after `last` on a shared backend starts with:
/// the replayed events, and the live ones to drop because the replay had
/// them (by their ids, read by `parse`); or the resync the replay gave.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn after_replay<P>(
    replay: Result<VecDeque<Event>, Event>,
    last: P,
    parse: fn(&str) -> Option<P>,
) -> (VecDeque<Event>, Option<Skip>)
where
    P: Ord + Copy + Send + 'static,
{
    match replay {
        Ok(replayed) => {
            let through = replayed
                .back()
                .and_then(|e| e.id_str())
                .and_then(parse)
                .unwrap_or(last);
            let skip: Skip = Box::new(move |event: &Event| {
                event
                    .id_str()
                    .and_then(parse)
                    .is_some_and(|id| id <= through)
            });
            (replayed, Some(skip))
        }
        Err(resync) => (VecDeque::from([resync]), None),
    }
}

/// Where a resuming subscriber starts.
pub(crate) enum Start {
    /// From this local number.
    At(u64),
    /// After this resync, at the end of the log.
    Resync(Event),
}

/// What a subscriber read.
enum Read {
    /// Events were appended to its batch: this many, the reader's backlog.
    Events(u64),
    /// The one event after the cursor (the batch was empty).
    One(Event),
    Resync(Event),
    Nothing,
}

impl Drop for Topic {
    fn drop(&mut self) {
        let log = self.log.get_mut().unwrap_or_else(PoisonError::into_inner);
        self.budget.released(log.events.len(), log.bytes);
    }
}

impl Topic {
    pub(crate) fn new(replay: usize, budget: Arc<Budget>) -> Self {
        Self {
            log: RwLock::new(Log {
                next: 1,
                events: VecDeque::new(),
                bytes: 0,
                last_activity: Instant::now(),
            }),
            published: Arc::new(Notify::new()),
            subscribers: AtomicUsize::new(0),
            replay: replay.max(1),
            budget,
        }
    }

    /// Appends the event `make` builds from its local number, and wakes
    /// readers. The oldest events go while the log holds more than its count
    /// or its bytes (the newest always stays), then the hub's oldest while
    /// every log together holds more than the hub's total.
    pub(crate) fn push(
        self: &Arc<Self>,
        make: impl FnOnce(u64) -> Result<Event, EventError>,
    ) -> Result<Event, EventError> {
        let (event, seq) = {
            let mut log = lock(self.log.write());
            let seq = log.next;
            let event = make(seq)?;
            let added = cost(&event);
            log.events.push_back(event.clone());
            log.bytes += added;
            let (mut count, mut freed) = (0, 0);
            while log.events.len() > self.replay
                || (log.bytes > self.budget.topic && log.events.len() > 1)
            {
                let Some(oldest) = log.drop_oldest() else {
                    break;
                };
                (count, freed) = (count + 1, freed + oldest);
            }
            self.budget.charge(added, count, freed);
            log.next += 1;
            log.last_activity = Instant::now();
            (event, seq)
        };
        self.budget.pushed(Arc::downgrade(self), seq);
        self.published.notify_waiters();
        Ok(event)
    }

    /// Drops the events numbered up to `seq` that the log still holds (the
    /// hub is over its total); returns how many went.
    pub(crate) fn drop_through(&self, seq: u64) -> usize {
        let mut log = lock(self.log.write());
        let (mut count, mut freed) = (0, 0);
        while log.oldest() <= seq {
            let Some(oldest) = log.drop_oldest() else {
                break;
            };
            (count, freed) = (count + 1, freed + oldest);
        }
        self.budget.released(count, freed);
        count
    }

    /// Whether the log still holds event number `seq`.
    pub(crate) fn holds(&self, seq: u64) -> bool {
        let log = lock(self.log.read());
        seq >= log.oldest() && seq < log.next
    }

    /// The number the next event gets: a reader starting here sees only what
    /// comes after now.
    pub(crate) fn next(&self) -> u64 {
        lock(self.log.read()).next
    }

    /// Whether the topic keeps no events.
    pub(crate) fn is_empty(&self) -> bool {
        lock(self.log.read()).events.is_empty()
    }

    /// When an event was last pushed (or the topic created).
    pub(crate) fn last_activity(&self) -> Instant {
        lock(self.log.read()).last_activity
    }

    /// Where a subscriber resuming after local number `seq` starts: at the
    /// next number when the log still holds everything after it, else a resync.
    pub(crate) fn resume_after(&self, seq: Option<u64>) -> Start {
        let log = lock(self.log.read());
        match seq {
            None => Start::At(log.next),
            Some(seq) if seq < log.next && seq + 1 >= log.oldest() => Start::At(seq + 1),
            Some(seq) if seq < log.next => Start::Resync(resync(log.latest_id(), "too_old")),
            Some(_) => Start::Resync(resync(log.latest_id(), "unknown_id")),
        }
    }

    /// Appends everything from `cursor` on to `batch` (whose allocation the
    /// reader keeps from read to read), moving the cursor to the end; a resync
    /// when the cursor is before the oldest kept event.
    fn read(&self, cursor: &mut u64, batch: &mut VecDeque<Event>) -> Read {
        let log = lock(self.log.read());
        if *cursor < log.oldest() {
            *cursor = log.next;
            return Read::Resync(resync(log.latest_id(), "lagged"));
        }
        if *cursor >= log.next {
            return Read::Nothing;
        }
        let skip = (*cursor - log.oldest()) as usize;
        let behind = log.next - *cursor;
        *cursor = log.next;
        if behind == 1 && batch.is_empty() {
            // The usual case: the one new event, without filling (and
            // allocating) the batch.
            if let Some(event) = log.events.back() {
                return Read::One(event.clone());
            }
        }
        batch.extend(log.events.range(skip..).cloned());
        Read::Events(behind)
    }

    /// A reader from local number `cursor`: first `first` (a resync or replayed
    /// events), then the log, skipping the events `skip` says were replayed.
    pub(crate) fn reader(
        self: &Arc<Self>,
        cursor: u64,
        first: VecDeque<Event>,
        skip: Option<Skip>,
        guard: Box<dyn Send>,
    ) -> Reader {
        Reader {
            topic: self.clone(),
            cursor,
            first,
            batch: VecDeque::new(),
            skip,
            wait: Box::pin(self.published.clone().notified_owned()),
            armed: false,
            lagging: false,
            _guard: guard,
        }
    }
}

/// One subscriber's reading of a topic. Written by hand rather than as a
/// generator so that an idle subscriber holds little.
pub(crate) struct Reader {
    topic: Arc<Topic>,
    cursor: u64,
    /// A resync or replayed events, sent before anything from the log.
    first: VecDeque<Event>,
    /// Events taken from the log in one read.
    batch: VecDeque<Event>,
    /// Drops live events already delivered by a replay; cleared at the first
    /// event it lets through (events come in id order).
    skip: Option<Skip>,
    wait: Pin<Box<OwnedNotified>>,
    /// Whether `wait` was made before the last read and has not fired.
    armed: bool,
    /// Whether its last read found it over half the log behind: counted in
    /// `justsse_hub_lagging_subscribers` (a whole log behind is a resync).
    lagging: bool,
    /// Counts the subscriber while it lives.
    _guard: Box<dyn Send>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.set_lagging(false);
    }
}

impl Reader {
    fn set_lagging(&mut self, lagging: bool) {
        if lagging != self.lagging {
            self.lagging = lagging;
            let gauge = metrics::gauge!("justsse_hub_lagging_subscribers");
            match lagging {
                true => gauge.increment(1.0),
                false => gauge.decrement(1.0),
            }
        }
    }

    fn next_ready(&mut self) -> Option<Event> {
        if let Some(event) = self.first.pop_front() {
            return Some(event);
        }
        while let Some(event) = self.batch.pop_front() {
            if let Some(event) = self.unskipped(event) {
                return Some(event);
            }
        }
        None
    }

    /// `event`, unless the replay delivered it already.
    fn unskipped(&mut self, event: Event) -> Option<Event> {
        if let Some(skip) = &mut self.skip {
            if skip(&event) {
                return None;
            }
            self.skip = None;
        }
        Some(event)
    }
}

impl Stream for Reader {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.next_ready() {
                return Poll::Ready(Some(event));
            }
            if this.armed {
                // Polled every time, even with nothing published since the
                // last read: a publish that the last read already took may
                // notify it after the read, and a notified wait is out of the
                // topic's waiter list, so only a poll can tell (skipping it,
                // as a fast path did, lost the wake of the next publish).
                // Made before the last read: pending, nothing was published
                // since (a `notify_waiters` reaches a future made before it,
                // even unpolled), so there is nothing to read. Polled before
                // it is dropped: a notified one is then done without the
                // lock of the topic's waiter list, which dropping it while
                // waiting takes (every subscriber shares that lock).
                match this.wait.as_mut().poll(cx) {
                    Poll::Ready(()) => this.armed = false,
                    Poll::Pending => {
                        // Going idle: an idle subscriber keeps no batch
                        // allocation (a busy one reuses it between reads).
                        this.batch = VecDeque::new();
                        return Poll::Pending;
                    }
                }
            }
            // Made before reading, so a publish between the read and the
            // wait is not missed. It stays armed after a read that found
            // events: a publish during the read only wakes it once more.
            let published = this.topic.published.clone().notified_owned();
            this.wait.set(published);
            this.armed = true;
            match this.topic.read(&mut this.cursor, &mut this.batch) {
                Read::Events(behind) => {
                    this.set_lagging(behind.saturating_mul(2) > this.topic.replay as u64);
                }
                Read::One(event) => {
                    this.set_lagging(2 > this.topic.replay);
                    if let Some(event) = this.unskipped(event) {
                        return Poll::Ready(Some(event));
                    }
                }
                Read::Resync(event) => {
                    this.set_lagging(false);
                    // Whatever the replay covered is behind the resync now.
                    this.skip = None;
                    return Poll::Ready(Some(event));
                }
                Read::Nothing => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use futures_util::Stream;
    use justsse_http::Event;

    use super::{Reader, Topic};
    use crate::hub::budget::Budget;

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Wakes {
        fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn poll(reader: &mut Reader, waker: &Waker) -> Poll<Option<Event>> {
        Pin::new(reader).poll_next(&mut Context::from_waker(waker))
    }

    fn publish(topic: &Arc<Topic>) {
        let pushed = topic.push(|seq| Event::new().id(seq).data("x").freeze());
        assert!(pushed.is_ok());
    }

    #[test]
    fn a_reader_wakes_the_waker_it_was_last_polled_with() {
        let topic = Arc::new(Topic::new(16, Arc::new(Budget::new(1 << 20, 1 << 22))));
        let mut reader = topic.reader(topic.next(), VecDeque::new(), None, Box::new(()));
        let (a, b) = (Arc::new(Wakes::default()), Arc::new(Wakes::default()));
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));

        assert!(poll(&mut reader, &wa).is_pending());
        // Polled again with the same waker and nothing new: still waiting.
        assert!(poll(&mut reader, &wa).is_pending());
        publish(&topic);
        assert_eq!((a.count(), b.count()), (1, 0));
        assert!(matches!(poll(&mut reader, &wa), Poll::Ready(Some(_))));
        assert!(poll(&mut reader, &wa).is_pending());
        assert!(poll(&mut reader, &wa).is_pending());

        // Another waker now (a body polled from elsewhere): the next publish
        // must wake that one.
        assert!(poll(&mut reader, &wb).is_pending());
        publish(&topic);
        assert_eq!(b.count(), 1, "the waker it was last polled with is woken");
        assert!(matches!(poll(&mut reader, &wb), Poll::Ready(Some(_))));
        assert!(poll(&mut reader, &wb).is_pending());
    }

    #[test]
    fn a_late_notification_for_an_event_already_read_loses_no_wake() {
        let topic = Arc::new(Topic::new(16, Arc::new(Budget::new(1 << 20, 1 << 22))));
        let mut reader = topic.reader(topic.next(), VecDeque::new(), None, Box::new(()));
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        assert!(poll(&mut reader, &waker).is_pending());
        publish(&topic);
        assert!(matches!(poll(&mut reader, &waker), Poll::Ready(Some(_))));
        assert!(poll(&mut reader, &waker).is_pending());
        // What a publisher on another thread does when its event was read
        // before its `notify_waiters` ran: the waiting reader is notified
        // for nothing new, and polled.
        topic.published.notify_waiters();
        assert!(poll(&mut reader, &waker).is_pending(), "nothing new");
        let before = wakes.count();
        publish(&topic);
        assert_eq!(wakes.count(), before + 1, "the next publish wakes it");
        assert!(matches!(poll(&mut reader, &waker), Poll::Ready(Some(_))));
    }
}
