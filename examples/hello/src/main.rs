//! A justsse server wired by hand, without controllers: each route is built
//! with `justsse::route`, the same typed chain `#[controller]` writes.
//!
//! - `GET /` answers JSON;
//! - `GET /ticks` streams one event a second, resuming after `Last-Event-ID`;
//! - `POST /echo` returns the JSON it was sent;
//! - `GET /admin/ticks` is the same stream behind a middleware that reads the
//!   caller's token from app state, and a guard that wants an admin.
//!
//! ```text
//! cargo run -p hello
//! curl -N http://127.0.0.1:3000/ticks
//! curl -N http://127.0.0.1:3000/admin/ticks -H 'authorization: Bearer admin-token'
//! ```

use std::time::Duration;

use justsse::prelude::*;
use justsse::route;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct About {
    name: &'static str,
    routes: [&'static str; 4],
}

#[derive(Serialize, Deserialize)]
struct Message {
    text: String,
}

/// Who may watch `/admin/ticks`: tokens and whether they belong to an admin.
struct Tokens(Vec<(&'static str, User)>);

/// The caller, as `auth` found them.
#[derive(Clone)]
struct User {
    name: &'static str,
    is_admin: bool,
}

async fn about() -> Json<About> {
    Json(About {
        name: "justsse hello",
        routes: [
            "GET /",
            "GET /ticks (SSE)",
            "POST /echo",
            "GET /admin/ticks (SSE)",
        ],
    })
}

async fn echo(Json(message): Json<Message>) -> Json<Message> {
    Json(message)
}

/// `Authorization: Bearer <token>`, looked up in the `Tokens` app state.
async fn auth(head: &RequestHead, tokens: State<Tokens>) -> Result<User, HttpError> {
    let token = head
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| HttpError::unauthorized("send `Authorization: Bearer <token>`"))?;
    tokens
        .0
        .iter()
        .find(|(known, _)| *known == token)
        .map(|(_, user)| user.clone())
        .ok_or_else(|| HttpError::unauthorized("unknown token"))
}

/// Ten ticks, one a second, each with an id so a reconnect resumes after it.
async fn ticks(last: LastEventId) -> impl EventStream {
    let from = last.parse::<u32>().unwrap_or(0);
    stream! {
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        for n in from + 1..=from + 10 {
            clock.tick().await;
            yield Event::named("tick").id(n).data(format!("tick {n}"));
        }
    }
}

/// The same ticks, for the admin `auth` found.
async fn admin_ticks(user: User, last: LastEventId) -> impl EventStream {
    let ticks = ticks(last).await;
    stream! {
        yield Event::named("hello").data(format!("hello, {}", user.name));
        for await tick in ticks {
            yield tick?;
        }
    }
}

fn app() -> App {
    App::new()
        .state(Tokens(vec![
            (
                "admin-token",
                User {
                    name: "ada",
                    is_admin: true,
                },
            ),
            (
                "user-token",
                User {
                    name: "bob",
                    is_admin: false,
                },
            ),
        ]))
        .route("/", route::get(about))
        .route("/ticks", route::sse(ticks))
        .route("/echo", route::post(echo))
        .route(
            "/admin/ticks",
            route::sse(admin_ticks)
                .uses(auth)
                .guard(|user: &User| user.is_admin),
        )
}

#[tokio::main]
async fn main() -> Result<(), justsse::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let app = app();
    print!("{}", app.routes());
    println!("hello example on http://127.0.0.1:{port}");
    println!("  try: curl -N http://127.0.0.1:{port}/ticks");
    app.serve(format!("127.0.0.1:{port}")).await
}
