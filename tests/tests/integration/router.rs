//! Routing: 404, 405 with `Allow`, HEAD, the trailing-slash policy, parameters,
//! the GET/SSE choice by `Accept`, and invalid routes refused at start.

use std::convert::Infallible;

use http_body_util::Full;
use justsse::runtime::{Router, Server, get, post, sse};
use justsse::{Event, Json, Request, Sse};
use justsse_tests::{TestServer, events, json, request, send, text};

async fn list(_: Request) -> Json<Vec<u32>> {
    Json(vec![1, 2, 3])
}

async fn ticket(req: Request) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "ticket": req.param("ticket"),
        "rest": req.param("rest"),
    }))
}

async fn stream(_: Request) -> Sse {
    Sse::new(futures_util::stream::iter([Ok::<_, Infallible>(
        Event::named("hello").data("stream"),
    )]))
}

fn router() -> Router {
    Router::new()
        .route("/tickets", get(list).post(list))
        .route("/tickets/:ticket", get(ticket))
        .route("/files/*rest", get(ticket))
        .route("/both", get(list).sse(stream))
        .route("/only-sse", sse(stream))
        .route("/slash/", get(list))
}

#[tokio::test]
async fn unknown_path_is_404_with_a_json_error() {
    let server = TestServer::start(router()).await;
    let response = justsse_tests::get(server.addr, "/nope").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        json(response).await,
        serde_json::json!({"error": "not_found", "message": "no route for /nope"})
    );
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let server = TestServer::start(router()).await;
    let cases = [
        ("DELETE", "/tickets", "GET, POST, HEAD"),
        ("POST", "/tickets/7", "GET, HEAD"),
        ("PUT", "/only-sse", "GET, HEAD"),
    ];
    for (method, path, allow) in cases {
        let req = request(method, path)
            .body(Full::<bytes::Bytes>::default())
            .expect("request");
        let response = send(server.addr, req).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body = json(response).await;
        assert_eq!(body["error"], "method_not_allowed");
    }
}

#[tokio::test]
async fn head_answers_get_routes_with_headers_and_no_body() {
    let server = TestServer::start(router()).await;
    let get_len =
        justsse_tests::get(server.addr, "/tickets").await.headers()["content-length"].clone();
    let req = request("HEAD", "/tickets")
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    let response = send(server.addr, req).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["content-length"], get_len);
    assert_eq!(text(response).await, "");
}

#[tokio::test]
async fn head_on_an_sse_route_does_not_start_the_stream() {
    let server = TestServer::start(router()).await;
    let req = request("HEAD", "/only-sse")
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    let response = send(server.addr, req).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(text(response).await, "");
}

#[tokio::test]
async fn trailing_slash_mismatch_redirects_with_308_keeping_the_query() {
    let server = TestServer::start(router()).await;
    let cases = [
        ("/tickets/", "/tickets"),
        ("/tickets/?page=2", "/tickets?page=2"),
        ("/slash", "/slash/"),
    ];
    for (path, location) in cases {
        let response = justsse_tests::get(server.addr, path).await;
        assert_eq!(response.status(), 308, "{path}");
        assert_eq!(response.headers()["location"], location, "{path}");
    }
    // Exact matches are served as they are, and a path that matches in neither
    // form stays a 404.
    assert_eq!(
        justsse_tests::get(server.addr, "/slash/").await.status(),
        200
    );
    assert_eq!(
        justsse_tests::get(server.addr, "/nope/").await.status(),
        404
    );
}

#[tokio::test]
async fn parameters_are_percent_decoded() {
    let server = TestServer::start(router()).await;
    let body = json(justsse_tests::get(server.addr, "/tickets/a%20b%2Fc").await).await;
    assert_eq!(body["ticket"], "a b/c");
    let body = json(justsse_tests::get(server.addr, "/files/x/y%21/z").await).await;
    assert_eq!(body["rest"], "x/y!/z");
}

#[tokio::test]
async fn accept_event_stream_picks_the_sse_route_beside_get() {
    let server = TestServer::start(router()).await;
    let plain = justsse_tests::get(server.addr, "/both").await;
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert_eq!(json(plain).await, serde_json::json!([1, 2, 3]));

    let (head, mut reader) = events(server.addr, "/both").await;
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    let event = reader.next().await.expect("one event");
    assert_eq!(
        (event.event_type.as_str(), event.data.as_str()),
        ("hello", "stream")
    );
    assert_eq!(reader.next().await, None);

    // An SSE-only route streams to clients that do not say they accept it (curl).
    let response = justsse_tests::get(server.addr, "/only-sse").await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(text(response).await, "event: hello\ndata: stream\n\n");
}

#[tokio::test]
async fn invalid_routes_are_reported_when_serving_starts() {
    let cases = [
        (
            Router::new().route("no-slash", get(list)),
            "must start with `/`",
        ),
        (Router::new().route("/a/:x/:x", get(list)), "twice"),
        (
            Router::new().route("/a", get(list)).route("/a", get(list)),
            "GET is defined twice",
        ),
        (
            Router::new()
                .route("/a/:x", get(list))
                .route("/a/:y", post(list)),
            "conflict",
        ),
    ];
    for (router, expected) in cases {
        let server = Server::bind("127.0.0.1:0").await.expect("bind");
        let err = server
            .serve(router, std::future::pending())
            .await
            .expect_err("invalid router");
        assert!(
            matches!(err, justsse::runtime::ServerError::Route(_)),
            "{err}"
        );
        assert!(
            err.to_string().contains(expected),
            "{err} should mention {expected}"
        );
    }
}
