//! What the server reports through the `metrics` facade: connections,
//! streams, events, rejections and timeouts. Nothing is recorded until the
//! application installs a recorder (a Prometheus exporter, for one); install it
//! before serving.
//!
//! | name | kind | labels |
//! | --- | --- | --- |
//! | `justsse_connections_open` | gauge | |
//! | `justsse_connections_rejected_total` | counter | `reason`: `max_connections` |
//! | `justsse_streams_open` | gauge | |
//! | `justsse_streams_ended_total` | counter | `reason`: `completed`, `client_left`, `error`, `shutdown`, `lifetime` |
//! | `justsse_streams_rejected_total` | counter | `reason`: `max_streams`, `max_streams_per_ip` |
//! | `justsse_events_sent_total` | counter | |
//! | `justsse_stream_bytes_sent_total` | counter | |
//! | `justsse_timeouts_total` | counter | `kind`: `header`, `tls_handshake`, `body` |
//!
//! The hub (in `justsse`) adds `justsse_hub_resyncs_total{reason}` and the
//! gauge `justsse_hub_lagging_subscribers`.

/// Why an event stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndReason {
    /// The handler's stream finished.
    Completed,
    /// The client went away first (the body was dropped).
    ClientLeft,
    /// The stream failed and sent its `error` event.
    Error,
    /// The server shut down.
    Shutdown,
    /// Its maximum lifetime was over.
    Lifetime,
}

impl EndReason {
    fn label(self) -> &'static str {
        match self {
            EndReason::Completed => "completed",
            EndReason::ClientLeft => "client_left",
            EndReason::Error => "error",
            EndReason::Shutdown => "shutdown",
            EndReason::Lifetime => "lifetime",
        }
    }
}

/// Counts one connection open for as long as it lives.
pub(crate) struct OpenConnection(());

impl OpenConnection {
    pub(crate) fn new() -> Self {
        metrics::gauge!("justsse_connections_open").increment(1.0);
        Self(())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("justsse_connections_open").decrement(1.0);
    }
}

pub(crate) fn connection_rejected(reason: &'static str) {
    metrics::counter!("justsse_connections_rejected_total", "reason" => reason).increment(1);
}

pub(crate) fn stream_opened() {
    metrics::gauge!("justsse_streams_open").increment(1.0);
}

/// Counts and logs a stream's end; its span, if it has one, closes with the
/// reason and the number of events.
pub(crate) fn stream_ended(reason: EndReason, events: u64, span: Option<&tracing::Span>) {
    metrics::gauge!("justsse_streams_open").decrement(1.0);
    metrics::counter!("justsse_streams_ended_total", "reason" => reason.label()).increment(1);
    if let Some(span) = span {
        span.record("reason", reason.label());
        span.record("events", events);
    }
    tracing::debug!(reason = reason.label(), events, "event stream ended");
}

pub(crate) fn stream_rejected(reason: &'static str) {
    metrics::counter!("justsse_streams_rejected_total", "reason" => reason).increment(1);
}

/// Events written to streams and their bytes, counted per write, not per event.
pub(crate) fn sent(events: u64, bytes: usize) {
    metrics::counter!("justsse_events_sent_total").increment(events);
    metrics::counter!("justsse_stream_bytes_sent_total").increment(bytes as u64);
}

pub(crate) fn timeout(kind: &'static str) {
    metrics::counter!("justsse_timeouts_total", "kind" => kind).increment(1);
}
