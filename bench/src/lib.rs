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

/// The send stamp of one encoded event (`"t":<micros>` in its data).
pub fn stamp_of(event: &[u8]) -> Option<u64> {
    let at = event.windows(4).position(|w| w == b"\"t\":")? + 4;
    let digits = event[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&event[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// CPU time (user + system) process `pid` has used, in microseconds, from
/// `/proc/PID/stat` (clock ticks of 10 ms; 0 where there is no `/proc`).
pub fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) * 10_000
}
