//! The tickets example, end to end over sockets: every route the README promises.

use bytes::Bytes;
use http_body_util::Full;
use justsse_tests::{LiveEvents, TestServer, json, request, send};

async fn server() -> TestServer {
    TestServer::start(tickets::app().into_router().expect("app builds")).await
}

fn post(path: &str, body: &'static str) -> justsse::http::Request<Full<Bytes>> {
    request("POST", path)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("request")
}

/// A stream request as a browser sends it: compression accepted.
fn watch(path: &str, auth: Option<(&str, &str)>) -> justsse::http::Request<Full<Bytes>> {
    let mut req = request("GET", path)
        .header("accept", "text/event-stream")
        .header("accept-encoding", "gzip, deflate, br, zstd");
    if let Some((name, value)) = auth {
        req = req.header(name, value);
    }
    req.body(Full::<bytes::Bytes>::default()).expect("request")
}

#[tokio::test]
async fn tickets_are_created_listed_and_shown() {
    let server = server().await;
    let created = send(
        server.addr,
        post("/tickets", r#"{"subject": "printer on fire"}"#),
    )
    .await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        json(created).await,
        serde_json::json!({"id": 1, "subject": "printer on fire"})
    );
    assert_eq!(
        json(justsse_tests::get(server.addr, "/tickets").await).await,
        serde_json::json!([{"id": 1, "subject": "printer on fire"}])
    );
    assert_eq!(
        json(justsse_tests::get(server.addr, "/tickets/1").await).await["subject"],
        "printer on fire"
    );
    assert_eq!(
        justsse_tests::get(server.addr, "/tickets/2").await.status(),
        404
    );
    assert_eq!(
        justsse_tests::get(server.addr, "/tickets/two")
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn comments_reach_admins_live_and_survive_a_reconnect() {
    let server = server().await;
    send(
        server.addr,
        post("/tickets", r#"{"subject": "printer on fire"}"#),
    )
    .await;

    let bearer = Some(("authorization", "Bearer admin-token"));
    let mut live = LiveEvents::new(send(server.addr, watch("/tickets/1/events", bearer)).await);
    assert!(live.compressed, "the example compresses with no setting");
    let connected = live.next().await.expect("connected");
    assert_eq!(connected.event_type, "connected");
    assert_eq!(connected.data, r#"{"id":1,"subject":"printer on fire"}"#);

    // Whatever the body holds arrives as the exact JSON text, one event.
    let sent = send(
        server.addr,
        post(
            "/tickets/1/comments",
            r#"{"body": "on it\nevent: fake\n\ndata: x"}"#,
        ),
    )
    .await;
    assert_eq!(sent.status(), 201);
    let comment = live.next().await.expect("comment");
    assert_eq!(comment.event_type, "comment");
    assert_eq!(
        comment.data,
        r#"{"id":1,"body":"on it\nevent: fake\n\ndata: x"}"#
    );
    let last = live.last_event_id().to_owned();
    drop(live);

    send(
        server.addr,
        post("/tickets/1/comments", r#"{"body": "missed 1"}"#),
    )
    .await;
    send(
        server.addr,
        post("/tickets/1/comments", r#"{"body": "missed 2"}"#),
    )
    .await;
    let mut resume = watch("/tickets/1/events", Some(("cookie", "token=admin-token")));
    resume
        .headers_mut()
        .insert("last-event-id", last.parse().expect("header"));
    let mut back = LiveEvents::new(send(server.addr, resume).await);
    assert_eq!(
        back.next().await.expect("connected").event_type,
        "connected"
    );
    assert_eq!(
        back.next().await.expect("missed").data,
        r#"{"id":2,"body":"missed 1"}"#
    );
    assert_eq!(
        back.next().await.expect("missed").data,
        r#"{"id":3,"body":"missed 2"}"#
    );
}

#[tokio::test]
async fn the_event_stream_rejects_before_streaming() {
    let server = server().await;
    send(server.addr, post("/tickets", r#"{"subject": "s"}"#)).await;
    let cases = [
        ("/tickets/1/events", None, 401),
        (
            "/tickets/1/events",
            Some(("authorization", "Bearer user-token")),
            403,
        ),
        (
            "/tickets/1/events",
            Some(("cookie", "token=user-token")),
            403,
        ),
        (
            "/tickets/x/events",
            Some(("authorization", "Bearer admin-token")),
            400,
        ),
        (
            "/tickets/9/events",
            Some(("authorization", "Bearer admin-token")),
            404,
        ),
    ];
    for (path, auth, status) in cases {
        let response = send(server.addr, watch(path, auth)).await;
        assert_eq!(response.status(), status, "{path} {auth:?}");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}

#[tokio::test]
async fn status_is_json_or_a_stream() {
    let server = server().await;
    let plain = json(justsse_tests::get(server.addr, "/status").await).await;
    assert_eq!(plain["tickets"], 0);
    let (head, mut reader) = justsse_tests::events(server.addr, "/status").await;
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    let first: serde_json::Value =
        serde_json::from_str(&reader.next().await.expect("status").data).expect("json");
    assert_eq!(first["tickets"], 0);
}

#[cfg_attr(missing_redis, ignore = "needs redis-server, not installed here")]
#[tokio::test]
async fn two_instances_on_one_redis_share_comment_streams() {
    let redis = justsse_tests::RedisServer::start().await;
    let instance = || async {
        let backend =
            justsse::hub::RedisBackend::connect(justsse::hub::RedisConfig::new(redis.url()))
                .await
                .expect("redis");
        let app = tickets::app_with_hub(justsse::Hub::with_backend(backend));
        TestServer::start(app.into_router().expect("app builds")).await
    };
    let (a, b) = (instance().await, instance().await);
    // Each instance keeps its own ticket list; the comments go through Redis.
    for server in [&a, &b] {
        send(server.addr, post("/tickets", r#"{"subject": "shared"}"#)).await;
    }
    let bearer = Some(("authorization", "Bearer admin-token"));
    let mut on_b = LiveEvents::new(send(b.addr, watch("/tickets/1/events", bearer)).await);
    assert_eq!(
        on_b.next().await.expect("connected").event_type,
        "connected"
    );
    assert_eq!(
        send(
            a.addr,
            post("/tickets/1/comments", r#"{"body": "posted on A"}"#)
        )
        .await
        .status(),
        201
    );
    let comment = on_b.next().await.expect("the comment, through Redis");
    assert_eq!(comment.data, r#"{"id":1,"body":"posted on A"}"#);
    assert!(
        comment.last_event_id.contains('-'),
        "a stream entry id: {}",
        comment.last_event_id
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = server().await;
    let made = justsse_tests::get(server.addr, "/tickets").await;
    let id = made.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(!id.is_empty());
    let other = justsse_tests::get(server.addr, "/tickets").await;
    assert_ne!(
        other.headers()["x-request-id"],
        id.as_str(),
        "a new id each time"
    );

    let echoed = send(
        server.addr,
        request("GET", "/tickets")
            .header("x-request-id", "from-the-client")
            .body(Full::<Bytes>::default())
            .expect("request"),
    )
    .await;
    assert_eq!(echoed.headers()["x-request-id"], "from-the-client");
    // Event streams carry it too, in their head.
    let stream = send(server.addr, watch("/status", None)).await;
    assert!(stream.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn cors_only_for_the_listed_origins() {
    let app = tickets::with_cors(tickets::app(), "http://a.example, http://b.example");
    let with_cors = TestServer::start(app.into_router().expect("app builds")).await;
    let preflight = |origin: &'static str| {
        request("OPTIONS", "/tickets/1/events")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "authorization, last-event-id",
            )
            .body(Full::<Bytes>::default())
            .expect("request")
    };
    let allowed = send(with_cors.addr, preflight("http://b.example")).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://b.example"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let refused = send(with_cors.addr, preflight("http://evil.example")).await;
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );

    // Without CORS_ORIGINS, no CORS headers at all.
    let plain = server().await;
    let answer = send(plain.addr, preflight("http://a.example")).await;
    assert_eq!(answer.status(), 405, "no layer: OPTIONS is not a route");
    assert!(!answer.headers().contains_key("access-control-allow-origin"));
}
