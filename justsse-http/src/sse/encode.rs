//! Writing events in the `text/event-stream` format (WHATWG HTML, server-sent
//! events), straight into the connection's buffer.

use bytes::{BufMut, BytesMut};

use super::event::{Event, EventError};

/// A `retry:` line telling clients to wait `after` before reconnecting,
/// encoded (a retry-only event is always valid).
pub(crate) fn retry_hint(after: std::time::Duration) -> bytes::Bytes {
    let mut buf = BytesMut::new();
    let _ = encode(&Event::new().retry(after), &mut buf);
    buf.freeze()
}

/// Appends `event` to `buf` in the `text/event-stream` format, or leaves `buf`
/// untouched and returns why if the event is invalid.
///
/// ```
/// use bytes::BytesMut;
/// use justsse_http::{Event, sse::encode};
///
/// let mut buf = BytesMut::new();
/// encode(&Event::named("n").data("a\r\nb"), &mut buf)?;
/// assert_eq!(&buf[..], b"event: n\ndata: a\ndata: b\n\n");
/// # Ok::<(), justsse_http::EventError>(())
/// ```
pub fn encode(event: &Event, buf: &mut BytesMut) -> Result<(), EventError> {
    if let Some(frozen) = &event.frozen {
        buf.extend_from_slice(&frozen.wire);
        return Ok(());
    }
    event.validity()?;
    if let Some(comment) = event.comment_str() {
        for_each_line(comment, |line| field(buf, b"", line));
    }
    if let Some(name) = &event.name {
        field(buf, b"event", name);
    }
    if let Some(id) = &event.id {
        field(buf, b"id", id);
    }
    if let Some(ms) = event.retry_ms() {
        field(buf, b"retry", itoa::Buffer::new().format(ms));
    }
    if let Some(data) = &event.data {
        for_each_line(data, |line| field(buf, b"data", line));
    }
    buf.put_u8(b'\n');
    Ok(())
}

/// The keep-alive comment: one empty comment line and a blank line.
pub(crate) const KEEP_ALIVE: &[u8] = b":\n\n";

/// `name: value\n`; the space is left out for an empty value, which parses the same.
fn field(buf: &mut BytesMut, name: &[u8], value: &str) {
    buf.reserve(name.len() + value.len() + 3);
    buf.put_slice(name);
    buf.put_u8(b':');
    if !value.is_empty() {
        buf.put_u8(b' ');
        buf.put_slice(value.as_bytes());
    }
    buf.put_u8(b'\n');
}

/// Calls `f` with each line of `text`, lines ending at CRLF, CR or LF. Text
/// ending in a line break has a last, empty line, so that the break survives.
fn for_each_line(text: &str, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = memchr::memchr2(b'\r', b'\n', &bytes[start..]) {
        let end = start + offset;
        f(&text[start..end]);
        start = if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
            end + 2
        } else {
            end + 1
        };
    }
    f(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn wire(event: &Event) -> String {
        let mut buf = BytesMut::new();
        encode(event, &mut buf).expect("valid event");
        String::from_utf8(buf.to_vec()).expect("utf-8")
    }

    #[test]
    fn fields() {
        let cases = [
            (Event::new().data("hello"), "data: hello\n\n"),
            (Event::new().data(""), "data:\n\n"),
            (Event::new().data("a\nb"), "data: a\ndata: b\n\n"),
            (
                Event::new().data("a\r\nb\rc"),
                "data: a\ndata: b\ndata: c\n\n",
            ),
            (Event::new().data("a\n"), "data: a\ndata:\n\n"),
            (Event::new().data("\r\n"), "data:\ndata:\n\n"),
            (Event::new().data(" lead"), "data:  lead\n\n"),
            (Event::named("x").data("1"), "event: x\ndata: 1\n\n"),
            (Event::new().id(""), "id:\n\n"),
            (Event::new().id(42), "id: 42\n\n"),
            (
                Event::new().retry(Duration::from_millis(1500)),
                "retry: 1500\n\n",
            ),
            (Event::new().comment("a\nb"), ": a\n: b\n\n"),
            (Event::new().comment(""), ":\n\n"),
            (
                Event::named("n").id("i").data("d").comment("c"),
                ": c\nevent: n\nid: i\ndata: d\n\n",
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(wire(&event), expected, "{event:?}");
        }
    }

    #[test]
    fn refuses_injection_and_writes_nothing() {
        let cases = [
            Event::named("a\nevent: b"),
            Event::named("a\r"),
            Event::new().data("ok").id("1\ndata: injected"),
            Event::new().id("1\r"),
            Event::new().id("1\0"),
        ];
        for event in cases {
            let mut buf = BytesMut::from(&b"kept"[..]);
            assert!(encode(&event, &mut buf).is_err(), "{event:?}");
            assert_eq!(&buf[..], b"kept");
        }
    }

    #[test]
    fn frozen_events_write_their_encoding_and_thaw_when_changed() {
        let event = Event::named("n")
            .id(3)
            .data("a\nb")
            .freeze()
            .expect("valid");
        assert_eq!(wire(&event), "event: n\nid: 3\ndata: a\ndata: b\n\n");
        assert_eq!(
            wire(&event.clone().id(4)),
            "event: n\nid: 4\ndata: a\ndata: b\n\n"
        );
        assert!(Event::named("bad\n").freeze().is_err());
    }

    #[test]
    fn first_error_is_kept() {
        let err = Event::named("a\n").id("b\0").check().expect_err("invalid");
        assert!(matches!(err, EventError::NameHasLineBreak));
    }
}
