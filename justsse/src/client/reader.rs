//! Events read from an HTTP response body as they arrive, parsed as a browser
//! does: the one reader behind `EventSource`, the test
//! client's `TestResponse::events` and the project's test helpers.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;

use super::{MessageEvent, Parser};

/// The events of a response body, in order.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use justsse::client::EventReader;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let body = Full::new(Bytes::from_static(b"id: 1\ndata: hello\n\nretry: 50\n\n"));
/// let mut events = EventReader::new(body);
/// let hello = events.next().await.expect("an event");
/// assert_eq!((hello.data.as_str(), hello.last_event_id.as_str()), ("hello", "1"));
/// assert!(events.next().await.is_none(), "the body ended");
/// assert_eq!(events.retry(), Some(std::time::Duration::from_millis(50)));
/// # }
/// ```
#[derive(Debug)]
pub struct EventReader<B = hyper::body::Incoming> {
    body: Option<B>,
    parser: Parser,
    queued: VecDeque<MessageEvent>,
}

/// A reader with no body yet: [`resume`](EventReader::resume) gives it one.
impl<B> Default for EventReader<B> {
    fn default() -> Self {
        Self {
            body: None,
            parser: Parser::new(),
            queued: VecDeque::new(),
        }
    }
}

impl<B> EventReader<B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    /// Reads `body`.
    pub fn new(body: B) -> Self {
        Self {
            body: Some(body),
            parser: Parser::new(),
            queued: VecDeque::new(),
        }
    }

    /// The next event; `None` once the body has ended or failed (an event it
    /// left unfinished is dropped, as browsers do).
    pub async fn next(&mut self) -> Option<MessageEvent> {
        loop {
            if let Some(event) = self.pop() {
                return Some(event);
            }
            self.chunk().await?.ok()?;
        }
    }

    /// An event already read, if any, without reading more.
    pub fn pop(&mut self) -> Option<MessageEvent> {
        self.queued.pop_front()
    }

    /// Reads the next chunk of the body and parses it, keeping the events it
    /// completed for [`pop`](Self::pop) and [`next`](Self::next); returns
    /// the chunk as it came (a comment or a keep-alive too). `None` once the
    /// body has ended; after an error, the body is gone too.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, B::Error>> {
        loop {
            let body = self.body.as_mut()?;
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.queued.extend(self.parser.feed(&data));
                        return Some(Ok(data));
                    }
                }
                Some(Err(err)) => {
                    self.end();
                    return Some(Err(err));
                }
                None => {
                    self.end();
                    return None;
                }
            }
        }
    }

    /// Whether a body is being read.
    pub fn is_reading(&self) -> bool {
        self.body.is_some()
    }

    /// Reads `body` next, as the next connection of the same source: the last
    /// event id and the reconnection time carry over.
    pub fn resume(&mut self, body: B) {
        self.end();
        self.body = Some(body);
    }

    /// Stops reading the body (it is dropped) and drops an unfinished event.
    pub fn end(&mut self) {
        self.body = None;
        self.parser.end_of_stream();
    }

    /// The reconnection time the stream set with `retry:`, if it did.
    pub fn retry(&self) -> Option<Duration> {
        self.parser.reconnection_time()
    }

    /// The id of the last event received, as a browser would send it back in
    /// `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }
}
