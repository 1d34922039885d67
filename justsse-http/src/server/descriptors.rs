//! The process's file-descriptor limit, and how many connections fit under it.
//!
//! Every connection is a descriptor. A server that runs out of them cannot even
//! accept a client to say it is busy: the client waits for a connect timeout
//! while `accept` fails. So the connection limit stays under the descriptor
//! limit, with a reserve for the answers to refused clients and for the
//! application's own files and sockets.

/// The default connection limit where descriptors are plentiful.
const DEFAULT_MAX_CONNECTIONS: usize = 50_000;

/// How many connections to serve at once, and how many refusals may be
/// answering at once past that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionBudget {
    pub(crate) connections: usize,
    pub(crate) refusals: usize,
}

impl ConnectionBudget {
    /// The budget under `fd_limit` (`None`: unknown or unlimited), honouring a
    /// configured connection limit.
    pub(crate) fn new(fd_limit: Option<u64>, configured: Option<usize>) -> Self {
        let Some(limit) = fd_limit.and_then(|limit| usize::try_from(limit).ok()) else {
            return Self {
                connections: configured.unwrap_or(DEFAULT_MAX_CONNECTIONS),
                refusals: 64,
            };
        };
        let reserve = reserve(limit);
        let fit = limit.saturating_sub(reserve).max(1);
        Self {
            connections: configured.unwrap_or(DEFAULT_MAX_CONNECTIONS.min(fit)),
            refusals: (reserve / 2).max(1),
        }
    }

    /// Whether the connection limit leaves the reserve free under `fd_limit`.
    pub(crate) fn fits(&self, fd_limit: Option<u64>) -> bool {
        match fd_limit.and_then(|limit| usize::try_from(limit).ok()) {
            Some(limit) => self.connections <= limit.saturating_sub(reserve(limit)),
            None => true,
        }
    }
}

/// Descriptors kept free: a tenth of the limit, at least 64, at most 1,024.
/// Half of it answers refused clients; the rest is the listener, the runtime's
/// own descriptors and the application's (files, database and Redis sockets).
fn reserve(limit: usize) -> usize {
    (limit / 10).clamp(64, 1024)
}

/// The soft `RLIMIT_NOFILE` of this process: what `accept` runs into.
#[cfg(unix)]
pub(crate) fn fd_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Unknown on this platform.
#[cfg(not(unix))]
pub(crate) fn fd_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stay_under_the_descriptor_limit() {
        let cases = [
            // (fd limit, configured, connections, refusals)
            (Some(1_048_576), None, 50_000, 512),
            (Some(20_000), None, 18_976, 512),
            (Some(1_024), None, 922, 51),
            (Some(256), None, 192, 32),
            (Some(10), None, 1, 32),
            (None, None, 50_000, 64),
            (Some(20_000), Some(30_000), 30_000, 512),
            (Some(20_000), Some(100), 100, 512),
        ];
        for (limit, configured, connections, refusals) in cases {
            let budget = ConnectionBudget::new(limit, configured);
            assert_eq!(
                budget,
                ConnectionBudget {
                    connections,
                    refusals
                },
                "{limit:?} {configured:?}"
            );
        }
        assert!(ConnectionBudget::new(Some(20_000), None).fits(Some(20_000)));
        assert!(!ConnectionBudget::new(Some(20_000), Some(30_000)).fits(Some(20_000)));
    }
}
