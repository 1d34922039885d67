//! A shard's one reader: follows every topic of the shard with local
//! subscribers in one blocking `XREAD`, feeds their local logs, and after an
//! outage or a failover tells subscribers of a topic whose entries may be gone
//! with a resync.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::Value;

use super::connection::RedisConnection;
use super::stream::{self, StreamId};
use super::{Active, Cursor, RedisServers, Shared, unavailable};
use crate::hub::HubError;
use crate::hub::resync;
use crate::hub::topic::lock;

/// The reader of shard `shard`, until the backend is dropped. Its connection
/// is opened when the shard first has a topic to follow.
pub(super) async fn read_loop(shared: Weak<Shared>, shard: usize) {
    let mut conn: Option<RedisConnection> = None;
    // On a cluster: the node that answered the shard's last read.
    let mut node: Option<String> = None;
    let mut healthy = true;
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let topics = followed(&shared, shard);
        if topics.is_empty() {
            // A stored permit covers a topic added before this wait.
            let added = shared.followed[shard].added.notified();
            let _ = tokio::time::timeout(Duration::from_secs(1), added).await;
            continue;
        }
        if !healthy {
            mark_lost(&topics);
        }
        match read(&shared, &mut conn, &mut node, &topics).await {
            Ok(read) => {
                if !healthy {
                    tracing::info!(shard, "hub reader reconnected to Redis");
                }
                healthy = true;
                backoff = Duration::from_millis(100);
                match read {
                    Read::Entries(reply) => deliver(&reply, &topics),
                    Read::NewNode => {
                        tracing::debug!(shard, "a node new to this reader answered");
                        mark_lost(&topics);
                    }
                }
            }
            Err(err) => {
                if healthy {
                    tracing::warn!(shard, error = %err, "hub reader lost Redis; retrying");
                }
                healthy = false;
                drop(shared);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// What one read found.
enum Read {
    /// `XREAD`'s reply.
    Entries(Value),
    /// A node this reader has not read from answered: its first read, or
    /// the shard's slot failed over or migrated. The reply is not delivered;
    /// every topic is checked first (the topics were placed, or last read,
    /// on another node that may have had entries this one lacks).
    NewNode,
}

/// Places the topics, then one blocking read of them all. Any failure
/// counts as an outage: every topic is checked again once Redis answers.
///
/// On a cluster the read also asks the node for its id (`CLUSTER MYID`, in
/// the same round trip): the cluster connection may retry a read on a
/// replica promoted meanwhile without an error reaching this loop, and that
/// master may lack entries the last one handed out.
async fn read(
    shared: &Shared,
    conn: &mut Option<RedisConnection>,
    node: &mut Option<String>,
    topics: &[Arc<Active>],
) -> Result<Read, HubError> {
    let conn = match conn {
        Some(conn) => conn,
        None => {
            let block = shared.config.block + Duration::from_secs(2);
            conn.insert(shared.connector.connect(block, false).await?)
        }
    };
    place(conn, topics).await?;
    if matches!(shared.config.servers, RedisServers::Node(_)) {
        let reply = xread(shared, topics).query_async(conn).await;
        return reply.map(Read::Entries).map_err(unavailable);
    }
    // Every topic of the shard is in one slot: the first names it.
    let key = topics
        .first()
        .map_or("", |active| active.state.key.as_str());
    let mut pipeline = redis::pipe();
    pipeline.cmd("CLUSTER").arg("MYID");
    pipeline.add_command(xread(shared, topics));
    let replies = conn
        .pipeline_at(key, &pipeline)
        .await
        .map_err(unavailable)?;
    let [id, reply]: [Value; 2] = replies
        .try_into()
        .map_err(|_| HubError::Unavailable("a read without its two replies".into()))?;
    let id = stream::text(&id).unwrap_or_default();
    if node.as_ref() == Some(&id) {
        return Ok(Read::Entries(reply));
    }
    *node = Some(id);
    Ok(Read::NewNode)
}

/// The shard's topics with local subscribers now.
fn followed(shared: &Shared, shard: usize) -> Vec<Arc<Active>> {
    shared.followed[shard].topics.entries()
}

/// After an outage, every topic's entries after the reader's position may
/// be gone: each is checked again by [`place`].
fn mark_lost(topics: &[Arc<Active>]) {
    for active in topics {
        let mut cursor = lock(active.state.cursor.lock());
        if let Cursor::At(id) = *cursor {
            *cursor = Cursor::Lost(id);
        }
    }
}

/// Places new topics at their newest entry, and checks lost ones: a topic
/// whose entries after its position may be gone gets a resync and goes on
/// from the newest entry.
async fn place(conn: &mut RedisConnection, topics: &[Arc<Active>]) -> Result<(), HubError> {
    for active in topics {
        let current = *lock(active.state.cursor.lock());
        let next = match current {
            Cursor::At(_) => continue,
            Cursor::Start => {
                let info = stream::info(conn, &active.state.key).await?;
                info.map_or(StreamId::ZERO, |info| info.latest)
            }
            Cursor::Lost(id) => recover(conn, active, id).await?,
        };
        let mut cursor = lock(active.state.cursor.lock());
        // A subscriber may have placed a new topic meanwhile: keep its place.
        if matches!(*cursor, Cursor::Start | Cursor::Lost(_)) {
            *cursor = Cursor::At(next);
        }
    }
    Ok(())
}

/// Where a topic read up to `id` before an outage goes on from. Reading on
/// after `id` misses nothing if no entry after it was deleted or trimmed away
/// and the entry itself is still in the stream (a master that failed over to
/// a replica lacking it does not have it: what came after it there is
/// unknown). Otherwise its subscribers get a resync and the topic goes on
/// from the stream's newest entry; from `id` itself if the stream is gone
/// (a Redis that restarted empty, or a crashed master back on its port
/// before it learns it was replaced): the entries a node that knows the
/// stream holds up to `id` are not delivered twice.
async fn recover(
    conn: &mut RedisConnection,
    active: &Active,
    id: StreamId,
) -> Result<StreamId, HubError> {
    let info = stream::info(conn, &active.state.key).await?;
    let kept = match info {
        None => id == StreamId::ZERO,
        Some(info) if info.latest < id || info.lost_after(id) => false,
        Some(_) => id == StreamId::ZERO || stream::holds(conn, &active.state.key, id).await?,
    };
    if kept {
        return Ok(id);
    }
    let from = info.map_or(id, |info| info.latest);
    let _ = active
        .log
        .push(|_| resync(&from.to_string(), "lagged").freeze());
    Ok(from)
}

/// One blocking `XREAD` of the topics from their positions.
fn xread(shared: &Shared, topics: &[Arc<Active>]) -> redis::Cmd {
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT")
        .arg(512)
        .arg("BLOCK")
        .arg(shared.config.block.as_millis() as u64)
        .arg("STREAMS");
    for active in topics {
        cmd.arg(&active.state.key);
    }
    for active in topics {
        let cursor = match *lock(active.state.cursor.lock()) {
            Cursor::At(id) | Cursor::Lost(id) => id,
            Cursor::Start => StreamId::ZERO,
        };
        cmd.arg(cursor.to_string());
    }
    cmd
}

/// Feeds what `XREAD` returned into each topic's local log, moving its cursor.
fn deliver(reply: &Value, topics: &[Arc<Active>]) {
    for (key, value) in stream::streams(reply) {
        let Some(active) = topics.iter().find(|active| active.state.key == key) else {
            continue;
        };
        for event in stream::entries(&value) {
            if let Some(id) = event.id_str().and_then(StreamId::parse) {
                *lock(active.state.cursor.lock()) = Cursor::At(id);
            }
            let _ = active.log.push(|_| Ok(event));
        }
    }
}
