//! Limits on open event streams: in total, per client IP, and in lifetime.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};

use crate::error::HttpError;

/// What [`ServerConfig`](crate::ServerConfig) says about open streams.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamLimits {
    pub(crate) total: Option<usize>,
    pub(crate) per_ip: Option<usize>,
    /// IPv6 clients count per network of this many leading bits.
    pub(crate) ipv6_prefix: u8,
    pub(crate) lifetime: Option<Duration>,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            total: None,
            per_ip: None,
            ipv6_prefix: 64,
            lifetime: None,
        }
    }
}

impl StreamLimits {
    /// The client whose share `ip` counts against: an IPv4 address itself
    /// (an IPv4-mapped IPv6 one too), an IPv6 address by its network, since
    /// one host commonly holds a whole /64 and picks a new address at will.
    fn client(&self, ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u32::from(self.ipv6_prefix.min(128));
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
            v4 => v4,
        }
    }
}

/// The open streams of one server, counted when a limit asks for it.
#[derive(Debug, Default)]
pub(crate) struct OpenStreams {
    limits: StreamLimits,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted stream; dropping it (the stream's body) gives its place back.
#[derive(Debug)]
pub(crate) struct StreamPermit {
    streams: Arc<OpenStreams>,
    ip: Option<IpAddr>,
}

impl OpenStreams {
    pub(crate) fn new(limits: StreamLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The longest a stream may stay open.
    pub(crate) fn lifetime(&self) -> Option<Duration> {
        self.limits.lifetime
    }

    /// Admits one more stream from `ip`, or says why not: 503 over the total,
    /// 429 over the client's share, both with `Retry-After`. `None` when no
    /// limit is set: nothing is counted then.
    pub(crate) fn admit(
        self: &Arc<Self>,
        ip: Option<IpAddr>,
    ) -> Result<Option<StreamPermit>, HttpError> {
        if self.limits.total.is_none() && self.limits.per_ip.is_none() {
            return Ok(None);
        }
        let total = self.total.fetch_add(1, Ordering::AcqRel) + 1;
        // From here on the permit gives the place back, whatever happens.
        let mut permit = StreamPermit {
            streams: self.clone(),
            ip: None,
        };
        if self.limits.total.is_some_and(|limit| total > limit) {
            crate::observe::stream_rejected("max_streams");
            tracing::debug!(open = total - 1, "stream limit reached; refusing");
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many open event streams; try again later",
            ));
        }
        if let (Some(limit), Some(ip)) = (self.limits.per_ip, ip) {
            let ip = self.limits.client(ip);
            let mut per_ip = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            let open = per_ip.entry(ip).or_insert(0);
            if *open >= limit {
                crate::observe::stream_rejected("max_streams_per_ip");
                tracing::debug!(%ip, open = *open, "per-client stream limit reached; refusing");
                return Err(refused(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many open event streams from this client",
                ));
            }
            *open += 1;
            permit.ip = Some(ip);
        }
        Ok(Some(permit))
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.streams.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.ip {
            let mut per_ip = self
                .streams
                .per_ip
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(open) = per_ip.get_mut(&ip) {
                *open -= 1;
                if *open == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

fn refused(status: StatusCode, message: &'static str) -> HttpError {
    HttpError::new(status, message).with_header(RETRY_AFTER, HeaderValue::from_static("5"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_given_back_when_permits_drop() {
        let streams = Arc::new(OpenStreams::new(StreamLimits {
            total: Some(3),
            per_ip: Some(2),
            ..StreamLimits::default()
        }));
        let (a, b) = (Some(IpAddr::from([10, 0, 0, 1])), Some(IpAddr::from([10, 0, 0, 2])));
        let first = streams.admit(a).expect("first");
        let second = streams.admit(a).expect("second");
        let refused = streams.admit(a).expect_err("a's share is 2");
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let third = streams.admit(b).expect("b has its own share");
        let full = streams.admit(b).expect_err("3 in total");
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
        drop((first, second, third));
        assert_eq!(streams.total.load(Ordering::Acquire), 0);
        assert!(streams.per_ip.lock().expect("lock").is_empty());
        assert!(streams.admit(a).expect("room again").is_some());
    }

    #[test]
    fn ipv6_clients_share_their_network_s_limit() {
        let streams = Arc::new(OpenStreams::new(StreamLimits {
            per_ip: Some(2),
            ..StreamLimits::default()
        }));
        let ip = |text: &str| Some(text.parse::<IpAddr>().expect("an address"));
        let _one = streams.admit(ip("2001:db8:1:2::1")).expect("first");
        let _two = streams.admit(ip("2001:db8:1:2:ffff::9")).expect("same /64");
        let refused = streams.admit(ip("2001:db8:1:2:abcd::7")).expect_err("the /64 is full");
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(streams.admit(ip("2001:db8:1:3::1")).is_ok(), "another /64");
        // An IPv4-mapped address is its IPv4 client.
        let _v4 = streams.admit(ip("192.0.2.1")).expect("v4");
        let _mapped = streams.admit(ip("::ffff:192.0.2.1")).expect("the same client");
        assert!(streams.admit(ip("192.0.2.1")).is_err(), "two already");
        let exact = StreamLimits {
            ipv6_prefix: 128,
            ..StreamLimits::default()
        };
        assert_ne!(
            exact.client("2001:db8::1".parse().expect("ip")),
            exact.client("2001:db8::2".parse().expect("ip"))
        );
    }

    #[test]
    fn nothing_is_counted_without_a_limit() {
        let streams = Arc::new(OpenStreams::new(StreamLimits::default()));
        assert!(streams.admit(None).expect("admitted").is_none());
    }
}
