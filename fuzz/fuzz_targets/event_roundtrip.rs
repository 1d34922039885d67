//! Event builder and encoder: an event the builder accepts is written so that
//! a browser's parser reads back exactly it (name, data, id, retry), as one
//! event, with nothing injected by line breaks in any field; one it refuses has
//! a line break (or NUL) where it may not.
#![no_main]

use std::time::Duration;

use justsse::Event;
use justsse::client::Parser;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    name: Option<String>,
    id: Option<String>,
    data: Option<String>,
    retry_ms: Option<u32>,
    comment: Option<String>,
}

fn line_break(text: &str) -> bool {
    text.contains(['\r', '\n'])
}

fuzz_target!(|input: Input| {
    let mut event = Event::new();
    if let Some(name) = &input.name {
        event = event.event(name.clone());
    }
    if let Some(id) = &input.id {
        event = event.id(id);
    }
    if let Some(data) = &input.data {
        event = event.data(data.clone());
    }
    if let Some(ms) = input.retry_ms {
        event = event.retry(Duration::from_millis(ms.into()));
    }
    if let Some(comment) = &input.comment {
        event = event.comment(comment.clone());
    }
    let refused = input.name.as_deref().is_some_and(line_break)
        || input.id.as_deref().is_some_and(|id| line_break(id) || id.contains('\0'));
    let event = match event.freeze() {
        Ok(event) => event,
        Err(err) => {
            assert!(refused, "refused a writable event: {err} {input:?}");
            return;
        }
    };
    assert!(!refused, "accepted an event with a line break in its name or id: {input:?}");

    let wire = event.to_string();
    let mut parser = Parser::new();
    let events = parser.feed(wire.as_bytes());
    match &input.data {
        // Browsers dispatch only events with data.
        None => assert!(events.is_empty(), "{wire:?} gave {events:?}"),
        Some(data) => {
            assert_eq!(events.len(), 1, "{wire:?} gave {events:?}");
            let got = &events[0];
            let name = input.name.as_deref().filter(|n| !n.is_empty()).unwrap_or("message");
            assert_eq!(got.event_type, name, "{wire:?}");
            // Every line break in the data is a new `data:` line, read back as LF.
            let data = data.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(got.data, data, "{wire:?}");
        }
    }
    if let Some(id) = &input.id {
        assert_eq!(parser.last_event_id(), id, "{wire:?}");
    }
    if let Some(ms) = input.retry_ms {
        assert_eq!(parser.reconnection_time(), Some(Duration::from_millis(ms.into())), "{wire:?}");
    }
});
