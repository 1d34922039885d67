//! Several topics in one stream, with one resume cursor: each event's id
//! records every topic's position, so a reconnect resumes each topic exactly
//! where it stopped.
//!
//! The cursor is `<tag>:<position>,<position>,...`, one position per topic in
//! the order given, where `<tag>` (8 hex digits) tells the topic list it was
//! made for. Positions are the topics' own event ids, with `%` and `,`
//! escaped; an empty one is a topic whose position is unknown. Ids never hold
//! CR, LF or NUL, so neither does the cursor; it grows by one id per topic.

use std::sync::Arc;

use futures_util::StreamExt;
use justsse_http::Event;

use super::{Backend, RESYNC, Subscription};

/// The cursor tag of a topic list: FNV-1a over the names, each ended by a NUL
/// (which no name of an event topic needs).
fn tag(topics: &[String]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in topics.iter().flat_map(|t| t.bytes().chain([0])) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The cursor for `positions` of `topics`.
pub(crate) fn encode(topics: &[String], positions: &[Option<String>]) -> String {
    let mut cursor = format!("{:08x}:", tag(topics));
    for (i, position) in positions.iter().enumerate() {
        if i > 0 {
            cursor.push(',');
        }
        for c in position.as_deref().unwrap_or_default().chars() {
            match c {
                '%' => cursor.push_str("%25"),
                ',' => cursor.push_str("%2C"),
                c => cursor.push(c),
            }
        }
    }
    cursor
}

/// The positions in `cursor`, if it was made for `topics`.
pub(crate) fn decode(topics: &[String], cursor: &str) -> Option<Vec<Option<String>>> {
    let (tagged, positions) = cursor.split_once(':')?;
    if tagged != format!("{:08x}", tag(topics)) {
        return None;
    }
    let positions: Vec<Option<String>> = positions
        .split(',')
        .map(|escaped| {
            let position = escaped.replace("%2C", ",").replace("%25", "%");
            (!position.is_empty()).then_some(position)
        })
        .collect();
    (positions.len() == topics.len()).then_some(positions)
}

/// A resync of one topic of a merged stream: its reason, and which topic.
fn resync_of(topic: &str, event: Event, cursor: String) -> Event {
    let reason = event
        .data_str()
        .and_then(|data| serde_json::from_str::<serde_json::Value>(data).ok())
        .and_then(|data| {
            data.get("reason")
                .and_then(|r| r.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown_id".to_owned());
    let data = serde_json::json!({ "reason": reason, "topic": topic });
    Event::named(RESYNC).id(cursor).data(data.to_string())
}

/// The merged stream of `topics` after `last_id` (a cursor of this stream),
/// every topic subscribed by the time it returns.
pub(crate) async fn subscribe(
    backend: Arc<dyn Backend>,
    topics: Vec<String>,
    last_id: Option<&str>,
) -> Subscription {
    // A cursor made for another topic list resyncs every topic (the backends
    // cannot know the id); no cursor at all follows every topic from now.
    let starts = match last_id {
        Some(cursor) => decode(&topics, cursor),
        None => Some(vec![None; topics.len()]),
    };
    let mut positions = Vec::with_capacity(topics.len());
    let mut each = Vec::with_capacity(topics.len());
    for (i, topic) in topics.iter().enumerate() {
        let start = match &starts {
            Some(starts) => match &starts[i] {
                Some(position) => Some(position.clone()),
                // Where the topic is now: nothing published from here on is
                // missed, even across a reconnect.
                None => backend.position(topic.clone()).await,
            },
            None => last_id.map(str::to_owned),
        };
        each.push(
            backend
                .subscribe(topic.clone(), start.clone())
                .await
                .map(move |event| (i, event)),
        );
        positions.push(start.filter(|_| starts.is_some()));
    }
    let mut merged = futures_util::stream::select_all(each);
    Subscription::new(async_stream::stream! {
        while let Some((i, event)) = merged.next().await {
            if let Some(id) = event.id_str().filter(|id| !id.is_empty()) {
                positions[i] = Some(id.to_owned());
            }
            let cursor = encode(&topics, &positions);
            yield if event.name() == Some(RESYNC) {
                resync_of(&topics[i], event, cursor)
            } else {
                event.id(cursor)
            };
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn cursors_round_trip_and_belong_to_their_topic_list() {
        let topics = vec!["a".to_owned(), "b,c".to_owned(), "d".to_owned()];
        let positions = vec![Some("1-2".to_owned()), None, Some("x,%y".to_owned())];
        let cursor = encode(&topics, &positions);
        assert!(!cursor.contains(['\r', '\n', '\0']));
        assert_eq!(decode(&topics, &cursor), Some(positions));
        assert_eq!(decode(&topics[..2], &cursor), None, "another topic list");
        assert_eq!(decode(&topics, "garbage"), None);
        assert_eq!(decode(&topics, "00000000:1,2,3"), None, "another tag");
    }
}
