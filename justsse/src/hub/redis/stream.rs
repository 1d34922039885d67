//! What Redis says about a topic's stream: entry ids, `XINFO STREAM`, and the
//! entries of `XREAD`/`XRANGE` replies as events.

use justsse_http::Event;
use redis::Value;

use super::connection::RedisConnection;
use super::unavailable;
use crate::hub::HubError;

/// A stream entry id, `<ms>-<seq>`, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct StreamId(pub(super) u64, pub(super) u64);

impl StreamId {
    /// Before any entry.
    pub(super) const ZERO: Self = Self(0, 0);

    pub(super) fn parse(text: &str) -> Option<Self> {
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

/// What `XINFO STREAM` says about a topic's stream.
#[derive(Debug, Clone, Copy)]
pub(super) struct Info {
    pub(super) latest: StreamId,
    max_deleted: StreamId,
    first: Option<StreamId>,
    /// Whether entries were ever trimmed or deleted.
    trimmed: bool,
}

impl Info {
    /// Whether entries after `last` may be gone. Trimming does not move
    /// `max-deleted-entry-id`, so an id before the first kept entry of a trimmed
    /// stream counts as lost (at worst a needless resync, never a silent gap).
    pub(super) fn lost_after(&self, last: StreamId) -> bool {
        self.max_deleted > last || (self.trimmed && self.first.is_some_and(|first| last < first))
    }
}

/// `XINFO STREAM`, or `None` for a stream that does not exist.
pub(super) async fn info(conn: &mut RedisConnection, key: &str) -> Result<Option<Info>, HubError> {
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
        latest: id("last-generated-id").unwrap_or(StreamId::ZERO),
        max_deleted: id("max-deleted-entry-id").unwrap_or(StreamId::ZERO),
        first: id("recorded-first-entry-id").or_else(|| id("first-entry")),
        trimmed: count("entries-added") > count("length"),
    }))
}

/// Whether the stream still holds the entry `id`. After a failover the new
/// master may lack entries the old one had handed out: a reader whose
/// position is not in the stream any more cannot know what it missed.
pub(super) async fn holds(
    conn: &mut RedisConnection,
    key: &str,
    id: StreamId,
) -> Result<bool, HubError> {
    let reply: Value = redis::cmd("XRANGE")
        .arg(key)
        .arg(id.to_string())
        .arg(id.to_string())
        .query_async(conn)
        .await
        .map_err(unavailable)?;
    Ok(entries(&reply).next().is_some())
}

pub(super) fn text(value: &Value) -> Option<String> {
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
pub(super) fn streams(value: &Value) -> Vec<(String, Value)> {
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
pub(super) fn entries(value: &Value) -> impl Iterator<Item = Event> + '_ {
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
                "k" => event = event.key(text(&value)?),
                _ => {}
            }
        }
        event.id(id).freeze().ok()
    })
}
