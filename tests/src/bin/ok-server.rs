//! A small server in a process of its own, for tests that change what a
//! process has (its file-descriptor limit). Prints `listening on <addr>` on
//! stdout once bound; logs to stderr; `MAX_CONNECTIONS` sets that limit.

use justsse::runtime::{Router, Server, get};
use justsse::{Json, Request, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), justsse::runtime::ServerError> {
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let mut config = ServerConfig::default();
    if let Some(max) = std::env::var("MAX_CONNECTIONS")
        .ok()
        .and_then(|max| max.parse().ok())
    {
        config = config.max_connections(max);
    }
    let router = Router::new().route("/ok", get(|_: Request| async { Json("ok") }));
    let server = Server::bind("127.0.0.1:0").await?.config(config);
    println!("listening on {}", server.local_addr());
    server.serve(router, justsse::runtime::ctrl_c()).await
}
