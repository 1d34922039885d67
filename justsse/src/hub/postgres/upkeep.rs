//! What each instance does in the background besides reading: writing its
//! subscriber counts (presence) and deleting topics idle for longer than
//! `retain_idle`.
//!
//! Presence: a row per followed topic and instance in `<schema>.presence`,
//! written every `presence_every` and valid for `presence_ttl`; a reader adds
//! the live rows of the other instances to its own exact count, so a crashed
//! instance's subscribers stop counting at most `presence_ttl` after its last
//! write.

use std::collections::HashSet;
use std::sync::Weak;
use std::time::Duration;

use tokio::time::Instant;

use super::{Shared, database};
use crate::hub::HubError;

pub(super) async fn upkeep_loop(shared: Weak<Shared>) {
    let Some(every) = shared.upgrade().map(|s| s.config.presence_every) else {
        return;
    };
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut announced = HashSet::new();
    let mut swept: Option<Instant> = None;
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Err(err) = announce(&shared, &mut announced).await {
            tracing::debug!(error = %err, "presence not written; next time");
        }
        if let Some(retain) = shared.config.retain_idle {
            // Often enough that a topic goes at most half its retention late.
            let due = (retain / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
            if swept.is_none_or(|at| at.elapsed() >= due) {
                swept = Some(Instant::now());
                if let Err(err) = sweep(&shared, retain).await {
                    tracing::debug!(error = %err, "idle topics not deleted; next time");
                }
            }
        }
    }
}

/// Writes this instance's counts, and deletes its rows of topics it no
/// longer follows and every instance's long-expired rows.
async fn announce(shared: &Shared, announced: &mut HashSet<String>) -> Result<(), HubError> {
    let s = &shared.config.schema;
    let (topics, counts): (Vec<String>, Vec<i32>) = shared
        .topics
        .all()
        .into_iter()
        .filter(|(_, entry)| entry.subscribers() > 0)
        .map(|(topic, entry)| {
            (
                topic,
                i32::try_from(entry.subscribers()).unwrap_or(i32::MAX),
            )
        })
        .unzip();
    let gone: Vec<&String> = announced.iter().filter(|t| !topics.contains(t)).collect();
    let session = shared.connector.session().await?;
    let client = &session.client;
    if !topics.is_empty() {
        let ttl = shared.config.presence_ttl.as_secs_f64();
        client
            .execute(
                &format!(
                    "INSERT INTO {s}.presence (topic, instance, subscribers, expires_at)
                     SELECT topic, $1, n, now() + make_interval(secs => $4)
                     FROM unnest($2::text[], $3::int[]) AS u(topic, n)
                     ON CONFLICT (topic, instance) DO UPDATE
                     SET subscribers = excluded.subscribers, expires_at = excluded.expires_at"
                ),
                &[&shared.instance, &topics, &counts, &ttl],
            )
            .await
            .map_err(database)?;
    }
    if !gone.is_empty() {
        client
            .execute(
                &format!("DELETE FROM {s}.presence WHERE instance = $1 AND topic = ANY($2)"),
                &[&shared.instance, &gone],
            )
            .await
            .map_err(database)?;
    }
    client
        .execute(
            &format!("DELETE FROM {s}.presence WHERE expires_at < now() - interval '1 minute'"),
            &[],
        )
        .await
        .map_err(database)?;
    *announced = topics.into_iter().collect();
    Ok(())
}

/// The subscribers of `topic` on the other instances, as they last wrote.
pub(super) async fn others(shared: &Shared, topic: &str) -> Result<usize, HubError> {
    let s = &shared.config.schema;
    let session = shared.connector.session().await?;
    let row = session
        .client
        .query_one(
            &format!(
                "SELECT coalesce(sum(subscribers), 0)::bigint FROM {s}.presence
                 WHERE topic = $1 AND instance <> $2 AND expires_at > now()"
            ),
            &[&topic, &shared.instance],
        )
        .await
        .map_err(database)?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Deletes the topics with no event for `retain`, and their events.
async fn sweep(shared: &Shared, retain: Duration) -> Result<(), HubError> {
    let s = &shared.config.schema;
    let session = shared.connector.session().await?;
    session
        .client
        .execute(
            &format!(
                "WITH gone AS (
                     DELETE FROM {s}.topics WHERE published_at < now() - make_interval(secs => $1)
                     RETURNING topic
                 )
                 DELETE FROM {s}.events WHERE topic IN (SELECT topic FROM gone)"
            ),
            &[&retain.as_secs_f64()],
        )
        .await
        .map_err(database)?;
    Ok(())
}
