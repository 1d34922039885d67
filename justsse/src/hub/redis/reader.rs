//! A shard's one reader: follows every topic of the shard with local
//! subscribers in one blocking `XREAD`, feeds their local logs, and after an
//! outage or a failover tells subscribers of a topic whose entries may be gone
//! with a resync.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::Value;

use super::connection::RedisConnection;
use super::stream::{self, StreamId};
use super::{Active, Cursor, Shared, unavailable};
use crate::hub::HubError;
use crate::hub::resync;
use crate::hub::topic::lock;

/// The reader of shard `shard`, until the backend is dropped. Its connection
/// is opened when the shard first has a topic to follow.
pub(super) async fn read_loop(shared: Weak<Shared>, shard: usize) {
    let mut conn: Option<RedisConnection> = None;
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
        match read(&shared, &mut conn, &topics).await {
            Ok(reply) => {
                if !healthy {
                    tracing::info!(shard, "hub reader reconnected to Redis");
                }
                healthy = true;
                backoff = Duration::from_millis(100);
                deliver(&reply, &topics);
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

/// Places the topics, then one blocking read of them all. Any failure
/// counts as an outage: every topic is checked again once Redis answers.
async fn read(
    shared: &Shared,
    conn: &mut Option<RedisConnection>,
    topics: &[Arc<Active>],
) -> Result<Value, HubError> {
    let conn = match conn {
        Some(conn) => conn,
        None => {
            let block = shared.config.block + Duration::from_secs(2);
            conn.insert(shared.connector.connect(block, false).await?)
        }
    };
    place(conn, topics).await?;
    xread(shared, topics)
        .query_async(conn)
        .await
        .map_err(unavailable)
}

/// The shard's topics with local subscribers now.
fn followed(shared: &Shared, shard: usize) -> Vec<Arc<Active>> {
    shared.followed[shard]
        .topics
        .all()
        .into_iter()
        .map(|(_, active)| active)
        .collect()
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
