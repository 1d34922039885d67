//! tower layers around the whole app, with the real tower-http crates: CORS
//! (preflight answered, headers on JSON and event streams), compression (JSON
//! compressed by the layer, event streams by justsse alone, still delivered
//! event by event), and a
//! trace span per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use justsse::http::{HeaderValue, Method, header};
use justsse::prelude::*;
use justsse_tests::{LiveEvents, TestServer, request, send};
use tokio::sync::Notify;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

const ORIGIN: &str = "http://app.example";

struct Api {
    /// Lets the stream's second event go.
    next: Arc<Notify>,
}

#[controller("/api")]
impl Api {
    /// A JSON body large enough to be worth compressing.
    #[get("/big")]
    async fn big(&self) -> Json<Vec<String>> {
        Json((0..200).map(|n| format!("ticket number {n}")).collect())
    }

    /// One event, then another once the test says so.
    #[sse("/events")]
    async fn events(&self) -> impl EventStream {
        let next = self.next.clone();
        stream! {
            yield Event::named("first").data("a".repeat(200));
            next.notified().await;
            yield Event::named("second").data("b".repeat(200));
        }
    }
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin([HeaderValue::from_static(ORIGIN)])
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true)
}

async fn server(app: App) -> TestServer {
    TestServer::start(app.into_router().expect("app builds")).await
}

fn from_origin(method: &str, path: &str) -> justsse::http::request::Builder {
    request(method, path).header(header::ORIGIN, ORIGIN)
}

#[tokio::test]
async fn cors_answers_preflights_and_marks_json_and_event_streams() {
    let next = Arc::new(Notify::new());
    let server = server(
        App::new()
            .controller(Api { next: next.clone() })
            .layer(cors()),
    )
    .await;

    for path in ["/api/big", "/api/events"] {
        let preflight = from_origin("OPTIONS", path)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Full::<Bytes>::default())
            .expect("request");
        let answer = send(server.addr, preflight).await;
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        let headers = answer.headers();
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            ORIGIN,
            "{path}"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .is_ok_and(|m| m.contains("GET")),
            "{headers:?}"
        );
    }

    let json = send(
        server.addr,
        from_origin("GET", "/api/big")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert_eq!(json.status(), 200);
    assert_eq!(json.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);

    let stream = send(
        server.addr,
        from_origin("GET", "/api/events")
            .header(header::ACCEPT, "text/event-stream")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert_eq!(
        stream.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        ORIGIN
    );
    assert_eq!(
        stream.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
        "true"
    );
    let mut reader = LiveEvents::new(stream);
    assert_eq!(reader.next().await.expect("first").event_type, "first");

    // Another origin gets no CORS headers.
    let stranger = send(
        server.addr,
        request("GET", "/api/big")
            .header(header::ORIGIN, "http://evil.example")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert!(
        !stranger
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}

#[tokio::test]
async fn the_layer_compresses_json_and_leaves_event_streams_to_justsse() {
    let next = Arc::new(Notify::new());
    let app = App::new()
        .controller(Api { next: next.clone() })
        .layer(CompressionLayer::new());
    let server = server(app).await;

    let plain = send(
        server.addr,
        request("GET", "/api/big")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    let plain_len = justsse_tests::text(plain).await.len();
    let gzipped = send(
        server.addr,
        request("GET", "/api/big")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    let body = http_body_util::BodyExt::collect(gzipped.into_body())
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(
        body.len() * 4 < plain_len,
        "{} bytes from {plain_len}",
        body.len()
    );

    let stream = send(
        server.addr,
        request("GET", "/api/events")
            .header(header::ACCEPT, "text/event-stream")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    // justsse compresses the stream event by event; the layer leaves it alone
    // (tower-http skips event streams, and anything already coded).
    let codings: Vec<_> = stream
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .collect();
    assert_eq!(codings, ["gzip"], "{:?}", stream.headers());
    let mut reader = LiveEvents::new(stream);
    // The first event arrives while the handler still waits: nothing buffers it.
    assert_eq!(reader.next().await.expect("first").event_type, "first");
    next.notify_one();
    assert_eq!(reader.next().await.expect("second").event_type, "second");
}

/// Counts the spans named `request` that TraceLayer opens.
struct CountRequests(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountRequests {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        // justsse's own `request` span is in `justsse_http`: not counted.
        let metadata = attrs.metadata();
        if metadata.name() == "request" && metadata.target().starts_with("tower_http") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn trace_layer_opens_a_span_per_request() {
    use tracing_subscriber::layer::SubscriberExt;
    let spans = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(CountRequests(spans.clone()));
    // The test's runtime runs on this thread only, the server's tasks included.
    let _guard = tracing::subscriber::set_default(subscriber);
    let next = Arc::new(Notify::new());
    let app = App::new()
        .controller(Api { next })
        .layer(TraceLayer::new_for_http());
    let server = server(app).await;
    for _ in 0..3 {
        assert_eq!(
            justsse_tests::get(server.addr, "/api/big").await.status(),
            200
        );
    }
    assert_eq!(spans.load(Ordering::SeqCst), 3);
}
