//! `GET /metrics`: the server's metrics in Prometheus text, through the
//! exporter the example installs (one global recorder: one test here).

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

    let scraped = client.get("/metrics").send().await;
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await;
    for metric in [
        "justsse_connections_open",
        "justsse_streams_open 1",
        "justsse_events_sent_total",
        "justsse_stream_bytes_sent_total",
    ] {
        assert!(text.contains(metric), "`{metric}` in:\n{text}");
    }
    drop(status);
}
