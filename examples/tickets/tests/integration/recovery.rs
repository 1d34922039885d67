//! A client that fell too far behind gets one `resync`; with the snapshot
//! (`GET /tickets/:ticket/comments`) and the events after the resync it ends
//! with every comment, once each: the pattern the guide shows.

use std::collections::BTreeMap;

use justsse::client::EventReader;
use justsse::http::StatusCode;
use justsse::hub::{Hub, MemoryConfig, RESYNC};
use justsse::test::TestClient;
use serde_json::{Value, json};

const ADMIN: &str = "Bearer admin-token";

async fn post_comment(client: &TestClient, body: &str) {
    let posted = client
        .post("/tickets/1/comments")
        .json(&json!({ "body": body }))
        .send()
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
}

/// Adds a comment event's comment to `seen`, by its number.
fn add(seen: &mut BTreeMap<u64, String>, comment: &Value) {
    let id = comment["id"].as_u64().expect("a comment number");
    let body = comment["body"].as_str().expect("a body").to_owned();
    seen.insert(id, body);
}

async fn watch(client: &TestClient, last: Option<&str>) -> EventReader {
    let mut request = client
        .sse("/tickets/1/events")
        .header("authorization", ADMIN);
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    let response = request.send().await;
    assert_eq!(response.status(), StatusCode::OK);
    response.events()
}

#[tokio::test]
async fn a_lagged_client_ends_with_every_comment_once() {
    // Four comments kept for replay: a client ten behind cannot be replayed.
    let hub = Hub::memory(MemoryConfig {
        replay: 4,
        ..MemoryConfig::default()
    });
    let client = TestClient::new(tickets::app_with_hub(hub)).expect("builds");
    client
        .post("/tickets")
        .json(&json!({"subject": "printer on fire"}))
        .send()
        .await;

    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    let mut events = watch(&client, None).await;
    assert_eq!(
        events.next().await.expect("connected").event_type,
        "connected"
    );
    post_comment(&client, "first").await;
    let first = events.next().await.expect("the first comment");
    add(&mut seen, &serde_json::from_str(&first.data).expect("JSON"));
    let last = events.last_event_id().to_owned();
    drop(events);

    // Away while ten comments are posted.
    for n in 0..10 {
        post_comment(&client, &format!("missed {n}")).await;
    }
    let mut events = watch(&client, Some(&last)).await;
    assert_eq!(
        events.next().await.expect("connected").event_type,
        "connected"
    );
    let resync = events.next().await.expect("a resync");
    assert_eq!(resync.event_type, RESYNC, "too far behind to replay");

    // The pattern: fetch the snapshot, then go on with the stream, merging by
    // comment number.
    let snapshot = client
        .get("/tickets/1/comments")
        .header("authorization", ADMIN)
        .send()
        .await;
    assert_eq!(snapshot.status(), StatusCode::OK);
    for comment in snapshot.json::<Vec<Value>>().await {
        add(&mut seen, &comment);
    }
    post_comment(&client, "after").await;
    let after = events.next().await.expect("the next comment");
    assert_eq!(after.event_type, "comment");
    add(&mut seen, &serde_json::from_str(&after.data).expect("JSON"));

    let bodies: Vec<&str> = seen.values().map(String::as_str).collect();
    let mut expected = vec!["first".to_owned()];
    expected.extend((0..10).map(|n| format!("missed {n}")));
    expected.push("after".to_owned());
    assert_eq!(bodies, expected, "every comment, in order, once");
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_snapshot_is_for_admins_like_the_stream() {
    let client = TestClient::new(tickets::app()).expect("builds");
    client
        .post("/tickets")
        .json(&json!({"subject": "x"}))
        .send()
        .await;
    let stranger = client
        .get("/tickets/1/comments")
        .header("authorization", "Bearer user-token")
        .send()
        .await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    let anonymous = client.get("/tickets/1/comments").send().await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
