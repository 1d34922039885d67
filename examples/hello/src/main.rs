//! A hand-wired justsse server: `GET /` answers JSON, `GET /ticks` streams one
//! event a second, `POST /echo` returns the JSON it was sent.
//!
//! ```text
//! cargo run -p hello
//! curl -N http://127.0.0.1:3000/ticks
//! ```

use std::convert::Infallible;
use std::time::Duration;

use justsse::prelude::*;
use justsse::runtime::{Router, Server, get, post, sse};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct About {
    name: &'static str,
    routes: [&'static str; 3],
}

#[derive(Serialize, Deserialize)]
struct Message {
    text: String,
}

async fn about(_: Request) -> Json<About> {
    Json(About {
        name: "justsse hello",
        routes: ["GET /", "GET /ticks (SSE)", "POST /echo"],
    })
}

async fn echo(mut req: Request) -> Result<Json<Message>, HttpError> {
    Ok(Json(req.json::<Message>().await?))
}

/// Ten ticks, one a second, each with an id so a reconnect could resume.
async fn ticks(_: Request) -> Sse {
    let events = async_stream::stream! {
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        for n in 1..=10u32 {
            clock.tick().await;
            yield Ok::<_, Infallible>(Event::named("tick").id(n).data(format!("tick {n}")));
        }
    };
    Sse::new(events).retry(Duration::from_secs(2))
}

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let router = Router::new()
        .route("/", get(about))
        .route("/ticks", sse(ticks))
        .route("/echo", post(echo));
    let server = Server::bind(format!("127.0.0.1:{port}")).await?;
    println!("hello example on http://{}", server.local_addr());
    println!("  try: curl -N http://{}/ticks", server.local_addr());
    server.serve(router, justsse::runtime::ctrl_c()).await?;
    Ok(())
}
