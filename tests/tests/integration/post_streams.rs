//! Event streams that start with a request: `#[post(.., stream)]` and
//! `stream!` bodies on `POST`, the body read and checked before any header
//! (JSON 4xx, never a 200 stream that errors), the middleware chain, JSON or a
//! stream chosen per request, hand-built routes, the route table, and work
//! that stops within a second when the client leaves (HTTP/1.1 and HTTP/2).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use justsse::prelude::*;
use justsse::{response::JsonOrStream, route};
use justsse_tests::{LiveEvents, TestServer, json, request, send, send_h2};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
struct Prompt {
    words: u32,
    #[serde(default)]
    stream: bool,
}

#[derive(Clone)]
struct Caller;

async fn auth(head: &RequestHead) -> Result<Caller, HttpError> {
    match head.header("authorization") {
        Some("Bearer key") => Ok(Caller),
        _ => Err(HttpError::unauthorized("send `Authorization: Bearer key`")),
    }
}

/// Counts what the generations produce, and tells when a generation is
/// dropped (its client gone): then it can produce nothing more.
#[derive(Default)]
struct Produced(AtomicUsize, tokio::sync::Notify);

/// Lives in a generation's state: dropped with it.
struct Dropped(Arc<Produced>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.1.notify_one();
    }
}

struct Model {
    produced: Arc<Produced>,
}

#[controller("/v1")]
impl Model {
    /// Words of a completion, one event each, then `[DONE]`.
    #[post("/complete")]
    #[uses(auth)]
    async fn complete(&self, Json(prompt): Json<Prompt>) -> impl EventStream {
        stream! {
            for n in 0..prompt.words {
                yield Event::named("token").data(format!("w{n}"));
            }
            yield Event::done();
        }
    }

    /// One event, then nothing, without keep-alive comments (some model
    /// clients choke on comment lines).
    #[post("/quiet", stream, keep_alive = off)]
    async fn quiet(&self) -> impl EventStream {
        stream! {
            yield Event::new().data("first");
            std::future::pending::<()>().await;
        }
    }

    /// The same with the server's keep-alive.
    #[post("/chatty", stream)]
    async fn chatty(&self) -> impl EventStream {
        stream! {
            yield Event::new().data("first");
            std::future::pending::<()>().await;
        }
    }

    /// The whole text as JSON, or its words as a stream (`"stream": true`).
    #[post("/chat", stream)]
    async fn chat(&self, Json(prompt): Json<Prompt>) -> JsonOrStream<String> {
        let words: Vec<String> = (0..prompt.words).map(|n| format!("w{n}")).collect();
        if !prompt.stream {
            return JsonOrStream::json(words.join(" "));
        }
        JsonOrStream::stream(stream! {
            for word in words {
                yield Event::named("token").data(word);
            }
        })
    }

    /// Produces words forever, slowly, counting each.
    #[post("/forever", stream)]
    async fn forever(&self) -> impl EventStream {
        let produced = self.produced.clone();
        let dropped = Dropped(produced.clone());
        stream! {
            let _dropped = dropped;
            loop {
                produced.0.fetch_add(1, Ordering::SeqCst);
                yield Event::named("token").data("w");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// 1 KiB events as fast as they are taken, counting each.
    #[post("/flood", stream)]
    async fn flood(&self) -> impl EventStream {
        let produced = self.produced.clone();
        let chunk = "f".repeat(1024);
        stream! {
            loop {
                produced.0.fetch_add(1, Ordering::SeqCst);
                yield Event::new().data(chunk.clone());
            }
        }
    }

    /// Regression: a `#[post]` returning `Sse` was listed as POST and mounted
    /// as GET, so every POST was answered 405.
    #[post("/legacy")]
    async fn legacy(&self) -> Sse {
        Sse::new(futures_util::stream::iter([Ok::<_, HttpError>(
            Event::new().data("legacy"),
        )]))
    }
}

async fn by_hand(Json(prompt): Json<Prompt>) -> impl EventStream {
    stream! {
        for n in 0..prompt.words {
            yield Event::new().data(format!("h{n}"));
        }
    }
}

fn app(produced: Arc<Produced>) -> App {
    App::new()
        .controller(Model { produced })
        .route("/by-hand", route::post(by_hand).stream())
}

async fn server() -> (TestServer, Arc<Produced>) {
    let produced = Arc::new(Produced::default());
    let router = app(produced.clone()).into_router().expect("builds");
    let config =
        ServerConfig::default().keep_alive(justsse::KeepAlive::every(Duration::from_millis(50)));
    (TestServer::with_config(router, config).await, produced)
}

fn post(path: &str, body: &'static str) -> justsse::http::Request<Full<Bytes>> {
    request("POST", path)
        .header("content-type", "application/json")
        .header("authorization", "Bearer key")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("request")
}

async fn datas(reader: &mut LiveEvents) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(event) = reader.next().await {
        out.push(event.data);
    }
    out
}

#[tokio::test]
async fn a_post_with_a_json_body_answers_with_an_event_stream() {
    let (server, _) = server().await;
    let response = send(server.addr, post("/v1/complete", r#"{"words": 3}"#)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut reader = LiveEvents::new(response);
    assert_eq!(datas(&mut reader).await, ["w0", "w1", "w2", "[DONE]"]);

    let by_hand = send(server.addr, post("/by-hand", r#"{"words": 2}"#)).await;
    let mut reader = LiveEvents::new(by_hand);
    assert_eq!(datas(&mut reader).await, ["h0", "h1"]);

    let legacy = send(server.addr, post("/v1/legacy", "{}")).await;
    assert_eq!(legacy.status(), 200, "mounted on POST");
    assert_eq!(datas(&mut LiveEvents::new(legacy)).await, ["legacy"]);
}

#[tokio::test]
async fn a_bad_body_or_caller_is_a_json_error_before_any_stream() {
    let (server, _) = server().await;
    let cases: [(&str, &str, Option<&str>, u16); 4] = [
        ("not json", "application/json", Some("Bearer key"), 400),
        (
            r#"{"words": "three"}"#,
            "application/json",
            Some("Bearer key"),
            400,
        ),
        (r#"{"words": 3}"#, "text/plain", Some("Bearer key"), 415),
        (r#"{"words": 3}"#, "application/json", None, 401),
    ];
    for (body, content_type, authorization, status) in cases {
        let mut req = request("POST", "/v1/complete").header("content-type", content_type);
        if let Some(authorization) = authorization {
            req = req.header("authorization", authorization);
        }
        let req = req.body(Full::new(Bytes::from(body))).expect("request");
        let response = send(server.addr, req).await;
        assert_eq!(response.status(), status, "{body} as {content_type}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let answer = json(response).await;
        assert!(answer["message"].is_string(), "{answer}");
    }
    let big = format!(
        r#"{{"words": 3, "pad": "{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let req = request("POST", "/v1/complete")
        .header("content-type", "application/json")
        .header("authorization", "Bearer key")
        .body(Full::new(Bytes::from(big)))
        .expect("request");
    assert_eq!(send(server.addr, req).await.status(), 413);
    // A GET is not a stream here.
    let get = justsse_tests::get(server.addr, "/v1/complete").await;
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
}

#[tokio::test]
async fn the_request_chooses_json_or_a_stream() {
    let (server, _) = server().await;
    let plain = send(server.addr, post("/v1/chat", r#"{"words": 3}"#)).await;
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert_eq!(json(plain).await, "w0 w1 w2");
    let streamed = send(
        server.addr,
        post("/v1/chat", r#"{"words": 3, "stream": true}"#),
    )
    .await;
    assert_eq!(streamed.headers()["content-type"], "text/event-stream");
    assert_eq!(
        datas(&mut LiveEvents::new(streamed)).await,
        ["w0", "w1", "w2"]
    );
}

#[test]
fn the_route_table_says_post_and_what_each_answers() {
    let table = app(Arc::default()).routes().to_string();
    for row in [
        ("POST", "/v1/complete", "sse"),
        ("POST", "/v1/chat", "json+sse"),
        ("POST", "/v1/forever", "sse"),
        ("POST", "/v1/legacy", "sse"),
        ("POST", "/by-hand", "sse"),
    ] {
        assert!(
            table.lines().any(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                words.len() >= 3 && (words[0], words[1], words[2]) == row
            }),
            "{row:?} in\n{table}"
        );
    }
}

/// Waits, at most a second, for the generation to be dropped after its client
/// left; returns how many items it produced after the client left.
async fn produced_after_leaving(produced: &Produced, left_at: usize) -> usize {
    tokio::time::timeout(Duration::from_secs(1), produced.1.notified())
        .await
        .unwrap_or_else(|_| panic!("still producing a second after the client left"));
    produced.0.load(Ordering::SeqCst) - left_at
}

#[tokio::test]
async fn the_work_stops_when_the_client_leaves_on_http1_and_h2() {
    let (server, produced) = server().await;
    for h2 in [false, true] {
        let request = post("/v1/forever", "{}");
        let response = match h2 {
            false => send(server.addr, request).await,
            true => send_h2(server.addr, request).await,
        };
        let mut reader = LiveEvents::new(response);
        for _ in 0..5 {
            assert_eq!(reader.next().await.expect("a token").data, "w");
        }
        drop(reader);
        let left_at = produced.0.load(Ordering::SeqCst);
        let after = produced_after_leaving(&produced, left_at).await;
        assert!(after < 30, "{after} items after the client left (h2: {h2})");
    }
}

/// The bytes a stream sends within `window`.
async fn bytes_within(server: &TestServer, path: &str, window: Duration) -> String {
    let mut reader = LiveEvents::new(send(server.addr, post(path, "{}")).await);
    let _ = tokio::time::timeout(window, async { while reader.chunk().await.is_some() {} }).await;
    String::from_utf8_lossy(&reader.raw).into_owned()
}

#[tokio::test]
async fn a_route_can_turn_keep_alive_comments_off() {
    let (server, _) = server().await;
    let window = Duration::from_millis(400);
    let chatty = bytes_within(&server, "/v1/chatty", window).await;
    assert!(
        chatty.contains(":\n\n"),
        "the server's keep-alive: {chatty:?}"
    );
    let quiet = bytes_within(&server, "/v1/quiet", window).await;
    assert_eq!(quiet, "data: first\n\n", "no comment lines");
}

/// A reader taking a few hundred bytes a second holds the generation back:
/// it is polled only as its client makes room (the socket buffers and the
/// stream's 32 KiB), so what it produced stops growing instead of piling up.
#[tokio::test]
async fn a_slow_reader_holds_its_generation_back() {
    let (server, produced) = server().await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let mut stream = socket.connect(server.addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"POST /v1/flood HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n")
        .await
        .expect("request");
    let mut buf = [0u8; 100];
    let mut samples = Vec::new();
    for _ in 0..20 {
        let _ = stream.read(&mut buf).await.expect("a few bytes");
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples.push(produced.0.load(Ordering::SeqCst));
    }
    let (early, late) = (samples[9], samples[19]);
    // The kernel's send buffer may grow to 4 MiB: about 4,000 events of 1 KiB,
    // not the millions an unbounded queue would take in two seconds.
    assert!(
        late < 8_000,
        "{late} events produced for a reader that took 2 KB"
    );
    assert!(late - early < 100, "still producing: {early} -> {late}");
}

#[test]
fn the_openapi_document_shows_the_body_and_both_answers() {
    let doc = app(Arc::default()).openapi(&justsse::openapi::OpenApi::new("model", "1"));
    let chat = &doc["paths"]["/v1/chat"]["post"];
    assert!(
        chat["requestBody"]["content"]["application/json"]["schema"].is_object(),
        "{chat}"
    );
    let content = &chat["responses"]["200"]["content"];
    assert_eq!(
        content["application/json"]["schema"]["type"], "string",
        "{content}"
    );
    assert!(content["text/event-stream"].is_object(), "{content}");
    let complete = &doc["paths"]["/v1/complete"]["post"]["responses"]["200"]["content"];
    assert!(complete["text/event-stream"].is_object(), "{complete}");
    assert!(complete["application/json"].is_null(), "{complete}");
}
