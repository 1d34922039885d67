//! The in-memory backend: per topic, one ring buffer that is both the replay
//! buffer and the fan-out queue. Subscribers read it with their own cursor, so
//! replay and live delivery are one path (no seam to lose or repeat events at),
//! a publish never waits for a subscriber, and a subscriber that falls behind the
//! buffer learns it by its cursor.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use justsse_http::{BoxFuture, Event};
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;
use tokio::time::Instant;

use super::{Backend, HubError, Subscription, resync};

/// Settings of the in-memory hub.
///
/// ```
/// use justsse::hub::{Hub, MemoryConfig};
/// use std::time::Duration;
///
/// let hub: Hub<u64> = Hub::memory(MemoryConfig {
///     replay: 256,
///     retain_idle: Duration::from_secs(60),
/// });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MemoryConfig {
    /// Events kept per topic for replay (default 1,024; at least 1). A
    /// subscriber more than this many events behind gets a resync.
    pub replay: usize,
    /// How long a topic with no subscribers keeps its events for clients that
    /// come back (default 10 minutes); then it is freed.
    pub retain_idle: Duration,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            replay: 1024,
            retain_idle: super::DEFAULT_RETAIN,
        }
    }
}

pub(crate) struct Memory(Arc<Shared>);

struct Shared {
    /// Distinguishes this process's ids from an earlier one's, so a client that
    /// outlived a restart gets a resync instead of a wrong resume.
    epoch: u64,
    config: MemoryConfig,
    topics: Mutex<Topics>,
}

struct Topics {
    map: HashMap<String, Arc<Topic>>,
    last_sweep: Instant,
}

struct Topic {
    log: RwLock<Log>,
    published: Arc<Notify>,
    subscribers: AtomicUsize,
}

struct Log {
    /// The sequence number the next event gets; the first is 1.
    next: u64,
    /// The last events, oldest first: `events[i]` has number `next - len + i`.
    events: VecDeque<Event>,
    last_activity: Instant,
}

impl Log {
    fn oldest(&self) -> u64 {
        self.next - self.events.len() as u64
    }
}

fn lock<T>(result: Result<T, PoisonError<T>>) -> T {
    // A panic while holding the lock cannot leave the log half-written (each
    // change is one push/pop), so the data is still consistent.
    result.unwrap_or_else(PoisonError::into_inner)
}

impl Memory {
    pub(crate) fn new(config: MemoryConfig) -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Self(Arc::new(Shared {
            epoch,
            config: MemoryConfig {
                replay: config.replay.max(1),
                ..config
            },
            topics: Mutex::new(Topics {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }))
    }
}

impl Shared {
    fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.epoch)
    }

    /// The sequence number in `id`, if it is one of this hub's.
    fn seq_of(&self, id: &str) -> Option<u64> {
        let (epoch, seq) = id.split_once('-')?;
        (epoch.parse::<u64>().ok()? == self.epoch).then_some(())?;
        seq.parse().ok()
    }

    /// The topic, created if needed; `subscribe` counts the new subscriber under
    /// the same lock the sweep takes, so a topic is never freed under it.
    fn topic(&self, name: &str, subscribe: bool) -> Arc<Topic> {
        let mut topics = lock(self.topics.lock());
        self.sweep(&mut topics);
        let topic = match topics.map.get(name) {
            Some(topic) => topic.clone(),
            None => {
                let topic = Arc::new(Topic {
                    log: RwLock::new(Log {
                        next: 1,
                        events: VecDeque::new(),
                        last_activity: Instant::now(),
                    }),
                    published: Arc::new(Notify::new()),
                    subscribers: AtomicUsize::new(0),
                });
                topics.map.insert(name.to_owned(), topic.clone());
                topic
            }
        };
        if subscribe {
            topic.subscribers.fetch_add(1, Ordering::Relaxed);
        }
        topic
    }

    /// Frees topics nobody listens to whose events are older than `retain_idle`,
    /// at most every quarter of that period, so its cost is spread thin.
    fn sweep(&self, topics: &mut Topics) {
        let now = Instant::now();
        let retain = self.config.retain_idle;
        if now.duration_since(topics.last_sweep) < retain / 4 {
            return;
        }
        topics.last_sweep = now;
        topics.map.retain(|_, topic| {
            topic.subscribers.load(Ordering::Relaxed) > 0
                || now.duration_since(lock(topic.log.read()).last_activity) < retain
        });
    }

    /// The last subscriber left: a topic with nothing to replay goes at once.
    fn release(&self, name: &str) {
        let mut topics = lock(self.topics.lock());
        if let Some(topic) = topics.map.get(name) {
            if topic.subscribers.load(Ordering::Relaxed) == 0
                && lock(topic.log.read()).events.is_empty()
            {
                topics.map.remove(name);
            }
        }
    }

    fn publish(&self, name: &str, event: Event) -> Result<Event, HubError> {
        let topic = self.topic(name, false);
        let event = {
            let mut log = lock(topic.log.write());
            let event = event.id(self.id(log.next)).freeze()?;
            log.events.push_back(event.clone());
            if log.events.len() > self.config.replay {
                log.events.pop_front();
            }
            log.next += 1;
            log.last_activity = Instant::now();
            event
        };
        topic.published.notify_waiters();
        Ok(event)
    }
}

/// Counts a subscriber while it lives.
struct Subscribed {
    shared: Arc<Shared>,
    name: String,
    topic: Arc<Topic>,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        if self.topic.subscribers.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.shared.release(&self.name);
        }
    }
}

/// What a subscriber reads next.
enum Read {
    Events(Vec<Event>),
    Resync(Event),
    Nothing,
}

impl Topic {
    /// Everything from `cursor` on, moving the cursor to the end; a resync when
    /// the cursor is before the oldest kept event.
    fn read(&self, shared: &Shared, cursor: &mut u64) -> Read {
        let log = lock(self.log.read());
        if *cursor < log.oldest() {
            *cursor = log.next;
            return Read::Resync(resync(&latest_id(shared, &log), "lagged"));
        }
        if *cursor >= log.next {
            return Read::Nothing;
        }
        let skip = (*cursor - log.oldest()) as usize;
        *cursor = log.next;
        Read::Events(log.events.iter().skip(skip).cloned().collect())
    }
}

fn latest_id(shared: &Shared, log: &Log) -> String {
    if log.next > 1 {
        shared.id(log.next - 1)
    } else {
        String::new()
    }
}

impl Backend for Memory {
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>> {
        let published = self.0.publish(&topic, event);
        Box::pin(std::future::ready(published))
    }

    fn subscribe(&self, name: String, last_id: Option<&str>) -> Subscription {
        let shared = self.0.clone();
        let topic = shared.topic(&name, true);
        let (cursor, first) = {
            let log = lock(topic.log.read());
            match last_id.map(|id| (id, shared.seq_of(id))) {
                None => (log.next, None),
                Some((_, Some(seq))) if seq < log.next && seq + 1 >= log.oldest() => {
                    (seq + 1, None)
                }
                Some((_, Some(seq))) if seq < log.next => {
                    (log.next, Some(resync(&latest_id(&shared, &log), "too_old")))
                }
                Some(_) => (
                    log.next,
                    Some(resync(&latest_id(&shared, &log), "unknown_id")),
                ),
            }
        };
        let subscribed = Subscribed {
            shared,
            name,
            topic,
        };
        let wait = Box::pin(subscribed.topic.published.clone().notified_owned());
        Subscription::new(Reader {
            subscribed,
            cursor,
            first,
            batch: VecDeque::new(),
            wait,
            armed: false,
        })
    }
}

/// One subscriber's reading of a topic: its cursor, the events it took in one
/// read, and its registration for the next publish. Written by hand rather than
/// as a generator so that an idle subscriber holds little.
struct Reader {
    subscribed: Subscribed,
    cursor: u64,
    first: Option<Event>,
    batch: VecDeque<Event>,
    wait: Pin<Box<OwnedNotified>>,
    /// Whether `wait` is registered for a publish after the last read.
    armed: bool,
}

impl Stream for Reader {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = &mut *self;
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(first));
        }
        if let Some(event) = this.batch.pop_front() {
            return Poll::Ready(Some(event));
        }
        loop {
            if !this.armed {
                // Register before reading, so a publish between the read and
                // the wait is not missed.
                let published = this.subscribed.topic.published.clone().notified_owned();
                this.wait.set(published);
                this.wait.as_mut().enable();
                this.armed = true;
            }
            match this
                .subscribed
                .topic
                .read(&this.subscribed.shared, &mut this.cursor)
            {
                Read::Events(events) => {
                    this.armed = false;
                    this.batch = events.into();
                    return Poll::Ready(this.batch.pop_front());
                }
                Read::Resync(event) => {
                    this.armed = false;
                    return Poll::Ready(Some(event));
                }
                Read::Nothing => match this.wait.as_mut().poll(cx) {
                    Poll::Ready(()) => this.armed = false,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}
