//! The backend's tables and its `publish` function, created or brought up to
//! date when an instance connects (under an advisory lock, so instances
//! starting together do it once). The SQL is in docs/scaling.md too.

use tokio_postgres::Client;

use super::database;
use crate::hub::HubError;

/// The schema's version this code writes and reads; `meta` records it.
const VERSION: i32 = 1;

/// Whether `schema` is a plain lower-case identifier: it names the schema and
/// the notification channel, unquoted in SQL text.
pub(super) fn valid_name(schema: &str) -> bool {
    let mut chars = schema.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 48
}

/// Creates the schema `s`, or migrates it to [`VERSION`]. A database whose
/// schema is newer than this code is refused.
pub(super) async fn migrate(client: &mut Client, s: &str) -> Result<(), HubError> {
    let tx = client.transaction().await.map_err(database)?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&s])
        .await
        .map_err(database)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.meta (version integer NOT NULL);"
    ))
    .await
    .map_err(database)?;
    let found: Option<i32> = tx
        .query_opt(&format!("SELECT max(version) FROM {s}.meta"), &[])
        .await
        .map_err(database)?
        .and_then(|row| row.get(0));
    match found {
        Some(version) if version > VERSION => {
            return Err(HubError::Config(format!(
                "the schema {s} is at version {version}; this justsse knows up to {VERSION}: upgrade it"
            )));
        }
        Some(VERSION) => {}
        _ => {
            tx.batch_execute(&sql(s)).await.map_err(database)?;
            tx.execute(&format!("DELETE FROM {s}.meta"), &[])
                .await
                .map_err(database)?;
            tx.execute(&format!("INSERT INTO {s}.meta VALUES ($1)"), &[&VERSION])
                .await
                .map_err(database)?;
        }
    }
    tx.commit().await.map_err(database)
}

/// The tables and the function of version 1, in schema `s`.
///
/// - `topics`: one row per topic, its counter. `publish` takes the next number
///   with an upsert, which locks the row until the transaction ends: a second
///   transaction publishing on the topic waits for the first to commit or roll
///   back, so numbers are given in commit order and never skipped (a rolled-back
///   number is given again). `epoch` (when the row was made, in ms) keeps a
///   topic made again after retention from resuming the old one's ids.
/// - `events`: the log, `(topic, seq)`; `publish` trims it to `replay` events.
/// - `presence`: each instance's subscriber count per followed topic.
/// - `publish(topic, name, data, key, replay)`: the above, then
///   `pg_notify('<s>', topic)` (sent at commit, only if it commits), and the
///   event's id `<epoch>-<seq>`. Any client of the database may call it.
pub(super) fn sql(s: &str) -> String {
    format!(
        r#"CREATE TABLE IF NOT EXISTS {s}.topics (
    topic text PRIMARY KEY,
    epoch bigint NOT NULL,
    seq bigint NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {s}.events (
    topic text NOT NULL,
    seq bigint NOT NULL,
    name text,
    data text NOT NULL,
    key text,
    PRIMARY KEY (topic, seq)
);
CREATE TABLE IF NOT EXISTS {s}.presence (
    topic text NOT NULL,
    instance text NOT NULL,
    subscribers integer NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (topic, instance)
);
CREATE OR REPLACE FUNCTION {s}.publish(
    p_topic text, p_name text, p_data text, p_key text DEFAULT NULL, p_replay integer DEFAULT 1024
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_epoch bigint;
    v_seq bigint;
BEGIN
    INSERT INTO {s}.topics AS t (topic, epoch, seq)
    VALUES (p_topic, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, 1)
    ON CONFLICT (topic) DO UPDATE SET seq = t.seq + 1, published_at = now()
    RETURNING t.epoch, t.seq INTO v_epoch, v_seq;
    INSERT INTO {s}.events (topic, seq, name, data, key) VALUES (p_topic, v_seq, p_name, p_data, p_key);
    DELETE FROM {s}.events WHERE topic = p_topic AND seq <= v_seq - greatest(p_replay, 1);
    -- A notification's payload is at most 8000 bytes: an empty one wakes
    -- the readers of every topic.
    PERFORM pg_notify('{s}', CASE WHEN octet_length(p_topic) < 7000 THEN p_topic ELSE '' END);
    RETURN v_epoch || '-' || v_seq;
END
$$;"#
    )
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn the_documented_sql_is_the_sql() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/scaling.md"))
                .expect("docs/scaling.md");
        // The doc's block is indented two spaces, inside a list item.
        let documented: String = doc
            .lines()
            .map(|line| line.strip_prefix("  ").unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            documented.contains(super::sql("justsse").trim_end()),
            "docs/scaling.md shows other SQL than schema::sql"
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_name("justsse"));
        assert!(valid_name("app_events_2"));
        for bad in [
            "",
            "Justsse",
            "2x",
            "a-b",
            "a;drop",
            "\"x\"",
            &"a".repeat(49),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
