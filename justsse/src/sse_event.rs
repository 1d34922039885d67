//! Typed events: an enum whose variants are the named events a stream sends.

use justsse_http::{Event, EventError};

use crate::describe::Describe;

/// What a [`stream!`](crate::stream!) yields: an [`Event`], or a value of
/// an [`SseEvent`] type (`yield TicketEvent::Comment(c)`), sent as its named
/// event. One stream yields one of the two kinds.
#[diagnostic::on_unimplemented(
    message = "`stream!` yields `Event`s or values of a `#[derive(SseEvent)]` type, not `{Self}`",
    note = "build an `Event` (`Event::named(..).json(&value)?`), or derive `SseEvent` for the type"
)]
pub trait IntoEvent {
    /// The event to send; fails only if its data does not serialize.
    fn into_event(self) -> Result<Event, EventError>;
}

impl IntoEvent for Event {
    fn into_event(self) -> Result<Event, EventError> {
        Ok(self)
    }
}

impl<T: SseEvent> IntoEvent for T {
    fn into_event(self) -> Result<Event, EventError> {
        self.to_event()
    }
}

/// A type whose values are named events, usually derived on an enum with
/// `#[derive(SseEvent)]`: each variant is one event, named after the variant in
/// snake_case (or `#[event(rename = "...")]`), its data the variant's fields as
/// JSON. A typo in an event name becomes a compile error, and the route table
/// lists the names.
///
/// Return a stream of it from an `#[sse]` handler (`impl Stream<Item = T>`, or
/// of `Result<T, E>`), or turn one value into an [`Event`] with
/// [`to_event`](Self::to_event) to set its id or publish it to a hub.
///
/// ```
/// use justsse::SseEvent;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Comment {
///     author: String,
///     body: String,
/// }
///
/// #[derive(SseEvent)]
/// enum TicketEvent {
///     /// `event: comment`, `data: {"author":..,"body":..}`
///     Comment(Comment),
///     /// `event: status_changed`, `data: {"open":false}`
///     StatusChanged { open: bool },
///     /// `event: closed_by_bot`, `data: null`
///     #[event(rename = "closed_by_bot")]
///     Closed,
/// }
///
/// assert_eq!(TicketEvent::NAMES, ["comment", "status_changed", "closed_by_bot"]);
/// let event = TicketEvent::StatusChanged { open: false }.to_event().unwrap().id(7);
/// assert_eq!(event.to_string(), "event: status_changed\nid: 7\ndata: {\"open\":false}\n\n");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event type",
    label = "not `SseEvent`",
    note = "derive it on an enum of the events: `#[derive(SseEvent)]`"
)]
pub trait SseEvent {
    /// Every event name this type sends, in declaration order.
    const NAMES: &'static [&'static str];

    /// This value's event name.
    fn name(&self) -> &'static str;

    /// This value as an event: its name and its JSON data. Fails only if the
    /// data does not serialize as JSON.
    fn to_event(&self) -> Result<Event, EventError>;

    /// Records each event's name and data schema for the OpenAPI document
    /// (the derive writes it; by hand, the names with any data).
    #[doc(hidden)]
    fn describe_events(d: &mut Describe<'_>) {
        for name in Self::NAMES {
            d.event(name, serde_json::json!({}));
        }
    }
}
