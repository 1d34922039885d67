//! The body of an event stream: polls the handler's stream, encodes each event
//! into one buffer, flushes what is ready, and fills idle gaps with keep-alives.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http_body::Frame;

use super::compress::{Coded, CompressedStreams, Compression, Encoding};
use super::encode::{KEEP_ALIVE, encode};
use super::event::Event;
use super::keep_alive::{KeepAlive, KeepAliveTimer};
use crate::error::BoxError;
use crate::observe::{self, EndReason};
use crate::shutdown::StreamShutdown;
use crate::stream_limits::StreamPermit;

/// The handler's events, boxed once per stream.
pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<Event, BoxError>> + Send>>;

/// Events already ready are written together, up to this many bytes, so a burst
/// costs one write instead of one per event. Nothing waits for more to arrive.
const COALESCE_LIMIT: usize = 16 * 1024;

/// What a stream whose lifetime is over sends last.
const LIFETIME_OVER: &[u8] = b"retry: 1000\n\n";

/// `lifetime` less up to a tenth, so streams opened together do not all end,
/// and reconnect, at once.
fn spread(lifetime: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    let tenth = lifetime / 10;
    let nanos = u64::try_from(tenth.as_nanos()).unwrap_or(u64::MAX).max(1);
    lifetime - Duration::from_nanos(hasher.finish() % nanos)
}

/// What the server hands a stream when it starts serving it.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamDefaults {
    pub(crate) keep_alive: KeepAlive,
    pub(crate) shutdown_event: Option<Bytes>,
    /// The encoded `retry:` hint for streams that send none of their own.
    pub(crate) retry: Option<Bytes>,
    /// How streams are compressed, unless the response says otherwise.
    pub(crate) compression: Compression,
}

pub(crate) struct SseBody {
    /// `None` once the stream has ended; the handler's stream is dropped then.
    stream: Option<EventStream>,
    /// One ready event's encoding, sent as it is (the same bytes for every
    /// subscriber of a hub topic, no copy); a second ready event moves it
    /// into `buf`.
    single: Option<Bytes>,
    buf: BytesMut,
    keep_alive: Option<KeepAlive>,
    timer: Option<KeepAliveTimer>,
    shutdown: Option<StreamShutdown>,
    started: bool,
    done: bool,
    has_retry: bool,
    /// Its place among the open streams, given back when the body drops
    /// (boxed as the server took it: the body stays small).
    permit: Option<Box<StreamPermit>>,
    /// When the stream's lifetime ends.
    expires: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Why it ended, once it has; `None` while it runs.
    ended: Option<EndReason>,
    /// Counted among the open streams (the server attached it).
    counted: bool,
    /// Events written so far, and those in the buffer not yet counted as sent.
    events: u64,
    unsent: u64,
    /// The stream's span (a child of its request's), closed with the end
    /// reason; only when tracing wants it.
    span: Option<Box<tracing::Span>>,
    /// The response's own compression setting, over the server's (boxed:
    /// few responses set one, and it is read once).
    compression: Option<Box<Compression>>,
    /// The stream's compressor, when the client asked and there was room.
    compressor: Option<Box<super::compress::Compressor>>,
}

impl std::fmt::Debug for SseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseBody")
            .field("ended", &self.stream.is_none())
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if self.counted {
            let reason = self.ended.unwrap_or(EndReason::ClientLeft);
            let _entered = self.span.as_deref().map(tracing::Span::enter);
            observe::stream_ended(reason, self.events, self.span.as_deref());
        }
    }
}

impl SseBody {
    /// Keeps `keep_alive` unless the stream set its own.
    pub(crate) fn default_keep_alive(&mut self, keep_alive: KeepAlive) {
        self.keep_alive.get_or_insert(keep_alive);
    }

    pub(crate) fn new(
        stream: EventStream,
        keep_alive: Option<KeepAlive>,
        first: Option<Event>,
    ) -> Self {
        let mut buf = BytesMut::new();
        let has_retry = first.is_some();
        if let Some(first) = first {
            // The retry hint is built by us from a Duration and is always valid.
            let _ = encode(&first, &mut buf);
        }
        Self {
            stream: Some(stream),
            single: None,
            buf,
            keep_alive,
            timer: None,
            shutdown: None,
            started: false,
            done: false,
            has_retry,
            permit: None,
            expires: None,
            ended: None,
            counted: false,
            events: 0,
            unsent: 0,
            span: None,
            compression: None,
            compressor: None,
        }
    }

    /// Sends a `retry:` hint first, unless the stream already sends one.
    pub(crate) fn default_retry(&mut self, hint: &[u8]) {
        if !self.has_retry && !self.started {
            let mut buf = BytesMut::with_capacity(hint.len() + self.buf.len());
            buf.extend_from_slice(hint);
            buf.extend_from_slice(&self.buf);
            self.buf = buf;
            self.has_retry = true;
        }
    }

    /// Called by the server before the body is polled: its defaults apply where
    /// the response set nothing, and `shutdown` ends the stream.
    pub(crate) fn attach(
        &mut self,
        defaults: &StreamDefaults,
        shutdown: StreamShutdown,
        permit: Option<Box<StreamPermit>>,
        lifetime: Option<Duration>,
    ) {
        self.keep_alive.get_or_insert(defaults.keep_alive);
        if let Some(retry) = &defaults.retry {
            self.default_retry(retry);
        }
        self.shutdown = Some(shutdown);
        self.permit = permit;
        self.expires = lifetime.map(|lifetime| Box::pin(tokio::time::sleep(spread(lifetime))));
        self.counted = true;
        observe::stream_opened();
    }

    /// This stream's compression, over the server's.
    pub(crate) fn set_compression(&mut self, compression: Compression) {
        self.compression = Some(Box::new(compression));
    }

    /// Compresses the stream with `encoding` (what the client accepts), as its
    /// setting or the server's allows and while there is room among the
    /// compressed streams; says how it goes out.
    pub(crate) fn compress(
        &mut self,
        defaults: &StreamDefaults,
        encoding: Option<Encoding>,
        compressed: &CompressedStreams,
    ) -> Coded {
        let config = self.compression.take().map_or(defaults.compression, |own| *own);
        if !config.is_enabled() {
            return Coded::Off;
        }
        let Some(encoding) = encoding else {
            return Coded::Plain;
        };
        self.compressor = compressed.start(&config, encoding).map(Box::new);
        match self.compressor {
            Some(_) => Coded::In(encoding),
            None => Coded::Plain,
        }
    }

    /// `frame` as it goes on the wire: compressed when the stream is. A
    /// compressor that fails ends the stream (what it sent stays decodable).
    fn wire(&mut self, frame: Bytes) -> Bytes {
        let Some(compressor) = self.compressor.as_mut() else {
            return frame;
        };
        match compressor.compress(&frame) {
            Ok(compressed) => compressed,
            Err(err) => {
                tracing::error!(error = %err, "compressing an event stream failed");
                self.compressor = None;
                self.end(EndReason::Error);
                self.done = true;
                Bytes::new()
            }
        }
    }

    /// Gives the stream its span (see [`SseBody::span`]).
    pub(crate) fn trace(&mut self, span: tracing::Span) {
        self.span = Some(Box::new(span));
    }

    fn end(&mut self, reason: EndReason) {
        self.stream = None;
        self.ended.get_or_insert(reason);
    }

    /// Encodes an error that ended the stream as one `error` event.
    fn write_error(&mut self, err: BoxError) {
        self.unsingle();
        // The error event has no id and a fixed name: always valid.
        let _ = encode(&super::error_event(err), &mut self.buf);
        self.end(EndReason::Error);
    }

    /// Moves the single ready event into the buffer, ahead of what follows.
    fn unsingle(&mut self) {
        if let Some(single) = self.single.take() {
            self.buf.extend_from_slice(&single);
        }
    }

    /// The next frame: the single ready event, or the buffer's events.
    fn take_frame(&mut self) -> Option<Bytes> {
        if let Some(single) = self.single.take() {
            return Some(single);
        }
        if self.buf.is_empty() {
            return None;
        }
        // What is left of the buffer shares the frame's allocation; a body
        // that waits lets go of it (`poll_frame`).
        Some(self.buf.split().freeze())
    }

    /// Pulls every event that is ready into the buffer, up to the coalescing
    /// limit; an uncompressed stream's lone shared event goes out alone.
    fn fill(&mut self, cx: &mut Context<'_>) {
        while self.buf.len() < COALESCE_LIMIT {
            let Some(stream) = self.stream.as_mut() else {
                return;
            };
            let polled =
                std::panic::catch_unwind(AssertUnwindSafe(|| stream.as_mut().poll_next(cx)));
            match polled {
                Ok(Poll::Pending) => return,
                Ok(Poll::Ready(None)) => self.end(EndReason::Completed),
                Ok(Poll::Ready(Some(Ok(event)))) => match &event.frozen {
                    Some(frozen) if self.buf.is_empty() && self.single.is_none() => {
                        self.single = Some(frozen.wire.clone());
                        self.unsent += 1;
                        // Sent as it is, at once: hyper polls again after
                        // queueing it and writes what it queued together,
                        // so asking the stream again here would only find
                        // it waiting, one poll more per event. A compressed
                        // stream goes on, so ready events share a flush.
                        if self.compressor.is_none() {
                            return;
                        }
                    }
                    _ => {
                        self.unsingle();
                        match encode(&event, &mut self.buf) {
                            Ok(()) => self.unsent += 1,
                            Err(err) => self.write_error(Box::new(err)),
                        }
                    }
                },
                Ok(Poll::Ready(Some(Err(err)))) => self.write_error(err),
                Err(_panic) => self.write_error("event stream panicked".into()),
            }
        }
    }

    pub(crate) fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Frame<Bytes>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if !this.started {
            this.started = true;
            if let Some(interval) = this.keep_alive.unwrap_or_default().interval() {
                this.timer = Some(KeepAliveTimer::new(interval));
            }
        }
        if let Some(expires) = this.expires.as_mut() {
            if expires.as_mut().poll(cx).is_ready() {
                this.expires = None;
                this.end(EndReason::Lifetime);
                // Come back in a second: to this instance or, behind a load
                // balancer, another one.
                this.buf.extend_from_slice(LIFETIME_OVER);
            }
        }
        if let Some(shutdown) = this.shutdown.take_if(|shutdown| shutdown.poll_begun(cx)) {
            this.end(EndReason::Shutdown);
            if let Some(last) = shutdown.event() {
                this.buf.extend_from_slice(last);
            }
        }
        this.fill(cx);
        if let Some(frame) = this.take_frame() {
            if let Some(timer) = this.timer.as_mut() {
                timer.wrote();
            }
            let frame = this.wire(frame);
            if this.counted {
                observe::sent(this.unsent, frame.len());
            }
            this.events += this.unsent;
            this.unsent = 0;
            return Poll::Ready(Some(Frame::data(frame)));
        }
        if this.stream.is_none() {
            this.done = true;
            return Poll::Ready(None);
        }
        match this.timer.as_mut().map(|timer| timer.poll_due(cx)) {
            Some(Poll::Ready(())) => {
                let keep_alive = this.wire(Bytes::from_static(KEEP_ALIVE));
                Poll::Ready(Some(Frame::data(keep_alive)))
            }
            _ => {
                // Waiting, the buffer empty: what is left of it would keep
                // the last frame's allocation (and its shared header) alive
                // for as long as the stream waits. A stream with events
                // ready does not get here between frames, and keeps it.
                if this.buf.capacity() != 0 {
                    this.buf = BytesMut::new();
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use futures_util::task::noop_waker_ref;

    use super::{EventStream, SseBody};
    use crate::error::BoxError;
    use crate::sse::{Event, KeepAlive};

    fn body(events: Vec<Event>) -> SseBody {
        let ready = events.into_iter().map(Ok::<_, BoxError>);
        let stream: EventStream = Box::pin(futures_util::stream::iter(ready));
        SseBody::new(stream, Some(KeepAlive::off()), None)
    }

    fn frames(mut body: SseBody) -> Vec<Bytes> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut frames = Vec::new();
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            frames.extend(frame.into_data().ok());
        }
        frames
    }

    #[test]
    fn a_frozen_event_alone_is_written_as_its_shared_bytes() {
        let event = Event::named("tick").id("1").data("a").freeze().expect("valid");
        let wire = event.to_string();
        let sent = frames(body(vec![event.clone()]));
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0], wire.as_bytes());
        let shared = event.frozen.as_ref().map(|frozen| frozen.wire.as_ptr());
        assert_eq!(Some(sent[0].as_ptr()), shared, "the same bytes, not a copy");
    }

    #[test]
    fn ready_events_go_out_in_order_a_lone_shared_one_as_it_is_the_rest_together() {
        let frozen = |n: u8| Event::new().data(n.to_string()).freeze().expect("valid");
        let sent = frames(body(vec![
            frozen(1),
            Event::new().data("2"),
            frozen(3),
            frozen(4),
        ]));
        assert_eq!(sent.concat(), b"data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
        // The shared event first goes out as its bytes, without asking the
        // stream again (hyper writes the frames it queued together); what
        // follows is encoded into one frame.
        assert_eq!(sent, [&b"data: 1\n\n"[..], b"data: 2\n\ndata: 3\n\ndata: 4\n\n"]);
    }
}
