//! The topics of a hub (of one shard, on the Redis hub), by name: each with
//! its local log (the replay buffer and fan-out queue of [`Topic`]), what the
//! backend keeps beside it, and its count of local subscribers. Both backends
//! keep their topics here, so counting subscribers, releasing a topic after
//! its last one and freeing idle topics are written once.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::budget::Budget;
use super::topic::{Topic, lock};

pub(crate) struct Registry<T> {
    state: Mutex<Topics<T>>,
    /// Events each topic's log keeps.
    replay: usize,
    /// How long a topic nobody listens to keeps its events for clients that
    /// come back; `None`: it goes with its last subscriber (its events are
    /// kept elsewhere, in Redis).
    retain: Option<Duration>,
    /// The bytes every topic's log may hold.
    budget: Arc<Budget>,
    /// The most topics kept; past it, making one frees the longest idle
    /// topics that nobody listens to.
    max_topics: usize,
}

/// What a [`Registry`] keeps, at most.
pub(crate) struct Bounds {
    /// Events each topic's log keeps.
    pub(crate) replay: usize,
    /// See [`Registry::retain`].
    pub(crate) retain: Option<Duration>,
    /// Bytes per topic's log, and of every log together.
    pub(crate) topic_bytes: usize,
    pub(crate) total_bytes: usize,
    /// Topics kept at once (those with subscribers are never freed for it).
    pub(crate) max_topics: usize,
}

struct Topics<T> {
    map: HashMap<String, Arc<Entry<T>>>,
    last_sweep: Instant,
}

/// One topic: its log, and the backend's `state` of it.
pub(crate) struct Entry<T> {
    pub(crate) log: Arc<Topic>,
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) state: T,
}

impl<T> Entry<T> {
    /// Its local subscribers now.
    pub(crate) fn subscribers(&self) -> usize {
        self.log.subscribers.load(Ordering::Relaxed)
    }
}

impl<T: Send + Sync + 'static> Registry<T> {
    pub(crate) fn new(bounds: Bounds) -> Self {
        Self {
            state: Mutex::new(Topics {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
            replay: bounds.replay,
            retain: bounds.retain,
            budget: Arc::new(Budget::new(bounds.topic_bytes, bounds.total_bytes)),
            max_topics: bounds.max_topics.max(1),
        }
    }

    /// The topic `name`, made by `make` if it has no entry.
    pub(crate) fn entry(&self, name: &str, make: impl FnOnce() -> T) -> Arc<Entry<T>> {
        self.find(name, make, false)
    }

    /// The topic `name` (made by `make` if needed) counting one more
    /// subscriber, and the guard that counts it until dropped. It is counted
    /// under the lock a sweep takes, so a topic is never freed under it.
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        name: &str,
        make: impl FnOnce() -> T,
    ) -> (Arc<Entry<T>>, Subscribed<T>) {
        let entry = self.find(name, make, true);
        let guard = Subscribed {
            registry: self.clone(),
            name: name.to_owned(),
            entry: entry.clone(),
        };
        (entry, guard)
    }

    /// The local subscribers of `name`.
    pub(crate) fn subscribers(&self, name: &str) -> usize {
        lock(self.state.lock())
            .map
            .get(name)
            .map_or(0, |entry| entry.subscribers())
    }

    /// The topic `name`, if it has an entry.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Entry<T>>> {
        lock(self.state.lock()).map.get(name).cloned()
    }

    /// Every topic's entry now, without their names.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn entries(&self) -> Vec<Arc<Entry<T>>> {
        lock(self.state.lock()).map.values().cloned().collect()
    }

    /// Every topic now.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn all(&self) -> Vec<(String, Arc<Entry<T>>)> {
        lock(self.state.lock())
            .map
            .iter()
            .map(|(name, entry)| (name.clone(), entry.clone()))
            .collect()
    }

    fn find(&self, name: &str, make: impl FnOnce() -> T, subscribe: bool) -> Arc<Entry<T>> {
        let mut topics = lock(self.state.lock());
        self.sweep(&mut topics);
        let entry = match topics.map.get(name) {
            Some(entry) => entry.clone(),
            None => {
                if topics.map.len() >= self.max_topics {
                    self.free_idle(&mut topics);
                }
                let entry = Arc::new(Entry {
                    log: Arc::new(Topic::new(self.replay, self.budget.clone())),
                    state: make(),
                });
                topics.map.insert(name.to_owned(), entry.clone());
                entry
            }
        };
        if subscribe {
            entry.log.subscribers.fetch_add(1, Ordering::Relaxed);
        }
        entry
    }

    /// Frees topics nobody listens to whose events are older than `retain`,
    /// at most every quarter of that period, so its cost is spread thin.
    fn sweep(&self, topics: &mut Topics<T>) {
        let Some(retain) = self.retain else {
            return;
        };
        let now = Instant::now();
        if now.duration_since(topics.last_sweep) < retain / 4 {
            return;
        }
        topics.last_sweep = now;
        topics.map.retain(|_, entry| {
            entry.subscribers() > 0 || now.duration_since(entry.log.last_activity()) < retain
        });
    }

    /// Frees the longest idle sixteenth (at least one) of the topics nobody
    /// listens to: the registry is full. Topics with subscribers stay (their
    /// number is bounded by the streams the server admits).
    fn free_idle(&self, topics: &mut Topics<T>) {
        let mut idle: Vec<(Instant, String)> = topics
            .map
            .iter()
            .filter(|(_, entry)| entry.subscribers() == 0)
            .map(|(name, entry)| (entry.log.last_activity(), name.clone()))
            .collect();
        let count = (topics.map.len() / 16).max(1).min(idle.len());
        if count == 0 {
            return;
        }
        idle.select_nth_unstable(count - 1);
        for (_, name) in &idle[..count] {
            topics.map.remove(name);
        }
        metrics::counter!("justsse_hub_topics_freed_total", "reason" => "max_topics")
            .increment(count as u64);
    }

    /// The last subscriber of `left` (`name`) left: the topic goes now if it
    /// keeps nothing for later (its events are elsewhere, or it has none) and
    /// is still the one registered under `name`.
    fn release(&self, name: &str, left: &Arc<Entry<T>>) {
        let mut topics = lock(self.state.lock());
        let Some(entry) = topics
            .map
            .get(name)
            .filter(|entry| Arc::ptr_eq(entry, left))
        else {
            return;
        };
        if entry.subscribers() == 0 && (self.retain.is_none() || entry.log.is_empty()) {
            topics.map.remove(name);
        }
    }
}

/// Counts a subscriber while it lives; the last one to go releases the topic.
pub(crate) struct Subscribed<T: Send + Sync + 'static> {
    registry: Arc<Registry<T>>,
    name: String,
    entry: Arc<Entry<T>>,
}

impl<T: Send + Sync + 'static> Drop for Subscribed<T> {
    fn drop(&mut self) {
        if self.entry.log.subscribers.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.registry.release(&self.name, &self.entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Bounds, Registry};

    fn bounds(retain: Option<Duration>) -> Bounds {
        Bounds {
            replay: 4,
            retain,
            topic_bytes: 1 << 20,
            total_bytes: 1 << 20,
            max_topics: 100,
        }
    }

    #[test]
    fn a_topic_without_retention_goes_with_its_last_subscriber() {
        let registry = Arc::new(Registry::new(bounds(None)));
        let (_, first) = registry.subscribe("t", || 1);
        let (entry, second) = registry.subscribe("t", || 2);
        assert_eq!(
            (entry.state, registry.subscribers("t")),
            (1, 2),
            "made once"
        );
        drop(first);
        assert_eq!(registry.all().len(), 1);
        drop(second);
        assert!(registry.all().is_empty());
    }

    #[test]
    fn a_retained_topic_stays_while_it_has_events() {
        let registry = Arc::new(Registry::new(bounds(Some(Duration::from_secs(60)))));
        let (_, guard) = registry.subscribe("quiet", || ());
        drop(guard);
        assert!(registry.all().is_empty(), "nothing to keep");
        let (entry, guard) = registry.subscribe("t", || ());
        let pushed = entry
            .log
            .push(|_| justsse_http::Event::new().data("x").freeze());
        assert!(pushed.is_ok());
        drop(guard);
        assert_eq!(registry.all().len(), 1, "kept for returning clients");
    }
}
