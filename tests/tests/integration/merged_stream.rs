//! Several hub topics on one event stream over HTTP: a reconnect that sends
//! its `Last-Event-ID` resumes every topic where it stopped.

use bytes::Bytes;
use http_body_util::Full;
use justsse::hub::{Hub, Subscription};
use justsse::prelude::*;
use justsse::route;
use justsse_tests::{LiveEvents, TestServer, request, send};

const TOPICS: [&str; 2] = ["builds", "deploys"];

async fn feed(hub: State<Hub<&'static str>>, last: LastEventId) -> Subscription {
    hub.subscribe_all(&TOPICS, last.as_deref()).await
}

async fn open(server: &TestServer, last: Option<&str>) -> LiveEvents {
    let mut req = request("GET", "/feed").header("accept", "text/event-stream");
    if let Some(last) = last {
        req = req.header("last-event-id", last);
    }
    let response = send(
        server.addr,
        req.body(Full::<Bytes>::default()).expect("request"),
    )
    .await;
    assert_eq!(response.status(), 200);
    LiveEvents::new(response)
}

async fn publish(hub: &Hub<&'static str>, topic: &'static str, data: &str) {
    hub.publish(&topic, Event::named(topic).data(data))
        .await
        .expect("publish");
}

#[tokio::test]
async fn a_reconnect_resumes_every_topic_of_a_merged_stream() {
    let hub: Hub<&'static str> = Hub::new();
    let app = App::new()
        .state(hub.clone())
        .route("/feed", route::sse(feed));
    let server = TestServer::start(app.into_router().expect("builds")).await;

    let mut first = open(&server, None).await;
    // The stream follows both topics once its response has begun; an event
    // published then and read proves it.
    publish(&hub, "builds", "b1").await;
    let seen = first.next().await.expect("b1");
    assert_eq!(
        (seen.event_type.as_str(), seen.data.as_str()),
        ("builds", "b1")
    );
    drop(first);

    publish(&hub, "deploys", "d1").await;
    publish(&hub, "builds", "b2").await;
    let mut back = open(&server, Some(&seen.last_event_id)).await;
    let mut resumed = [
        back.next().await.expect("one"),
        back.next().await.expect("two"),
    ];
    resumed.sort_by(|a, b| a.data.cmp(&b.data));
    let resumed: Vec<&str> = resumed.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(
        resumed,
        ["b2", "d1"],
        "each topic from where it stopped, nothing twice"
    );
}
