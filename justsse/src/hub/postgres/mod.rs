//! The hub on PostgreSQL (feature `postgres`), for several instances sharing a
//! database, and for events published inside the application's own
//! transaction.
//!
//! Events are rows of `<schema>.events`, numbered per topic by
//! `<schema>.publish`, which also sends `NOTIFY <schema>` with the topic's name
//! (at commit, only if it commits). Each instance holds one `LISTEN`
//! connection; a notification for a topic with local subscribers makes the
//! instance's reader fetch the topic's rows after the last one it took and fan
//! them out locally. Nothing polls in the steady state. The id a client sees is
//! `<epoch>-<seq>`, valid as `Last-Event-ID` on any instance.
//!
//! **Ordering.** An id taken at insert time and committed later is the outbox
//! trap: a reader that has read past it never sees it. Here a topic's number
//! comes from an upsert of its row in `<schema>.topics`, which locks that row
//! until the transaction ends: a second transaction publishing on the same
//! topic waits for the first to commit or roll back, so numbers are given in
//! commit order, without gaps (a rolled-back number is given again), and
//! reading "after the last number" misses nothing. The price: publishers of one
//! topic take turns for the length of their transactions (other topics, and
//! every reader, do not wait); keep transactions that publish short.

mod connection;
mod listen;
mod schema;
mod upkeep;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use justsse_http::{BoxError, BoxFuture, Event};
use tokio::sync::Notify;
use tokio_postgres::GenericClient;

use super::registry::{Bounds, Entry, Registry, Subscribed};
use super::topic::{after_replay, lock};
use super::{Backend, HubError, Presence, Subscription, resync};
use connection::Connector;

/// Settings of the PostgreSQL hub.
///
/// ```
/// use justsse::hub::PostgresConfig;
/// use std::time::Duration;
///
/// let mut config = PostgresConfig::new("postgres://app@db.internal/app");
/// config.schema = "events".to_owned(); // tables and function in schema `events`
/// config.retain_idle = Some(Duration::from_secs(3600));
/// assert_eq!(config.replay, 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// The database, as a URL (`postgres://user:password@host:port/db`) or
    /// `key=value` pairs, as libpq takes them. TLS is not supported yet: use
    /// it on a trusted network or through a local proxy.
    pub url: String,
    /// The schema holding the hub's tables and its `publish` function
    /// (default `justsse`; lower-case letters, digits and `_`). It names the
    /// notification channel too: hubs in different schemas do not see each
    /// other.
    pub schema: String,
    /// Events kept per topic (default 1,024): `publish` deletes older ones.
    pub replay: usize,
    /// How long a topic stays after its last event (default one day; `None`
    /// keeps it for good). A client resuming from a topic that went gets a
    /// `resync`.
    pub retain_idle: Option<Duration>,
    /// How often this instance writes its subscriber count per followed
    /// topic (default 5 s): the most other instances'
    /// [`Hub::subscribers`](super::Hub::subscribers) lag behind it.
    pub presence_every: Duration,
    /// How long a count written by an instance counts (default 15 s).
    pub presence_ttl: Duration,
    /// The longest [`Hub::publish`](super::Hub::publish) waits for a
    /// transaction that published on the same topic and has not ended
    /// (default 5 s; `lock_timeout` of the hub's own connection); then it
    /// fails with [`HubError::Unavailable`].
    pub lock_timeout: Duration,
}

impl PostgresConfig {
    /// The defaults, for the database at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: "justsse".to_owned(),
            replay: 1024,
            retain_idle: Some(Duration::from_secs(24 * 60 * 60)),
            presence_every: Duration::from_secs(5),
            presence_ttl: Duration::from_secs(15),
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// The PostgreSQL backend. Create it with [`PostgresBackend::connect`] and
/// hand it to [`Hub::with_backend`](super::Hub::with_backend); publish inside
/// a transaction of yours with [`Hub::publish_in`](super::Hub::publish_in).
///
/// ```no_run
/// use justsse::hub::{Hub, PostgresBackend, PostgresConfig};
///
/// # async fn run() -> Result<(), justsse::hub::HubError> {
/// let backend = PostgresBackend::connect(PostgresConfig::new("postgres://app@localhost/app")).await?;
/// let hub: Hub<u64> = Hub::with_backend(backend);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresBackend(Arc<Shared>);

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("schema", &self.0.config.schema)
            .finish_non_exhaustive()
    }
}

struct Shared {
    config: PostgresConfig,
    /// This instance among those sharing the database: its presence rows.
    instance: String,
    /// The hub's own connection: publishing, replay, reading topics.
    connector: Connector,
    /// `SELECT <schema>.publish($1, ..)`.
    publish_sql: String,
    /// The topics with local subscribers, which the reader follows.
    topics: Arc<Registry<Follow>>,
    /// Topics a notification named, for the reader.
    pending: Mutex<Pending>,
    /// Wakes the reader when something is pending.
    wake: Notify,
}

/// A followed topic: its log and where the reader is in its rows.
type Active = Entry<Follow>;

struct Follow {
    topic: String,
    cursor: Mutex<Cursor>,
}

/// Where the reader is in a topic's rows.
#[derive(Debug, Clone, Copy)]
enum Cursor {
    /// Just followed: starts after the newest row, once the database is asked.
    Start,
    /// The last row taken.
    At(Position),
}

/// What the reader has to look at.
#[derive(Default)]
struct Pending {
    topics: HashSet<String>,
    /// Every followed topic: after the `LISTEN` connection was (re)made.
    all: bool,
}

/// An event's place: its topic's epoch and its number there, `<epoch>-<seq>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    epoch: i64,
    seq: i64,
}

impl Position {
    /// Before any event of any epoch (a topic not made yet).
    const ZERO: Self = Self { epoch: 0, seq: 0 };

    fn parse(text: &str) -> Option<Self> {
        let (epoch, seq) = text.split_once('-')?;
        let number = |text| crate::number::canonical_u64(text).and_then(|n| i64::try_from(n).ok());
        Some(Self {
            epoch: number(epoch)?,
            seq: number(seq)?,
        })
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.epoch, self.seq)
    }
}

/// What the database says about a topic: its epoch, newest number, and the
/// oldest number it still keeps.
#[derive(Debug, Clone, Copy)]
struct Info {
    epoch: i64,
    latest: i64,
    oldest: Option<i64>,
}

impl Info {
    fn latest(&self) -> Position {
        Position {
            epoch: self.epoch,
            seq: self.latest,
        }
    }
}

fn database(err: tokio_postgres::Error) -> HubError {
    HubError::Unavailable(Box::new(err) as BoxError)
}

/// The most rows one read takes.
const READ_LIMIT: i64 = 512;

impl PostgresBackend {
    /// Connects, creates or migrates the schema (docs/scaling.md has its SQL),
    /// and starts this instance's `LISTEN` connection and reader.
    ///
    /// A schema name that is not a plain identifier is refused
    /// ([`HubError::Config`]), as is a database it cannot reach
    /// ([`HubError::Unavailable`]).
    pub async fn connect(config: PostgresConfig) -> Result<Self, HubError> {
        if !schema::valid_name(&config.schema) {
            return Err(HubError::Config(format!(
                "the schema name {:?} is not a plain identifier (a-z, 0-9, _)",
                config.schema
            )));
        }
        let connector = Connector::new(&config)?;
        connector.migrate(&config.schema).await?;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let s = &config.schema;
        let shared = Arc::new(Shared {
            instance: format!("{:x}-{started:x}", std::process::id()),
            publish_sql: format!("SELECT {s}.publish($1, $2, $3, $4, $5)"),
            topics: Arc::new(Registry::new(Bounds {
                replay: config.replay.max(1),
                // A topic goes with its last local subscriber: its events
                // stay in the database.
                retain: None,
                topic_bytes: super::DEFAULT_TOPIC_BYTES,
                total_bytes: super::DEFAULT_TOTAL_BYTES,
                max_topics: usize::MAX,
            })),
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            config,
            connector,
        });
        listen::start(&shared).await?;
        tokio::spawn(listen::read_loop(Arc::downgrade(&shared)));
        tokio::spawn(upkeep::upkeep_loop(Arc::downgrade(&shared)));
        Ok(Self(shared))
    }

    /// Publishes `event` on `topic` through `client`: a transaction of the
    /// application's (or a connection of its, in autocommit), in the same
    /// database. Prefer [`Hub::publish_in`](super::Hub::publish_in), which
    /// takes the hub's typed key and checks the event's size.
    pub async fn publish_in<C>(
        &self,
        client: &C,
        topic: &str,
        event: Event,
    ) -> Result<Event, HubError>
    where
        C: GenericClient + Sync,
    {
        self.0
            .publish_with(client, self.0.publish_sql.as_str(), topic, event)
            .await
    }
}

impl Shared {
    /// Publishes through `client` with `statement` (the `publish` call,
    /// prepared on the hub's session or not).
    async fn publish_with<C, T>(
        &self,
        client: &C,
        statement: &T,
        topic: &str,
        event: Event,
    ) -> Result<Event, HubError>
    where
        C: GenericClient + Sync,
        T: ?Sized + tokio_postgres::ToStatement + Sync + Send,
    {
        let event = event.check()?;
        let replay = i32::try_from(self.config.replay).unwrap_or(i32::MAX);
        let row = client
            .query_one(
                statement,
                &[
                    &topic,
                    &event.name(),
                    &event.data_str().unwrap_or_default(),
                    &event.key_str(),
                    &replay,
                ],
            )
            .await
            .map_err(database)?;
        let id: String = row.try_get(0).map_err(database)?;
        Ok(event.id(id).freeze()?)
    }

    /// The topic's local log, counting one more subscriber while the guard
    /// lives; the first makes the reader follow the topic.
    fn activate(&self, topic: &str) -> (Arc<Active>, Subscribed<Follow>) {
        self.topics.subscribe(topic, || Follow {
            topic: topic.to_owned(),
            cursor: Mutex::new(Cursor::Start),
        })
    }

    /// Tells the reader to look at `topic` (`""`: every topic).
    fn mark(&self, topic: &str) {
        {
            let mut pending = lock(self.pending.lock());
            if topic.is_empty() {
                pending.all = true;
            } else if self.topics.subscribers(topic) > 0 {
                pending.topics.insert(topic.to_owned());
            } else {
                return;
            }
        }
        self.wake.notify_one();
    }

    /// The topics to read now, taken from the pending set.
    fn take_pending(&self) -> Vec<Arc<Active>> {
        let pending = std::mem::take(&mut *lock(self.pending.lock()));
        if pending.all {
            return self.topics.entries();
        }
        pending
            .topics
            .iter()
            .filter_map(|topic| self.topics.get(topic))
            .collect()
    }

    /// The topic's epoch and numbers, `None` if it has no row.
    async fn info(&self, topic: &str) -> Result<Option<Info>, HubError> {
        let session = self.connector.session().await?;
        let row = session
            .client
            .query_opt(&session.statements.info, &[&topic])
            .await
            .map_err(database)?;
        Ok(row.map(|row| Info {
            epoch: row.get(0),
            latest: row.get(1),
            oldest: row.get(2),
        }))
    }

    /// Places a just-followed topic's cursor after its newest row, so that a
    /// replay read afterwards ends at or after the point live delivery starts.
    async fn place(&self, active: &Active) -> Result<(), HubError> {
        let follow = &active.state;
        if matches!(*lock(follow.cursor.lock()), Cursor::Start) {
            let info = self.info(&follow.topic).await?;
            place_at(active, info);
        }
        Ok(())
    }

    /// The events of `topic` after `last`, or the resync to send instead;
    /// `info` is what the database said of the topic just before.
    async fn replay(
        &self,
        topic: &str,
        last: Position,
        info: Option<Info>,
    ) -> Result<VecDeque<Event>, Event> {
        let info = match info {
            Some(info) => info,
            None if last == Position::ZERO => return Ok(VecDeque::new()),
            None => return Err(resync("", "unknown_id")),
        };
        let latest = info.latest().to_string();
        // `0-0` (a position taken before the topic existed) resumes from
        // its first event, whatever its epoch.
        let from = if last == Position::ZERO {
            Position {
                epoch: info.epoch,
                seq: 0,
            }
        } else {
            last
        };
        if from.epoch != info.epoch || from.seq > info.latest {
            return Err(resync(&latest, "unknown_id"));
        }
        if info
            .oldest
            .map_or(info.latest > from.seq, |oldest| oldest > from.seq + 1)
        {
            return Err(resync(&latest, "too_old"));
        }
        let limit = i64::try_from(self.config.replay * 2 + 1).unwrap_or(i64::MAX);
        let rows = match self.read(topic, from.seq, limit).await {
            Ok(rows) => rows,
            Err(_) => return Err(resync(&latest, "unavailable")),
        };
        let mut events = VecDeque::with_capacity(rows.len());
        for (position, event) in rows {
            if position.epoch != from.epoch {
                // The topic went and was made again meanwhile.
                return Err(resync(&position.to_string(), "unknown_id"));
            }
            events.push_back(event);
        }
        Ok(events)
    }

    /// Up to `limit` events of `topic` numbered after `after`, with their
    /// positions; a topic without events gives none.
    async fn read(
        &self,
        topic: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(Position, Event)>, HubError> {
        let session = self.connector.session().await?;
        let rows = session
            .client
            .query(&session.statements.read, &[&topic, &after, &limit])
            .await
            .map_err(database)?;
        Ok(rows.iter().filter_map(|row| event_of(row, 0)).collect())
    }
}

/// Places a just-followed topic's cursor after its newest row as `info`
/// says (before its first event without one); a placed one is left alone.
fn place_at(active: &Active, info: Option<Info>) {
    let mut cursor = lock(active.state.cursor.lock());
    if matches!(*cursor, Cursor::Start) {
        *cursor = Cursor::At(info.map_or(Position::ZERO, |info| info.latest()));
    }
}

/// The event of a read row whose columns from `from` are `epoch, seq, name,
/// data, key`; `None` for a row without one (a `NULL` seq).
fn event_of(row: &tokio_postgres::Row, from: usize) -> Option<(Position, Event)> {
    let position = Position {
        epoch: row.try_get(from).ok()?,
        seq: row.try_get(from + 1).ok()?,
    };
    let mut event = Event::new();
    if let Some(name) = row.try_get::<_, Option<String>>(from + 2).ok()? {
        event = event.event(name);
    }
    event = event.data(row.try_get::<_, String>(from + 3).ok()?);
    if let Some(key) = row.try_get::<_, Option<String>>(from + 4).ok()? {
        event = event.key(key);
    }
    Some((position, event.id(position).freeze().ok()?))
}

impl Backend for PostgresBackend {
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let session = shared.connector.session().await?;
            let statement = &session.statements.publish;
            shared
                .publish_with(&session.client, statement, &topic, event)
                .await
        })
    }

    fn position(&self, topic: String) -> BoxFuture<Option<String>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let info = shared.info(&topic).await.ok()?;
            // A topic not made yet: before its first event.
            Some(
                info.map_or(Position::ZERO, |info| info.latest())
                    .to_string(),
            )
        })
    }

    fn subscribers(&self, topic: String) -> BoxFuture<Result<Presence, HubError>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let here = shared.topics.subscribers(&topic);
            let others = upkeep::others(&shared, &topic).await?;
            Ok(Presence {
                here,
                everywhere: here + others,
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
            let (first, skip) = match last_id.as_deref().map(Position::parse) {
                None => {
                    // Live from here. If the database is down the reader
                    // places the topic once it is back.
                    let _ = shared.place(&active).await;
                    (VecDeque::new(), None)
                }
                Some(None) => (VecDeque::from([resync("", "unknown_id")]), None),
                Some(Some(last)) => {
                    // The replay reaches the reader's starting point; the
                    // overlap is dropped by position below.
                    // One question for both: where live delivery starts
                    // (if the topic is new here) and what the replay checks.
                    let replay = match shared.info(&topic).await {
                        Ok(info) => {
                            place_at(&active, info);
                            shared.replay(&topic, last, info).await
                        }
                        Err(_) => Err(resync("", "unavailable")),
                    };
                    after_replay(replay, last, Position::parse)
                }
            };
            drop(shared);
            Subscription::new(active.log.reader(cursor, first, skip, Box::new(guard)))
        })
    }

    fn postgres(&self) -> Option<&PostgresBackend> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{HubError, Position, PostgresBackend, PostgresConfig};

    #[test]
    fn positions_read_back_and_order_by_epoch_then_number() {
        let a = Position::parse("1700000000000-9").expect("an id");
        assert_eq!(a.to_string(), "1700000000000-9");
        assert!(a < Position::parse("1700000000000-10").expect("an id"));
        assert!(a < Position::parse("1700000000001-1").expect("an id"));
        for bad in ["", "7", "1-", "-1", "01-1", "1-x", "99999999999999999999-1"] {
            assert_eq!(Position::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_schema_name_that_is_not_an_identifier_is_refused_before_connecting() {
        let mut config = PostgresConfig::new("postgres://127.0.0.1:1/x");
        config.schema = "events; drop table x".to_owned();
        let refused = PostgresBackend::connect(config).await;
        assert!(
            matches!(&refused, Err(HubError::Config(why)) if why.contains("drop table")),
            "{refused:?}"
        );
    }
}
