//! Runs the MCP example: `cargo run -p mcp` serves `http://127.0.0.1:3000/mcp`
//! (`PORT` sets the port; `HOST` the address, 127.0.0.1 unless you mean to
//! expose it; `MCP_ORIGINS`, comma-separated, origins allowed besides local
//! pages; `MCP_TOKENS`, comma-separated, bearer tokens to require;
//! `MCP_HOLD_MS`, how long a stream holds its connection before the client
//! resumes it; `REDIS_URL` keeps sessions and streams in Redis, for several
//! instances).

use std::time::Duration;

use justsse::Hub;
use justsse::hub::{RedisBackend, RedisConfig};
use mcp::{Config, Store};

fn list(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let config = Config {
        origins: list("MCP_ORIGINS"),
        tokens: list("MCP_TOKENS"),
        hold: std::env::var("MCP_HOLD_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis),
        ..Config::default()
    };
    // REDIS_URL set: sessions, the note and every stream live in Redis, so any
    // instance behind a load balancer serves any session.
    let app = match std::env::var("REDIS_URL") {
        Ok(url) => {
            let backend = match RedisBackend::connect(RedisConfig::new(url.clone())).await {
                Ok(backend) => backend,
                Err(err) => {
                    eprintln!("cannot reach Redis at {url}: {err}");
                    std::process::exit(1);
                }
            };
            println!("sessions in Redis at {url}");
            let store = Store::Redis(backend.connection());
            mcp::app_with(config, store, Hub::with_backend(backend))
        }
        Err(_) => mcp::app(config),
    };
    println!("MCP server on http://{host}:{port}/mcp\n");
    print!("{}", app.routes());
    app.serve(format!("{host}:{port}")).await
}
