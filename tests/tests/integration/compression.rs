//! Event streams compressed event by event, over real sockets: the coding the
//! client prefers, each event decodable as soon as it is sent (the test waits
//! for it before the next is published), `Vary`, the server's and a route's
//! settings, the bound on compressed streams, and no second compression under a
//! compressing tower layer.

use bytes::Bytes;
use http_body_util::Full;
use justsse::http::header;
use justsse::prelude::*;
use justsse::response::Compression;
use justsse_tests::{LiveEvents, TestServer, request, send, until};
use tokio::sync::broadcast;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

/// Streams what the test publishes, one event each.
struct Feed {
    prices: broadcast::Sender<String>,
}

#[controller("/")]
impl Feed {
    #[sse("/prices")]
    async fn prices(&self) -> impl EventStream {
        let mut prices = self.prices.subscribe();
        stream! {
            while let Ok(price) = prices.recv().await {
                yield Event::named("price").data(price);
            }
        }
    }

    /// The same, never compressed, by its attribute.
    #[sse("/quiet", compress = off)]
    async fn quiet(&self) -> impl EventStream {
        let mut prices = self.prices.subscribe();
        stream! {
            while let Ok(price) = prices.recv().await {
                yield Event::named("price").data(price);
            }
        }
    }

    /// The same, never compressed, by its response.
    #[sse("/plain")]
    async fn plain(&self) -> Sse {
        let mut prices = self.prices.subscribe();
        Sse::new(async_stream::stream! {
            while let Ok(price) = prices.recv().await {
                yield Ok::<_, std::convert::Infallible>(Event::named("price").data(price));
            }
        })
        .compression(Compression::off())
    }
}

struct Fixture {
    server: TestServer,
    prices: broadcast::Sender<String>,
}

async fn fixture(config: ServerConfig, layered: bool) -> Fixture {
    let (prices, _) = broadcast::channel(64);
    let mut app = App::new().controller(Feed {
        prices: prices.clone(),
    });
    if layered {
        // Would compress anything over 0 bytes, event streams included, were
        // they not compressed already.
        app = app.layer(CompressionLayer::new().compress_when(SizeAbove::new(0).and(AnyType)));
    }
    let server = TestServer::with_config(app.into_router().expect("app builds"), config).await;
    Fixture { server, prices }
}

/// Everything, whatever its content type.
#[derive(Clone, Copy)]
struct AnyType;

impl Predicate for AnyType {
    fn should_compress<B: hyper::body::Body>(&self, _: &justsse::http::Response<B>) -> bool {
        true
    }
}

impl Fixture {
    /// Opens `path` accepting `codings` (none when empty).
    async fn open(&self, path: &str, codings: &str) -> (justsse::http::HeaderMap, LiveEvents) {
        let mut req = request("GET", path).header(header::ACCEPT, "text/event-stream");
        if !codings.is_empty() {
            req = req.header(header::ACCEPT_ENCODING, codings);
        }
        let subscribers = self.prices.receiver_count();
        let response = send(
            self.server.addr,
            req.body(Full::<Bytes>::default()).unwrap(),
        )
        .await;
        assert_eq!(response.status(), 200);
        let prices = self.prices.clone();
        until("the stream subscribed", || {
            prices.receiver_count() > subscribers
        })
        .await;
        (response.headers().clone(), LiveEvents::new(response))
    }

    /// Publishes `count` prices one at a time, each read from `events` before
    /// the next: an event held back in a compressor fails the test.
    async fn each_arrives(&self, events: &mut LiveEvents, count: usize) {
        for n in 0..count {
            let price = format!("{{\"symbol\":\"ACME\",\"price\":{}.25,\"n\":{n}}}", 100 + n);
            self.prices.send(price.clone()).expect("a subscriber");
            let event = events.next().await.expect("the event");
            assert_eq!(
                (event.event_type.as_str(), event.data.as_str()),
                ("price", &*price)
            );
        }
    }
}

#[tokio::test]
async fn each_coding_the_client_prefers_delivers_every_event_at_once() {
    let fixture = fixture(ServerConfig::default(), false).await;
    for (accepts, coding) in [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate, br", "gzip"),
        ("br", "br"),
        ("deflate", "deflate"),
        ("zstd", "zstd"),
        ("gzip;q=0.5, br;q=0.8", "br"),
    ] {
        let (headers, mut events) = fixture.open("/prices", accepts).await;
        assert_eq!(headers[header::CONTENT_ENCODING], coding, "{accepts}");
        assert_eq!(headers[header::VARY], "accept-encoding");
        assert!(events.compressed);
        fixture.each_arrives(&mut events, 20).await;
        drop(events);
        let prices = fixture.prices.clone();
        until("the stream ended", || prices.receiver_count() == 0).await;
    }
}

#[tokio::test]
async fn without_accept_encoding_or_when_off_a_stream_goes_as_it_is() {
    let fixture = fixture(ServerConfig::default(), false).await;
    let (headers, mut events) = fixture.open("/prices", "").await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(
        headers[header::VARY],
        "accept-encoding",
        "it could have been"
    );
    fixture.each_arrives(&mut events, 3).await;
    drop(events);
    let prices = fixture.prices.clone();
    until("the stream ended", || prices.receiver_count() == 0).await;

    // The route's own setting wins over the server's.
    for path in ["/plain", "/quiet"] {
        let (headers, mut events) = fixture.open(path, "gzip, br").await;
        assert!(!headers.contains_key(header::CONTENT_ENCODING), "{path}");
        assert!(!headers.contains_key(header::VARY), "{path}");
        fixture.each_arrives(&mut events, 3).await;
        drop(events);
        let prices = fixture.prices.clone();
        until("the stream ended", || prices.receiver_count() == 0).await;
    }

    let off = self::fixture(
        ServerConfig::default().compression(Compression::off()),
        false,
    )
    .await;
    let (headers, mut events) = off.open("/prices", "gzip, br").await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    assert!(!headers.contains_key(header::VARY));
    off.each_arrives(&mut events, 3).await;
}

#[tokio::test]
async fn past_max_streams_streams_go_uncompressed_until_one_ends() {
    let config = ServerConfig::default().compression(Compression::default().max_streams(1));
    let fixture = fixture(config, false).await;
    let (first, mut first_events) = fixture.open("/prices", "gzip").await;
    assert_eq!(first[header::CONTENT_ENCODING], "gzip");
    let (second, mut second_events) = fixture.open("/prices", "gzip").await;
    assert!(!second.contains_key(header::CONTENT_ENCODING), "{second:?}");
    fixture.each_arrives(&mut first_events, 2).await;
    for n in 0..2 {
        let event = second_events
            .next()
            .await
            .expect("the uncompressed one too");
        assert!(
            event.data.ends_with(&format!("\"n\":{n}}}")),
            "{}",
            event.data
        );
    }

    // The first ends (its body, compressor and subscription drop together):
    // its place is free again.
    drop(first_events);
    let prices = fixture.prices.clone();
    until("the first stream ended", || prices.receiver_count() == 1).await;
    let (third_headers, mut third) = fixture.open("/prices", "gzip").await;
    assert_eq!(third_headers[header::CONTENT_ENCODING], "gzip");
    fixture.prices.send("after".into()).expect("subscribers");
    assert_eq!(third.next().await.expect("an event").data, "after");
}

#[tokio::test]
async fn a_compressing_layer_does_not_compress_a_compressed_stream_again() {
    let fixture = fixture(ServerConfig::default(), true).await;
    let (headers, mut events) = fixture.open("/prices", "gzip").await;
    assert_eq!(
        headers.get_all(header::CONTENT_ENCODING).iter().count(),
        1,
        "{headers:?}"
    );
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    fixture.each_arrives(&mut events, 5).await;

    // What the layer is for, it still does: the stream that is not ours to
    // compress is compressed by it.
    let (headers, _events) = fixture.open("/plain", "gzip").await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip", "{headers:?}");
}

/// What curl prints of a stream, line by line, as it comes.
struct Curl {
    _child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Curl {
    fn start(url: &str) -> Self {
        let mut child = tokio::process::Command::new("curl")
            .args([
                "--compressed",
                "-N",
                "-s",
                "-D",
                "-",
                "-H",
                "accept: text/event-stream",
                url,
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("curl runs (apt-get install curl)");
        let stdout = child.stdout.take().expect("its output");
        let lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        Self {
            _child: child,
            lines,
        }
    }

    /// The response's `Content-Encoding`, read from the head curl prints first.
    async fn coding(&mut self) -> Option<String> {
        let mut coding = None;
        loop {
            let line = tokio::time::timeout(justsse_tests::DEADLINE, self.lines.next_line())
                .await
                .expect("the head in time")
                .expect("reads")
                .expect("a line");
            let line = line.trim_end();
            if line.is_empty() {
                return coding;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-encoding")
            {
                coding = Some(value.trim().to_owned());
            }
        }
    }

    /// The next `data:` line, within the deadline.
    async fn data(&mut self) -> String {
        let next = async {
            loop {
                let line = self
                    .lines
                    .next_line()
                    .await
                    .expect("reads")
                    .expect("a line");
                if let Some(data) = line.strip_prefix("data: ") {
                    return data.to_owned();
                }
            }
        };
        tokio::time::timeout(justsse_tests::DEADLINE, next)
            .await
            .expect("curl prints the event in time")
    }
}

#[tokio::test]
async fn curl_compressed_shows_each_event_as_it_comes() {
    let fixture = fixture(ServerConfig::default(), false).await;
    // curl --compressed asks for the codings it has (deflate, gzip, br, zstd
    // where built with them) and decodes what comes.
    let mut curl = Curl::start(&fixture.server.url("/prices"));
    let prices = fixture.prices.clone();
    until("curl subscribed", || prices.receiver_count() == 1).await;
    let coding = curl.coding().await.expect("a compressed stream");
    assert!(
        ["zstd", "br", "gzip", "deflate"].contains(&coding.as_str()),
        "{coding}"
    );
    for n in 0..5 {
        let price = format!("{{\"n\":{n}}}");
        fixture.prices.send(price.clone()).expect("a subscriber");
        assert_eq!(curl.data().await, price);
    }
}

#[cfg_attr(missing_nginx, ignore = "needs nginx, not installed here")]
#[tokio::test]
async fn nginx_in_front_passes_a_compressed_stream_unbuffered() {
    let fixture = fixture(ServerConfig::default(), false).await;
    let dir = std::env::temp_dir().join(format!("justsse-nginx-compressed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for nginx");
    let port = justsse_tests::nginx::free_port();
    let _nginx = justsse_tests::nginx::nginx(
        &justsse_tests::nginx::nginx_binary(),
        &dir,
        port,
        &[fixture.server.addr.port()],
    );
    justsse_tests::listening(port, "nginx").await;
    let req = request("GET", "/prices")
        .header(header::ACCEPT, "text/event-stream")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Full::<Bytes>::default())
        .unwrap();
    let response = send(([127, 0, 0, 1], port).into(), req).await;
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let mut events = LiveEvents::new(response);
    let prices = fixture.prices.clone();
    until("the stream subscribed", || prices.receiver_count() == 1).await;
    fixture.each_arrives(&mut events, 10).await;
}
