//! The `text/event-stream` parser of the WHATWG HTML standard ("parsing an event
//! stream", "interpreting an event stream"), fed chunk by chunk.

use std::time::Duration;

/// An event as a browser's `EventSource` dispatches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEvent {
    /// The event type: the `event:` field, or `message` when there was none.
    pub event_type: String,
    /// The data lines joined with LF.
    pub data: String,
    /// The last event id in force when the event was dispatched.
    pub last_event_id: String,
}

/// A streaming parser: feed it bytes as they arrive, in chunks split anywhere
/// (even inside a CRLF or a UTF-8 sequence), and it returns the events that
/// complete. An event left unfinished when the stream ends is never dispatched,
/// as in browsers.
///
/// ```
/// use justsse::client::Parser;
///
/// let mut parser = Parser::new();
/// assert!(parser.feed(b"id: 7\r\nevent: upd").is_empty());
/// let events = parser.feed(b"ate\r\ndata: a\r\ndata: b\r\n\r\n");
/// assert_eq!(events[0].event_type, "update");
/// assert_eq!(events[0].data, "a\nb");
/// assert_eq!(events[0].last_event_id, "7");
/// ```
#[derive(Debug, Default, Clone)]
pub struct Parser {
    line: Vec<u8>,
    after_cr: bool,
    seen_first_line: bool,
    data: String,
    event_type: String,
    id_buffer: String,
    last_event_id: String,
    reconnection_time: Option<u64>,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `chunk` and returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<MessageEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    self.end_line(&mut events);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
        }
        events
    }

    /// The stream ended: an event it left unfinished is dropped, as browsers
    /// do; the last event id and the reconnection time stay, for the next
    /// connection of the same source.
    pub fn end_of_stream(&mut self) {
        let last_event_id = std::mem::take(&mut self.last_event_id);
        let reconnection_time = self.reconnection_time;
        *self = Self {
            last_event_id,
            reconnection_time,
            ..Self::default()
        };
    }

    /// The last event id the stream set (what a reconnect sends as `Last-Event-ID`).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the stream set with `retry:`, if any.
    pub fn reconnection_time(&self) -> Option<Duration> {
        self.reconnection_time.map(Duration::from_millis)
    }

    fn end_line(&mut self, events: &mut Vec<MessageEvent>) {
        let mut bytes = std::mem::take(&mut self.line);
        if !self.seen_first_line {
            self.seen_first_line = true;
            if bytes.starts_with("\u{feff}".as_bytes()) {
                bytes.drain(..3);
            }
        }
        let line = String::from_utf8_lossy(&bytes);
        if line.is_empty() {
            self.dispatch(events);
        } else if !line.starts_with(':') {
            match line.split_once(':') {
                Some((field, value)) => self.field(field, value.strip_prefix(' ').unwrap_or(value)),
                None => self.field(&line, ""),
            }
        }
        bytes.clear();
        self.line = bytes;
    }

    fn field(&mut self, name: &str, value: &str) {
        match name {
            "event" => value.clone_into(&mut self.event_type),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => value.clone_into(&mut self.id_buffer),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.reconnection_time = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<MessageEvent>) {
        self.last_event_id.clone_from(&self.id_buffer);
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        events.push(MessageEvent {
            event_type: if event_type.is_empty() {
                "message".to_owned()
            } else {
                event_type
            },
            data,
            last_event_id: self.last_event_id.clone(),
        });
    }
}
