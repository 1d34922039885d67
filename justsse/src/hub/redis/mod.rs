//! The hub on Redis Streams (feature `redis`), for several instances behind a
//! load balancer, on one Redis node or a Redis Cluster.
//!
//! One stream key per topic, trimmed approximately to the replay size. The id a
//! client sees is the stream entry id (`<ms>-<seq>`), so a reconnect may land on
//! any instance and resume there. Each instance follows the topics its local
//! subscribers want with one blocking `XREAD` per shard (one shard on a node,
//! [`RedisConfig::shards`] on a cluster) and fans out locally: 10,000
//! subscribers on an instance cost Redis one reader per shard, not 10,000.

mod announce;
mod connection;
mod reader;
mod shards;
mod stream;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use justsse_http::{BoxError, BoxFuture, Event};
use tokio::sync::Notify;

use super::registry::{Bounds, Entry, Registry, Subscribed};
use super::topic::{after_replay, lock};
use super::{Backend, HubError, Presence, Subscription, presence, resync};
use connection::Connector;
pub use connection::RedisConnection;
use shards::Shards;
use stream::StreamId;

/// Which Redis the hub uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisServers {
    /// One node, e.g. `redis://127.0.0.1:6379/`.
    Node(String),
    /// A Redis Cluster, by some of its nodes (the others are discovered).
    Cluster(Vec<String>),
}

/// Settings of the Redis hub.
///
/// ```
/// use justsse::hub::{RedisConfig, RedisServers};
///
/// let node = RedisConfig::new("redis://127.0.0.1:6379/");
/// assert_eq!(node.servers, RedisServers::Node("redis://127.0.0.1:6379/".to_owned()));
///
/// let mut cluster = RedisConfig::cluster(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]);
/// cluster.wait_replicas = 1; // an acknowledged publish survives a failover
/// assert_eq!(cluster.shards, 16);
/// ```
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Where Redis is.
    pub servers: RedisServers,
    /// Entries kept per topic (approximately: `XADD MAXLEN ~`), and per topic on
    /// each instance for its local subscribers. Default 1,024.
    pub replay: usize,
    /// Prefix of the keys (default `justsse:`; no braces, on a cluster).
    pub key_prefix: String,
    /// How long one `XREAD` blocks (default 250 ms): also the longest a newly
    /// followed topic waits before its live events start to flow.
    pub block: Duration,
    /// How often this instance announces its subscriber count per followed
    /// topic, in `<key_prefix>p:<topic>` (default 5 s): the most other
    /// instances' [`Hub::subscribers`](super::Hub::subscribers) lag behind it.
    pub presence_every: Duration,
    /// How long an announcement counts (default 15 s): the most a crashed
    /// instance's subscribers go on counting after its last announcement.
    pub presence_ttl: Duration,
    /// On a cluster, how many shards the topics are spread over (default 16):
    /// each is one hash slot, read by one blocking reader per instance while
    /// it has topics with local subscribers (at most 1,024). Every instance
    /// must use the same number (it names the keys); a multiple of the
    /// masters spreads evenly.
    pub shards: usize,
    /// How many replicas must have an event before
    /// [`Hub::publish`](super::Hub::publish) returns (`WAIT`, up to 200 ms,
    /// then it returns anyway and logs a warning; default 0). Redis replicates asynchronously: with 0, an event the
    /// master took but had not yet passed on is lost if the master fails over
    /// (subscribers that had not read it never see it). With 1, a publish
    /// returns only once a replica holds it.
    pub wait_replicas: usize,
    /// How long a topic's stream stays in Redis after its last event (default
    /// one day; `None` keeps it for good): each publish sets the key's expiry
    /// (`PEXPIRE`, in the same round trip), so topics nobody publishes to any
    /// more, such as finished generations ([`Hub::detach`](super::Hub::detach)),
    /// leave Redis by themselves. A client resuming from an expired topic gets
    /// a `resync`.
    pub retain_idle: Option<Duration>,
}

impl RedisConfig {
    /// The defaults, for one Redis node at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with(RedisServers::Node(url.into()))
    }

    /// The defaults, for a Redis Cluster reached through any of `urls`.
    pub fn cluster<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        Self::with(RedisServers::Cluster(
            urls.into_iter().map(Into::into).collect(),
        ))
    }

    fn with(servers: RedisServers) -> Self {
        Self {
            servers,
            replay: 1024,
            key_prefix: "justsse:".to_owned(),
            block: Duration::from_millis(250),
            presence_every: Duration::from_secs(5),
            presence_ttl: Duration::from_secs(15),
            shards: 16,
            wait_replicas: 0,
            retain_idle: Some(Duration::from_secs(24 * 60 * 60)),
        }
    }
}

/// The Redis Streams backend. Create it with [`RedisBackend::connect`] and hand
/// it to [`Hub::with_backend`](super::Hub::with_backend).
///
/// ```no_run
/// use justsse::hub::{Hub, RedisBackend, RedisConfig};
///
/// # async fn run() -> Result<(), justsse::hub::HubError> {
/// let hub: Hub<u64> = Hub::with_backend(RedisBackend::connect(RedisConfig::new("redis://127.0.0.1/")).await?);
/// # Ok(())
/// # }
/// ```
pub struct RedisBackend(Arc<Shared>);

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("servers", &self.0.config.servers)
            .finish_non_exhaustive()
    }
}

struct Shared {
    config: RedisConfig,
    /// This instance among those sharing the Redis: its presence field.
    instance: String,
    connector: Connector,
    commands: RedisConnection,
    shards: Shards,
    /// The topics with local subscribers, one registry per shard.
    followed: Vec<Followed>,
}

/// A shard's topics with local subscribers, which its reader follows.
struct Followed {
    topics: Arc<Registry<Follow>>,
    /// Wakes the reader when the first topic becomes active.
    added: Notify,
}

/// A followed topic: its log and where the reader is in its stream.
type Active = Entry<Follow>;

/// What the reader knows of a followed topic.
struct Follow {
    key: String,
    cursor: Mutex<Cursor>,
}

/// Where the reader is in a topic's stream.
#[derive(Debug, Clone, Copy)]
enum Cursor {
    /// Just followed: starts at the newest entry, once Redis is asked.
    Start,
    /// The last entry taken.
    At(StreamId),
    /// Redis went away: entries after the last one taken may be gone.
    Lost(StreamId),
}

/// The longest a publish waits for replicas ([`RedisConfig::wait_replicas`]):
/// a master that lost its replica slows publishing, it does not stop it.
const WAIT_MS: u64 = 200;

fn unavailable(err: redis::RedisError) -> HubError {
    HubError::Unavailable(Box::new(err) as BoxError)
}

impl RedisBackend {
    /// Connects to Redis and starts this instance's readers.
    ///
    /// On a cluster, a `key_prefix` with a brace is refused
    /// ([`HubError::Config`]): Redis would hash every key by the prefix's
    /// braces, putting all topics in one slot.
    pub async fn connect(config: RedisConfig) -> Result<Self, HubError> {
        if matches!(config.servers, RedisServers::Cluster(_))
            && config.key_prefix.contains(['{', '}'])
        {
            return Err(HubError::Config(format!(
                "the key prefix {:?} has a brace: on a Redis Cluster every topic would share its slot",
                config.key_prefix
            )));
        }
        let connector = Connector::new(&config)?;
        let commands = connector.connect(Duration::from_secs(2), true).await?;
        let shards = match config.servers {
            RedisServers::Node(_) => Shards::node(&config.key_prefix),
            RedisServers::Cluster(_) => Shards::cluster(&config.key_prefix, config.shards),
        };
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            instance: format!("{:x}-{started:x}", std::process::id()),
            followed: (0..shards.len())
                .map(|_| Followed {
                    // A topic goes with its last local subscriber: its
                    // events stay in Redis.
                    topics: Arc::new(Registry::new(Bounds {
                        replay: config.replay,
                        retain: None,
                        topic_bytes: super::DEFAULT_TOPIC_BYTES,
                        total_bytes: super::DEFAULT_TOTAL_BYTES,
                        // A topic lives as long as its subscribers here.
                        max_topics: usize::MAX,
                    })),
                    added: Notify::new(),
                })
                .collect(),
            config,
            connector,
            commands,
            shards,
        });
        for shard in 0..shared.shards.len() {
            tokio::spawn(reader::read_loop(Arc::downgrade(&shared), shard));
        }
        tokio::spawn(announce::announce_loop(Arc::downgrade(&shared)));
        Ok(Self(shared))
    }
}

impl RedisBackend {
    /// The backend's connection to Redis, for the application's own keys
    /// (records beside the events): one connection per instance, to the node
    /// or the cluster the hub uses.
    pub fn connection(&self) -> RedisConnection {
        self.0.commands.clone()
    }
}

impl Shared {
    /// The topic's local log, counting one more subscriber while the guard
    /// lives; the first makes its shard's reader follow the topic from its
    /// newest entry.
    fn activate(&self, topic: &str) -> (Arc<Active>, Subscribed<Follow>) {
        let followed = &self.followed[self.shards.of(topic)];
        followed.topics.subscribe(topic, || {
            followed.added.notify_one();
            Follow {
                key: self.shards.key(topic),
                cursor: Mutex::new(Cursor::Start),
            }
        })
    }

    /// This instance's subscribers of `topic`.
    fn here(&self, topic: &str) -> usize {
        self.followed[self.shards.of(topic)]
            .topics
            .subscribers(topic)
    }

    /// Places a just-followed topic's cursor at its newest entry, so that a
    /// replay read afterwards ends at or after the point live delivery starts.
    async fn position(&self, active: &Active) -> Result<(), HubError> {
        let follow = &active.state;
        if !matches!(*lock(follow.cursor.lock()), Cursor::Start) {
            return Ok(());
        }
        let mut conn = self.commands.clone();
        let latest = stream::info(&mut conn, &follow.key)
            .await?
            .map_or(StreamId::ZERO, |info| info.latest);
        let mut cursor = lock(follow.cursor.lock());
        if matches!(*cursor, Cursor::Start) {
            *cursor = Cursor::At(latest);
        }
        Ok(())
    }

    /// The entries after `last`, or the resync to send instead.
    async fn replay(&self, key: &str, last: StreamId) -> Result<VecDeque<Event>, Event> {
        let mut conn = self.commands.clone();
        let info = match stream::info(&mut conn, key).await {
            Ok(Some(info)) => info,
            Ok(None) => {
                return if last == StreamId::ZERO {
                    Ok(VecDeque::new())
                } else {
                    Err(resync("", "unknown_id"))
                };
            }
            Err(_) => return Err(resync("", "unavailable")),
        };
        let latest = info.latest;
        if last > latest {
            return Err(resync(&latest.to_string(), "unknown_id"));
        }
        if info.lost_after(last) {
            return Err(resync(&latest.to_string(), "too_old"));
        }
        // From `last` itself: a stream that no longer holds it (a master that
        // failed over to a replica lacking it) cannot say what came after it.
        let reply: Result<redis::Value, _> = redis::cmd("XRANGE")
            .arg(key)
            .arg(last.to_string())
            .arg("+")
            .arg("COUNT")
            .arg(self.config.replay * 2 + 1)
            .query_async(&mut conn)
            .await;
        let mut entries: VecDeque<Event> = match reply {
            Ok(value) => stream::entries(&value).collect(),
            Err(_) => return Err(resync(&latest.to_string(), "unavailable")),
        };
        if last == StreamId::ZERO {
            return Ok(entries);
        }
        match entries.pop_front() {
            Some(first) if first.id_str().and_then(StreamId::parse) == Some(last) => Ok(entries),
            _ => Err(resync(&latest.to_string(), "unknown_id")),
        }
    }
}

impl Backend for RedisBackend {
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let event = event.check()?;
            let mut xadd = redis::cmd("XADD");
            xadd.arg(shared.shards.key(&topic))
                .arg("MAXLEN")
                .arg("~")
                .arg(shared.config.replay)
                .arg("*");
            if let Some(name) = event.name() {
                xadd.arg("e").arg(name);
            }
            xadd.arg("d").arg(event.data_str().unwrap_or_default());
            // What a conflating subscriber keeps the newest of, on any instance.
            if let Some(key) = event.key_str() {
                xadd.arg("k").arg(key);
            }
            let mut conn = shared.commands.clone();
            let wanted = shared.config.wait_replicas;
            // The key's expiry, sent right behind the entry on the same
            // connection (so after it: a new key exists by then), without
            // waiting for it apart; a miss is mended by the next publish.
            let expire = shared.config.retain_idle.map(|retain| {
                let ms = u64::try_from(retain.as_millis()).unwrap_or(u64::MAX).max(1);
                let mut expire = redis::cmd("PEXPIRE");
                expire.arg(shared.shards.key(&topic)).arg(ms);
                expire
            });
            let id: String = if wanted == 0 {
                // Single commands, not a pipeline: they follow a slot's
                // migration (ASK), which a pipeline does not.
                let mut expiring = conn.clone();
                let added = xadd.query_async::<String>(&mut conn);
                let expired = async move {
                    if let Some(expire) = expire {
                        let _: redis::RedisResult<()> = expire.query_async(&mut expiring).await;
                    }
                };
                tokio::join!(added, expired).0.map_err(unavailable)?
            } else {
                // One round trip to the key's master: the entry, its expiry,
                // then the wait for its replicas.
                let mut pipe = redis::pipe();
                pipe.add_command(xadd);
                if let Some(expire) = expire {
                    pipe.add_command(expire).ignore();
                }
                let (id, acked): (String, usize) = pipe
                    .cmd("WAIT")
                    .arg(wanted)
                    .arg(WAIT_MS)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                if acked < wanted {
                    tracing::warn!(
                        topic,
                        acked,
                        wanted,
                        "an event reached fewer replicas than asked"
                    );
                }
                id
            };
            Ok(event.id(id).freeze()?)
        })
    }

    fn position(&self, topic: String) -> BoxFuture<Option<String>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let mut conn = shared.commands.clone();
            let info = stream::info(&mut conn, &shared.shards.key(&topic))
                .await
                .ok()?;
            // A stream not made yet: before its first entry.
            Some(info.map_or(StreamId::ZERO, |info| info.latest).to_string())
        })
    }

    fn subscribers(&self, topic: String) -> BoxFuture<Result<Presence, HubError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let here = shared.here(&topic);
            let mut conn = shared.commands.clone();
            let (now, announcements) =
                announce::read(&mut conn, &shared.shards.presence_key(&topic)).await?;
            Ok(Presence {
                here,
                everywhere: here + presence::others(&announcements, &shared.instance, now),
            })
        })
    }

    fn subscribe(&self, topic: String, last_id: Option<String>) -> BoxFuture<Subscription> {
        let shared = self.0.clone();
        // Followed at once; live delivery starts once the reader is placed,
        // which happens before the subscription is handed over.
        let (active, guard) = shared.activate(&topic);
        let cursor = active.log.next();
        Box::pin(async move {
            let (first, skip) = match last_id.as_deref().map(StreamId::parse) {
                None => {
                    // Live from here: the topic is placed at its newest entry
                    // now. If Redis is down the reader places it once Redis is
                    // back; nothing can be published meanwhile.
                    let _ = shared.position(&active).await;
                    (VecDeque::new(), None)
                }
                Some(None) => (VecDeque::from([resync("", "unknown_id")]), None),
                Some(Some(last)) => {
                    // The replay must reach the reader's starting point; the
                    // overlap is dropped by id below.
                    let replay = match shared.position(&active).await {
                        Ok(()) => shared.replay(&active.state.key, last).await,
                        Err(_) => Err(resync("", "unavailable")),
                    };
                    after_replay(replay, last, StreamId::parse)
                }
            };
            drop(shared);
            Subscription::new(active.log.reader(cursor, first, skip, Box::new(guard)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{HubError, RedisBackend, RedisConfig};

    #[tokio::test]
    async fn a_cluster_key_prefix_with_a_brace_is_refused_before_connecting() {
        let mut config = RedisConfig::cluster(["redis://127.0.0.1:1/"]);
        config.key_prefix = "app{1}:".to_owned();
        let refused = RedisBackend::connect(config).await;
        assert!(
            matches!(&refused, Err(HubError::Config(why)) if why.contains("app{1}:")),
            "{refused:?}"
        );
    }
}
