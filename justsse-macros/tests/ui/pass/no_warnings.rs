//! Every handler shape expands without a warning in code that denies them.
#![deny(warnings)]

use justsse::prelude::*;

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

    async fn resolve(id: u32, _: &()) -> Result<Option<Self>, HttpError> {
        Ok((id == 1).then(|| Room { members: vec!["ada".to_owned()] }))
    }
}

async fn auth(head: &RequestHead) -> Result<User, HttpError> {
    match head.headers().get("x-user").and_then(|v| v.to_str().ok()) {
        Some(name) => Ok(User { name: name.to_owned() }),
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
        Ok(Sse::new(futures_util::stream::empty::<Result<Event, std::convert::Infallible>>()))
    }

    #[sse("/:room/option")]
    async fn option(&self, room: Room) -> Option<Sse> {
        (!room.members.is_empty())
            .then(|| Sse::new(futures_util::stream::empty::<Result<Event, std::convert::Infallible>>()))
    }

    #[get("/:room")]
    #[guard(|user: &User, room: &Room| room.members.contains(&user.name), message = "members only")]
    async fn show(&self, room: Room, user: User) -> Result<Json<Vec<String>>, HttpError> {
        Ok(Json(room.members.into_iter().chain([user.name]).collect()))
    }
}

fn main() {
    let _ = App::new().state(()).controller(Rooms);
}
