//! One Redis node or a Redis Cluster behind one connection type: the cluster
//! connection routes each command to the master of its key's slot and follows
//! `MOVED`/`ASK` redirections and failovers (it re-reads the slot map).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, Value};

use super::{RedisConfig, RedisServers, unavailable};
use crate::hub::HubError;

/// Opens connections to the configured servers.
pub(super) enum Connector {
    Node(redis::Client),
    Cluster(Vec<String>),
}

impl Connector {
    pub(super) fn new(config: &RedisConfig) -> Result<Self, HubError> {
        Ok(match &config.servers {
            RedisServers::Node(url) => {
                Self::Node(redis::Client::open(url.as_str()).map_err(unavailable)?)
            }
            RedisServers::Cluster(urls) => Self::Cluster(urls.clone()),
        })
    }

    /// A connection whose replies may take `response` (a blocking read needs
    /// its block time more than a command). On a cluster, a `patient` one
    /// retries a command through a failover (the node timeout and an election:
    /// seconds); otherwise a second failure is the caller's to handle.
    pub(super) async fn connect(
        &self,
        response: Duration,
        patient: bool,
    ) -> Result<RedisConnection, HubError> {
        match self {
            Self::Node(client) => {
                // One retry, soon: with Redis down every command fails at once
                // (503 to the client) and the next one tries again, instead of
                // each waiting out six backed-off reconnects (7.5 s).
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_response_timeout(Some(response))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                let manager = client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(unavailable)?;
                Ok(RedisConnection(Inner::Node(manager)))
            }
            Self::Cluster(urls) => {
                let (retries, patience) = if patient {
                    (12, Duration::from_secs(4))
                } else {
                    (1, Duration::ZERO)
                };
                let client = ClusterClient::builder(urls.iter().map(String::as_str))
                    .connection_timeout(Duration::from_secs(1))
                    .response_timeout(response)
                    .overall_response_timeout(Some(response + patience))
                    .retries(retries)
                    .min_retry_wait(50)
                    .max_retry_wait(500)
                    .build()
                    .map_err(unavailable)?;
                let connection = client.get_async_connection().await.map_err(unavailable)?;
                Ok(RedisConnection(Inner::Cluster(connection)))
            }
        }
    }
}

/// The hub's connection to Redis, on one node or a cluster (routing each
/// command to its key's master, following redirections and failovers, and
/// reconnecting by itself). [`RedisBackend::connection`](super::RedisBackend::connection)
/// lends it to the application for its own records: a clone is cheap and
/// shares the socket(s).
///
/// ```no_run
/// use justsse::hub::{RedisBackend, RedisConfig};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let backend = RedisBackend::connect(RedisConfig::new("redis://127.0.0.1/")).await?;
/// let mut redis = backend.connection();
/// let id: u64 = redis::cmd("INCR").arg("tickets:ids").query_async(&mut redis).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisConnection(Inner);

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.0 {
            Inner::Node(_) => "node",
            Inner::Cluster(_) => "cluster",
        };
        f.debug_tuple("RedisConnection").field(&kind).finish()
    }
}

#[derive(Clone)]
enum Inner {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Sends `pipeline` to the master serving `key`'s slot, whatever keys its
    /// commands name or do not name (on one node: to that node).
    pub(super) async fn pipeline_at(
        &mut self,
        key: &str,
        pipeline: &Pipeline,
    ) -> redis::RedisResult<Vec<Value>> {
        match &mut self.0 {
            Inner::Node(conn) => pipeline.query_async(conn).await,
            Inner::Cluster(conn) => {
                let master = Route::with_key(key, SlotAddr::Master);
                let route = SingleNodeRoutingInfo::SpecificNode(master);
                conn.route_pipeline(pipeline.clone(), 0, pipeline.len(), route)
                    .await
            }
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Inner::Node(conn) => conn.req_packed_command(cmd),
            Inner::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Inner::Node(conn) => conn.req_packed_commands(pipeline, offset, count),
            Inner::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Inner::Node(conn) => conn.get_db(),
            Inner::Cluster(conn) => conn.get_db(),
        }
    }
}
