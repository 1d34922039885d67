//! The tickets service's contract, tested in-process with `justsse::test`: no
//! port, and tokio's paused clock makes the status stream's five-second
//! period instant.

use justsse::http::StatusCode;
use justsse::test::TestClient;
use serde_json::{Value, json};

fn client() -> TestClient {
    TestClient::new(tickets::app()).expect("the app builds")
}

#[tokio::test]
async fn tickets_are_created_listed_and_shown() {
    let client = client();
    let created = client
        .post("/tickets")
        .json(&json!({"subject": "printer on fire"}))
        .send()
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.json::<Value>().await,
        json!({"id": 1, "subject": "printer on fire"})
    );

    let list = client.get("/tickets").send().await;
    assert_eq!(
        list.json::<Value>().await,
        json!([{"id": 1, "subject": "printer on fire"}])
    );
    assert_eq!(
        client.get("/tickets/1").send().await.status(),
        StatusCode::OK
    );

    let missing = client.get("/tickets/9").send().await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let bad = client.get("/tickets/nine").send().await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let message = bad.json::<Value>().await["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("`ticket`"),
        "the 400 names the parameter: {message}"
    );
}

#[tokio::test]
async fn an_admin_watches_comments_live_and_others_are_refused() {
    let client = client();
    client
        .post("/tickets")
        .json(&json!({"subject": "wifi"}))
        .send()
        .await;

    let stranger = client.sse("/tickets/1/events").send().await;
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let user = client
        .sse("/tickets/1/events")
        .header("authorization", "Bearer user-token")
        .send()
        .await;
    assert_eq!(user.status(), StatusCode::FORBIDDEN);

    let admin = client
        .sse("/tickets/1/events")
        .header("authorization", "Bearer admin-token")
        .send()
        .await;
    assert_eq!(admin.status(), StatusCode::OK);
    assert!(admin.header("x-request-id").is_some());
    let mut events = admin.events();
    assert_eq!(
        events.next().await.expect("connected").event_type,
        "connected"
    );
    let posted = client
        .post("/tickets/1/comments")
        .json(&json!({"body": "on it"}))
        .send()
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let comment = events.next().await.expect("the comment");
    assert_eq!(comment.event_type, "comment");
    assert_eq!(comment.data, r#"{"id":1,"body":"on it"}"#);
}

/// Paused: the clock moves only when every task waits for it, so three
/// status events five seconds apart arrive at once, in virtual time.
#[tokio::test(start_paused = true)]
async fn the_status_stream_ticks_every_five_seconds_of_virtual_time() {
    let client = client();
    let started = std::time::Instant::now();
    let mut status = client.sse("/status").send().await.events();
    let mut uptimes = Vec::new();
    for _ in 0..3 {
        let event = status.next().await.expect("a status");
        let value: Value = serde_json::from_str(&event.data).expect("json");
        uptimes.push(value["uptime_s"].as_u64().expect("uptime"));
    }
    assert_eq!(uptimes, [0, 5, 10]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no real waiting"
    );
}
