//! The hub's connections to PostgreSQL: one session for its own statements,
//! made again when it breaks (a restarted server), and the `LISTEN`
//! connection's.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{Client, Connection, NoTls, Socket, Statement};

use super::{PostgresConfig, database, schema};
use crate::hub::HubError;

pub(super) struct Connector {
    config: tokio_postgres::Config,
    schema: String,
    /// Sent on each new session: its `lock_timeout`.
    setup: String,
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
}

/// A connection and its prepared statements.
pub(super) struct Session {
    pub(super) client: Client,
    pub(super) statements: Statements,
}

pub(super) struct Statements {
    /// `publish($1 topic, $2 name, $3 data, $4 key, $5 replay)`.
    pub(super) publish: Statement,
    /// `epoch, seq, name, data, key` of `$1`'s events after `$2`, at most `$3`.
    pub(super) read: Statement,
    /// `topic, epoch, seq, name, data, key` of the topics `$1`'s events after
    /// `$2` (one each), at most `$3` per topic; a topic with nothing new has
    /// one row with a `NULL` seq, one without a row in `topics` none.
    pub(super) read_many: Statement,
    /// `epoch, latest, oldest` of topic `$1`.
    pub(super) info: Statement,
}

impl Connector {
    pub(super) fn new(config: &PostgresConfig) -> Result<Self, HubError> {
        let mut pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|err| HubError::Config(format!("the PostgreSQL URL does not read: {err}")))?;
        if pg.get_application_name().is_none() {
            pg.application_name("justsse");
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        // A server gone without closing the connection is noticed.
        pg.keepalives_idle(Duration::from_secs(30));
        Ok(Self {
            config: pg,
            schema: config.schema.clone(),
            setup: format!(
                "SET lock_timeout = {}",
                config.lock_timeout.as_millis().max(1)
            ),
            session: tokio::sync::Mutex::new(None),
        })
    }

    async fn connect(
        &self,
        application: Option<&str>,
    ) -> Result<(Client, Connection<Socket, NoTlsStream>), HubError> {
        let mut config = self.config.clone();
        if let Some(name) = application {
            config.application_name(name);
        }
        config.connect(NoTls).await.map_err(database)
    }

    /// Creates or migrates the schema, on a connection of its own.
    pub(super) async fn migrate(&self, s: &str) -> Result<(), HubError> {
        let (mut client, connection) = self.connect(None).await?;
        let driven = tokio::spawn(connection);
        let migrated = schema::migrate(&mut client, s).await;
        drop(client);
        let _ = driven.await;
        migrated
    }

    /// The `LISTEN` connection (named `justsse listen` in
    /// `pg_stat_activity`), not yet listening: its messages are read by
    /// polling the connection.
    pub(super) async fn listener(
        &self,
    ) -> Result<(Client, Connection<Socket, NoTlsStream>), HubError> {
        let name = match self.config.get_application_name() {
            Some(name) => format!("{name} listen"),
            None => "justsse listen".to_owned(),
        };
        self.connect(Some(&name)).await
    }

    /// The hub's session, connecting (again) if it has none or it broke.
    pub(super) async fn session(&self) -> Result<Arc<Session>, HubError> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref().filter(|s| !s.client.is_closed()) {
            return Ok(session.clone());
        }
        *slot = None;
        let (client, connection) = self.connect(None).await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "the hub's PostgreSQL session ended");
            }
        });
        client.batch_execute(&self.setup).await.map_err(database)?;
        let s = &self.schema;
        let statements = Statements {
            publish: prepare(&client, &format!("SELECT {s}.publish($1, $2, $3, $4, $5)")).await?,
            read: prepare(
                &client,
                &format!(
                    "SELECT t.epoch, e.seq, e.name, e.data, e.key FROM {s}.topics t
                     JOIN {s}.events e ON e.topic = t.topic AND e.seq > $2
                     WHERE t.topic = $1 ORDER BY e.seq LIMIT $3"
                ),
            )
            .await?,
            read_many: prepare(
                &client,
                &format!(
                    "SELECT c.topic, t.epoch, e.seq, e.name, e.data, e.key
                     FROM unnest($1::text[], $2::bigint[]) AS c(topic, after)
                     JOIN {s}.topics t ON t.topic = c.topic
                     LEFT JOIN LATERAL (
                         SELECT e.seq, e.name, e.data, e.key FROM {s}.events e
                         WHERE e.topic = c.topic AND e.seq > c.after ORDER BY e.seq LIMIT $3
                     ) e ON true
                     ORDER BY c.topic, e.seq"
                ),
            )
            .await?,
            info: prepare(
                &client,
                &format!(
                    "SELECT t.epoch, t.seq, (SELECT min(e.seq) FROM {s}.events e WHERE e.topic = t.topic)
                     FROM {s}.topics t WHERE t.topic = $1"
                ),
            )
            .await?,
        };
        let session = Arc::new(Session { client, statements });
        *slot = Some(session.clone());
        Ok(session)
    }
}

async fn prepare(client: &Client, sql: &str) -> Result<Statement, HubError> {
    client.prepare(sql).await.map_err(database)
}
