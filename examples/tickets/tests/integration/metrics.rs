//! `GET /metrics`: the server's metrics in Prometheus text, through the
//! exporter the example installs (one global recorder: one test here).
//!
//! The recorder is global, so the other tests of this binary, running at
//! the same time, are counted too: the figures are checked as lower bounds.

use justsse::http::StatusCode;
use justsse::test::TestClient;
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::test]
async fn metrics_are_served_in_prometheus_text() {
    let exporter = PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder");
    let client = TestClient::new(tickets::with_metrics(tickets::app(), exporter)).expect("builds");
    let mut status = client.sse("/status").send().await.events();
    assert!(status.next().await.is_some(), "a status event");
    // A comment, so the hub holds bytes.
    let opened = client
        .post("/tickets")
        .json(&serde_json::json!({"subject": "s"}))
        .send()
        .await;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let comment = serde_json::json!({"body": "counted"});
    let posted = client
        .post("/tickets/1/comments")
        .json(&comment)
        .send()
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);

    // Not public: what the metrics say helps an attacker too.
    let anonymous = client.get("/metrics").send().await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let user = client
        .get("/metrics")
        .header("authorization", "Bearer user-token")
        .send()
        .await;
    assert_eq!(user.status(), StatusCode::FORBIDDEN);

    let scraped = client
        .get("/metrics")
        .header("authorization", "Bearer admin-token")
        .send()
        .await;
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await;
    for metric in [
        "justsse_connections_open",
        "justsse_streams_open",
        "justsse_events_sent_total",
        "justsse_stream_bytes_sent_total",
        "justsse_hub_bytes",
    ] {
        assert!(
            value(&text, metric) >= 1,
            "`{metric}` at least 1 in:\n{text}"
        );
    }
    drop(status);
}

/// The value of the sample `name` (without labels) in Prometheus text; 0 if absent.
fn value(text: &str, name: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .filter_map(|number| number.trim().parse().ok())
        .next()
        .unwrap_or(0)
}
