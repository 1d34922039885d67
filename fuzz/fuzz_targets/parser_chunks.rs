//! The client parser never panics, and gives the same events, last id and
//! reconnection time however the bytes are split into chunks.
#![no_main]

use justsse::client::{MessageEvent, Parser};
use libfuzzer_sys::fuzz_target;

fn parse(chunks: &[&[u8]]) -> (Vec<MessageEvent>, String, Option<std::time::Duration>) {
    let mut parser = Parser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(parser.feed(chunk));
    }
    (events, parser.last_event_id().to_owned(), parser.reconnection_time())
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (bytes, cuts) = input;
    let whole = parse(&[&bytes]);
    // Split at the cut points the second input gives (byte by byte at worst).
    let mut chunks = Vec::new();
    let mut rest: &[u8] = &bytes;
    for cut in cuts.iter().chain(std::iter::repeat(&1)) {
        if rest.is_empty() {
            break;
        }
        let at = usize::from(*cut).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(at);
        chunks.push(chunk);
        rest = tail;
    }
    assert_eq!(parse(&chunks), whole, "{bytes:?} split as {chunks:?}");
});
