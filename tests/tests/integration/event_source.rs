//! `justsse::client::EventSource`: reconnects with `Last-Event-ID` and the
//! server's `retry:`, against our server (restarted mid-stream: nothing lost,
//! nothing repeated) and against a plain hyper server that is not ours
//! (statuses browsers retry or stop on).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use justsse::client::{ClientError, EventSource, SourceItem};
use justsse::hub::{Hub, Subscription};
use justsse::prelude::*;
use justsse::route;
use justsse::runtime::Server;
use justsse_tests::DEADLINE;
use tokio::sync::oneshot;

async fn events(hub: State<Hub>, last: LastEventId) -> Subscription {
    hub.subscribe(&"t".to_owned(), last.as_deref()).await
}

/// Serves the hub's topic on `port` until `stop` fires.
async fn serve(hub: Hub, port: u16, stop: oneshot::Receiver<()>) -> tokio::task::JoinHandle<()> {
    let app = App::new()
        .state(hub)
        .route("/events", route::sse(events))
        .config(ServerConfig::default().retry(Duration::from_millis(50)));
    let router = app.into_router().expect("builds");
    let server = Server::bind(format!("127.0.0.1:{port}"))
        .await
        .expect("binds");
    tokio::spawn(async move {
        let _ = server
            .serve(router, async {
                let _ = stop.await;
            })
            .await;
    })
}

/// The next event's data, skipping opens and reconnection errors.
async fn next_data(source: &mut EventSource) -> String {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match source.next().await.expect("the source goes on") {
                Ok(SourceItem::Message(event)) => return event.data,
                Ok(SourceItem::Resync(event)) => panic!("unexpected resync: {event:?}"),
                Ok(SourceItem::Open) => {}
                Err(err) => assert!(!err.is_fatal(), "stopped: {err}"),
            }
        }
    })
    .await
    .expect("an event in time")
}

async fn publish(hub: &Hub, data: &str) {
    hub.publish(&"t".to_owned(), Event::named("n").data(data))
        .await
        .expect("publish");
}

#[tokio::test]
async fn a_restarted_server_is_resumed_with_nothing_lost_or_repeated() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let hub = Hub::new();
    let (stop, stopped) = oneshot::channel();
    let first = serve(hub.clone(), port, stopped).await;

    let mut source = EventSource::builder(format!("http://127.0.0.1:{port}/events"))
        .max_backoff(Duration::from_millis(200))
        .build()
        .expect("a valid URL");
    assert!(matches!(source.next().await, Some(Ok(SourceItem::Open))));
    publish(&hub, "1").await;
    publish(&hub, "2").await;
    assert_eq!(next_data(&mut source).await, "1");
    assert_eq!(next_data(&mut source).await, "2");

    // Down: the stream ends, reconnects fail; events keep being published.
    let _ = stop.send(());
    first.await.expect("stopped");
    publish(&hub, "3").await;
    publish(&hub, "4").await;
    let (_stop, stopped) = oneshot::channel();
    let _second = serve(hub.clone(), port, stopped).await;
    publish(&hub, "5").await;
    for want in ["3", "4", "5"] {
        assert_eq!(next_data(&mut source).await, want);
    }
    assert!(!source.last_event_id().is_empty());
}

/// A server that is not ours: each connection gets the next of `answers`.
async fn scripted(answers: Vec<(u16, &'static str)>) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (answers, next, log) = (
        Arc::new(answers),
        Arc::new(AtomicUsize::new(0)),
        seen.clone(),
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (answers, next, log) = (answers.clone(), next.clone(), log.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let last = req
                        .headers()
                        .get("last-event-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    log.lock().expect("log").push(last);
                    let (status, body) = answers
                        .get(next.fetch_add(1, Ordering::SeqCst))
                        .copied()
                        .unwrap_or((204, ""));
                    async move {
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "text/event-stream")
                                .body(Full::new(Bytes::from_static(body.as_bytes())))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn against_another_server_it_retries_what_browsers_retry_and_stops_on_204() {
    let (port, seen) = scripted(vec![
        (200, "retry: 20\nid: a\ndata: one\n\n"),
        (503, ""),
        (200, "id: b\ndata: two\n\n"),
        (204, ""),
    ])
    .await;
    let mut source = EventSource::builder(format!("http://127.0.0.1:{port}/"))
        .header("authorization", "Bearer t")
        .max_backoff(Duration::from_millis(100))
        .build()
        .expect("a valid URL");
    let mut items = Vec::new();
    let ended = tokio::time::timeout(DEADLINE, async {
        while let Some(item) = source.next().await {
            items.push(match item {
                Ok(SourceItem::Open) => "open".to_owned(),
                Ok(SourceItem::Message(event)) => format!("{}:{}", event.last_event_id, event.data),
                Ok(SourceItem::Resync(_)) => "resync".to_owned(),
                Err(ClientError::Unavailable(status)) => format!("retry {}", status.as_u16()),
                Err(ClientError::Refused { status, .. }) => format!("stop {}", status.as_u16()),
                Err(other) => format!("error {other}"),
            });
        }
    })
    .await;
    assert!(ended.is_ok(), "the source stopped by itself: {items:?}");
    assert_eq!(
        items,
        ["open", "a:one", "retry 503", "open", "b:two"],
        "a 204 ends the source, with no error"
    );
    // Each reconnect sent the last id seen.
    assert_eq!(*seen.lock().expect("log"), ["", "a", "a", "b"]);
}

/// The HTTP version a request came in on.
#[derive(Clone)]
struct Version(String);

async fn version(head: &RequestHead) -> Result<Version, HttpError> {
    Ok(Version(format!("{:?}", head.parts().version)))
}

async fn announce(version: Version) -> impl EventStream {
    stream! { yield Event::named("version").data(version.0); }
}

async fn serve_tls(cert: &justsse_tests::tls::TestCert) -> justsse_tests::TestServer {
    let app = App::new().route("/events", route::sse(announce).uses(version));
    let config = ServerConfig::default().tls(cert.server());
    justsse_tests::TestServer::with_config(app.into_router().expect("builds"), config).await
}

#[tokio::test]
async fn over_https_it_speaks_http2_when_the_server_offers_it() {
    let cert = justsse_tests::tls::TestCert::new();
    let server = serve_tls(&cert).await;
    let url = format!("https://localhost:{}/events", server.addr.port());
    // The builder sets ALPN to h2 then http/1.1, whatever the config offered.
    let mut source = EventSource::builder(&url)
        .tls(cert.client_config(&[]))
        .build()
        .expect("a valid URL");
    assert_eq!(next_data(&mut source).await, "HTTP/2.0");
}

#[tokio::test]
async fn without_a_tls_config_https_trusts_the_public_roots_only() {
    let cert = justsse_tests::tls::TestCert::new();
    let server = serve_tls(&cert).await;
    let url = format!("https://localhost:{}/events", server.addr.port());
    let mut source = EventSource::builder(&url)
        .max_backoff(Duration::from_millis(50))
        .build()
        .expect("a valid URL");
    let item = tokio::time::timeout(DEADLINE, source.next())
        .await
        .expect("an answer in time")
        .expect("the source goes on");
    let err = item.expect_err("a self-signed certificate is not trusted");
    assert!(
        !err.is_fatal(),
        "a refused certificate is retried as browsers do: {err}"
    );
    assert!(
        err.to_string().contains("UnknownIssuer"),
        "the error says why: {err}"
    );
}
