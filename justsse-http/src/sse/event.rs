//! The [`Event`] builder.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::Serialize;
use std::sync::Arc;

/// Why an event cannot be written. The event is refused whole: nothing of it
/// reaches the wire, so user text can never inject fields into the stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// An event name containing CR or LF.
    #[error("event name contains a line break")]
    NameHasLineBreak,
    /// An event id containing CR or LF.
    #[error("event id contains a line break")]
    IdHasLineBreak,
    /// An event id containing NUL (browsers ignore such ids).
    #[error("event id contains a NUL character")]
    IdHasNul,
    /// The value given to [`Event::json`] failed to serialize.
    #[error("event data failed to serialize as JSON: {0}")]
    Json(#[source] serde_json::Error),
}

/// What made an event invalid, kept until the event is written or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Invalid {
    Name,
    IdLineBreak,
    IdNul,
    /// Data that failed to serialize, by its error's message (behind one
    /// thin pointer: an event is moved a lot, and is rarely invalid).
    Json(Arc<String>),
}

impl From<Invalid> for EventError {
    fn from(invalid: Invalid) -> Self {
        match invalid {
            Invalid::Name => EventError::NameHasLineBreak,
            Invalid::IdLineBreak => EventError::IdHasLineBreak,
            Invalid::IdNul => EventError::IdHasNul,
            Invalid::Json(message) => {
                EventError::Json(<serde_json::Error as serde::ser::Error>::custom(message))
            }
        }
    }
}

impl From<EventError> for Invalid {
    fn from(err: EventError) -> Self {
        match err {
            EventError::NameHasLineBreak => Invalid::Name,
            EventError::IdHasLineBreak => Invalid::IdLineBreak,
            EventError::IdHasNul => Invalid::IdNul,
            EventError::Json(err) => Invalid::Json(Arc::new(err.to_string())),
        }
    }
}

/// One server-sent event.
///
/// Build it with chained calls; the encoder writes it in the `text/event-stream`
/// format. Data may hold any text: it is split on CRLF, CR and LF into `data:`
/// lines, so the client receives it exactly (line ends come back as LF). Names and
/// ids cannot hold line breaks (ids also no NUL); such an event is kept invalid and
/// refused when written or checked, never half-written.
///
/// ```
/// use justsse_http::Event;
/// use std::time::Duration;
///
/// let event = Event::named("update").id(7).json(&serde_json::json!({"n": 1}))?;
/// assert_eq!(event.to_string(), "event: update\nid: 7\ndata: {\"n\":1}\n\n");
///
/// let hint = Event::new().retry(Duration::from_secs(3)).comment("bye");
/// assert_eq!(hint.to_string(), ": bye\nretry: 3000\n\n");
///
/// assert!(Event::named("a\nb").check().is_err());
/// # Ok::<(), justsse_http::EventError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) id: Option<String>,
    pub(crate) data: Option<String>,
    /// What few events set, behind one pointer: an event is moved through
    /// every layer of a stream, once for each subscriber.
    pub(crate) rare: Option<Box<Rare>>,
    /// Set by [`Event::freeze`]: the fields and their encoding, shared by clones.
    pub(crate) frozen: Option<Arc<Frozen>>,
}

/// The fields of an event that few events set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rare {
    pub(crate) retry_ms: Option<u64>,
    pub(crate) comment: Option<String>,
    /// What a conflating subscriber keeps the newest of; never sent.
    pub(crate) key: Option<Box<str>>,
    invalid: Option<Invalid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frozen {
    pub(crate) fields: Event,
    pub(crate) wire: Bytes,
}

impl Event {
    /// An event with nothing in it yet; without a name the client dispatches it
    /// as `message`.
    pub fn new() -> Self {
        Self::default()
    }

    /// An event with this name (`event:` field).
    pub fn named(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new().event(name)
    }

    /// `data: [DONE]`: the last event OpenAI-style streams send, which their
    /// clients (the official SDKs among them) wait for before they stop
    /// reading.
    ///
    /// ```
    /// use justsse_http::Event;
    ///
    /// assert_eq!(Event::done().to_string(), "data: [DONE]\n\n");
    /// ```
    pub fn done() -> Self {
        Self::new().data("[DONE]")
    }

    /// Sets the event name.
    pub fn event(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.thaw();
        let name = name.into();
        if has_line_break(&name) {
            self.mark(Invalid::Name);
        }
        self.name = Some(name);
        self
    }

    /// Sets the data, any text.
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.thaw();
        self.data = Some(data.into());
        self
    }

    /// Sets the data to `value` serialized as JSON.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self, EventError> {
        self.thaw();
        self.data = Some(serde_json::to_string(value).map_err(EventError::Json)?);
        self.check()
    }

    /// Sets the id. An empty id is allowed: it resets the client's last event id.
    pub fn id(mut self, id: impl fmt::Display) -> Self {
        self.thaw();
        let id = id.to_string();
        if has_line_break(&id) {
            self.mark(Invalid::IdLineBreak);
        } else if id.contains('\0') {
            self.mark(Invalid::IdNul);
        }
        self.id = Some(id);
        self
    }

    /// Sets the reconnection time the client waits before reconnecting, in whole
    /// milliseconds.
    pub fn retry(mut self, after: Duration) -> Self {
        self.thaw();
        self.rare_mut().retry_ms = Some(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Adds a comment, which clients ignore; any text, split into lines like data.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.thaw();
        self.rare_mut().comment = Some(text.into());
        self
    }

    /// Names what the event is the newest value of (a price's symbol, a
    /// document's id), for subscribers that keep only the newest event per
    /// key when they fall behind (a hub's conflating slow-consumer policy).
    /// It is not sent.
    ///
    /// ```
    /// use justsse_http::Event;
    ///
    /// let price = Event::named("price").data(r#"{"symbol":"ACME","price":101.5}"#).key("ACME");
    /// assert_eq!(price.key_str(), Some("ACME"));
    /// assert_eq!(price.to_string(), "event: price\ndata: {\"symbol\":\"ACME\",\"price\":101.5}\n\n");
    /// ```
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.thaw();
        self.rare_mut().key = Some(key.into().into_boxed_str());
        self
    }

    /// The key, if set ([`key`](Self::key)).
    pub fn key_str(&self) -> Option<&str> {
        self.fields().rare.as_ref()?.key.as_deref()
    }

    /// Returns the event if it can be written, or why not.
    pub fn check(self) -> Result<Self, EventError> {
        match self.rare.as_ref().and_then(|rare| rare.invalid.clone()) {
            Some(invalid) => Err(invalid.into()),
            None => Ok(self),
        }
    }

    pub(crate) fn validity(&self) -> Result<(), EventError> {
        self.rare
            .as_ref()
            .and_then(|rare| rare.invalid.as_ref())
            .map_or(Ok(()), |invalid| Err(invalid.clone().into()))
    }

    /// The reconnection time it sets, in milliseconds.
    pub(crate) fn retry_ms(&self) -> Option<u64> {
        self.rare.as_ref()?.retry_ms
    }

    /// Its comment.
    pub(crate) fn comment_str(&self) -> Option<&str> {
        self.rare.as_ref()?.comment.as_deref()
    }

    /// An event that is refused as `err` says when it is written: what a
    /// generator yields for a value that could not become an event, so that
    /// its stream ends there with an `error` event, as on an `Err` item.
    #[doc(hidden)]
    pub fn refused(err: EventError) -> Self {
        let mut event = Self::default();
        event.mark(err.into());
        event
    }

    /// The name, if set.
    pub fn name(&self) -> Option<&str> {
        self.fields().name.as_deref()
    }

    /// The id, if set.
    pub fn id_str(&self) -> Option<&str> {
        self.fields().id.as_deref()
    }

    /// The data, if set.
    pub fn data_str(&self) -> Option<&str> {
        self.fields().data.as_deref()
    }

    /// The bytes of its text: name, id, data and comment together, without
    /// the field names and line ends the wire format adds. What a size limit
    /// (such as a hub's largest event) measures.
    ///
    /// ```
    /// use justsse_http::Event;
    ///
    /// assert_eq!(Event::named("news").id(12).data("hello").size(), 11);
    /// ```
    pub fn size(&self) -> usize {
        let fields = self.fields();
        let text = |field: &Option<String>| field.as_ref().map_or(0, String::len);
        fields.name.as_ref().map_or(0, |name| name.len())
            + text(&fields.id)
            + text(&fields.data)
            + fields.comment_str().map_or(0, str::len)
    }

    /// The bytes it takes on the wire: known at once for a frozen event
    /// ([`freeze`](Self::freeze)), counted by encoding it otherwise; 0 for an
    /// invalid event, which is never written.
    ///
    /// ```
    /// use justsse_http::Event;
    ///
    /// let event = Event::named("news").data("a\nb").freeze()?;
    /// assert_eq!(event.encoded_len(), "event: news\ndata: a\ndata: b\n\n".len());
    /// # Ok::<(), justsse_http::EventError>(())
    /// ```
    pub fn encoded_len(&self) -> usize {
        if let Some(frozen) = &self.frozen {
            return frozen.wire.len();
        }
        let mut buf = BytesMut::new();
        match super::encode::encode(self, &mut buf) {
            Ok(()) => buf.len(),
            Err(_) => 0,
        }
    }

    /// Encodes the event once, for an event sent to many streams: clones share
    /// the encoded bytes, and writing one costs a copy, not an encoding. Changing
    /// a frozen event (any builder call) thaws it first.
    ///
    /// ```
    /// use justsse_http::Event;
    ///
    /// let event = Event::named("news").id(1).data("hello").freeze()?;
    /// let copy = event.clone();
    /// assert_eq!(copy.to_string(), "event: news\nid: 1\ndata: hello\n\n");
    /// assert_eq!(copy.data_str(), Some("hello"));
    /// # Ok::<(), justsse_http::EventError>(())
    /// ```
    pub fn freeze(self) -> Result<Self, EventError> {
        if self.frozen.is_some() {
            return Ok(self);
        }
        let mut buf = BytesMut::new();
        super::encode::encode(&self, &mut buf)?;
        Ok(Self {
            frozen: Some(Arc::new(Frozen {
                fields: self,
                wire: buf.freeze(),
            })),
            ..Self::default()
        })
    }

    fn fields(&self) -> &Event {
        match &self.frozen {
            Some(frozen) => &frozen.fields,
            None => self,
        }
    }

    fn thaw(&mut self) {
        if let Some(frozen) = self.frozen.take() {
            *self = Arc::unwrap_or_clone(frozen).fields;
        }
    }

    fn mark(&mut self, invalid: Invalid) {
        self.rare_mut().invalid.get_or_insert(invalid);
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }
}

fn has_line_break(text: &str) -> bool {
    text.bytes().any(|b| b == b'\r' || b == b'\n')
}

/// The event as it goes on the wire; an invalid event displays as nothing.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = bytes::BytesMut::new();
        if super::encode::encode(self, &mut buf).is_ok() {
            f.write_str(&String::from_utf8_lossy(&buf))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Event, EventError};

    #[test]
    fn a_refused_event_keeps_why_and_is_never_written() {
        let err = serde_json::to_string(&std::collections::HashMap::from([((1, 2), 3)]))
            .expect_err("a map with tuple keys does not serialize");
        let message = err.to_string();
        let event = Event::refused(EventError::Json(err));
        assert_eq!(event.to_string(), "", "an invalid event displays as nothing");
        match event.check() {
            Err(EventError::Json(again)) => assert_eq!(again.to_string(), message),
            other => panic!("expected the JSON error back, got {other:?}"),
        }
        let event = Event::refused(EventError::IdHasNul);
        assert!(matches!(event.check(), Err(EventError::IdHasNul)));
    }
}
