//! Guards and auth as users expect, over a socket: named guard functions
//! borrow resolved path parameters, a guard's 403 says its message, a 401
//! carries `WWW-Authenticate`. Its handlers are every shape a handler takes
//! (body only `stream!`, statements then `stream!`, explicit `Sse`, `Result`,
//! `Option`), in code denying warnings and `clippy::pedantic`: an expansion
//! that warns fails this crate's build under rustc, and CI's clippy run.
#![deny(warnings, clippy::pedantic)]

use justsse::prelude::*;
use justsse::route;
use justsse::test::TestClient;

#[derive(Clone)]
struct User {
    name: String,
}

#[derive(Clone)]
struct Room {
    members: Vec<String>,
}

impl Resolve for Room {
    type Key = u32;
    type State = ();

    async fn resolve(id: u32, (): &()) -> Result<Option<Self>, HttpError> {
        Ok((id == 1).then(|| Room {
            members: vec!["ada".to_owned()],
        }))
    }
}

async fn auth(head: &RequestHead) -> Result<User, HttpError> {
    match head.headers().get("x-user").and_then(|v| v.to_str().ok()) {
        Some(name) => Ok(User {
            name: name.to_owned(),
        }),
        None => Err(HttpError::unauthorized("who are you?")),
    }
}

/// A named guard borrowing a resolved path parameter.
fn is_member(user: &User, room: &Room) -> bool {
    room.members.contains(&user.name)
}

struct Rooms;

#[controller("/rooms")]
#[uses(auth)]
impl Rooms {
    #[sse("/:room/only-stream")]
    #[guard(is_member, message = "members only")]
    async fn only_stream(&self, room: Room) -> impl EventStream {
        stream! {
            yield Event::named("members").data(room.members.len().to_string());
        }
    }

    #[sse("/:room/statements-then-stream")]
    async fn statements_then_stream(&self, room: Room, last: LastEventId) -> impl EventStream {
        let count = room.members.len();
        let last = last.as_deref().unwrap_or_default().to_owned();
        stream! {
            yield Event::named("members").id(count).data(last);
        }
    }

    #[sse("/:room/explicit")]
    async fn explicit(&self, room: Room) -> Sse {
        let events = futures_util::stream::iter(
            room.members
                .into_iter()
                .map(|name| Ok::<_, std::convert::Infallible>(Event::named("member").data(name))),
        );
        Sse::new(events)
    }

    #[sse("/:room/result")]
    async fn result(&self, room: Room) -> Result<Sse, HttpError> {
        if room.members.is_empty() {
            return Err(HttpError::not_found("nobody here"));
        }
        Ok(Sse::new(futures_util::stream::empty::<
            Result<Event, std::convert::Infallible>,
        >()))
    }

    #[sse("/:room/option")]
    async fn option(&self, room: Room) -> Option<Sse> {
        (!room.members.is_empty()).then(|| {
            Sse::new(futures_util::stream::empty::<
                Result<Event, std::convert::Infallible>,
            >())
        })
    }

    #[get("/:room")]
    #[guard(|user: &User, room: &Room| room.members.contains(&user.name), message = "members only")]
    async fn show(&self, room: Room, user: User) -> Result<Json<Vec<String>>, HttpError> {
        Ok(Json(room.members.into_iter().chain([user.name]).collect()))
    }
}

fn app() -> App {
    App::new().state(()).controller(Rooms)
}

async fn client() -> TestClient {
    TestClient::serve(app()).await.expect("serves")
}

#[tokio::test]
async fn a_named_guard_borrows_the_resolved_path_parameter() {
    let client = client().await;
    assert!(client.addr().is_some(), "over a socket");
    let member = client
        .get("/rooms/1/only-stream")
        .header("x-user", "ada")
        .send()
        .await;
    assert_eq!(member.status(), 200);
    let mut events = member.events();
    let event = events.next().await.expect("an event");
    assert_eq!(event.data, "1");

    let stranger = client
        .get("/rooms/1/only-stream")
        .header("x-user", "eve")
        .send()
        .await;
    assert_eq!(stranger.status(), 403);
    let body: serde_json::Value = stranger.json().await;
    assert_eq!(body["message"], "members only", "the guard's message");

    let missing = client
        .get("/rooms/2/only-stream")
        .header("x-user", "ada")
        .send()
        .await;
    assert_eq!(missing.status(), 404, "resolved before the guard runs");
}

#[tokio::test]
async fn a_closure_guard_says_its_message_too() {
    let client = client().await;
    let stranger = client.get("/rooms/1").header("x-user", "eve").send().await;
    assert_eq!(stranger.status(), 403);
    let body: serde_json::Value = stranger.json().await;
    assert_eq!(body["message"], "members only");
    let member = client.get("/rooms/1").header("x-user", "ada").send().await;
    assert_eq!(member.status(), 200);
}

#[tokio::test]
async fn a_401_carries_a_www_authenticate_challenge() {
    let client = client().await;
    let anonymous = client.get("/rooms/1").send().await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_hand_built_guard_says_its_message() {
    async fn secret(user: User) -> String {
        user.name
    }
    let app = App::new().route(
        "/secret",
        route::get(secret)
            .uses(auth)
            .guard_with(|user: &User| user.name == "root", "root only"),
    );
    let client = TestClient::serve(app).await.expect("serves");
    let denied = client.get("/secret").header("x-user", "ada").send().await;
    assert_eq!(denied.status(), 403);
    let body: serde_json::Value = denied.json().await;
    assert_eq!(body["message"], "root only");
    let root = client.get("/secret").header("x-user", "root").send().await;
    assert_eq!(root.text().await, "root");
}
