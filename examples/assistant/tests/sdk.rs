//! The assistant example judged by the official `openai` Python SDK (in a venv
//! this test makes, as `npm ci` does for the browser tests) and by raw HTTP:
//! chat as JSON and as a stream whose deltas concatenate into the same text,
//! `[DONE]`, the models list, `AuthenticationError` for a bad key, and a
//! stream the client closes stopping its generation.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use assistant::{Keys, Model};
use bytes::Bytes;
use http_body_util::Full;
use justsse_tests::{LiveEvents, TestServer, json, request, send};

/// The SDK version the tests pin.
const OPENAI: &str = "3.60.0";

async fn server(pace: Duration) -> (TestServer, Model) {
    let model = Model::new(pace);
    let app = assistant::app(model.clone(), Keys::parse("sk-test"));
    let router = app.into_router().expect("builds");
    (TestServer::start(router).await, model)
}

/// A venv with the pinned SDK, made once.
fn venv() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("openai-{OPENAI}"));
    justsse_tests::sdk::python_venv(&dir, &format!("openai=={OPENAI}"))
}

/// Runs the SDK script's `check` against `server`; what it printed.
async fn sdk(server: &TestServer, check: &str) -> serde_json::Value {
    sdk_on(server, check, None).await
}

/// Runs `check` against `server`, resuming on `other` when given.
async fn sdk_on(server: &TestServer, check: &str, other: Option<&TestServer>) -> serde_json::Value {
    let python = venv();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openai_sdk.py");
    let mut args = vec![server.url("/v1"), check.to_owned()];
    args.extend(other.map(|other| other.url("/v1")));
    let output =
        tokio::task::spawn_blocking(move || Command::new(python).arg(script).args(args).output())
            .await
            .expect("joins")
            .expect("python runs");
    assert!(
        output.status.success(),
        "the SDK script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().expect("a line of JSON");
    serde_json::from_str(line).expect("JSON")
}

const SAID: &str = "You said: the quick brown fox jumps over the lazy dog";

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_chats_as_json_and_as_a_stream_with_the_same_text() {
    let (server, _) = server(Duration::from_millis(2)).await;
    let seen = sdk(&server, "chat").await;
    assert_eq!(seen["sdk"], OPENAI);
    assert_eq!(seen["text"], SAID);
    assert_eq!(
        seen["streamed"], SAID,
        "the deltas concatenate into the text"
    );
    assert_eq!(seen["finish_reason"], "stop");
    assert_eq!(seen["stream_finish_reason"], "stop");
    assert_eq!(seen["completion_tokens"], 10);
    assert_eq!(seen["models"], serde_json::json!(["fake-1"]));
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_raises_authentication_and_not_found_errors() {
    let (server, _) = server(Duration::from_millis(2)).await;
    let seen = sdk(&server, "auth").await;
    assert_eq!(seen["raised"], "AuthenticationError");
    assert_eq!(seen["status"], 401);
    assert_eq!(seen["code"], "invalid_api_key");
    assert_eq!(seen["unknown_model"], "model_not_found");
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_the_sdk_closes_stops_its_generation() {
    let (server, model) = server(Duration::from_millis(20)).await;
    let seen = sdk(&server, "close").await;
    assert_eq!(seen["seen"], 4);
    // The client closed after 4 chunks of 402: the generation is dropped
    // within a second, and generated nothing more.
    let started = tokio::time::Instant::now();
    justsse_tests::until("the generation is dropped", || {
        model.generating.load(Ordering::SeqCst) == 0
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "dropped after {:?}",
        started.elapsed()
    );
    let stopped = model.generated.load(Ordering::SeqCst);
    assert!(
        stopped < 60,
        "{stopped} tokens generated for a client that read 4 chunks"
    );
}

fn chat(body: &'static str, key: &str) -> justsse::http::Request<Full<Bytes>> {
    request("POST", "/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("request")
}

#[tokio::test]
async fn the_wire_is_openai_s_chunks_then_done_and_errors_in_its_shape() {
    let (server, _) = server(Duration::from_millis(1)).await;
    let body = r#"{"model":"fake-1","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let response = send(server.addr, chat(body, "sk-test")).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut reader = LiveEvents::new(response);
    let events = reader.rest().await;
    let raw = String::from_utf8_lossy(&reader.raw).into_owned();
    assert!(!raw.contains(":\n\n"), "no comment lines: {raw:?}");
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    let first: serde_json::Value = serde_json::from_str(&events[0].data).expect("JSON");
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");

    let refused = send(server.addr, chat(body, "sk-wrong")).await;
    assert_eq!(refused.status(), 401);
    let error = json(refused).await;
    assert_eq!(error["error"]["code"], "invalid_api_key");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert!(error["error"]["message"].is_string());
    let bad = send(server.addr, chat("{", "sk-test")).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json(bad).await["error"]["type"], "invalid_request_error");
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_response_dropped_by_the_sdk_resumes_after_its_last_sequence_number() {
    let (server, _) = server(Duration::from_millis(30)).await;
    let seen = sdk(&server, "background").await;
    let text = "You said: one two three four five six seven eight";
    assert_eq!(seen["streamed"], text, "every delta once, in order: {seen}");
    assert_eq!(seen["completed_text"], text);
    assert_eq!(
        seen["first_resumed"].as_u64(),
        seen["resumed_after"].as_u64().map(|n| n + 1),
        "resumed right after the last event seen"
    );
    assert_eq!(seen["in_order"], true);
    assert_eq!(seen["retrieved"], text);
    assert_eq!(seen["status"], "completed");
}

/// Two instances sharing one Redis: a background response started on one,
/// dropped by the SDK after three deltas, resumes on the other, every delta
/// once (its record and its events are both in Redis).
#[cfg_attr(
    any(missing_redis, missing_python),
    ignore = "needs redis-server and python3-venv, not installed here"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_response_resumes_on_another_instance_through_redis() {
    let redis = justsse_tests::RedisServer::start().await;
    let mut instances = Vec::new();
    for _ in 0..2 {
        let backend =
            justsse::hub::RedisBackend::connect(justsse::hub::RedisConfig::new(redis.url()))
                .await
                .expect("connects");
        let responses = assistant::Responses::Redis(backend.connection());
        let app = assistant::app_with(
            Model::new(Duration::from_millis(30)),
            Keys::parse("sk-test"),
            responses,
            justsse::Hub::with_backend(backend),
        );
        instances.push(TestServer::start(app.into_router().expect("builds")).await);
    }
    let seen = sdk_on(&instances[0], "background", Some(&instances[1])).await;
    let text = "You said: one two three four five six seven eight";
    assert_eq!(seen["streamed"], text, "every delta once, in order: {seen}");
    assert_eq!(
        seen["first_resumed"].as_u64(),
        seen["resumed_after"].as_u64().map(|n| n + 1)
    );
    assert_eq!(
        seen["retrieved"], text,
        "the other instance reads the record"
    );
    assert_eq!(seen["status"], "completed");
}
