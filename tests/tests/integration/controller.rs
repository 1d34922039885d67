//! Controllers end to end: the route table, typed path parameters, extractors,
//! `uses` middleware and guards in order, generator handlers, rejections.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use justsse::prelude::*;
use justsse::{Disconnected, RequestHead};
use justsse_tests::{TestServer, events, json, request, send};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
struct Ticket {
    id: u64,
    subject: String,
}

#[derive(Default)]
struct TicketStore {
    tickets: Mutex<HashMap<u64, Ticket>>,
}

impl Resolve for Ticket {
    type Key = u64;
    type State = TicketStore;

    async fn resolve(id: u64, store: &TicketStore) -> Result<Option<Self>, HttpError> {
        if id == 500 {
            return Err(HttpError::internal("the database is on fire"));
        }
        let tickets = store
            .tickets
            .lock()
            .map_err(|_| HttpError::internal("poisoned"))?;
        Ok(tickets.get(&id).cloned())
    }
}

#[derive(Debug, Clone)]
struct User {
    name: String,
    is_admin: bool,
}

async fn auth(head: &RequestHead) -> Result<User, HttpError> {
    let token = head
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .or_else(|| head.cookie("token"))
        .ok_or_else(|| HttpError::unauthorized("missing token"))?;
    match token {
        "admin-token" => Ok(User {
            name: "ada".into(),
            is_admin: true,
        }),
        "user-token" => Ok(User {
            name: "bob".into(),
            is_admin: false,
        }),
        _ => Err(HttpError::unauthorized("unknown token")),
    }
}

/// Records which middleware ran, to check the order.
#[derive(Debug, Clone)]
struct Trace(Vec<&'static str>);

async fn trace(_: &RequestHead) -> Result<Trace, HttpError> {
    Ok(Trace(vec!["trace"]))
}

#[derive(Deserialize, Serialize)]
struct NewTicket {
    subject: String,
}

#[derive(Deserialize)]
struct Page {
    limit: Option<usize>,
}

struct TicketController {
    greeting: &'static str,
}

#[controller("/tickets")]
#[uses(trace)]
impl TicketController {
    /// List tickets.
    ///
    /// More text that is not the summary.
    #[get("/")]
    async fn list(&self, store: State<TicketStore>, Query(page): Query<Page>) -> Json<Vec<u64>> {
        let tickets = store
            .tickets
            .lock()
            .map(|t| t.keys().copied().collect::<Vec<_>>())
            .unwrap_or_default();
        let mut ids = tickets;
        ids.sort_unstable();
        ids.truncate(page.limit.unwrap_or(usize::MAX));
        Json(ids)
    }

    /// Create a ticket.
    #[post("/")]
    async fn create(
        &self,
        store: State<TicketStore>,
        Json(new): Json<NewTicket>,
    ) -> Result<(StatusCode, Json<Ticket>), HttpError> {
        let mut tickets = store
            .tickets
            .lock()
            .map_err(|_| HttpError::internal("poisoned"))?;
        let id = tickets.len() as u64 + 1;
        let ticket = Ticket {
            id,
            subject: new.subject,
        };
        tickets.insert(id, ticket.clone());
        Ok((StatusCode::CREATED, Json(ticket)))
    }

    /// One ticket.
    #[get("/:ticket")]
    async fn show(&self, ticket: Ticket, trace: Trace) -> Json<serde_json::Value> {
        Json(serde_json::json!({ "ticket": ticket, "trace": trace.0, "greeting": self.greeting }))
    }

    /// Admins only.
    #[delete("/:ticket")]
    #[uses(auth)]
    #[guard(|user: &User| user.is_admin)]
    async fn remove(&self, ticket: Ticket, user: User) -> Json<String> {
        Json(format!("{} removed {}", user.name, ticket.id))
    }

    /// Live events of one ticket.
    #[sse("/:ticket/events")]
    #[uses(auth)]
    #[guard(|user: &User, ticket: &Ticket| user.is_admin && ticket.id != 13)]
    async fn events(&self, ticket: Ticket, user: User, last: LastEventId) -> impl EventStream {
        stream! {
            yield Event::named("connected").json(&ticket)?;
            yield Event::named("hello").data(format!("{} {}", self.greeting, user.name));
            let start = last.parse::<u64>().unwrap_or(0);
            for n in start + 1..=start + 2 {
                yield Event::named("update").id(n).data(n.to_string());
            }
            if ticket.id == 2 {
                Err(HttpError::not_found("ticket 2 vanished"))?;
            }
        }
    }

    /// A stream returned as a value, with a rejection before it starts.
    #[sse("/:ticket/plain")]
    async fn plain(&self, ticket: Ticket) -> Result<Sse, HttpError> {
        if ticket.id == 3 {
            return Err(HttpError::forbidden("not this one"));
        }
        let events = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
            Event::new().data("plain"),
        )]);
        Ok(Sse::new(events))
    }

    #[get("/files/*rest")]
    async fn file(rest: String, _gone: Disconnected) -> String {
        rest
    }
}

async fn server() -> TestServer {
    let store = TicketStore::default();
    {
        let mut tickets = store.tickets.lock().expect("lock");
        for (id, subject) in [
            (1, "printer on fire"),
            (2, "coffee machine"),
            (3, "keyboard"),
            (13, "unlucky"),
        ] {
            tickets.insert(
                id,
                Ticket {
                    id,
                    subject: subject.into(),
                },
            );
        }
    }
    let app = App::new()
        .state(store)
        .controller(TicketController { greeting: "hi" });
    TestServer::start(app.into_router().expect("app builds")).await
}

fn authed(method: &str, path: &str, token: &str) -> justsse::http::Request<Full<Bytes>> {
    request(method, path)
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "text/event-stream")
        .body(Full::<bytes::Bytes>::default())
        .expect("request")
}

#[tokio::test]
async fn json_routes_with_state_query_and_body() {
    let server = server().await;
    assert_eq!(
        json(justsse_tests::get(server.addr, "/tickets").await).await,
        serde_json::json!([1, 2, 3, 13])
    );
    assert_eq!(
        json(justsse_tests::get(server.addr, "/tickets?limit=2").await).await,
        serde_json::json!([1, 2])
    );
    let bad_query = justsse_tests::get(server.addr, "/tickets?limit=many").await;
    assert_eq!(bad_query.status(), 400);
    assert!(
        json(bad_query).await["message"]
            .as_str()
            .expect("message")
            .starts_with("invalid query string")
    );

    let req = request("POST", "/tickets")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"subject": "new"}"#)))
        .expect("request");
    let created = send(server.addr, req).await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        json(created).await,
        serde_json::json!({"id": 5, "subject": "new"})
    );
}

#[tokio::test]
async fn typed_parameters_400_404_500() {
    let server = server().await;
    let ok = json(justsse_tests::get(server.addr, "/tickets/1").await).await;
    assert_eq!(ok["ticket"]["subject"], "printer on fire");
    assert_eq!(
        ok["trace"],
        serde_json::json!(["trace"]),
        "controller-level middleware ran"
    );
    assert_eq!(ok["greeting"], "hi");

    // `+1` and `0001` are not other names of ticket 1 (issue 10): only the
    // canonical spelling of a number parses.
    for malformed in ["abc", "+1", "0001", "-1", "1.0", "%2B1"] {
        let response = justsse_tests::get(server.addr, &format!("/tickets/{malformed}")).await;
        assert_eq!(response.status(), 400, "{malformed}");
        assert_eq!(
            json(response).await["message"],
            "path parameter `ticket`: expected a non-negative integer in decimal digits, without a sign or leading zeros",
            "{malformed}"
        );
    }
    let too_big = justsse_tests::get(server.addr, "/tickets/18446744073709551616").await;
    assert_eq!(too_big.status(), 400);
    assert_eq!(
        json(too_big).await["message"],
        "path parameter `ticket`: number too large to fit in target type"
    );
    let missing = justsse_tests::get(server.addr, "/tickets/99").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(json(missing).await["message"], "no ticket `99`");
    let broken = justsse_tests::get(server.addr, "/tickets/500").await;
    assert_eq!(broken.status(), 500);
    assert_eq!(
        json(broken).await["message"],
        "internal server error",
        "nothing internal leaks"
    );
}

#[tokio::test]
async fn middleware_401_then_guard_403_then_handler() {
    let server = server().await;
    let none = send(
        server.addr,
        request("DELETE", "/tickets/1")
            .body(Full::<bytes::Bytes>::default())
            .expect("req"),
    )
    .await;
    assert_eq!(none.status(), 401);
    assert_eq!(json(none).await["message"], "missing token");
    let user = send(server.addr, authed("DELETE", "/tickets/1", "user-token")).await;
    assert_eq!(user.status(), 403);
    let admin = send(server.addr, authed("DELETE", "/tickets/1", "admin-token")).await;
    assert_eq!(admin.status(), 200);
    assert_eq!(json(admin).await, serde_json::json!("ada removed 1"));
    // Authentication comes before the lookup: a stranger learns nothing about
    // which tickets exist.
    let stranger = send(
        server.addr,
        request("DELETE", "/tickets/99")
            .body(Full::<bytes::Bytes>::default())
            .expect("req"),
    )
    .await;
    assert_eq!(stranger.status(), 401);
}

#[tokio::test]
async fn sse_guard_rejection_is_a_real_403_with_a_json_body() {
    let server = server().await;
    let response = send(
        server.addr,
        authed("GET", "/tickets/1/events", "user-token"),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        json(response).await,
        serde_json::json!({"error": "forbidden", "message": "forbidden"})
    );
    let unlucky = send(
        server.addr,
        authed("GET", "/tickets/13/events", "admin-token"),
    )
    .await;
    assert_eq!(
        unlucky.status(),
        403,
        "a guard over a path parameter and a chain value"
    );
    let cookie = request("GET", "/tickets/1/events")
        .header("cookie", "theme=dark; token=user-token")
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    assert_eq!(
        send(server.addr, cookie).await.status(),
        403,
        "the cookie token was read"
    );
}

#[tokio::test]
async fn generator_handler_streams_and_resumes_from_last_event_id() {
    let server = server().await;
    let response = send(
        server.addr,
        authed("GET", "/tickets/1/events", "admin-token"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut reader = justsse_tests::LiveEvents::new(response);
    let got = reader.rest().await;
    let summary: Vec<(&str, &str)> = got
        .iter()
        .map(|e| (e.event_type.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("connected", r#"{"id":1,"subject":"printer on fire"}"#),
            ("hello", "hi ada"),
            ("update", "1"),
            ("update", "2"),
        ]
    );

    let mut resumed = authed("GET", "/tickets/1/events", "admin-token");
    resumed
        .headers_mut()
        .insert("last-event-id", "7".parse().expect("header"));
    let got = justsse_tests::LiveEvents::new(send(server.addr, resumed).await)
        .rest()
        .await;
    let ids: Vec<&str> = got.iter().map(|e| e.last_event_id.as_str()).collect();
    assert_eq!(ids, ["", "", "8", "9"]);

    let polyfill = authed("GET", "/tickets/1/events?lastEventId=20", "admin-token");
    let got = justsse_tests::LiveEvents::new(send(server.addr, polyfill).await)
        .rest()
        .await;
    assert_eq!(got[2].data, "21", "lastEventId in the query for polyfills");
}

#[tokio::test]
async fn question_mark_in_a_generator_ends_with_one_error_event() {
    let server = server().await;
    let response = send(
        server.addr,
        authed("GET", "/tickets/2/events", "admin-token"),
    )
    .await;
    let got = justsse_tests::LiveEvents::new(response).rest().await;
    let last = got.last().expect("events");
    assert_eq!(last.event_type, "error");
    assert_eq!(last.data, r#"{"message":"ticket 2 vanished"}"#);
    assert_eq!(got.iter().filter(|e| e.event_type == "error").count(), 1);
}

#[tokio::test]
async fn explicit_stream_handlers_and_early_rejection() {
    let server = server().await;
    let (head, mut reader) = events(server.addr, "/tickets/1/plain").await;
    assert_eq!(head.status(), 200);
    assert_eq!(reader.next().await.expect("event").data, "plain");
    let (head, _) = events(server.addr, "/tickets/3/plain").await;
    assert_eq!(head.status(), 403);
}

#[tokio::test]
async fn catch_all_parameter_and_associated_function_handler() {
    let server = server().await;
    let response = justsse_tests::get(server.addr, "/tickets/files/a/b%20c").await;
    assert_eq!(justsse_tests::text(response).await, "a/b c");
}

#[test]
fn route_table_lists_every_route() {
    let app = App::new()
        .state(TicketStore::default())
        .controller(TicketController { greeting: "hi" });
    let table = app.routes().to_string();
    let expected = "\
GET     /tickets                 json  TicketController::list    uses trace  # List tickets.
POST    /tickets                 json  TicketController::create  uses trace  # Create a ticket.
GET     /tickets/:ticket         json  TicketController::show    uses trace  # One ticket.
DELETE  /tickets/:ticket         json  TicketController::remove  uses trace, auth, guard  # Admins only.
GET     /tickets/:ticket/events  sse   TicketController::events  uses trace, auth, guard  # Live events of one ticket.
GET     /tickets/:ticket/plain   sse   TicketController::plain   uses trace  # A stream returned as a value, with a rejection before it starts.
GET     /tickets/files/*rest     text  TicketController::file    uses trace
";
    assert_eq!(table, expected, "\n{table}");
    let routes = app.routes();
    let events = routes
        .iter()
        .find(|r| r.handler().ends_with("events"))
        .expect("events route");
    assert_eq!(events.params(), [("ticket", "Ticket")]);
    assert_eq!(
        events.guards(),
        ["|user: &User, ticket: &Ticket| user.is_admin && ticket.id != 13"]
    );
}

#[test]
fn missing_state_is_refused_at_start() {
    let app = App::new().controller(TicketController { greeting: "hi" });
    let err = app.into_router().expect_err("no TicketStore");
    let text = err.to_string();
    assert!(
        text.contains("path parameter `ticket` needs app state"),
        "{text}"
    );
    assert!(
        text.contains("State<") && text.contains("TicketStore"),
        "{text}"
    );
}

/// `State` is recognised by trait, not by how the argument's type is spelled
/// (issue 11): through an alias, the missing state still stops the app.
type Store = State<TicketStore>;

struct Aliased;

#[controller("/aliased")]
impl Aliased {
    #[get("/")]
    async fn count(&self, store: Store) -> Json<usize> {
        Json(store.tickets.lock().map(|t| t.len()).unwrap_or_default())
    }
}

#[test]
fn state_behind_an_alias_is_required_at_start() {
    let err = App::new()
        .controller(Aliased)
        .into_router()
        .expect_err("no TicketStore");
    let text = err.to_string();
    assert!(
        text.contains("GET /aliased (Aliased::count): argument")
            && text.contains("needs app state")
            && text.contains("TicketStore"),
        "{text}"
    );
    assert!(
        App::new()
            .state(TicketStore::default())
            .controller(Aliased)
            .into_router()
            .is_ok()
    );
}
