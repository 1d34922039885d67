//! The hub on Redis Streams (feature `redis`), for several instances behind a
//! load balancer.
//!
//! One stream key per topic (`<prefix><topic>`), trimmed approximately to the
//! replay size. The id a client sees is the stream entry id (`<ms>-<seq>`), so a
//! reconnect may land on any instance and resume there. Each instance runs one
//! reader that follows every topic with local subscribers in one blocking
//! `XREAD` and fans out locally: 10,000 subscribers on an instance cost Redis one
//! reader, not 10,000.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use justsse_http::{BoxError, BoxFuture, Event};
use redis::Value;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Notify;

use super::topic::{Skip, Topic, lock};
use super::{Backend, HubError, Presence, Subscription, presence, resync};

/// Settings of the Redis hub.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Where Redis is, e.g. `redis://127.0.0.1:6379/`.
    pub url: String,
    /// Entries kept per topic (approximately: `XADD MAXLEN ~`), and per topic on
    /// each instance for its local subscribers. Default 1,024.
    pub replay: usize,
    /// Prefix of the stream keys (default `justsse:`).
    pub key_prefix: String,
    /// How long one `XREAD` blocks (default 250 ms): also the longest a newly
    /// followed topic waits before its live events start to flow.
    pub block: Duration,
    /// How often this instance announces its subscriber count per followed
    /// topic, in `<key_prefix>presence:<topic>` (default 5 s): the most other
    /// instances' [`Hub::subscribers`](super::Hub::subscribers) lag behind it.
    pub presence_every: Duration,
    /// How long an announcement counts (default 15 s): the most a crashed
    /// instance's subscribers go on counting after its last announcement.
    pub presence_ttl: Duration,
}

impl RedisConfig {
    /// The defaults, for Redis at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            replay: 1024,
            key_prefix: "justsse:".to_owned(),
            block: Duration::from_millis(250),
            presence_every: Duration::from_secs(5),
            presence_ttl: Duration::from_secs(15),
        }
    }
}

/// What `XINFO STREAM` says about a topic's stream.
#[derive(Debug, Clone, Copy)]
struct Info {
    latest: StreamId,
    max_deleted: StreamId,
    first: Option<StreamId>,
    /// Whether entries were ever trimmed or deleted.
    trimmed: bool,
}

impl Info {
    /// Whether entries after `last` may be gone. Trimming does not move
    /// `max-deleted-entry-id`, so an id before the first kept entry of a trimmed
    /// stream counts as lost (at worst a needless resync, never a silent gap).
    fn lost_after(&self, last: StreamId) -> bool {
        self.max_deleted > last || (self.trimmed && self.first.is_some_and(|first| last < first))
    }
}

/// A stream entry id, `<ms>-<seq>`, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct StreamId(u64, u64);

impl StreamId {
    fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self(
            crate::number::canonical_u64(ms)?,
            crate::number::canonical_u64(seq)?,
        ))
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
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
            .field("url", &self.0.config.url)
            .finish_non_exhaustive()
    }
}

struct Shared {
    config: RedisConfig,
    /// This instance among those sharing the Redis: its presence field.
    instance: String,
    commands: ConnectionManager,
    /// Topics with local subscribers, by stream key.
    active: Mutex<HashMap<String, Arc<Active>>>,
    /// Wakes the reader when the first topic becomes active.
    added: Notify,
}

struct Active {
    topic: Arc<Topic>,
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

fn unavailable(err: redis::RedisError) -> HubError {
    HubError::Unavailable(Box::new(err) as BoxError)
}

impl RedisBackend {
    /// Connects to Redis and starts this instance's reader.
    pub async fn connect(config: RedisConfig) -> Result<Self, HubError> {
        let client = redis::Client::open(config.url.as_str()).map_err(unavailable)?;
        let manager = |response: Duration| {
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(1)))
                .set_response_timeout(Some(response))
                .set_max_delay(Duration::from_secs(2))
        };
        let commands = client
            .get_connection_manager_with_config(manager(Duration::from_secs(2)))
            .await
            .map_err(unavailable)?;
        let reader = client
            .get_connection_manager_with_config(manager(config.block + Duration::from_secs(2)))
            .await
            .map_err(unavailable)?;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            config,
            instance: format!("{:x}-{started:x}", std::process::id()),
            commands,
            active: Mutex::new(HashMap::new()),
            added: Notify::new(),
        });
        tokio::spawn(read_loop(Arc::downgrade(&shared), reader));
        tokio::spawn(announce_loop(Arc::downgrade(&shared)));
        Ok(Self(shared))
    }
}

impl Shared {
    fn key(&self, topic: &str) -> String {
        format!("{}{topic}", self.config.key_prefix)
    }

    /// The hash of `topic`'s presence announcements.
    fn presence_key(&self, topic: &str) -> String {
        format!("{}presence:{topic}", self.config.key_prefix)
    }

    /// Redis's clock, in milliseconds: the one every instance's deadlines use.
    async fn now_ms(conn: &mut ConnectionManager) -> Result<u64, HubError> {
        let (secs, micros): (u64, u64) = redis::cmd("TIME")
            .query_async(conn)
            .await
            .map_err(unavailable)?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// This instance's subscriber count of each followed topic, by topic.
    fn counts(&self) -> HashMap<String, usize> {
        let prefix = &self.config.key_prefix;
        lock(self.active.lock())
            .iter()
            .filter_map(|(key, active)| {
                let topic = key.strip_prefix(prefix.as_str())?;
                Some((
                    topic.to_owned(),
                    active.topic.subscribers.load(Ordering::Relaxed),
                ))
            })
            .collect()
    }

    /// Announces this instance's counts; withdraws them from topics it no
    /// longer follows (those in `announced` that are not followed now).
    async fn announce(
        &self,
        conn: &mut ConnectionManager,
        announced: &mut HashSet<String>,
    ) -> Result<(), HubError> {
        let counts = self.counts();
        let ttl = u64::try_from(self.config.presence_ttl.as_millis()).unwrap_or(u64::MAX);
        let deadline = Self::now_ms(conn).await?.saturating_add(ttl);
        let mut pipe = redis::pipe();
        for (topic, count) in &counts {
            let key = self.presence_key(topic);
            pipe.hset(
                &key,
                &self.instance,
                presence::announcement(*count, deadline),
            )
            .ignore();
            // A hash no instance announces in any more goes by itself.
            pipe.pexpire(
                &key,
                i64::try_from(ttl.saturating_mul(2)).unwrap_or(i64::MAX),
            )
            .ignore();
        }
        for gone in announced
            .iter()
            .filter(|topic| !counts.contains_key(*topic))
        {
            pipe.hdel(self.presence_key(gone), &self.instance).ignore();
        }
        pipe.query_async::<()>(conn).await.map_err(unavailable)?;
        *announced = counts.into_keys().collect();
        Ok(())
    }

    /// `XINFO STREAM`, or `None` for a stream that does not exist.
    async fn info(
        &self,
        conn: &mut ConnectionManager,
        key: &str,
    ) -> Result<Option<Info>, HubError> {
        let reply: Result<Value, _> = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(key)
            .query_async(conn)
            .await;
        let value = match reply {
            Ok(value) => value,
            Err(err) if err.to_string().contains("no such key") => return Ok(None),
            Err(err) => return Err(unavailable(err)),
        };
        let fields = pairs(&value);
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let id = |name: &str| field(name).and_then(text).and_then(|v| StreamId::parse(&v));
        let count = |name: &str| {
            field(name)
                .and_then(text)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(Some(Info {
            latest: id("last-generated-id").unwrap_or(StreamId(0, 0)),
            max_deleted: id("max-deleted-entry-id").unwrap_or(StreamId(0, 0)),
            first: id("recorded-first-entry-id").or_else(|| id("first-entry")),
            trimmed: count("entries-added") > count("length"),
        }))
    }

    /// The topic's local log, counting one more subscriber; the first makes the
    /// reader follow the topic from its newest entry.
    fn activate(&self, key: &str) -> Arc<Active> {
        let mut map = lock(self.active.lock());
        let active = map
            .entry(key.to_owned())
            .or_insert_with(|| {
                self.added.notify_one();
                Arc::new(Active {
                    topic: Arc::new(Topic::new(self.config.replay)),
                    cursor: Mutex::new(Cursor::Start),
                })
            })
            .clone();
        active.topic.subscribers.fetch_add(1, Ordering::Relaxed);
        active
    }

    /// Places a just-followed topic's cursor at its newest entry, so that a
    /// replay read afterwards ends at or after the point live delivery starts.
    async fn position(&self, active: &Active, key: &str) -> Result<(), HubError> {
        if !matches!(*lock(active.cursor.lock()), Cursor::Start) {
            return Ok(());
        }
        let mut conn = self.commands.clone();
        let latest = self
            .info(&mut conn, key)
            .await?
            .map_or(StreamId(0, 0), |info| info.latest);
        let mut cursor = lock(active.cursor.lock());
        if matches!(*cursor, Cursor::Start) {
            *cursor = Cursor::At(latest);
        }
        Ok(())
    }

    /// The entries after `last`, or the resync to send instead.
    async fn replay(&self, key: &str, last: StreamId) -> Result<VecDeque<Event>, Event> {
        let mut conn = self.commands.clone();
        let info = match self.info(&mut conn, key).await {
            Ok(Some(info)) => info,
            Ok(None) => {
                return if last == StreamId(0, 0) {
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
        let reply: Result<Value, _> = redis::cmd("XRANGE")
            .arg(key)
            .arg(format!("({last}"))
            .arg("+")
            .arg("COUNT")
            .arg(self.config.replay * 2)
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(value) => Ok(entries(&value).collect()),
            Err(_) => Err(resync(&latest.to_string(), "unavailable")),
        }
    }
}

/// Counts a subscriber; the last one to leave stops the reader following the topic.
struct Subscribed {
    shared: Arc<Shared>,
    key: String,
    active: Arc<Active>,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        if self
            .active
            .topic
            .subscribers
            .fetch_sub(1, Ordering::Relaxed)
            == 1
        {
            let mut map = lock(self.shared.active.lock());
            if self.active.topic.subscribers.load(Ordering::Relaxed) == 0 {
                map.remove(&self.key);
            }
        }
    }
}

impl Backend for RedisBackend {
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let event = event.check()?;
            let key = shared.key(&topic);
            let mut cmd = redis::cmd("XADD");
            cmd.arg(&key)
                .arg("MAXLEN")
                .arg("~")
                .arg(shared.config.replay)
                .arg("*");
            if let Some(name) = event.name() {
                cmd.arg("e").arg(name);
            }
            cmd.arg("d").arg(event.data_str().unwrap_or_default());
            let mut conn = shared.commands.clone();
            let id: String = cmd.query_async(&mut conn).await.map_err(unavailable)?;
            Ok(event.id(id).freeze()?)
        })
    }

    fn position(&self, topic: String) -> BoxFuture<Option<String>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let mut conn = shared.commands.clone();
            let info = shared.info(&mut conn, &shared.key(&topic)).await.ok()?;
            // A stream not made yet: before its first entry.
            Some(info.map_or(StreamId(0, 0), |info| info.latest).to_string())
        })
    }

    fn subscribers(&self, topic: String) -> BoxFuture<Result<Presence, HubError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let here = lock(shared.active.lock())
                .get(&shared.key(&topic))
                .map_or(0, |active| active.topic.subscribers.load(Ordering::Relaxed));
            let mut conn = shared.commands.clone();
            let now = Shared::now_ms(&mut conn).await?;
            let announcements: HashMap<String, String> = redis::cmd("HGETALL")
                .arg(shared.presence_key(&topic))
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(Presence {
                here,
                everywhere: here + presence::others(&announcements, &shared.instance, now),
            })
        })
    }

    fn subscribe(&self, topic: String, last_id: Option<String>) -> BoxFuture<Subscription> {
        let shared = self.0.clone();
        let key = shared.key(&topic);
        // Followed at once; live delivery starts once the reader is placed,
        // which happens before the subscription is handed over.
        let active = shared.activate(&key);
        let cursor = active.topic.next();
        let guard = Subscribed {
            shared: shared.clone(),
            key: key.clone(),
            active: active.clone(),
        };
        Box::pin(async move {
            let (first, skip) = match last_id.as_deref().map(StreamId::parse) {
                None => {
                    // Live from here: the topic is placed at its newest entry
                    // now. If Redis is down the reader places it once Redis is
                    // back; nothing can be published meanwhile.
                    let _ = shared.position(&active, &key).await;
                    (VecDeque::new(), None)
                }
                Some(None) => (VecDeque::from([resync("", "unknown_id")]), None),
                Some(Some(last)) => {
                    // The replay must reach the reader's starting point; the
                    // overlap is dropped by id below.
                    let replay = match shared.position(&active, &key).await {
                        Ok(()) => shared.replay(&key, last).await,
                        Err(_) => Err(resync("", "unavailable")),
                    };
                    match replay {
                        Ok(replayed) => {
                            let through = replayed
                                .back()
                                .and_then(|e| e.id_str())
                                .and_then(StreamId::parse)
                                .unwrap_or(last);
                            let skip: Skip = Box::new(move |event: &Event| {
                                event
                                    .id_str()
                                    .and_then(StreamId::parse)
                                    .is_some_and(|id| id <= through)
                            });
                            (replayed, Some(skip))
                        }
                        Err(resync) => (VecDeque::from([resync]), None),
                    }
                }
            };
            drop(shared);
            Subscription::new(active.topic.reader(cursor, first, skip, Box::new(guard)))
        })
    }
}

/// Announces this instance's subscriber counts every `presence_every`, until
/// the backend is dropped (its announcements then expire). A failed
/// announcement is retried at the next tick.
async fn announce_loop(shared: Weak<Shared>) {
    let Some(every) = shared.upgrade().map(|s| s.config.presence_every) else {
        return;
    };
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut announced = HashSet::new();
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut conn = shared.commands.clone();
        if let Err(err) = shared.announce(&mut conn, &mut announced).await {
            tracing::debug!(error = %err, "presence not announced; retrying");
        }
    }
}

/// This instance's one reader: follows every active topic in one blocking
/// `XREAD`, feeds their local logs, and after an outage tells subscribers of a
/// topic whose entries may be gone with a resync.
async fn read_loop(shared: Weak<Shared>, mut conn: ConnectionManager) {
    let mut healthy = true;
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let topics = followed(&shared);
        if topics.is_empty() {
            // A stored permit covers a topic added before this wait.
            let _ = tokio::time::timeout(Duration::from_secs(1), shared.added.notified()).await;
            continue;
        }
        if !healthy {
            mark_lost(&topics);
        }
        let read: Result<Value, BoxError> = match place(&shared, &mut conn, &topics).await {
            Ok(()) => {
                if !healthy {
                    tracing::info!("hub reader reconnected to Redis");
                }
                healthy = true;
                let reply = xread(&shared, &topics).query_async(&mut conn).await;
                reply.map_err(|err| Box::new(err) as BoxError)
            }
            // Redis is not answering: the topics are checked again once it is.
            Err(err) => Err(Box::new(err)),
        };
        match read {
            Ok(reply) => {
                backoff = Duration::from_millis(100);
                deliver(&reply, &topics);
            }
            Err(err) => {
                if healthy {
                    tracing::warn!(error = %err, "hub reader lost Redis; retrying");
                }
                healthy = false;
                drop(shared);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// The topics with local subscribers now, by stream key.
fn followed(shared: &Shared) -> Vec<(String, Arc<Active>)> {
    lock(shared.active.lock())
        .iter()
        .map(|(k, a)| (k.clone(), a.clone()))
        .collect()
}

/// After an outage, every topic's entries after the reader's position may
/// be gone: each is checked again by [`place`].
fn mark_lost(topics: &[(String, Arc<Active>)]) {
    for (_, active) in topics {
        let mut cursor = lock(active.cursor.lock());
        if let Cursor::At(id) = *cursor {
            *cursor = Cursor::Lost(id);
        }
    }
}

/// Places new topics at their newest entry, and checks lost ones: a topic
/// whose entries after its position are gone gets a resync and goes on from
/// the newest entry.
async fn place(
    shared: &Shared,
    conn: &mut ConnectionManager,
    topics: &[(String, Arc<Active>)],
) -> Result<(), HubError> {
    for (key, active) in topics {
        if matches!(*lock(active.cursor.lock()), Cursor::At(_)) {
            continue;
        }
        let info = shared.info(conn, key).await?;
        let latest = info.map_or(StreamId(0, 0), |info| info.latest);
        let lost = |id: StreamId| info.is_none_or(|info| latest < id || info.lost_after(id));
        let mut current = lock(active.cursor.lock());
        match *current {
            Cursor::Start => *current = Cursor::At(latest),
            Cursor::Lost(id) if lost(id) => {
                let _ = active
                    .topic
                    .push(|_| resync(&latest.to_string(), "lagged").freeze());
                *current = Cursor::At(latest);
            }
            Cursor::Lost(id) => *current = Cursor::At(id),
            Cursor::At(_) => {}
        }
    }
    Ok(())
}

/// One blocking `XREAD` of every followed topic from its position.
fn xread(shared: &Shared, topics: &[(String, Arc<Active>)]) -> redis::Cmd {
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT")
        .arg(512)
        .arg("BLOCK")
        .arg(shared.config.block.as_millis() as u64)
        .arg("STREAMS");
    for (key, _) in topics {
        cmd.arg(key);
    }
    for (_, active) in topics {
        let cursor = match *lock(active.cursor.lock()) {
            Cursor::At(id) | Cursor::Lost(id) => id,
            Cursor::Start => StreamId(0, 0),
        };
        cmd.arg(cursor.to_string());
    }
    cmd
}

/// Feeds what `XREAD` returned into each topic's local log, moving its cursor.
fn deliver(reply: &Value, topics: &[(String, Arc<Active>)]) {
    for (key, value) in streams(reply) {
        let Some((_, active)) = topics.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        for event in entries(&value) {
            if let Some(id) = event.id_str().and_then(StreamId::parse) {
                *lock(active.cursor.lock()) = Cursor::At(id);
            }
            let _ = active.topic.push(|_| Ok(event));
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A reply that is a flat list of pairs or a map, as `(name, value)`.
fn pairs(value: &Value) -> Vec<(String, Value)> {
    match value {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|pair| match pair {
                [k, v] => Some((text(k)?, v.clone())),
                _ => None,
            })
            .collect(),
        Value::Map(items) => named(items),
        _ => Vec::new(),
    }
}

/// A RESP3 map with text keys, as `(name, value)`.
fn named(items: &[(Value, Value)]) -> Vec<(String, Value)> {
    items
        .iter()
        .filter_map(|(k, v)| Some((text(k)?, v.clone())))
        .collect()
}

/// The `(key, entries)` of an `XREAD` reply.
fn streams(value: &Value) -> Vec<(String, Value)> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => Some((text(&pair[0])?, pair[1].clone())),
                _ => None,
            })
            .collect(),
        Value::Map(items) => named(items),
        _ => Vec::new(),
    }
}

/// The events of a list of stream entries `[id, [field, value, ...]]`.
fn entries(value: &Value) -> impl Iterator<Item = Event> + '_ {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        _ => &[],
    };
    items.iter().filter_map(|entry| {
        let Value::Array(parts) = entry else {
            return None;
        };
        let id = text(parts.first()?)?;
        let mut event = Event::new();
        for (field, value) in pairs(parts.get(1)?) {
            match field.as_str() {
                "e" => event = event.event(text(&value)?),
                "d" => event = event.data(text(&value)?),
                _ => {}
            }
        }
        event.id(id).freeze().ok()
    })
}
