//! The chain in detail: several controllers in one app, GET and SSE on one path,
//! middleware and guards in declared order, guards with their own errors or as
//! functions, `FromStr` parameters, header and disconnect extractors.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use justsse::http::HeaderMap;
use justsse::prelude::*;
use justsse_tests::{TestServer, events, json, request, send, text};
use tokio::sync::Notify;

/// Steps as they ran, tagged by the request's `x-run` header.
static LOG: Mutex<Vec<(String, &'static str)>> = Mutex::new(Vec::new());

fn log(head: &RequestHead, step: &'static str) {
    let run = head.header("x-run").unwrap_or_default().to_owned();
    LOG.lock().expect("log").push((run, step));
}

fn steps_of(run: &str) -> Vec<&'static str> {
    LOG.lock()
        .expect("log")
        .iter()
        .filter(|(r, _)| r == run)
        .map(|(_, s)| *s)
        .collect()
}

#[derive(Clone)]
struct First;
#[derive(Clone)]
struct Second;

async fn first(head: &RequestHead) -> Result<First, HttpError> {
    log(head, "first");
    Ok(First)
}

async fn second(head: &RequestHead) -> Result<Second, HttpError> {
    log(head, "second");
    if head.header("x-deny").is_some() {
        return Err(HttpError::unauthorized("second says no"));
    }
    Ok(Second)
}

/// A guard with its own error.
fn teapot(_: &First) -> Result<(), HttpError> {
    Err(HttpError::new(StatusCode::IM_A_TEAPOT, "short and stout"))
}

/// Ticket numbers written `T-<n>`.
#[derive(Debug)]
struct TicketNo(u32);

impl FromStr for TicketNo {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let digits = text.strip_prefix("T-").ok_or("expected T-<number>")?;
        digits.parse().map(TicketNo).map_err(|err| format!("{err}"))
    }
}

justsse::from_str_param!(TicketNo);

struct Ordered {
    dropped: Arc<Notify>,
}

#[controller("/ordered")]
#[uses(first)]
impl Ordered {
    #[get("/")]
    #[guard(|_: &First| true)]
    #[uses(second)]
    async fn run(&self, _first: First, _second: Second) -> &'static str {
        "ran"
    }

    #[get("/teapot")]
    #[guard(teapot)]
    async fn tea(&self) -> &'static str {
        "never"
    }

    #[get("/tickets/:no")]
    async fn ticket(&self, no: TicketNo, headers: HeaderMap) -> Json<serde_json::Value> {
        let agent = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Json(serde_json::json!({ "no": no.0, "agent": agent }))
    }

    /// The same path as `live_status`: plain clients get this.
    #[get("/status")]
    async fn status(&self) -> Json<&'static str> {
        Json("green")
    }

    #[sse("/status")]
    async fn live_status(&self, disconnected: Disconnected) -> impl EventStream {
        let dropped = self.dropped.clone();
        tokio::spawn(async move {
            disconnected.await;
            dropped.notify_one();
        });
        stream! {
            yield Event::named("status").data("green");
            std::future::pending::<()>().await;
        }
    }
}

struct Other;

#[controller("/")]
impl Other {
    #[get("/other")]
    async fn other() -> &'static str {
        "other controller"
    }
}

async fn server(dropped: Arc<Notify>) -> TestServer {
    let app = App::new().controller(Ordered { dropped }).controller(Other);
    TestServer::start(app.into_router().expect("builds")).await
}

fn run(path: &str, id: &str) -> justsse::http::request::Builder {
    request("GET", path).header("x-run", id)
}

#[tokio::test]
async fn middleware_and_guards_run_in_declared_order() {
    let server = server(Arc::new(Notify::new())).await;
    let response = send(
        server.addr,
        run("/ordered", "order-ok")
            .body(Full::<bytes::Bytes>::default())
            .expect("req"),
    )
    .await;
    assert_eq!(text(response).await, "ran");
    assert_eq!(steps_of("order-ok"), ["first", "second"]);

    let denied = run("/ordered", "order-denied")
        .header("x-deny", "1")
        .body(Full::<bytes::Bytes>::default())
        .expect("req");
    let response = send(server.addr, denied).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await["message"], "second says no");
    assert_eq!(steps_of("order-denied"), ["first", "second"]);
}

#[tokio::test]
async fn a_guard_function_answers_with_its_own_error() {
    let server = server(Arc::new(Notify::new())).await;
    let response = justsse_tests::get(server.addr, "/ordered/teapot").await;
    assert_eq!(response.status(), 418);
    assert_eq!(json(response).await["message"], "short and stout");
}

#[tokio::test]
async fn from_str_parameters_and_the_header_extractor() {
    let server = server(Arc::new(Notify::new())).await;
    let req = request("GET", "/ordered/tickets/T-42")
        .header("user-agent", "tests")
        .body(Full::<Bytes>::default())
        .expect("req");
    assert_eq!(
        json(send(server.addr, req).await).await,
        serde_json::json!({"no": 42, "agent": "tests"})
    );
    let bad = justsse_tests::get(server.addr, "/ordered/tickets/42").await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        json(bad).await["message"],
        "path parameter `no`: expected T-<number>"
    );
}

#[tokio::test]
async fn get_and_sse_share_a_path_and_disconnected_fires_when_the_client_leaves() {
    let dropped = Arc::new(Notify::new());
    let server = server(dropped.clone()).await;
    assert_eq!(
        json(justsse_tests::get(server.addr, "/ordered/status").await).await,
        "green"
    );

    let (head, mut reader) = events(server.addr, "/ordered/status").await;
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    assert_eq!(reader.next().await.expect("status").data, "green");
    drop(reader);
    tokio::time::timeout(Duration::from_secs(2), dropped.notified())
        .await
        .expect("Disconnected resolved after the client left");
}

#[tokio::test]
async fn several_controllers_in_one_app() {
    let server = server(Arc::new(Notify::new())).await;
    assert_eq!(
        text(justsse_tests::get(server.addr, "/other").await).await,
        "other controller"
    );
    let app = App::new()
        .controller(Ordered {
            dropped: Arc::new(Notify::new()),
        })
        .controller(Other);
    let paths: Vec<&str> = app.routes().iter().map(|r| r.path()).collect();
    assert_eq!(
        paths,
        [
            "/ordered",
            "/ordered/teapot",
            "/ordered/tickets/:no",
            "/ordered/status",
            "/ordered/status",
            "/other"
        ]
    );
}
