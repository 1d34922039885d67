//! The client parser against the shared parse vectors, each checked against a
//! real browser's EventSource: as chunked in the vectors, and byte by byte.

use std::path::Path;

use justsse::client::{MessageEvent, Parser};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    chunks: Vec<String>,
    events: Vec<Expected>,
    reconnection_time_ms: Option<u64>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Expected {
    #[serde(rename = "type")]
    event_type: String,
    data: String,
    last_event_id: String,
}

fn parse<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<Expected>, Parser) {
    let mut parser = Parser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(
            parser
                .feed(chunk)
                .into_iter()
                .map(|e: MessageEvent| Expected {
                    event_type: e.event_type,
                    data: e.data,
                    last_event_id: e.last_event_id,
                }),
        );
    }
    (events, parser)
}

fn check(file: &Path) -> usize {
    let text =
        std::fs::read_to_string(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
    let vectors: Vectors = serde_json::from_str(&text).expect("vectors parse");
    for case in &vectors.cases {
        let (events, parser) = parse(case.chunks.iter().map(|c| c.as_bytes()));
        assert_eq!(events, case.events, "case {:?}", case.name);
        let retry = parser.reconnection_time().map(|d| d.as_millis() as u64);
        assert_eq!(retry, case.reconnection_time_ms, "case {:?}", case.name);

        let whole: Vec<u8> = case.chunks.concat().into_bytes();
        let (events, _) = parse(whole.chunks(1));
        assert_eq!(events, case.events, "case {:?} fed byte by byte", case.name);
    }
    vectors.cases.len()
}

#[test]
fn every_parse_vector_passes() {
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parse-vectors.json");
    assert!(check(&ours) >= 34, "the vendored file lost cases");
}
