//! Where sessions and the server's shared state live: this process's memory,
//! or Redis, where every instance behind a load balancer sees them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use justsse::HttpError;
use justsse::hub::RedisConnection;

/// The most sessions one process keeps: past it, the oldest are ended.
const MAX_SESSIONS: usize = 10_000;

/// How long Redis keeps a session after its last request.
const SESSION_SECONDS: u64 = 24 * 60 * 60;

/// The note the `note://current` resource reads, before anyone writes one.
pub const FIRST_NOTE: &str = "nothing noted yet";

/// Sessions by id (each with its negotiated protocol version), who
/// subscribed to which resource, and the note.
#[derive(Clone)]
pub enum Store {
    /// This process's memory: the 10,000 most recent sessions.
    Memory(Arc<Memory>),
    /// Redis: a hash per session (`mcp:s:<id>`, kept a day after its last
    /// request), a set of sessions per resource (`mcp:subs:<uri>`), the note
    /// (`mcp:note`).
    Redis(RedisConnection),
}

impl Default for Store {
    fn default() -> Self {
        Store::Memory(Arc::default())
    }
}

/// The sessions of one process.
#[derive(Debug, Default)]
pub struct Memory {
    sessions: Mutex<Sessions>,
    subscribers: Mutex<HashMap<String, HashSet<String>>>,
    note: Mutex<Option<String>>,
}

#[derive(Debug, Default)]
struct Sessions {
    versions: HashMap<String, String>,
    /// Ids in the order they began, to end the oldest first.
    order: VecDeque<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 503 with `Retry-After` when Redis cannot be reached: nothing was done.
fn unavailable(err: redis::RedisError) -> HttpError {
    tracing::warn!(error = %err, "the session store is unreachable");
    HttpError::new(
        justsse::http::StatusCode::SERVICE_UNAVAILABLE,
        "the session store is unavailable; try again",
    )
    .with_header(
        justsse::http::header::RETRY_AFTER,
        justsse::http::HeaderValue::from_static("1"),
    )
}

/// A new session id: 128 random bits from the operating system, in hex
/// (visible ASCII, as the transport requires, and unguessable).
pub(crate) fn new_id() -> Result<String, HttpError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| HttpError::internal(err.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Store {
    /// Begins a session speaking `version`; its id.
    pub async fn create(&self, version: &str) -> Result<String, HttpError> {
        let id = new_id()?;
        match self {
            Store::Memory(memory) => {
                let mut sessions = lock(&memory.sessions);
                while sessions.order.len() >= MAX_SESSIONS {
                    if let Some(old) = sessions.order.pop_front() {
                        sessions.versions.remove(&old);
                    }
                }
                sessions.order.push_back(id.clone());
                sessions.versions.insert(id.clone(), version.to_owned());
            }
            Store::Redis(redis) => {
                redis::pipe()
                    .cmd("HSET")
                    .arg(format!("mcp:s:{id}"))
                    .arg("version")
                    .arg(version)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(format!("mcp:s:{id}"))
                    .arg(SESSION_SECONDS)
                    .ignore()
                    .exec_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
            }
        }
        Ok(id)
    }

    /// The protocol version session `id` negotiated; `None` for a session
    /// that never was or has ended. Keeps it a day longer (Redis).
    pub async fn version(&self, id: &str) -> Result<Option<String>, HttpError> {
        match self {
            Store::Memory(memory) => Ok(lock(&memory.sessions).versions.get(id).cloned()),
            Store::Redis(redis) => {
                let (version, _): (Option<String>, i64) = redis::pipe()
                    .cmd("HGET")
                    .arg(format!("mcp:s:{id}"))
                    .arg("version")
                    .cmd("EXPIRE")
                    .arg(format!("mcp:s:{id}"))
                    .arg(SESSION_SECONDS)
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                Ok(version)
            }
        }
    }

    /// Ends session `id`; whether it existed.
    pub async fn end(&self, id: &str) -> Result<bool, HttpError> {
        match self {
            Store::Memory(memory) => {
                let mut sessions = lock(&memory.sessions);
                let existed = sessions.versions.remove(id).is_some();
                sessions.order.retain(|old| old != id);
                Ok(existed)
            }
            Store::Redis(redis) => {
                let removed: i64 = redis::cmd("DEL")
                    .arg(format!("mcp:s:{id}"))
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                Ok(removed > 0)
            }
        }
    }

    /// Session `id` wants `notifications/resources/updated` for `uri`
    /// (`subscribed`), or no longer does.
    pub async fn subscribe(&self, id: &str, uri: &str, subscribed: bool) -> Result<(), HttpError> {
        match self {
            Store::Memory(memory) => {
                let mut subscribers = lock(&memory.subscribers);
                let sessions = subscribers.entry(uri.to_owned()).or_default();
                if subscribed {
                    sessions.insert(id.to_owned());
                } else {
                    sessions.remove(id);
                }
            }
            Store::Redis(redis) => {
                redis::cmd(if subscribed { "SADD" } else { "SREM" })
                    .arg(format!("mcp:subs:{uri}"))
                    .arg(id)
                    .exec_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
            }
        }
        Ok(())
    }

    /// The sessions subscribed to `uri` that have not ended.
    pub async fn subscribers(&self, uri: &str) -> Result<Vec<String>, HttpError> {
        let ids: Vec<String> = match self {
            Store::Memory(memory) => lock(&memory.subscribers)
                .get(uri)
                .map(|ids| ids.iter().cloned().collect())
                .unwrap_or_default(),
            Store::Redis(redis) => redis::cmd("SMEMBERS")
                .arg(format!("mcp:subs:{uri}"))
                .query_async(&mut redis.clone())
                .await
                .map_err(unavailable)?,
        };
        // Which of them have not ended: one look for all, which (unlike
        // `version`) keeps no session alive longer.
        let alive: Vec<bool> = match self {
            Store::Memory(memory) => {
                let sessions = lock(&memory.sessions);
                ids.iter()
                    .map(|id| sessions.versions.contains_key(id))
                    .collect()
            }
            Store::Redis(redis) => {
                let mut pipe = redis::pipe();
                for id in &ids {
                    pipe.cmd("EXISTS").arg(format!("mcp:s:{id}"));
                }
                pipe.query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?
            }
        };
        let mut live = Vec::with_capacity(ids.len());
        for (id, alive) in ids.into_iter().zip(alive) {
            if alive {
                live.push(id);
            } else {
                self.subscribe(&id, uri, false).await?;
            }
        }
        Ok(live)
    }

    /// The note.
    pub async fn note(&self) -> Result<String, HttpError> {
        let note = match self {
            Store::Memory(memory) => lock(&memory.note).clone(),
            Store::Redis(redis) => redis::cmd("GET")
                .arg("mcp:note")
                .query_async(&mut redis.clone())
                .await
                .map_err(unavailable)?,
        };
        Ok(note.unwrap_or_else(|| FIRST_NOTE.to_owned()))
    }

    /// Replaces the note.
    pub async fn set_note(&self, text: &str) -> Result<(), HttpError> {
        match self {
            Store::Memory(memory) => *lock(&memory.note) = Some(text.to_owned()),
            Store::Redis(redis) => redis::cmd("SET")
                .arg("mcp:note")
                .arg(text)
                .exec_async(&mut redis.clone())
                .await
                .map_err(unavailable)?,
        }
        Ok(())
    }
}
