//! The in-memory backend: one process, ids `<epoch>-<n>` per topic.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use justsse_http::{BoxFuture, Event};

use super::registry::{Bounds, Registry};
use super::topic::Start;
use super::{Backend, HubError, Presence, Subscription};

/// Settings of the in-memory hub: what it keeps for replay, bounded by count
/// and by bytes, so that no client can make it hold more than
/// [`total_bytes`](Self::total_bytes) (plus a few hundred bytes per topic).
/// Events dropped for any bound are gone as if too old: a subscriber that
/// still needed them gets a [`RESYNC`](super::RESYNC). The largest event a hub
/// takes is set on the hub ([`Hub::max_event_size`](super::Hub::max_event_size)).
///
/// ```
/// use justsse::hub::{Hub, MemoryConfig};
/// use std::time::Duration;
///
/// let hub: Hub<u64> = Hub::memory(MemoryConfig {
///     replay: 256,
///     retain_idle: Duration::from_secs(60),
///     total_bytes: 16 * 1024 * 1024,
///     ..MemoryConfig::default()
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
    /// The most bytes one topic keeps (default 4 MiB, so that the count
    /// bound governs events up to about 2 KiB): past it, its oldest events go
    /// (its newest always stays). An event counts its encoding, its fields
    /// and about 160 bytes of bookkeeping, about twice its size.
    pub topic_bytes: usize,
    /// The most bytes every topic together keeps (default 64 MiB): past it,
    /// the oldest events of the whole hub go first, whatever their topic.
    pub total_bytes: usize,
    /// The most topics kept at once (default 10,000). Making one more frees
    /// the topics nobody listens to that were idle longest (a sixteenth of
    /// them at a time); topics with subscribers are never freed for it.
    pub max_topics: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            replay: 1024,
            retain_idle: super::DEFAULT_RETAIN,
            topic_bytes: super::DEFAULT_TOPIC_BYTES,
            total_bytes: super::DEFAULT_TOTAL_BYTES,
            max_topics: 10_000,
        }
    }
}

pub(crate) struct Memory(Arc<Shared>);

struct Shared {
    /// Distinguishes this process's ids from an earlier one's, so a client that
    /// outlived a restart gets a resync instead of a wrong resume.
    epoch: u64,
    topics: Arc<Registry<()>>,
}

impl Memory {
    pub(crate) fn new(config: MemoryConfig) -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Self(Arc::new(Shared {
            epoch,
            topics: Arc::new(Registry::new(Bounds {
                replay: config.replay.max(1),
                retain: Some(config.retain_idle),
                topic_bytes: config.topic_bytes,
                total_bytes: config.total_bytes,
                max_topics: config.max_topics,
            })),
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
}

impl Backend for Memory {
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>> {
        let shared = &self.0;
        let published = shared
            .topics
            .entry(&topic, || ())
            .log
            .push(|seq| event.id(shared.id(seq)).freeze())
            .map_err(HubError::from);
        Box::pin(std::future::ready(published))
    }

    fn position(&self, topic: String) -> BoxFuture<Option<String>> {
        let shared = &self.0;
        let next = shared.topics.entry(&topic, || ()).log.next();
        Box::pin(std::future::ready(Some(shared.id(next.saturating_sub(1)))))
    }

    fn subscribers(&self, topic: String) -> BoxFuture<Result<Presence, HubError>> {
        let here = self.0.topics.subscribers(&topic);
        Box::pin(std::future::ready(Ok(Presence {
            here,
            everywhere: here,
        })))
    }

    fn subscribe(&self, name: String, last_id: Option<String>) -> BoxFuture<Subscription> {
        let last_id = last_id.as_deref();
        let shared = &self.0;
        let (entry, guard) = shared.topics.subscribe(&name, || ());
        let topic = &entry.log;
        let (cursor, first) = match topic.resume_after(last_id.map(|id| shared.seq_of(id))) {
            Start::At(cursor) => (cursor, VecDeque::new()),
            Start::Resync(resync) => (topic.next(), VecDeque::from([resync])),
        };
        let subscription = Subscription::new(topic.reader(cursor, first, None, Box::new(guard)));
        Box::pin(std::future::ready(subscription))
    }
}
