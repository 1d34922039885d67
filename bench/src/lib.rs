//! Shared by the bench servers and the load client: the scenario's payloads.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch: the send stamp carried by each event.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The JSON every server answers on `GET /json`.
#[derive(serde::Serialize)]
pub struct Hello {
    /// A greeting.
    pub message: &'static str,
    /// A number.
    pub n: u32,
}

/// The data of event `n`, stamped now: `{"t":<micros>,"n":<n>,"pad":"..."}`.
pub fn event_data(n: u64) -> String {
    format!(r#"{{"t":{},"n":{n},"pad":"{}"}}"#, now_micros(), PAD)
}

/// Padding that brings an event to about 100 bytes on the wire.
pub const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
