//! The in-memory backend: one process, ids `<epoch>-<n>` per topic.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use justsse_http::{BoxFuture, Event};
use tokio::time::Instant;

use super::topic::{Start, Topic, lock};
use super::{Backend, HubError, Presence, Subscription};

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

    /// The local number in `id`, if it is one of this hub's; `Some(u64::MAX)`
    /// (unknown) for ids of other hubs or processes.
    fn seq_of(&self, id: &str) -> u64 {
        id.split_once('-')
            .filter(|(epoch, _)| crate::number::canonical_u64(epoch) == Some(self.epoch))
            .and_then(|(_, seq)| crate::number::canonical_u64(seq))
            .unwrap_or(u64::MAX)
    }

    /// The topic, created if needed; `subscribe` counts the new subscriber under
    /// the same lock the sweep takes, so a topic is never freed under it.
    fn topic(&self, name: &str, subscribe: bool) -> Arc<Topic> {
        let mut topics = lock(self.topics.lock());
        self.sweep(&mut topics);
        let topic = topics
            .map
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Topic::new(self.config.replay)))
            .clone();
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
                || now.duration_since(topic.last_activity()) < retain
        });
    }

    /// The last subscriber left: a topic with nothing to replay goes at once.
    fn release(&self, name: &str) {
        let mut topics = lock(self.topics.lock());
        if let Some(topic) = topics.map.get(name) {
            if topic.subscribers.load(Ordering::Relaxed) == 0 && topic.is_empty() {
                topics.map.remove(name);
            }
        }
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

impl Backend for Memory {
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>> {
        let shared = &self.0;
        let published = shared
            .topic(&topic, false)
            .push(|seq| event.id(shared.id(seq)).freeze())
            .map_err(HubError::from);
        Box::pin(std::future::ready(published))
    }

    fn position(&self, topic: String) -> BoxFuture<Option<String>> {
        let shared = &self.0;
        let next = shared.topic(&topic, false).next();
        Box::pin(std::future::ready(Some(shared.id(next.saturating_sub(1)))))
    }

    fn subscribers(&self, topic: String) -> BoxFuture<Result<Presence, HubError>> {
        let here = lock(self.0.topics.lock())
            .map
            .get(&topic)
            .map_or(0, |topic| topic.subscribers.load(Ordering::Relaxed));
        Box::pin(std::future::ready(Ok(Presence {
            here,
            everywhere: here,
        })))
    }

    fn subscribe(&self, name: String, last_id: Option<String>) -> BoxFuture<Subscription> {
        let last_id = last_id.as_deref();
        let shared = self.0.clone();
        let topic = shared.topic(&name, true);
        let (cursor, first) = match topic.resume_after(last_id.map(|id| shared.seq_of(id))) {
            Start::At(cursor) => (cursor, VecDeque::new()),
            Start::Resync(resync) => (topic.next(), VecDeque::from([resync])),
        };
        let guard = Subscribed {
            shared,
            name,
            topic: topic.clone(),
        };
        let subscription = Subscription::new(topic.reader(cursor, first, None, Box::new(guard)));
        Box::pin(std::future::ready(subscription))
    }
}
