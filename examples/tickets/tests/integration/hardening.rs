//! The example as people copy it, hardened: small comments and bodies (413
//! with a JSON error), a bounded demo store, no credential in the OpenAPI
//! text, request ids that cannot forge anything, `CORS_ORIGINS='*'` served
//! without credentials.

use justsse::http::{Method, StatusCode};
use justsse::test::TestClient;
use serde_json::{Value, json};

fn client() -> TestClient {
    TestClient::new(tickets::app()).expect("the app builds")
}

async fn open_ticket(client: &TestClient) {
    let created = client
        .post("/tickets")
        .json(&json!({"subject": "s"}))
        .send()
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_comment_over_the_limit_is_413_with_a_json_error_and_nothing_is_kept() {
    let client = client();
    open_ticket(&client).await;
    let long = "x".repeat(tickets::MAX_COMMENT + 1);
    let refused = client
        .post("/tickets/1/comments")
        .json(&json!({ "body": long }))
        .send()
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let message = refused.json::<Value>().await["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("4096"), "{message}");
    // A body past the app's limit is refused before it is read whole.
    let huge = format!(r#"{{"body":"{}"}}"#, "y".repeat(tickets::BODY_LIMIT));
    let refused = client
        .post("/tickets/1/comments")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let long_subject = "s".repeat(tickets::MAX_SUBJECT + 1);
    let refused = client
        .post("/tickets")
        .json(&json!({ "subject": long_subject }))
        .send()
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let fits = "z".repeat(tickets::MAX_COMMENT);
    let posted = client
        .post("/tickets/1/comments")
        .json(&json!({ "body": fits }))
        .send()
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let admin = client
        .get("/tickets/1/comments")
        .header("authorization", "Bearer admin-token")
        .send()
        .await;
    let kept = admin.json::<Value>().await;
    assert_eq!(
        kept.as_array().map(Vec::len),
        Some(1),
        "only the one that fits"
    );
}

#[tokio::test]
async fn the_demo_store_refuses_past_its_bytes_with_507() {
    let client = client();
    open_ticket(&client).await;
    let body = "c".repeat(tickets::MAX_COMMENT);
    let most = tickets::MAX_RECORD_BYTES / tickets::MAX_COMMENT;
    let mut refused = None;
    for n in 0..=most {
        let posted = client
            .post("/tickets/1/comments")
            .json(&json!({ "body": body }))
            .send()
            .await;
        if posted.status() != StatusCode::CREATED {
            refused = Some((n, posted.status()));
            break;
        }
    }
    let (n, status) = refused.expect("refused before the bound is passed");
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(n >= most - 1, "refused only when full, after {n}");
}

#[tokio::test]
async fn the_openapi_text_holds_no_credential() {
    let text = client().get("/openapi.json").send().await.text().await;
    assert!(
        !text.contains("admin-token"),
        "a demo token in the OpenAPI text"
    );
}

#[tokio::test]
async fn a_request_id_that_could_forge_a_line_is_replaced() {
    let client = client();
    let kept = client
        .get("/tickets")
        .header("x-request-id", "abc-123.x:y_z")
        .send()
        .await;
    assert_eq!(kept.header("x-request-id"), Some("abc-123.x:y_z"));
    for forged in ["a\"b", "a b", "a=b request_id=other", &"x".repeat(129)] {
        let answered = client
            .get("/tickets")
            .header("x-request-id", forged)
            .send()
            .await;
        let id = answered.header("x-request-id").unwrap_or_default();
        assert!(
            tickets::is_request_id(id) && id != forged,
            "{forged:?} -> {id:?}"
        );
    }
}

#[tokio::test]
async fn cors_for_every_origin_is_served_without_credentials() {
    let client = TestClient::new(tickets::with_cors(tickets::app(), "*")).expect("builds");
    let preflight = client
        .request(Method::OPTIONS, "/tickets")
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(preflight.header("access-control-allow-credentials"), None);

    let listed = TestClient::new(tickets::with_cors(tickets::app(), "http://localhost:5173"))
        .expect("builds");
    let preflight = listed
        .request(Method::OPTIONS, "/tickets")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
}

/// Regression: `/status`'s task noticed its client had left only at its next
/// send, 5 s later, so clients opening and dropping streams at once piled up
/// tasks (157k-198k streams in 10 s: 7 -> 519-678 MB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_streams_dropped_at_once_leave_no_task_behind() {
    let client = TestClient::serve(tickets::app()).await.expect("serves");
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let mut first = client.sse("/status").send().await.events();
    assert!(first.next().await.is_some(), "a status event");
    drop(first);
    let before = tasks();
    for _ in 0..50 {
        let mut status = client.sse("/status").send().await.events();
        assert!(status.next().await.is_some(), "a status event");
        drop(status);
    }
    // Within 2 s, well before the 5 s tick at which the old tasks ended.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while tasks() > before + 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} tasks alive, {before} before 50 streams came and went",
            tasks()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
