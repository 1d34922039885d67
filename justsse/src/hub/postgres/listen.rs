//! The instance's `LISTEN` connection, which marks topics as pending when a
//! commit notifies them, and its reader, which fetches a pending topic's rows
//! after the last one it took and feeds them to the topic's local log.
//!
//! A notification can be missed only while the connection is down: once it
//! is made again, every followed topic is read from its cursor, so nothing
//! committed meanwhile is lost (rows are numbered without gaps).

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use justsse_http::Event;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client};

use super::{Active, Cursor, Position, READ_LIMIT, Shared, database, event_of};
use crate::hub::topic::lock;
use crate::hub::{HubError, resync};

/// How often the `LISTEN` connection is checked, and how long it may take
/// to answer: a server that went away without closing it is noticed then.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// A `LISTEN` connection: its client (the connection closes when it is
/// dropped) and the task reading its notifications.
struct Listening {
    client: Client,
    driver: JoinHandle<()>,
}

/// Listens, then keeps listening (reconnecting) until the backend is dropped.
pub(super) async fn start(shared: &Arc<Shared>) -> Result<(), HubError> {
    let listening = listen(shared).await?;
    tokio::spawn(listen_loop(Arc::downgrade(shared), listening));
    Ok(())
}

async fn listen(shared: &Arc<Shared>) -> Result<Listening, HubError> {
    let (client, mut connection) = shared.connector.listener().await?;
    let notified = Arc::downgrade(shared);
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(notification) = message {
                let Some(shared) = notified.upgrade() else {
                    return;
                };
                shared.mark(notification.payload());
            }
        }
    });
    let listened = client
        .batch_execute(&format!("LISTEN {}", shared.config.schema))
        .await;
    if let Err(err) = listened {
        driver.abort();
        return Err(database(err));
    }
    // Whatever was committed while nobody listened.
    shared.mark("");
    Ok(Listening { client, driver })
}

async fn listen_loop(shared: Weak<Shared>, mut listening: Listening) {
    loop {
        loop {
            tokio::select! {
                _ = &mut listening.driver => break,
                () = tokio::time::sleep(CHECK_EVERY) => {
                    if shared.strong_count() == 0 {
                        listening.driver.abort();
                        return;
                    }
                    let alive = tokio::time::timeout(CHECK_EVERY, listening.client.simple_query("")).await;
                    if !matches!(alive, Ok(Ok(_))) {
                        listening.driver.abort();
                        break;
                    }
                }
            }
        }
        tracing::warn!("the hub lost its LISTEN connection to PostgreSQL; reconnecting");
        let mut backoff = Duration::from_millis(100);
        loop {
            let Some(strong) = shared.upgrade() else {
                return;
            };
            match listen(&strong).await {
                Ok(again) => {
                    tracing::info!("the hub listens to PostgreSQL again");
                    listening = again;
                    break;
                }
                Err(err) => {
                    tracing::debug!(error = %err, "PostgreSQL still unreachable");
                    drop(strong);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}

/// The reader, until the backend is dropped: reads each pending topic (16
/// at a time); a topic whose read failed is pending again after a backoff.
pub(super) async fn read_loop(shared: Weak<Shared>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let topics = strong.take_pending();
        if topics.is_empty() {
            // A stored permit covers a topic marked before this wait.
            let _ = tokio::time::timeout(Duration::from_secs(1), strong.wake.notified()).await;
            continue;
        }
        // Placed topics in one statement; new ones, and those whose rows did
        // not fit or whose epoch changed, one by one.
        let (placed, mut alone): (Vec<_>, Vec<_>) = topics
            .into_iter()
            .partition(|active| matches!(*lock(active.state.cursor.lock()), Cursor::At(_)));
        let mut failed = Vec::new();
        match read_batch(&strong, &placed).await {
            Ok(again) => alone.extend(again),
            Err(_) => failed.extend(placed),
        }
        let failed_alone: Vec<Arc<Active>> = futures_util::stream::iter(alone)
            .map(|active| {
                let strong = &strong;
                async move { read_topic(strong, &active).await.err().map(|_| active) }
            })
            .buffer_unordered(16)
            .filter_map(std::future::ready)
            .collect()
            .await;
        failed.extend(failed_alone);
        if failed.is_empty() {
            backoff = Duration::from_millis(100);
            continue;
        }
        for active in &failed {
            strong.mark(&active.state.topic);
        }
        drop(strong);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Feeds the topic's rows after its cursor into its local log. A topic made
/// again (a new epoch, after retention) is read from its start; rows trimmed
/// away before this reader took them give a `resync`.
async fn read_topic(shared: &Shared, active: &Active) -> Result<(), HubError> {
    let follow = &active.state;
    loop {
        let cursor = *lock(follow.cursor.lock());
        let at = match cursor {
            Cursor::Start => return shared.place(active).await,
            Cursor::At(at) => at,
        };
        let rows = shared.read(&follow.topic, at.seq, READ_LIMIT).await?;
        let Some(&(first, _)) = rows.first() else {
            // Nothing after the cursor; unless the topic was made again.
            let info = shared.info(&follow.topic).await?;
            match info {
                Some(info) if info.epoch != at.epoch => {
                    *lock(follow.cursor.lock()) = Cursor::At(Position {
                        epoch: info.epoch,
                        seq: 0,
                    });
                    continue;
                }
                _ => return Ok(()),
            }
        };
        if first.epoch != at.epoch {
            *lock(follow.cursor.lock()) = Cursor::At(Position {
                epoch: first.epoch,
                seq: 0,
            });
            continue;
        }
        let count = rows.len();
        deliver(active, at, rows);
        if count < READ_LIMIT as usize {
            return Ok(());
        }
    }
}

/// Reads every topic of `topics` (placed ones) in one statement and
/// delivers their rows; returns those to read one by one: more rows than one
/// read takes, or a topic made again.
async fn read_batch(shared: &Shared, topics: &[Arc<Active>]) -> Result<Vec<Arc<Active>>, HubError> {
    let placed: Vec<(&Arc<Active>, Position)> = topics
        .iter()
        .filter_map(|active| match *lock(active.state.cursor.lock()) {
            Cursor::At(at) => Some((active, at)),
            Cursor::Start => None,
        })
        .collect();
    if placed.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = placed.iter().map(|(a, _)| a.state.topic.as_str()).collect();
    let after: Vec<i64> = placed.iter().map(|(_, at)| at.seq).collect();
    let session = shared.connector.session().await?;
    let rows = session
        .client
        .query(
            &session.statements.read_many,
            &[&names, &after, &READ_LIMIT],
        )
        .await
        .map_err(database)?;
    // By topic: its epoch now, and its rows after the cursor.
    let mut found: HashMap<String, (i64, Vec<(Position, Event)>)> = HashMap::new();
    for row in &rows {
        let (Ok(topic), Ok(epoch)) = (row.try_get::<_, String>(0), row.try_get::<_, i64>(1)) else {
            continue;
        };
        let entry = found.entry(topic).or_insert_with(|| (epoch, Vec::new()));
        // A topic with nothing new has one row without an event.
        if let Some(event) = event_of(row, 1) {
            entry.1.push(event);
        }
    }
    let mut again = Vec::new();
    for (active, at) in placed {
        let Some((epoch, rows)) = found.remove(&active.state.topic) else {
            // No row for the topic: nothing published since it went.
            continue;
        };
        if epoch != at.epoch || rows.len() >= READ_LIMIT as usize {
            again.push(active.clone());
            continue;
        }
        deliver(active, at, rows);
    }
    Ok(again)
}

/// Pushes a topic's rows, read after `at`, into its local log, moving its
/// cursor; rows trimmed away before this reader took them give a `resync`.
fn deliver(active: &Active, mut at: Position, rows: Vec<(Position, Event)>) {
    for (position, event) in rows {
        if position.seq != at.seq + 1 {
            let before = Position {
                seq: position.seq - 1,
                ..position
            };
            let _ = active
                .log
                .push(|_| resync(&before.to_string(), "lagged").freeze());
        }
        let _ = active.log.push(|_| Ok(event));
        at = position;
        *lock(active.state.cursor.lock()) = Cursor::At(at);
    }
}
