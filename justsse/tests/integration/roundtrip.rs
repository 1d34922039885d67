//! What the encoder writes parses back to the same events: through our parser,
//! split into random chunks, and through a third-party parser (sse-stream).

use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use justsse::Event;
use justsse::client::{MessageEvent, Parser};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Spec {
    name: Option<String>,
    id: Option<String>,
    data: Option<String>,
    retry: Option<u32>,
    comment: Option<String>,
}

/// Any unicode text, with line breaks of every kind mixed in.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>().prop_map(String::from),
            1 => Just("\r\n".to_owned()),
            1 => Just("\r".to_owned()),
            1 => Just("\n".to_owned()),
            1 => Just(" ".to_owned()),
            1 => Just(":".to_owned()),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

fn single_line(no_nul: bool) -> impl Strategy<Value = String> {
    text().prop_map(move |t| {
        t.chars()
            .filter(|c| *c != '\r' && *c != '\n' && !(no_nul && *c == '\0'))
            .collect()
    })
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::option::of(single_line(false)),
        prop::option::of(single_line(true)),
        prop::option::weighted(0.8, text()),
        prop::option::of(any::<u32>()),
        prop::option::of(text()),
    )
        .prop_map(|(name, id, data, retry, comment)| Spec {
            name,
            id,
            data,
            retry,
            comment,
        })
}

fn build(spec: &Spec) -> Event {
    let mut event = Event::new();
    if let Some(name) = &spec.name {
        event = event.event(name.clone());
    }
    if let Some(id) = &spec.id {
        event = event.id(id);
    }
    if let Some(data) = &spec.data {
        event = event.data(data.clone());
    }
    if let Some(retry) = spec.retry {
        event = event.retry(Duration::from_millis(retry.into()));
    }
    if let Some(comment) = &spec.comment {
        event = event.comment(comment.clone());
    }
    event.check().expect("generated events are valid")
}

/// What a browser dispatches for these events, by the standard's rules.
fn expected(specs: &[Spec]) -> (Vec<MessageEvent>, Option<u32>) {
    let mut last_id = String::new();
    let mut retry = None;
    let mut events = Vec::new();
    for spec in specs {
        if let Some(id) = &spec.id {
            last_id.clone_from(id);
        }
        retry = spec.retry.or(retry);
        if let Some(data) = &spec.data {
            let name = spec.name.clone().unwrap_or_default();
            events.push(MessageEvent {
                event_type: if name.is_empty() {
                    "message".into()
                } else {
                    name
                },
                data: data.replace("\r\n", "\n").replace('\r', "\n"),
                last_event_id: last_id.clone(),
            });
        }
    }
    (events, retry)
}

fn split_at(bytes: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        chunks.push(Bytes::copy_from_slice(&bytes[start..point]));
        start = point;
    }
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoder_output_parses_back_to_the_same_events(
        specs in prop::collection::vec(spec(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let wire: String = specs.iter().map(|s| build(s).to_string()).collect();
        let chunks = split_at(wire.as_bytes(), &cuts);
        let (want, want_retry) = expected(&specs);

        let mut parser = Parser::new();
        let got: Vec<MessageEvent> = chunks.iter().flat_map(|c| parser.feed(c)).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(parser.reconnection_time(), want_retry.map(|ms| Duration::from_millis(ms.into())));

        // sse-stream reports each block on its own (no id persistence): compare
        // the blocks that carry data with the events' own fields.
        let stream = sse_stream::SseStream::from_bytes_stream(
            futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>)),
        );
        let theirs: Vec<_> = stream
            .collect::<Vec<_>>()
            .now_or_never()
            .expect("an in-memory stream is always ready")
            .into_iter()
            .map(|item| item.expect("sse-stream parses our output"))
            .filter(|sse| sse.data.is_some())
            .collect();
        let ours: Vec<&Spec> = specs.iter().filter(|s| s.data.is_some()).collect();
        prop_assert_eq!(theirs.len(), ours.len());
        for (sse, spec) in theirs.iter().zip(ours) {
            let want = expected(std::slice::from_ref(spec)).0.remove(0);
            let their_type = sse.event.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| "message".into());
            prop_assert_eq!(their_type, want.event_type);
            prop_assert_eq!(sse.data.as_deref(), Some(want.data.as_str()));
            if let Some(id) = &spec.id {
                prop_assert_eq!(sse.id.as_deref().unwrap_or(""), id.as_str());
            }
        }
    }
}
