//! The transport's rules over real sockets, message by message: sessions
//! (issued unguessable, required, `404` once ended), protocol versions, the
//! JSON-RPC error codes, batches by revision, `202` for notifications, the
//! Origin check and bearer auth, event streams primed and numbered within the
//! session, resumed with `Last-Event-ID` exactly once, cancellation, the
//! session's own stream, and the stateless revision's header checks.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::Full;
use justsse::http::StatusCode;
use justsse_tests::{LiveEvents, TestServer, json, request, send, text, until};
use mcp::Config;
use serde_json::{Value, json};

async fn server(config: Config) -> TestServer {
    TestServer::start(mcp::app(config).into_router().expect("builds")).await
}

/// A POST of `body` to `/mcp` with `headers` besides the usual ones.
async fn post_with(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    body: &str,
) -> justsse::http::Response<hyper::body::Incoming> {
    let mut req = request("POST", "/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    send(
        addr,
        req.body(Full::new(Bytes::from(body.to_owned())))
            .expect("a request"),
    )
    .await
}

/// A POST of `message` in `session`.
async fn post(
    addr: SocketAddr,
    session: Option<&str>,
    message: &Value,
) -> justsse::http::Response<hyper::body::Incoming> {
    let headers: Vec<(&str, &str)> = session.map(|s| ("mcp-session-id", s)).into_iter().collect();
    post_with(addr, &headers, &message.to_string()).await
}

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A session at `version`: its id and the version the server chose.
async fn initialize(addr: SocketAddr, version: &str) -> (String, String) {
    let params = json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    let response = post(addr, None, &call(1, "initialize", params)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let body = json(response).await;
    (
        session,
        body["result"]["protocolVersion"]
            .as_str()
            .expect("a version")
            .to_owned(),
    )
}

async fn session(addr: SocketAddr) -> String {
    initialize(addr, "2025-11-25").await.0
}

fn countdown(id: u64, from: u64, delay_ms: u64) -> Value {
    call(
        id,
        "tools/call",
        json!({"name": "countdown", "arguments": {"from": from, "delay_ms": delay_ms}, "_meta": {"progressToken": "t"}}),
    )
}

/// `GET /mcp` in `session`, after `last` when given.
async fn listen(
    addr: SocketAddr,
    session: &str,
    last: Option<&str>,
) -> justsse::http::Response<hyper::body::Incoming> {
    let mut req = request("GET", "/mcp")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session);
    if let Some(last) = last {
        req = req.header("last-event-id", last);
    }
    send(addr, req.body(Full::<Bytes>::default()).expect("a request")).await
}

fn data(event: &justsse::client::MessageEvent) -> Value {
    serde_json::from_str(&event.data).expect("JSON-RPC")
}

#[tokio::test]
async fn initialize_negotiates_the_revision_and_issues_unguessable_sessions() {
    let server = server(Config::default()).await;
    let (first, version) = initialize(server.addr, "2025-06-18").await;
    assert_eq!(version, "2025-06-18", "a revision both speak is kept");
    let (second, version) = initialize(server.addr, "2099-01-01").await;
    assert_eq!(version, "2025-11-25", "an unknown one gets the newest");
    for id in [&first, &second] {
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_request_needs_a_live_session_400_without_404_unknown_or_ended() {
    let server = server(Config::default()).await;
    let list = call(2, "tools/list", json!({}));
    let missing = post(server.addr, None, &list).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(
        json(missing).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Session-Id")
    );
    let unknown = post(server.addr, Some("00000000000000000000000000000000"), &list).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let id = session(server.addr).await;
    assert_eq!(
        post(server.addr, Some(&id), &list).await.status(),
        StatusCode::OK
    );
    let end = request("DELETE", "/mcp").header("mcp-session-id", &id);
    let ended = send(server.addr, end.body(Full::<Bytes>::default()).unwrap()).await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        post(server.addr, Some(&id), &list).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        listen(server.addr, &id, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let again = request("DELETE", "/mcp").header("mcp-session-id", &id);
    assert_eq!(
        send(server.addr, again.body(Full::<Bytes>::default()).unwrap())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = request("DELETE", "/mcp");
    assert_eq!(
        send(
            server.addr,
            anonymous.body(Full::<Bytes>::default()).unwrap()
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_protocol_version_header_not_spoken_gets_400() {
    let server = server(Config::default()).await;
    let id = session(server.addr).await;
    let ping = call(2, "ping", json!({})).to_string();
    let headers = [
        ("mcp-session-id", id.as_str()),
        ("mcp-protocol-version", "1999-01-01"),
    ];
    assert_eq!(
        post_with(server.addr, &headers, &ping).await.status(),
        StatusCode::BAD_REQUEST
    );
    let headers = [
        ("mcp-session-id", id.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    assert_eq!(
        post_with(server.addr, &headers, &ping).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn json_rpc_errors_carry_their_codes() {
    let server = server(Config::default()).await;
    let id = session(server.addr).await;
    let headers = [("mcp-session-id", id.as_str())];
    let garbled = post_with(server.addr, &headers, "{\"jsonrpc\":").await;
    assert_eq!(garbled.status(), StatusCode::BAD_REQUEST);
    let garbled = json(garbled).await;
    assert_eq!(garbled["error"]["code"], -32700);
    assert_eq!(garbled["id"], Value::Null);

    let old = json!({"jsonrpc": "1.0", "id": 4, "method": "ping"});
    let invalid = post(server.addr, Some(&id), &old).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    let invalid = json(invalid).await;
    assert_eq!(
        (invalid["error"]["code"].clone(), invalid["id"].clone()),
        (json!(-32600), json!(4))
    );

    let unknown = json(
        post(
            server.addr,
            Some(&id),
            &call(5, "tools/frobnicate", json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (unknown["error"]["code"].clone(), unknown["id"].clone()),
        (json!(-32601), json!(5))
    );

    let bad = call(
        6,
        "tools/call",
        json!({"name": "countdown", "arguments": {"from": 0, "delay_ms": 1}}),
    );
    let bad = json(post(server.addr, Some(&id), &bad).await).await;
    assert_eq!(bad["error"]["code"], -32602);
    assert!(
        bad["error"]["message"].as_str().unwrap().contains("`from`"),
        "{bad}"
    );

    let echo = call(
        7,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    );
    let echo = json(post(server.addr, Some(&id), &echo).await).await;
    assert_eq!(echo["result"]["content"][0]["text"], "hi");
}

#[tokio::test]
async fn notifications_and_responses_get_202_with_no_body() {
    let server = server(Config::default()).await;
    let id = session(server.addr).await;
    for message in [
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": "s1", "result": {}}),
    ] {
        let response = post(server.addr, Some(&id), &message).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(text(response).await, "");
    }
}

#[tokio::test]
async fn batches_are_taken_at_2025_03_26_only() {
    let server = server(Config::default()).await;
    let batch = json!([
        call(1, "ping", json!({})),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        countdown(2, 2, 1),
    ]);
    let (old, version) = initialize(server.addr, "2025-03-26").await;
    assert_eq!(version, "2025-03-26");
    let answers = json(post(server.addr, Some(&old), &batch).await).await;
    assert_eq!(answers[0]["id"], 1);
    assert_eq!(answers[1]["result"]["content"][0]["text"], "liftoff");
    assert_eq!(
        answers.as_array().map(Vec::len),
        Some(2),
        "no answer to a notification"
    );

    let new = session(server.addr).await;
    let refused = post(server.addr, Some(&new), &batch).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(refused).await["error"]["code"], -32600);
}

#[tokio::test]
async fn a_post_needs_json_and_must_accept_both_answers() {
    let server = server(Config::default()).await;
    let req = request("POST", "/mcp")
        .header("content-type", "text/plain")
        .header("accept", "application/json, text/event-stream")
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    assert_eq!(
        send(server.addr, req).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let req = request("POST", "/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(
            call(1, "ping", json!({})).to_string(),
        )))
        .unwrap();
    assert_eq!(
        send(server.addr, req).await.status(),
        StatusCode::NOT_ACCEPTABLE
    );
}

#[tokio::test]
async fn an_origin_not_allowed_gets_403_local_and_listed_ones_pass() {
    let server = server(Config {
        origins: vec!["https://app.example".to_owned()],
        ..Config::default()
    })
    .await;
    let init = call(1, "initialize", json!({"protocolVersion": "2025-11-25"})).to_string();
    for (origin, status) in [
        ("http://evil.example", StatusCode::FORBIDDEN),
        ("http://localhost.evil.example", StatusCode::FORBIDDEN),
        ("http://127.0.0.1.nip.io:3000", StatusCode::FORBIDDEN),
        ("http://localhost:5173", StatusCode::OK),
        ("http://127.0.0.1", StatusCode::OK),
        ("http://[::1]:8080", StatusCode::OK),
        ("https://app.example", StatusCode::OK),
    ] {
        let response = post_with(server.addr, &[("origin", origin)], &init).await;
        assert_eq!(response.status(), status, "{origin}");
    }
}

#[tokio::test]
async fn with_tokens_a_bearer_token_is_required() {
    let server = server(Config {
        tokens: vec!["secret".to_owned()],
        ..Config::default()
    })
    .await;
    let init = call(1, "initialize", json!({"protocolVersion": "2025-11-25"})).to_string();
    let refused = post_with(server.addr, &[], &init).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    let wrong = post_with(server.addr, &[("authorization", "Bearer nope")], &init).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = post_with(server.addr, &[("authorization", "Bearer secret")], &init).await;
    assert_eq!(right.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_slow_tool_answers_a_primed_stream_of_progress_then_its_result() {
    let server = server(Config::default()).await;
    let id = session(server.addr).await;
    let response = post(server.addr, Some(&id), &countdown(9, 3, 10)).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut reader = LiveEvents::new(response);
    let events = reader.rest().await;
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events[0].data, "",
        "the stream is primed with an id and empty data"
    );
    assert!(reader.retry().is_some(), "and a retry");
    let progress: Vec<Value> = events[1..4]
        .iter()
        .map(|e| data(e)["params"]["progress"].clone())
        .collect();
    assert_eq!(progress, [json!(1), json!(2), json!(3)]);
    let result = data(&events[4]);
    assert_eq!(
        (
            result["id"].clone(),
            result["result"]["content"][0]["text"].clone()
        ),
        (json!(9), json!("liftoff"))
    );
    let ids: std::collections::HashSet<&str> =
        events.iter().map(|e| e.last_event_id.as_str()).collect();
    assert_eq!(ids.len(), 5, "every event has its own id");
    let stream = events[0].last_event_id.split('_').next().unwrap();
    assert!(
        ids.iter().all(|id| id.starts_with(&format!("{stream}_"))),
        "each id names its stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_is_not_a_cancellation_and_resumes_exactly_once() {
    let config = Config::default();
    let server = server(config.clone()).await;
    let id = session(server.addr).await;
    let mut first = LiveEvents::new(post(server.addr, Some(&id), &countdown(3, 5, 40)).await);
    let primer = first.next().await.expect("the primer");
    let one = first.next().await.expect("step 1");
    assert_eq!(data(&one)["params"]["progress"], 1);
    drop(first);
    // The work goes on without its connection.
    until("every step taken", || {
        config.steps.load(Ordering::Relaxed) == 5
    })
    .await;
    let resumed = listen(server.addr, &id, Some(&one.last_event_id)).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let rest = LiveEvents::new(resumed).rest().await;
    let steps: Vec<Value> = rest
        .iter()
        .map(|e| data(e)["params"]["progress"].clone())
        .collect();
    assert_eq!(
        steps,
        [json!(2), json!(3), json!(4), json!(5), Value::Null],
        "{rest:?}"
    );
    assert_eq!(data(&rest[4])["result"]["content"][0]["text"], "liftoff");
    // From the primer, everything.
    let all = LiveEvents::new(listen(server.addr, &id, Some(&primer.last_event_id)).await)
        .rest()
        .await;
    assert_eq!(all.len(), 6);
}

#[tokio::test]
async fn a_last_event_id_not_of_this_server_gets_400() {
    let server = server(Config::default()).await;
    let id = session(server.addr).await;
    for last in ["nonsense", "x_1", "r_1", "rzz_1"] {
        assert_eq!(
            listen(server.addr, &id, Some(last)).await.status(),
            StatusCode::BAD_REQUEST,
            "{last}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_cancelled_stops_the_work_and_ends_its_stream_without_a_response() {
    let config = Config::default();
    let server = server(config.clone()).await;
    let id = session(server.addr).await;
    let mut reader = LiveEvents::new(post(server.addr, Some(&id), &countdown(21, 50, 20)).await);
    reader.next().await.expect("the primer");
    reader.next().await.expect("step 1");
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 21, "reason": "enough"}});
    assert_eq!(
        post(server.addr, Some(&id), &cancel).await.status(),
        StatusCode::ACCEPTED
    );
    let rest = reader.rest().await;
    assert!(
        rest.iter().all(|e| data(e).get("result").is_none()),
        "no response after a cancellation: {rest:?}"
    );
    until("the countdown is dropped", || {
        config.running.load(Ordering::Relaxed) == 0
    })
    .await;
    assert!(config.steps.load(Ordering::Relaxed) < 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_stream_carries_resource_updates_resumes_and_gives_way_to_a_newer_one() {
    let server = server(Config::default()).await;
    let (listener, writer) = (session(server.addr).await, session(server.addr).await);
    let subscribe = call(2, "resources/subscribe", json!({"uri": mcp::NOTE}));
    assert_eq!(
        json(post(server.addr, Some(&listener), &subscribe).await).await["result"],
        json!({})
    );
    let mut stream = LiveEvents::new(listen(server.addr, &listener, None).await);
    let primer = stream.next().await.expect("the primer");
    assert!(primer.last_event_id.starts_with("g_"), "{primer:?}");
    let write = |n: u64| {
        call(
            n,
            "tools/call",
            json!({"name": "write_note", "arguments": {"text": format!("note {n}")}}),
        )
    };
    post(server.addr, Some(&writer), &write(3)).await;
    let updated = stream.next().await.expect("the update");
    assert_eq!(data(&updated)["method"], "notifications/resources/updated");
    assert_eq!(data(&updated)["params"]["uri"], mcp::NOTE);
    drop(stream);

    // Missed while away: replayed after the last id, once each.
    post(server.addr, Some(&writer), &write(4)).await;
    post(server.addr, Some(&writer), &write(5)).await;
    let mut resumed =
        LiveEvents::new(listen(server.addr, &listener, Some(&updated.last_event_id)).await);
    let mut ids = vec![primer.last_event_id.clone(), updated.last_event_id.clone()];
    for _ in 0..2 {
        let event = resumed.next().await.expect("a missed update");
        assert_eq!(data(&event)["method"], "notifications/resources/updated");
        ids.push(event.last_event_id);
    }
    // Then the resumed stream's own primer, with an id of its own.
    let primer = resumed.next().await.expect("the primer");
    assert_eq!(primer.data, "");
    ids.push(primer.last_event_id);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "ids unique within the session: {ids:?}"
    );
    // A newer GET takes over: the older stream ends; no message is sent twice.
    let mut newer = LiveEvents::new(listen(server.addr, &listener, None).await);
    newer.next().await.expect("the newer primer");
    assert!(resumed.rest().await.is_empty(), "the older stream ended");
    post(server.addr, Some(&writer), &write(6)).await;
    assert_eq!(
        data(&newer.next().await.expect("the update"))["params"]["uri"],
        mcp::NOTE
    );
    // Ending the session ends its stream.
    let end = request("DELETE", "/mcp").header("mcp-session-id", &listener);
    send(server.addr, end.body(Full::<Bytes>::default()).unwrap()).await;
    assert!(newer.rest().await.is_empty());
}

/// A stateless (2026-07-28) POST of `message` with its `Mcp-*` headers.
async fn stateless(
    addr: SocketAddr,
    version: &str,
    method: &str,
    name: Option<&str>,
    params: Value,
) -> justsse::http::Response<hyper::body::Incoming> {
    let mut params = params;
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(version);
    let body = call(1, method, params).to_string();
    let mut headers = vec![("mcp-protocol-version", version), ("mcp-method", method)];
    headers.extend(name.map(|name| ("mcp-name", name)));
    post_with(addr, &headers, &body).await
}

#[tokio::test]
async fn stateless_requests_are_checked_against_their_headers() {
    let server = server(Config::default()).await;
    let discover = stateless(
        server.addr,
        "2026-07-28",
        "server/discover",
        None,
        json!({}),
    )
    .await;
    assert!(
        discover.headers().get("mcp-session-id").is_none(),
        "no session"
    );
    let discover = json(discover).await;
    assert_eq!(discover["result"]["supportedVersions"][0], "2026-07-28");
    assert_eq!(discover["result"]["resultType"], "complete");

    let unsupported = stateless(server.addr, "2099-01-01", "tools/list", None, json!({})).await;
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    let unsupported = json(unsupported).await;
    assert_eq!(unsupported["error"]["code"], -32022);
    assert_eq!(unsupported["error"]["data"]["supported"][0], "2026-07-28");

    let echo = json!({"name": "echo", "arguments": {"text": "hi"}});
    let mismatched = stateless(
        server.addr,
        "2026-07-28",
        "tools/call",
        Some("countdown"),
        echo.clone(),
    )
    .await;
    assert_eq!(mismatched.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(mismatched).await["error"]["code"], -32020);
    let unnamed = stateless(server.addr, "2026-07-28", "tools/call", None, echo.clone()).await;
    assert_eq!(json(unnamed).await["error"]["code"], -32020);
    // `echo` in the Base64 sentinel form.
    let encoded = stateless(
        server.addr,
        "2026-07-28",
        "tools/call",
        Some("=?base64?ZWNobw==?="),
        echo,
    )
    .await;
    let encoded = json(encoded).await;
    assert_eq!(encoded["result"]["content"][0]["text"], "hi");
    assert_eq!(encoded["result"]["resultType"], "complete");

    let unknown = stateless(
        server.addr,
        "2026-07-28",
        "tools/frobnicate",
        None,
        json!({}),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(unknown).await["error"]["code"], -32601);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateless_stream_closed_by_its_client_stops_its_work() {
    let config = Config::default();
    let server = server(config.clone()).await;
    let params = json!({"name": "countdown", "arguments": {"from": 50, "delay_ms": 20}, "_meta": {"progressToken": 1}});
    let mut reader = LiveEvents::new(
        stateless(
            server.addr,
            "2026-07-28",
            "tools/call",
            Some("countdown"),
            params,
        )
        .await,
    );
    let first = reader.next().await.expect("step 1");
    assert_eq!(data(&first)["params"]["progress"], 1);
    assert_eq!(first.last_event_id, "", "not resumable: no ids");
    drop(reader);
    until("the countdown is dropped", || {
        config.running.load(Ordering::Relaxed) == 0
    })
    .await;
    assert!(config.steps.load(Ordering::Relaxed) < 50);
}
