//! Middleware arguments beyond the request head (app state, earlier chain
//! values), and chains built by hand with `justsse::route`, mounted beside a
//! controller on one `App`.

use bytes::Bytes;
use http_body_util::Full;
use justsse::prelude::*;
use justsse::{extract::Path, route};
use justsse_tests::{TestServer, events, json, request, send};

/// Tokens and their users: app state read by `auth`.
struct Sessions(Vec<(&'static str, User)>);

#[derive(Clone, Debug, PartialEq)]
struct User {
    name: &'static str,
    is_admin: bool,
}

/// What `audit` derives from the `User` an earlier middleware produced.
#[derive(Clone, Debug)]
struct Audit(String);

async fn auth(head: &RequestHead, sessions: State<Sessions>) -> Result<User, HttpError> {
    let token = head
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| HttpError::unauthorized("no token"))?;
    sessions
        .0
        .iter()
        .find(|(t, _)| *t == token)
        .map(|(_, user)| user.clone())
        .ok_or_else(|| HttpError::unauthorized("unknown token"))
}

/// Borrows the chain's `User` and the request head, in that order.
async fn audit(user: &User, head: &RequestHead) -> Result<Audit, HttpError> {
    Ok(Audit(format!("{} {}", user.name, head.uri().path())))
}

struct Tickets;

#[controller("/macro")]
impl Tickets {
    #[get("/whoami")]
    #[uses(auth)]
    #[uses(audit)]
    async fn whoami(&self, user: User, audit: Audit) -> Json<(String, String)> {
        Json((user.name.to_owned(), audit.0))
    }
}

async fn whoami(user: User, audit: Audit) -> Json<(String, String)> {
    Json((user.name.to_owned(), audit.0))
}

async fn watch(user: User, last: LastEventId) -> impl EventStream {
    stream! {
        let from = last.parse::<u64>().unwrap_or(0);
        for n in from + 1..=from + 2 {
            yield Event::named("tick").id(n).data(user.name);
        }
    }
}

async fn comment(Path((ticket, n)): Path<(u64, u32)>, user: User) -> String {
    format!("{} reads comment {n} of ticket {ticket}", user.name)
}

fn sessions() -> Sessions {
    Sessions(vec![
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
    ])
}

fn app() -> App {
    App::new()
        .state(sessions())
        .controller(Tickets)
        .route("/hand/whoami", route::get(whoami).uses(auth).uses(audit))
        .route(
            "/hand/tickets/:ticket/comments/:n",
            route::get(comment).uses(auth),
        )
        .route(
            "/hand/watch",
            route::sse(watch)
                .uses(auth)
                .guard(|user: &User| user.is_admin),
        )
}

async fn get_as(
    server: &TestServer,
    path: &str,
    token: &str,
) -> justsse::http::Response<hyper::body::Incoming> {
    let req = request("GET", path)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::<Bytes>::default())
        .expect("request");
    send(server.addr, req).await
}

#[tokio::test]
async fn middleware_reads_app_state_and_an_earlier_middlewares_value() {
    let server = TestServer::start(app().into_router().expect("builds")).await;
    for path in ["/macro/whoami", "/hand/whoami"] {
        let response = get_as(&server, path, "user-token").await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            json(response).await,
            serde_json::json!(["bob", format!("bob {path}")]),
            "{path}"
        );
        let response = get_as(&server, path, "forged").await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(json(response).await["message"], "unknown token", "{path}");
    }
}

#[tokio::test]
async fn a_hand_built_sse_route_runs_its_chain_and_guard() {
    let server = TestServer::start(app().into_router().expect("builds")).await;

    let no_token = justsse_tests::get(server.addr, "/hand/watch").await;
    assert_eq!(no_token.status(), 401);
    let not_admin = request("GET", "/hand/watch")
        .header("accept", "text/event-stream")
        .header("authorization", "Bearer user-token")
        .body(Full::<Bytes>::default())
        .expect("request");
    assert_eq!(send(server.addr, not_admin).await.status(), 403);

    let admin = request("GET", "/hand/watch")
        .header("accept", "text/event-stream")
        .header("authorization", "Bearer admin-token")
        .header("last-event-id", "40")
        .body(Full::<Bytes>::default())
        .expect("request");
    let response = send(server.addr, admin).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut reader = justsse_tests::LiveEvents::new(response);
    let received = reader.rest().await;
    let seen: Vec<(&str, &str, &str)> = received
        .iter()
        .map(|e| {
            (
                e.event_type.as_str(),
                e.last_event_id.as_str(),
                e.data.as_str(),
            )
        })
        .collect();
    assert_eq!(seen, [("tick", "41", "ada"), ("tick", "42", "ada")]);

    // An event stream request without a token is refused before any event.
    let (head, mut reader) = events(server.addr, "/hand/watch").await;
    assert_eq!(head.status(), 401);
    assert!(reader.next().await.is_none());
}

#[tokio::test]
async fn hand_built_and_controller_routes_share_the_route_table() {
    let table = app().routes();
    let rows: Vec<(&str, &str, &str, Vec<&str>, usize)> = table
        .routes()
        .iter()
        .map(|r| {
            (
                r.method(),
                r.path(),
                r.kind().label(),
                r.uses().to_vec(),
                r.guards().len(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("GET", "/macro/whoami", "json", vec!["auth", "audit"], 0),
            ("GET", "/hand/whoami", "json", vec!["auth", "audit"], 0),
            (
                "GET",
                "/hand/tickets/:ticket/comments/:n",
                "text",
                vec!["auth"],
                0
            ),
            ("GET", "/hand/watch", "sse", vec!["auth"], 1),
        ]
    );
    let text = table.to_string();
    let line = text
        .lines()
        .find(|line| line.contains("/hand/watch"))
        .expect("the hand-built stream is listed");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        words,
        [
            "GET",
            "/hand/watch",
            "sse",
            "watch",
            "uses",
            "auth,",
            "guard"
        ]
    );
}

#[tokio::test]
async fn missing_state_for_a_middleware_stops_the_app_naming_it() {
    let controller = App::new().controller(Tickets).into_router();
    let Err(justsse::Error::MissingState(missing)) = controller else {
        panic!("an app without Sessions must not build");
    };
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("GET /macro/whoami"), "{missing:?}");
    assert!(missing[0].contains("middleware `"), "{missing:?}");
    assert!(missing[0].contains("auth"), "{missing:?}");
    assert!(missing[0].contains("Sessions"), "{missing:?}");

    let hand = App::new()
        .route("/hand/whoami", route::get(whoami).uses(auth).uses(audit))
        .into_router();
    let Err(justsse::Error::MissingState(missing)) = hand else {
        panic!("an app without Sessions must not build");
    };
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("GET /hand/whoami"), "{missing:?}");
    assert!(missing[0].contains("Sessions"), "{missing:?}");
}

#[tokio::test]
async fn path_parameters_of_a_hand_built_route_parse_in_order() {
    let server = TestServer::start(app().into_router().expect("builds")).await;
    let response = get_as(&server, "/hand/tickets/7/comments/2", "user-token").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        justsse_tests::text(response).await,
        "bob reads comment 2 of ticket 7"
    );
    let response = get_as(&server, "/hand/tickets/07/comments/2", "user-token").await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        json(response).await["message"],
        "path parameter `ticket`: expected a non-negative integer in decimal digits, without a sign or leading zeros"
    );
    let response = get_as(&server, "/hand/tickets/7/comments/x", "user-token").await;
    assert_eq!(response.status(), 400);
    let message = json(response).await["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.starts_with("path parameter `n`:"), "{message}");
}
