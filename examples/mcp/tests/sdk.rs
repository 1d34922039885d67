//! The MCP example judged by the official SDKs: the `mcp` Python SDK's
//! Streamable HTTP client (in a venv this test makes) and the TypeScript
//! SDK's `StreamableHTTPClientTransport` (`npm ci` of a pinned lock), each
//! through a whole session: initialize, tools listed and called (progress in
//! order), resources read, a subscription heard on the session's own stream,
//! a stream the server cuts resumed with `Last-Event-ID`, a cancelled call
//! whose work stops, the session ended.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use justsse_tests::TestServer;
use mcp::Config;
use serde_json::{Value, json};

/// The SDK versions the tests pin.
const PYTHON_SDK: &str = "2.3.0";
const TYPESCRIPT_SDK: &str = "1.32.2";

/// A server whose streams are cut after `hold` (the client comes back 50 ms
/// later), when given.
async fn server(hold: Option<Duration>) -> (TestServer, Config) {
    let config = Config {
        hold,
        retry: Duration::from_millis(50),
        ..Config::default()
    };
    let router = mcp::app(config.clone()).into_router().expect("builds");
    (TestServer::start(router).await, config)
}

fn here(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `program` with `args`; the JSON its last line printed.
async fn last_line(mut command: Command) -> Value {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joins")
        .expect("the SDK script runs");
    assert!(
        output.status.success(),
        "the SDK script failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().expect("a line of JSON");
    serde_json::from_str(line).expect("JSON")
}

/// The Python SDK's `check` against `server`.
async fn python(server: &TestServer, check: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mcp-{PYTHON_SDK}"));
    let python = justsse_tests::sdk::python_venv(&dir, &format!("mcp=={PYTHON_SDK}"));
    let mut command = Command::new(python);
    command
        .arg(here("tests/mcp_sdk.py"))
        .arg(server.url("/mcp"))
        .arg(check);
    last_line(command).await
}

/// The TypeScript SDK's `check` against `server`.
async fn typescript(server: &TestServer, check: &str) -> Value {
    let dir = here("tests/node");
    justsse_tests::sdk::npm_ci(&dir);
    let mut command = Command::new("node");
    command
        .arg(dir.join("mcp_sdk.mjs"))
        .arg(server.url("/mcp"))
        .arg(check);
    last_line(command).await
}

const TOOLS: [&str; 3] = ["echo", "countdown", "write_note"];

/// What every SDK's tour of a session saw: the server, its tools, a quick
/// call, a countdown's `progress` (one notification a step, in order,
/// before the result), its resources, and the error codes.
fn toured(seen: &Value, progress: Value) {
    assert_eq!(seen["server"], "justsse-mcp");
    assert_eq!(seen["tools"], json!(TOOLS));
    assert_eq!(seen["echo"], "hello, mcp");
    assert_eq!(seen["countdown"], "liftoff");
    assert_eq!(seen["progress"], progress);
    assert_eq!(seen["resources"], json!([mcp::NOTE, mcp::INFO]));
    assert_eq!(seen["info"], "justsse-mcp");
    assert_eq!(seen["unknown_tool"], -32602);
    assert_eq!(seen["missing_resource"], -32002);
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_does_a_whole_session_at_2025_11_25() {
    let (server, _) = server(None).await;
    let seen = python(&server, "legacy").await;
    assert_eq!(seen["sdk"], PYTHON_SDK);
    assert_eq!(seen["protocol"], "2025-11-25");
    toured(
        &seen,
        json!([[1.0, 3.0, "2"], [2.0, 3.0, "1"], [3.0, 3.0, "0"]]),
    );
    assert_eq!(seen["bad_params"], -32602);
    assert_eq!(seen["ping"], true);
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_probes_and_speaks_the_stateless_2026_07_28() {
    let (server, _) = server(None).await;
    let seen = python(&server, "auto").await;
    assert_eq!(seen["protocol"], "2026-07-28", "server/discover answered");
    toured(
        &seen,
        json!([[1.0, 3.0, "2"], [2.0, 3.0, "1"], [3.0, 3.0, "0"]]),
    );
    assert_eq!(seen["bad_params"], -32602);
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_hears_a_subscribed_resource_change_on_the_session_stream() {
    let (server, _) = server(None).await;
    let seen = python(&server, "subscribe").await;
    assert_eq!(seen["heard"], json!([mcp::NOTE]));
    assert_eq!(seen["note"], true);
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_resumes_a_cut_stream_and_gets_every_step_once() {
    let (server, _) = server(Some(Duration::from_millis(150))).await;
    let seen = python(&server, "resume").await;
    assert_eq!(seen["result"], "liftoff");
    assert_eq!(seen["progress"], json!([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
}

/// The countdown of 50 steps the SDK cancelled after 0.3 s is dropped
/// before its end: its work stopped.
async fn stopped(config: &Config) {
    justsse_tests::until("the countdown is dropped", || {
        config.running.load(Ordering::Relaxed) == 0
    })
    .await;
    let taken = config.steps.load(Ordering::Relaxed);
    assert!(
        (1..50).contains(&taken),
        "cancelled while counting: {taken} steps"
    );
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_python_sdk_cancels_stops_its_work() {
    let (server, config) = server(None).await;
    let seen = python(&server, "cancel").await;
    assert_eq!(seen["after"], "still here");
    stopped(&config).await;
}

#[cfg_attr(missing_python, ignore = "needs python3-venv, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_python_sdk_ends_the_session() {
    let (server, _) = server(None).await;
    let seen = python(&server, "end").await;
    assert_eq!(seen["status_after_end"], 404);
}

#[cfg_attr(missing_npm, ignore = "needs npm, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_does_a_whole_session() {
    let (server, _) = server(None).await;
    let seen = typescript(&server, "tour").await;
    assert_eq!(seen["sdk"], TYPESCRIPT_SDK);
    assert_eq!(seen["protocol"], "2025-11-25");
    assert_eq!(seen["session"], true);
    toured(&seen, json!([[1, 3, "2"], [2, 3, "1"], [3, 3, "0"]]));
    assert_eq!(seen["ping"], true);
    assert_eq!(seen["ended"], true, "terminateSession's DELETE was taken");
}

#[cfg_attr(missing_npm, ignore = "needs npm, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_hears_a_subscribed_resource_change() {
    let (server, _) = server(None).await;
    let seen = typescript(&server, "subscribe").await;
    assert_eq!(seen["heard"], mcp::NOTE);
}

#[cfg_attr(missing_npm, ignore = "needs npm, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_resumes_a_cut_stream_and_gets_every_step_once() {
    let (server, _) = server(Some(Duration::from_millis(150))).await;
    let seen = typescript(&server, "resume").await;
    assert_eq!(seen["result"], "liftoff");
    assert_eq!(seen["progress"], json!([1, 2, 3, 4, 5, 6]));
}

#[cfg_attr(missing_npm, ignore = "needs npm, not installed here")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_typescript_sdk_aborts_stops_its_work() {
    let (server, config) = server(None).await;
    let seen = typescript(&server, "cancel").await;
    assert_eq!(seen["outcome"], "aborted");
    assert_eq!(seen["after"], "still here");
    stopped(&config).await;
}
