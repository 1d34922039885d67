//! Presence on Redis: each instance announces its subscriber count per
//! followed topic; a reader adds up the live announcements (see
//! [`presence`](crate::hub::presence)).

use std::collections::{HashMap, HashSet};
use std::sync::Weak;
use std::time::Duration;

use super::connection::RedisConnection;
use super::{Shared, unavailable};
use crate::hub::{HubError, presence};

/// Redis's clock in milliseconds and the announcements in the hash `key`.
/// Both come from the master of `key`'s slot (on a cluster, `TIME` alone would
/// go to any node), so deadlines and the time they are read at share a clock.
pub(super) async fn read(
    conn: &mut RedisConnection,
    key: &str,
) -> Result<(u64, HashMap<String, String>), HubError> {
    let ((secs, micros), announcements): ((u64, u64), HashMap<String, String>) = redis::pipe()
        .cmd("TIME")
        .hgetall(key)
        .query_async(conn)
        .await
        .map_err(unavailable)?;
    Ok((secs * 1000 + micros / 1000, announcements))
}

/// Redis's clock in milliseconds, read on the master of `key`'s slot.
async fn now_ms(conn: &mut RedisConnection, key: &str) -> Result<u64, HubError> {
    let mut time = redis::pipe();
    time.cmd("TIME");
    let reply = conn.pipeline_at(key, &time).await.map_err(unavailable)?;
    let (secs, micros): (u64, u64) = reply
        .into_iter()
        .next()
        .and_then(|value| redis::from_redis_value(value).ok())
        .ok_or_else(|| HubError::Unavailable("TIME without its reply".into()))?;
    Ok(secs * 1000 + micros / 1000)
}

/// Announces this instance's subscriber counts every `presence_every`, until
/// the backend is dropped (its announcements then expire). A failed
/// announcement is retried at the next tick.
pub(super) async fn announce_loop(shared: Weak<Shared>) {
    let Some(every) = shared.upgrade().map(|s| s.config.presence_every) else {
        return;
    };
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut announced: Vec<HashSet<String>> = Vec::new();
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        announced.resize_with(shared.followed.len(), HashSet::new);
        let mut conn = shared.commands.clone();
        for (shard, announced) in announced.iter_mut().enumerate() {
            if let Err(err) = announce(&shared, &mut conn, shard, announced).await {
                tracing::debug!(error = %err, "presence not announced; retrying");
            }
        }
    }
}

/// Announces a shard's counts; withdraws them from topics this instance no
/// longer follows (those in `announced` that are not followed now). One
/// pipeline to the shard's master: its keys share a slot.
async fn announce(
    shared: &Shared,
    conn: &mut RedisConnection,
    shard: usize,
    announced: &mut HashSet<String>,
) -> Result<(), HubError> {
    let counts: HashMap<String, usize> = shared.followed[shard]
        .topics
        .all()
        .into_iter()
        .map(|(topic, active)| (topic, active.subscribers()))
        .collect();
    if counts.is_empty() && announced.is_empty() {
        return Ok(());
    }
    let ttl = u64::try_from(shared.config.presence_ttl.as_millis()).unwrap_or(u64::MAX);
    let anchor = counts
        .keys()
        .chain(announced.iter())
        .next()
        .cloned()
        .unwrap_or_default();
    let now = now_ms(conn, &shared.shards.presence_key(&anchor)).await?;
    let deadline = now.saturating_add(ttl);
    let mut pipe = redis::pipe();
    for (topic, count) in &counts {
        let key = shared.shards.presence_key(topic);
        pipe.hset(
            &key,
            &shared.instance,
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
        pipe.hdel(shared.shards.presence_key(gone), &shared.instance)
            .ignore();
    }
    pipe.query_async::<()>(conn).await.map_err(unavailable)?;
    *announced = counts.into_keys().collect();
    Ok(())
}
