//! Typed events: `#[derive(SseEvent)]` enums sent by handlers as streams of the
//! enum, through a hub, and listed in the route table.

use std::collections::HashMap;
use std::convert::Infallible;

use justsse::hub::Subscription;
use justsse::prelude::*;
use justsse::route;
use justsse::test::TestClient;
use serde::Serialize;

#[derive(Serialize)]
struct Comment {
    author: String,
    body: String,
}

#[derive(SseEvent)]
enum TicketEvent {
    Connected,
    CommentAdded(Comment),
    Moved {
        from: u32,
        to: u32,
    },
    #[event(rename = "bot-note")]
    Note(String, u8),
    /// Tuple keys do not serialize as JSON object keys: this one cannot be sent.
    Broken(HashMap<(u8, u8), u8>),
}

fn all() -> Vec<TicketEvent> {
    vec![
        TicketEvent::Connected,
        TicketEvent::CommentAdded(Comment {
            author: "ada".into(),
            body: "on it".into(),
        }),
        TicketEvent::Moved { from: 1, to: 2 },
        TicketEvent::Note("hi".into(), 3),
    ]
}

async fn typed() -> impl futures_util::Stream<Item = TicketEvent> {
    futures_util::stream::iter(all())
}

async fn broken() -> impl futures_util::Stream<Item = Result<TicketEvent, Infallible>> {
    futures_util::stream::iter([
        Ok(TicketEvent::Connected),
        Ok(TicketEvent::Broken(HashMap::from([((1, 2), 3)]))),
        Ok(TicketEvent::Connected),
    ])
}

struct Tickets {
    hub: Hub,
}

#[controller("/tickets")]
impl Tickets {
    /// Comments of a ticket, from the hub.
    #[sse("/:id/events", events = TicketEvent)]
    async fn events(&self, id: u32, last: LastEventId) -> Subscription {
        self.hub.subscribe(&id.to_string(), last.as_deref()).await
    }
}

fn app(hub: Hub) -> App {
    App::new()
        .controller(Tickets { hub })
        .route("/typed", route::sse(typed))
        .route("/broken", route::sse(broken))
}

#[test]
fn names_and_data_follow_the_variants() {
    assert_eq!(
        TicketEvent::NAMES,
        ["connected", "comment_added", "moved", "bot-note", "broken"]
    );
    let wire: Vec<String> = all()
        .iter()
        .map(|e| e.to_event().expect("serializes").to_string())
        .collect();
    assert_eq!(
        wire,
        [
            "event: connected\ndata: null\n\n",
            "event: comment_added\ndata: {\"author\":\"ada\",\"body\":\"on it\"}\n\n",
            "event: moved\ndata: {\"from\":1,\"to\":2}\n\n",
            "event: bot-note\ndata: [\"hi\",3]\n\n",
        ]
    );
    assert_eq!(TicketEvent::Moved { from: 0, to: 0 }.name(), "moved");
    assert!(
        TicketEvent::Broken(HashMap::from([((1, 2), 3)]))
            .to_event()
            .is_err()
    );
}

#[test]
fn the_route_table_lists_each_stream_s_events() {
    let table = app(Hub::new()).routes();
    let events: Vec<(&str, Vec<&str>)> = table
        .routes()
        .iter()
        .map(|r| (r.path(), r.events().to_vec()))
        .collect();
    let names = TicketEvent::NAMES.to_vec();
    assert_eq!(
        events,
        [
            ("/tickets/:id/events", names.clone()),
            ("/typed", names.clone()),
            ("/broken", names),
        ]
    );
    let json = serde_json::to_value(&table).expect("serializes");
    assert_eq!(json[0]["events"][1], "comment_added");
    assert!(
        table
            .to_string()
            .contains("events connected, comment_added, moved")
    );
}

#[tokio::test]
async fn a_stream_of_the_enum_is_sent_as_named_events() {
    let client = TestClient::new(app(Hub::new())).expect("builds");
    let mut events = client.sse("/typed").send().await.events();
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push((event.event_type, event.data));
    }
    assert_eq!(
        seen,
        [
            ("connected".to_owned(), "null".to_owned()),
            (
                "comment_added".to_owned(),
                r#"{"author":"ada","body":"on it"}"#.to_owned()
            ),
            ("moved".to_owned(), r#"{"from":1,"to":2}"#.to_owned()),
            ("bot-note".to_owned(), r#"["hi",3]"#.to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_event_that_does_not_serialize_ends_the_stream_with_an_error_event() {
    let client = TestClient::new(app(Hub::new())).expect("builds");
    let mut events = client.sse("/broken").send().await.events();
    let first = events.next().await.expect("the first event");
    assert_eq!(first.event_type, "connected");
    let error = events.next().await.expect("an error event");
    assert_eq!(error.event_type, "error");
    assert!(events.next().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn typed_events_go_through_a_hub() {
    let hub = Hub::new();
    let client = TestClient::new(app(hub.clone())).expect("builds");
    let mut events = client.sse("/tickets/7/events").send().await.events();
    let comment = TicketEvent::CommentAdded(Comment {
        author: "ada".into(),
        body: "fixed".into(),
    });
    hub.publish(&"7".to_owned(), comment.to_event().expect("serializes"))
        .await
        .expect("published");
    let event = events.next().await.expect("the comment");
    assert_eq!(event.event_type, "comment_added");
    assert_eq!(event.data, r#"{"author":"ada","body":"fixed"}"#);
    assert!(!event.last_event_id.is_empty(), "the hub numbered it");
}

struct Live;

#[controller("/live")]
impl Live {
    /// Typed events yielded as they are, a struct-like variant included.
    #[sse("/:id", events = TicketEvent)]
    async fn live(&self, id: u32) -> impl EventStream {
        stream! {
            yield TicketEvent::Connected;
            let comment = Comment { author: "ada".into(), body: format!("on #{id}") };
            yield TicketEvent::CommentAdded(comment);
            yield TicketEvent::Moved { from: id, to: id + 1 };
            // An event that does not serialize ends the stream with `error`.
            yield TicketEvent::Broken(HashMap::from([((1, 2), 3)]));
            yield TicketEvent::Connected;
        }
    }
}

#[tokio::test]
async fn a_stream_yields_typed_events_directly() {
    let client = TestClient::new(App::new().controller(Live)).expect("builds");
    let body = client.sse("/live/7").send().await.text().await;
    assert_eq!(
        body.split("\n\n")
            .filter(|event| !event.is_empty() && !event.starts_with(':'))
            .collect::<Vec<_>>(),
        [
            "event: connected\ndata: null",
            "event: comment_added\ndata: {\"author\":\"ada\",\"body\":\"on #7\"}",
            "event: moved\ndata: {\"from\":7,\"to\":8}",
            "event: error\ndata: {\"message\":\"internal server error\"}",
        ],
        "{body}"
    );
    let table = App::new().controller(Live).routes();
    assert_eq!(table.routes()[0].events(), TicketEvent::NAMES);
}
