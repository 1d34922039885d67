//! Response headers on every route kind, event streams included: `Sse::header`
//! by hand, `(HeaderMap, stream)` from an `#[sse]` handler, `(HeaderMap, Json)`
//! from a JSON route. `Set-Cookie` is the case users hit first.

use std::convert::Infallible;

use justsse::http::{HeaderMap, HeaderValue, header};
use justsse::prelude::*;
use justsse_tests::{TestServer, events};

fn session_cookies() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.append(
        header::SET_COOKIE,
        HeaderValue::from_static("session=abc; HttpOnly; SameSite=Lax"),
    );
    headers.append(
        header::SET_COOKIE,
        HeaderValue::from_static("seen=1; Path=/"),
    );
    headers
}

struct Feed;

#[controller("/feed")]
impl Feed {
    /// A stream that sets cookies before its first event.
    #[sse("/live")]
    async fn live(
        &self,
    ) -> (
        HeaderMap,
        impl futures_util::Stream<Item = Event> + Send + 'static,
    ) {
        let events = futures_util::stream::iter([Event::named("hello").data("hi")]);
        (session_cookies(), events)
    }

    /// A JSON route with the same cookies.
    #[get("/")]
    async fn page(&self) -> (HeaderMap, Json<&'static str>) {
        (session_cookies(), Json("page"))
    }
}

fn by_hand(_: Request) -> std::future::Ready<Sse> {
    let events =
        futures_util::stream::iter([Ok::<_, Infallible>(Event::named("hello").data("hi"))]);
    std::future::ready(
        Sse::new(events)
            .header(
                header::SET_COOKIE,
                HeaderValue::from_static("session=abc; HttpOnly; SameSite=Lax"),
            )
            .header(
                header::SET_COOKIE,
                HeaderValue::from_static("seen=1; Path=/"),
            )
            .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    )
}

async fn server() -> TestServer {
    let router = App::new()
        .controller(Feed)
        .into_router()
        .expect("app builds")
        .route("/by-hand", justsse::runtime::sse(by_hand));
    TestServer::start(router).await
}

fn cookies(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().expect("ASCII"))
        .collect()
}

#[tokio::test]
async fn set_cookie_on_an_sse_route_from_a_controller() {
    let server = server().await;
    let (head, mut reader) = events(server.addr, "/feed/live").await;
    assert_eq!(head.status(), 200);
    assert_eq!(
        cookies(head.headers()),
        ["session=abc; HttpOnly; SameSite=Lax", "seen=1; Path=/"]
    );
    assert_eq!(head.headers()[header::CONTENT_TYPE], "text/event-stream");
    assert_eq!(reader.next().await.expect("an event").data, "hi");
}

#[tokio::test]
async fn set_cookie_on_a_hand_built_sse_route_and_its_own_cache_control() {
    let server = server().await;
    let (head, mut reader) = events(server.addr, "/by-hand").await;
    assert_eq!(
        cookies(head.headers()),
        ["session=abc; HttpOnly; SameSite=Lax", "seen=1; Path=/"]
    );
    assert_eq!(
        head.headers()[header::CACHE_CONTROL],
        "no-store",
        "the route's value replaces the stream's default"
    );
    assert_eq!(reader.next().await.expect("an event").event_type, "hello");
}

#[tokio::test]
async fn set_cookie_on_a_json_route() {
    let server = server().await;
    let response = justsse_tests::get(server.addr, "/feed").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        cookies(response.headers()),
        ["session=abc; HttpOnly; SameSite=Lax", "seen=1; Path=/"]
    );
    assert_eq!(justsse_tests::json(response).await, "page");
}
