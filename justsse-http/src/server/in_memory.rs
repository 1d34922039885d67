//! Serving without a socket: each connection is an in-memory pipe whose far
//! end the server serves exactly as it serves a TCP connection (protocol
//! detection, hyper, deadlines). Test clients use it; it needs no port and
//! works with tokio's paused clock.

use std::net::SocketAddr;

use tokio::io::DuplexStream;

use crate::server::config::ServerConfig;
use crate::server::connection::{self, Accepted};
use crate::server::Error;
use crate::routing::Router;
use crate::server::Serving;

/// How many bytes a pipe holds in each direction before the writer waits.
const PIPE: usize = 64 * 1024;

/// A server reached through in-memory pipes; dropping it shuts it down (its
/// event streams end).
///
/// ```
/// use justsse_http::{InMemory, Router, ServerConfig, get};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let router = Router::new().route("/", get(|_| async { "hello" }));
/// let server = InMemory::new(router, ServerConfig::default())?;
/// let mut pipe = server.connect();
/// pipe.write_all(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n").await?;
/// let mut answer = String::new();
/// pipe.read_to_string(&mut answer).await?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("hello"));
/// # Ok(()) }
/// ```
pub struct InMemory {
    serving: Serving,
}

impl std::fmt::Debug for InMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemory").finish_non_exhaustive()
    }
}

impl InMemory {
    /// Prepares `router` with `config`, as [`Server::serve`](crate::Server::serve) does.
    pub fn new(router: Router, config: ServerConfig) -> Result<Self, Error> {
        Ok(Self {
            serving: Serving::new(router, config)?,
        })
    }

    /// A new connection: the client's end of a pipe whose other end is served
    /// on a task of its own. Must be called within a tokio runtime.
    pub fn connect(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(PIPE);
        let Serving {
            app,
            layered,
            builders,
        } = &self.serving;
        let peer = SocketAddr::from(([127, 0, 0, 1], 0));
        tokio::spawn(connection::serve_io(
            server,
            Accepted {
                peer,
                app: app.clone(),
                layered: layered.clone(),
                builders: builders.clone(),
                permit: None,
            },
        ));
        client
    }
}

impl Drop for InMemory {
    fn drop(&mut self) {
        self.serving.app.shutdown.begin();
    }
}
