//! Wrapping middleware: `App::wrap`, `#[wrap]` on a controller and on a route,
//! outermost first (app, controller, route); each sees the response head of JSON
//! and event-stream routes alike, and a stream keeps flowing after it returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use justsse::http::{HeaderValue, header::HeaderName};
use justsse::prelude::*;
use justsse::{Request, Response, middleware::Next};
use justsse_tests::{LiveEvents, TestServer, request, send};
use tokio::sync::Notify;
use tracing::Instrument;

/// Appends `name` to the response's `x-order` header once the inner part
/// answered: the innermost wrap appends first.
fn order(mut response: Response, name: &'static str) -> Response {
    response
        .headers_mut()
        .append("x-order", HeaderValue::from_static(name));
    response
}

async fn app_wrap(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let response = order(next.run(req).await, "app");
    let mut response = response;
    let micros = started.elapsed().as_micros().to_string();
    if let Ok(value) = HeaderValue::from_str(&micros) {
        response.headers_mut().insert("x-response-micros", value);
    }
    response
}

async fn controller_wrap(req: Request, next: Next) -> Response {
    order(next.run(req).await, "controller")
}

async fn route_wrap(req: Request, next: Next) -> Response {
    order(next.run(req).await, "route")
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The client's `x-request-id`, or a new one, in a span around the request and
/// in the response.
async fn request_id(req: Request, next: Next) -> Response {
    let id = match req.header("x-request-id") {
        Some(id) => id.to_owned(),
        None => format!("req-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
    };
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(req).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    response
}

/// A route that refuses to run: the wrap answers for it.
async fn closed(req: Request, next: Next) -> Response {
    if req.header("x-let-me-in").is_some() {
        return next.run(req).await;
    }
    HttpError::forbidden("closed for maintenance").into_response()
}

struct Api {
    next: Arc<Notify>,
}

#[controller("/api")]
#[wrap(controller_wrap)]
impl Api {
    /// JSON, with a wrap of its own.
    #[get("/ping")]
    #[wrap(route_wrap)]
    async fn ping(&self) -> Json<&'static str> {
        Json("pong")
    }

    /// A stream: the first event, then a second once the test says so.
    #[sse("/events")]
    #[wrap(route_wrap)]
    async fn events(&self) -> impl EventStream {
        let next = self.next.clone();
        stream! {
            yield Event::named("first").data("1");
            next.notified().await;
            yield Event::named("second").data("2");
        }
    }

    /// Guarded by a wrap that may answer itself.
    #[get("/closed")]
    #[wrap(closed)]
    async fn behind(&self) -> Json<&'static str> {
        Json("inside")
    }
}

async fn server(next: Arc<Notify>) -> TestServer {
    let app = App::new().controller(Api { next }).wrap(app_wrap);
    TestServer::start(app.into_router().expect("app builds")).await
}

fn orders(response: &justsse::http::Response<hyper::body::Incoming>) -> Vec<&str> {
    response
        .headers()
        .get_all("x-order")
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect()
}

#[tokio::test]
async fn wraps_run_app_then_controller_then_route_on_json_routes() {
    let server = server(Arc::new(Notify::new())).await;
    let response = justsse_tests::get(server.addr, "/api/ping").await;
    assert_eq!(response.status(), 200);
    assert_eq!(orders(&response), ["route", "controller", "app"]);
    assert!(
        response.headers()["x-response-micros"]
            .to_str()
            .is_ok_and(|m| m.parse::<u64>().is_ok()),
        "a timing header on the JSON route"
    );
    assert_eq!(justsse_tests::json(response).await, "pong");
}

#[tokio::test]
async fn a_stream_keeps_flowing_after_its_wraps_returned() {
    let next = Arc::new(Notify::new());
    let server = server(next.clone()).await;
    let response = send(
        server.addr,
        request("GET", "/api/events")
            .header("accept", "text/event-stream")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    // Every wrap has returned: the head is here, with what each added.
    assert_eq!(orders(&response), ["route", "controller", "app"]);
    assert!(response.headers().contains_key("x-response-micros"));
    let mut reader = LiveEvents::new(response);
    assert_eq!(reader.next().await.expect("first").data, "1");
    next.notify_one();
    assert_eq!(reader.next().await.expect("second").data, "2");
}

#[tokio::test]
async fn a_wrap_may_answer_without_the_handler() {
    let server = server(Arc::new(Notify::new())).await;
    let refused = justsse_tests::get(server.addr, "/api/closed").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(orders(&refused), ["controller", "app"]);
    let allowed = send(
        server.addr,
        request("GET", "/api/closed")
            .header("x-let-me-in", "1")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert_eq!(allowed.status(), 200);
}

/// Records the `request_id` of every `request` span opened.
struct RequestIds(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RequestIds {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Visit<'a>(&'a Mutex<Vec<String>>);
        impl tracing::field::Visit for Visit<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "request_id" {
                    self.0.lock().expect("lock").push(format!("{value:?}"));
                }
            }
        }
        if attrs.metadata().name() == "request" {
            attrs.record(&mut Visit(&self.0));
        }
    }
}

#[tokio::test]
async fn request_ids_are_echoed_or_made_and_carried_by_a_span() {
    use tracing_subscriber::layer::SubscriberExt;
    let ids = Arc::new(Mutex::new(Vec::new()));
    // The test's runtime runs on this thread only, the server's tasks included.
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(RequestIds(ids.clone())),
    );
    // Only this test's server opens `request` spans: tracing caches whether a
    // span is wanted when it is first met, and tests run in parallel.
    let app = App::new()
        .controller(Api {
            next: Arc::new(Notify::new()),
        })
        .wrap(app_wrap)
        .wrap(request_id);
    let server = TestServer::start(app.into_router().expect("app builds")).await;

    let echoed = send(
        server.addr,
        request("GET", "/api/ping")
            .header("x-request-id", "client-7")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert_eq!(echoed.headers()["x-request-id"], "client-7");

    let made = justsse_tests::get(server.addr, "/api/ping").await;
    let made_id = made.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(made_id.starts_with("req-"), "{made_id}");

    assert_eq!(
        *ids.lock().expect("lock"),
        ["client-7".to_owned(), made_id],
        "one span per request, carrying its id"
    );
}
