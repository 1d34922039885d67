//! Where tickets and their comments are kept: this process's memory, Redis or
//! PostgreSQL, where every instance behind a load balancer sees the same ones.
//!
//! In PostgreSQL: the tables `tickets (id, subject, comments)` and
//! `ticket_comments (ticket, number, body)`; a comment takes its number from
//! its ticket's counter (the row is locked until the transaction ends), and
//! its insert and its event are one transaction ([`Hub::publish_in`]): a
//! comment is seen live if and only if it is stored.
//!
//! In Redis (`<prefix>` is `tickets:`): ticket numbers come from `INCR
//! <prefix>next`; each ticket is a field of the hash `<prefix>all` (its number
//! to its JSON); a ticket's comments are the list `<prefix><n>:comments`, whose
//! length after `RPUSH` numbers the comment, so two instances never give two
//! comments one number. Each command names one key, so the same code runs on
//! a Redis Cluster.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use justsse::http::{HeaderValue, StatusCode, header};
use justsse::hub::{RedisBackend, RedisConnection};
use justsse::{HttpError, Hub, SseEvent};

use crate::{PostedComment, Ticket, TicketEvent};

/// The tickets and comments, in one of two places.
#[derive(Clone)]
pub enum Records {
    /// This process's memory: one instance.
    Memory(Arc<Mutex<InMemory>>),
    /// Redis: any number of instances.
    Redis(RedisConnection),
    /// PostgreSQL: any number of instances; comments and their events in
    /// one transaction.
    Postgres(deadpool_postgres::Pool),
}

/// The records of one process: a demo store, bounded so that no client can
/// fill the memory with it: at most [`MAX_TICKETS`] tickets and
/// [`MAX_RECORD_BYTES`] of subjects and comments; past either, `507 Insufficient
/// Storage`. A real service keeps its records in a database.
#[derive(Default)]
pub struct InMemory {
    tickets: BTreeMap<u64, Ticket>,
    comments: HashMap<u64, Vec<PostedComment>>,
    /// The bytes of every subject and comment kept.
    bytes: usize,
}

/// The most tickets the in-memory store keeps.
pub const MAX_TICKETS: usize = 10_000;

/// The most bytes of subjects and comments the in-memory store keeps.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

impl InMemory {
    /// Counts `bytes` more (of a new ticket's subject when `ticket`), or
    /// refuses when the store would be over its bounds.
    fn keep(&mut self, bytes: usize, ticket: bool) -> Result<(), HttpError> {
        if self.bytes + bytes > MAX_RECORD_BYTES || (ticket && self.tickets.len() >= MAX_TICKETS) {
            return Err(HttpError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the demo store is full; restart the example to empty it",
            ));
        }
        self.bytes += bytes;
        Ok(())
    }
}

impl Default for Records {
    fn default() -> Self {
        Records::Memory(Arc::default())
    }
}

const PREFIX: &str = "tickets:";

/// Redis or PostgreSQL unreachable (or failing): the client may retry in a
/// moment.
fn unavailable(err: impl std::fmt::Debug) -> HttpError {
    tracing::warn!(error = ?err, "the ticket records are unreachable");
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the ticket records are unavailable",
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// The tables of the PostgreSQL records.
const TABLES: &str = "
BEGIN;
-- Instances starting together make them once.
SELECT pg_advisory_xact_lock(hashtext('tickets tables'));
CREATE TABLE IF NOT EXISTS tickets (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    comments bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ticket_comments (
    ticket bigint NOT NULL REFERENCES tickets (id),
    number bigint NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (ticket, number)
);
COMMIT;";

/// A number PostgreSQL keeps as `bigint`.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A record Redis holds that does not read back.
fn corrupt(err: serde_json::Error) -> HttpError {
    HttpError::internal(err)
}

impl Records {
    /// Records in the Redis (one node or a cluster) of the hub's `backend`,
    /// through its connection.
    pub fn redis(backend: &RedisBackend) -> Self {
        Records::Redis(backend.connection())
    }

    /// Records in the PostgreSQL database at `url` (tables made if missing),
    /// through a pool of 16 connections.
    pub async fn postgres(url: &str) -> Result<Self, String> {
        let config: justsse::hub::tokio_postgres::Config =
            url.parse().map_err(|err| format!("{err}"))?;
        let manager = deadpool_postgres::Manager::new(config, justsse::hub::tokio_postgres::NoTls);
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|err| err.to_string())?;
        let client = pool.get().await.map_err(|err| err.to_string())?;
        client
            .batch_execute(TABLES)
            .await
            .map_err(|err| match err.as_db_error() {
                Some(db) => format!("{err}: {}", db.message()),
                None => err.to_string(),
            })?;
        Ok(Records::Postgres(pool))
    }

    fn memory(records: &Mutex<InMemory>) -> std::sync::MutexGuard<'_, InMemory> {
        records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a ticket about `subject`.
    pub async fn create(&self, subject: String) -> Result<Ticket, HttpError> {
        match self {
            Records::Memory(records) => {
                let mut records = Self::memory(records);
                records.keep(subject.len(), true)?;
                let id = records
                    .tickets
                    .keys()
                    .next_back()
                    .map_or(1, |last| last + 1);
                let ticket = Ticket { id, subject };
                records.tickets.insert(id, ticket.clone());
                Ok(ticket)
            }
            Records::Redis(redis) => {
                let mut redis = redis.clone();
                let id: u64 = redis::cmd("INCR")
                    .arg(format!("{PREFIX}next"))
                    .query_async(&mut redis)
                    .await
                    .map_err(unavailable)?;
                let ticket = Ticket { id, subject };
                let json = serde_json::to_string(&ticket).map_err(corrupt)?;
                redis::cmd("HSET")
                    .arg(format!("{PREFIX}all"))
                    .arg(id)
                    .arg(json)
                    .query_async::<()>(&mut redis)
                    .await
                    .map_err(unavailable)?;
                Ok(ticket)
            }
            Records::Postgres(pool) => {
                let client = pool.get().await.map_err(unavailable)?;
                let row = client
                    .query_one(
                        "INSERT INTO tickets (subject) VALUES ($1) RETURNING id",
                        &[&subject],
                    )
                    .await
                    .map_err(unavailable)?;
                let id: i64 = row.get(0);
                Ok(Ticket {
                    id: id.unsigned_abs(),
                    subject,
                })
            }
        }
    }

    /// Every ticket, by number.
    pub async fn list(&self) -> Result<Vec<Ticket>, HttpError> {
        match self {
            Records::Memory(records) => {
                Ok(Self::memory(records).tickets.values().cloned().collect())
            }
            Records::Redis(redis) => {
                let all: HashMap<u64, String> = redis::cmd("HGETALL")
                    .arg(format!("{PREFIX}all"))
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                let mut tickets = all
                    .values()
                    .map(|json| serde_json::from_str(json).map_err(corrupt))
                    .collect::<Result<Vec<Ticket>, _>>()?;
                tickets.sort_by_key(|ticket| ticket.id);
                Ok(tickets)
            }
            Records::Postgres(pool) => {
                let client = pool.get().await.map_err(unavailable)?;
                let rows = client
                    .query("SELECT id, subject FROM tickets ORDER BY id", &[])
                    .await
                    .map_err(unavailable)?;
                Ok(rows
                    .iter()
                    .map(|row| Ticket {
                        id: row.get::<_, i64>(0).unsigned_abs(),
                        subject: row.get(1),
                    })
                    .collect())
            }
        }
    }

    /// How many tickets there are.
    pub async fn count(&self) -> Result<usize, HttpError> {
        match self {
            Records::Memory(records) => Ok(Self::memory(records).tickets.len()),
            Records::Redis(redis) => redis::cmd("HLEN")
                .arg(format!("{PREFIX}all"))
                .query_async(&mut redis.clone())
                .await
                .map_err(unavailable),
            Records::Postgres(pool) => {
                let client = pool.get().await.map_err(unavailable)?;
                let row = client
                    .query_one("SELECT count(*) FROM tickets", &[])
                    .await
                    .map_err(unavailable)?;
                Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            }
        }
    }

    /// Ticket `id`, if it exists.
    pub async fn get(&self, id: u64) -> Result<Option<Ticket>, HttpError> {
        match self {
            Records::Memory(records) => Ok(Self::memory(records).tickets.get(&id).cloned()),
            Records::Redis(redis) => {
                let json: Option<String> = redis::cmd("HGET")
                    .arg(format!("{PREFIX}all"))
                    .arg(id)
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                json.map(|json| serde_json::from_str(&json).map_err(corrupt))
                    .transpose()
            }
            Records::Postgres(pool) => {
                let client = pool.get().await.map_err(unavailable)?;
                let row = client
                    .query_opt("SELECT subject FROM tickets WHERE id = $1", &[&signed(id)])
                    .await
                    .map_err(unavailable)?;
                Ok(row.map(|row| Ticket {
                    id,
                    subject: row.get(0),
                }))
            }
        }
    }

    /// Adds a comment saying `body` to ticket `id` (it gets the next number)
    /// and publishes it on `hub`, in one transaction on PostgreSQL.
    pub async fn comment(
        &self,
        hub: &Hub<u64>,
        id: u64,
        body: String,
    ) -> Result<PostedComment, HttpError> {
        let posted = match self {
            Records::Postgres(pool) => return comment_in_transaction(pool, hub, id, body).await,
            Records::Memory(records) => {
                let mut records = Self::memory(records);
                records.keep(body.len(), false)?;
                let on_ticket = records.comments.entry(id).or_default();
                let posted = PostedComment {
                    id: on_ticket.len() as u64 + 1,
                    body,
                };
                on_ticket.push(posted.clone());
                posted
            }
            Records::Redis(redis) => {
                // The list holds bodies; a comment's number is its place.
                let json = serde_json::to_string(&body).map_err(corrupt)?;
                let number: u64 = redis::cmd("RPUSH")
                    .arg(format!("{PREFIX}{id}:comments"))
                    .arg(json)
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                PostedComment { id: number, body }
            }
        };
        hub.publish(&id, TicketEvent::Comment(posted.clone()).to_event()?)
            .await?;
        Ok(posted)
    }

    /// Every comment of ticket `id`, in order.
    pub async fn comments(&self, id: u64) -> Result<Vec<PostedComment>, HttpError> {
        match self {
            Records::Memory(records) => Ok(Self::memory(records)
                .comments
                .get(&id)
                .cloned()
                .unwrap_or_default()),
            Records::Redis(redis) => {
                let bodies: Vec<String> = redis::cmd("LRANGE")
                    .arg(format!("{PREFIX}{id}:comments"))
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                bodies
                    .iter()
                    .zip(1..)
                    .map(|(json, number)| {
                        Ok(PostedComment {
                            id: number,
                            body: serde_json::from_str(json).map_err(corrupt)?,
                        })
                    })
                    .collect()
            }
            Records::Postgres(pool) => {
                let client = pool.get().await.map_err(unavailable)?;
                let rows = client
                    .query(
                        "SELECT number, body FROM ticket_comments WHERE ticket = $1 ORDER BY number",
                        &[&signed(id)],
                    )
                    .await
                    .map_err(unavailable)?;
                Ok(rows
                    .iter()
                    .map(|row| PostedComment {
                        id: row.get::<_, i64>(0).unsigned_abs(),
                        body: row.get(1),
                    })
                    .collect())
            }
        }
    }
}

/// A comment and its event in one transaction: the comment's number from its
/// ticket's counter, the row, the event ([`Hub::publish_in`]), then commit.
async fn comment_in_transaction(
    pool: &deadpool_postgres::Pool,
    hub: &Hub<u64>,
    id: u64,
    body: String,
) -> Result<PostedComment, HttpError> {
    let mut client = pool.get().await.map_err(unavailable)?;
    let tx = client.transaction().await.map_err(unavailable)?;
    let row = tx
        .query_one(
            "UPDATE tickets SET comments = comments + 1 WHERE id = $1 RETURNING comments",
            &[&signed(id)],
        )
        .await
        .map_err(unavailable)?;
    let number: i64 = row.get(0);
    tx.execute(
        "INSERT INTO ticket_comments (ticket, number, body) VALUES ($1, $2, $3)",
        &[&signed(id), &number, &body],
    )
    .await
    .map_err(unavailable)?;
    let posted = PostedComment {
        id: number.unsigned_abs(),
        body,
    };
    let event = TicketEvent::Comment(posted.clone()).to_event()?;
    hub.publish_in(&*tx, &id, event).await?;
    tx.commit().await.map_err(unavailable)?;
    Ok(posted)
}
