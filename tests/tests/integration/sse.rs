//! The event-stream body: headers, one event at a time, keep-alives, errors that
//! end a stream with one `error` event, and refused events.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use justsse::runtime::{BoxError, Router, sse};
use justsse::{Event, HttpError, KeepAlive, Request, ServerConfig, Sse};
use justsse_tests::{DEADLINE, TestServer, events};
use tokio::sync::mpsc;

type Feed = Arc<Mutex<Option<mpsc::UnboundedReceiver<Result<Event, BoxError>>>>>;

/// A route streaming whatever the test sends on the returned channel.
fn fed_route(
    keep_alive: Option<KeepAlive>,
) -> (Router, mpsc::UnboundedSender<Result<Event, BoxError>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let feed: Feed = Arc::new(Mutex::new(Some(rx)));
    let router = Router::new().route(
        "/feed",
        sse(move |_: Request| {
            let rx = feed.lock().expect("lock").take().expect("one client");
            async move {
                let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|item| (item, rx))
                });
                let sse = Sse::new(stream);
                match keep_alive {
                    Some(keep_alive) => sse.keep_alive(keep_alive),
                    None => sse,
                }
            }
        }),
    );
    (router, tx)
}

#[tokio::test]
async fn stream_headers_follow_the_design() {
    let (router, _tx) = fed_route(None);
    let server = TestServer::start(router).await;
    let (head, _reader) = events(server.addr, "/feed").await;
    assert_eq!(head.status(), 200);
    let headers = head.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(
        headers.get("connection").is_none(),
        "no Connection header (breaks HTTP/2)"
    );
    assert!(
        headers.get("content-encoding").is_none(),
        "never compressed"
    );
    assert!(headers.get("content-length").is_none());
}

#[tokio::test]
async fn each_event_arrives_as_it_is_yielded() {
    let (router, tx) = fed_route(Some(KeepAlive::off()));
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    // The next event is only produced after the previous one was received: any
    // buffering on the way would stall this loop.
    for n in 0..20 {
        tx.send(Ok(Event::named("n").id(n).data(n.to_string())))
            .expect("stream open");
        let event = reader.next().await.expect("an event");
        assert_eq!(event.data, n.to_string());
        assert_eq!(event.last_event_id, n.to_string());
    }
    drop(tx);
    assert_eq!(
        reader.next().await,
        None,
        "the stream ends when the handler's stream ends"
    );
    assert!(!reader.raw.starts_with(b"\xEF\xBB\xBF"), "never a BOM");
}

#[tokio::test]
async fn data_with_every_kind_of_line_break_arrives_intact() {
    let (router, tx) = fed_route(None);
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    tx.send(Ok(Event::new().data("a\r\nb\rc\nd\n")))
        .expect("open");
    tx.send(Ok(Event::new().data("event: fake\n\ndata: injected")))
        .expect("open");
    drop(tx);
    let got = reader.rest().await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, "a\nb\nc\nd\n");
    assert_eq!(
        got[1].event_type, "message",
        "data cannot set the event name"
    );
    assert_eq!(got[1].data, "event: fake\n\ndata: injected");
}

#[tokio::test]
async fn keep_alive_comments_fill_idle_gaps_only() {
    let (router, tx) = fed_route(Some(KeepAlive::every(Duration::from_millis(400))));
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    let first = reader.chunk().await.expect("a keep-alive while idle");
    assert_eq!(&first[..], b":\n\n");
    // While events flow faster than the interval, no keep-alive is sent.
    let mut busy = Vec::new();
    for n in 0..10 {
        tx.send(Ok(Event::new().data(n.to_string()))).expect("open");
        busy.extend_from_slice(&reader.chunk().await.expect("event"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = String::from_utf8(busy).expect("utf-8");
    assert!(
        !busy.contains(":\n\n"),
        "keep-alive sent while busy: {busy:?}"
    );
    assert_eq!(busy.matches("data: ").count(), 10);
    let idle = reader.chunk().await.expect("a keep-alive after the burst");
    assert_eq!(&idle[..], b":\n\n");
}

#[tokio::test]
async fn keep_alive_defaults_come_from_the_server_config_and_can_be_off() {
    let (router, tx) = fed_route(None);
    let config = ServerConfig::default().keep_alive(KeepAlive::every(Duration::from_millis(50)));
    let server = TestServer::with_config(router, config).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    assert_eq!(&reader.chunk().await.expect("keep-alive")[..], b":\n\n");
    drop(tx);

    let (router, tx) = fed_route(Some(KeepAlive::off()));
    let config = ServerConfig::default().keep_alive(KeepAlive::every(Duration::from_millis(50)));
    let server = TestServer::with_config(router, config).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    let quiet = tokio::time::timeout(Duration::from_millis(300), reader.chunk()).await;
    assert!(
        quiet.is_err(),
        "nothing is sent with keep-alive off: {quiet:?}"
    );
    drop(tx);
}

#[tokio::test]
async fn an_error_ends_the_stream_with_one_error_event() {
    let (router, tx) = fed_route(None);
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    tx.send(Ok(Event::new().data("before"))).expect("open");
    tx.send(Err(HttpError::not_found("ticket 7 was deleted").into()))
        .expect("open");
    tx.send(Ok(Event::new().data("never sent"))).expect("open");
    let got = reader.rest().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].event_type, "error");
    assert_eq!(got[1].data, r#"{"message":"ticket 7 was deleted"}"#);
}

#[tokio::test]
async fn internal_errors_show_only_a_generic_message() {
    let (router, tx) = fed_route(None);
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    tx.send(Err("database password is hunter2".into()))
        .expect("open");
    let got = reader.rest().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_type, "error");
    assert_eq!(got[0].data, r#"{"message":"internal server error"}"#);
    assert!(!String::from_utf8_lossy(&reader.raw).contains("hunter2"));
}

#[tokio::test]
async fn an_invalid_event_is_refused_whole_and_ends_the_stream() {
    let (router, tx) = fed_route(None);
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/feed").await;
    tx.send(Ok(Event::new().id("1\nevent: admin").data("injected")))
        .expect("open");
    let got = reader.rest().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event_type, "error");
    let raw = String::from_utf8_lossy(&reader.raw);
    assert!(
        !raw.contains("injected") && !raw.contains("admin"),
        "{raw:?}"
    );
}

#[tokio::test]
async fn a_panicking_stream_costs_only_its_own_stream() {
    let router = Router::new().route(
        "/boom",
        sse(|_: Request| async {
            let events = async_stream::stream! {
                yield Ok::<_, Infallible>(Event::new().data("first"));
                panic!("stream bug");
            };
            Sse::new(events)
        }),
    );
    let server = TestServer::start(router).await;
    for _ in 0..2 {
        let (_, mut reader) = events(server.addr, "/boom").await;
        let got = reader.rest().await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].data, "first");
        assert_eq!(got[1].event_type, "error");
    }
}

#[tokio::test]
async fn a_retry_hint_is_sent_first() {
    let router = Router::new().route(
        "/hint",
        sse(|_: Request| async {
            Sse::new(futures_util::stream::iter([Ok::<_, Infallible>(
                Event::new().data("x"),
            )]))
            .retry(Duration::from_millis(2500))
        }),
    );
    let server = TestServer::start(router).await;
    let (_, mut reader) = events(server.addr, "/hint").await;
    let got = tokio::time::timeout(DEADLINE, reader.rest())
        .await
        .expect("ends");
    assert_eq!(got.len(), 1);
    assert!(
        reader.raw.starts_with(b"retry: 2500\n\n"),
        "{:?}",
        String::from_utf8_lossy(&reader.raw)
    );
    assert_eq!(reader.retry(), Some(Duration::from_millis(2500)));
}
