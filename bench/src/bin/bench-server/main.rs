//! One server, three implementations of the same endpoints:
//! `GET /json`, `GET /events` (SSE, one shared topic) and `GET /publish?count=N`
//! (publishes N stamped events to every subscriber, then answers); and the
//! tickets contract as each framework's users write it (`app.rs`).
//!
//! ```text
//! bench-server <justsse|justsse-runtime|axum|hyper|hyper-http1> <port>
//! bench-server <justsse-app|axum-app|hyper-http1-app> <port>
//! ```
//!
//! With `TLS_CERT` and `TLS_KEY` set, justsse and axum serve HTTPS through one
//! TLS stack (rustls with ring, ALPN `h2` and `http/1.1`): justsse its own,
//! axum tokio-rustls in front of hyper-util's auto builder.

use std::convert::Infallible;
use std::time::Duration;

use bench::{Hello, event_data};
use bytes::Bytes;

mod app;

const CAPACITY: usize = 1024;

fn count_of(query: Option<&str>) -> u64 {
    param_of(query, "count").unwrap_or(1)
}

fn param_of(query: Option<&str>, name: &str) -> Option<u64> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .and_then(|n| n.parse().ok())
}

/// `every_ms=M` in `/publish`: events `M` ms apart (paced), else at once (a
/// burst). Waits for the next one's turn.
struct Pace(Option<tokio::time::Interval>);

impl Pace {
    fn of(query: Option<&str>) -> Self {
        Self(param_of(query, "every_ms").filter(|ms| *ms > 0).map(|ms| {
            let mut every = tokio::time::interval(Duration::from_millis(ms));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every
        }))
    }

    async fn next(&mut self) {
        if let Some(every) = &mut self.0 {
            every.tick().await;
        }
    }
}

mod with_justsse {
    use super::*;
    use justsse::extract::{Context, Extract};
    use justsse::hub::{Hub, MemoryConfig};
    use justsse::prelude::*;

    /// The raw query string.
    struct RawQuery(Option<String>);

    impl Extract for RawQuery {
        async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
            Ok(RawQuery(cx.head().query().map(str::to_owned)))
        }
    }

    struct Bench {
        hub: Hub<u8>,
    }

    #[controller("/")]
    impl Bench {
        #[get("/json")]
        async fn json(&self) -> Json<Hello> {
            Json(Hello {
                message: "hello",
                n: 42,
            })
        }

        #[sse("/events")]
        async fn events(&self) -> justsse::hub::Subscription {
            self.hub.subscribe(&0, None).await
        }

        /// The runtime's live tasks, for the soak (`bench --soak`).
        #[get("/stats")]
        async fn stats(&self) -> Json<serde_json::Value> {
            let tasks = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            Json(serde_json::json!({ "tasks": tasks }))
        }

        #[get("/publish")]
        async fn publish(&self, raw: RawQuery) -> Result<String, HttpError> {
            let count = count_of(raw.0.as_deref());
            let mut pace = Pace::of(raw.0.as_deref());
            for n in 0..count {
                pace.next().await;
                self.hub
                    .publish(&0, Event::named("tick").data(event_data(n)))
                    .await?;
            }
            Ok(count.to_string())
        }
    }

    pub(crate) async fn run(port: u16) {
        let hub = Hub::memory(MemoryConfig {
            replay: CAPACITY,
            ..MemoryConfig::default()
        });
        let config = ServerConfig::default().keep_alive(KeepAlive::off());
        let mut app = App::new().controller(Bench { hub }).config(config);
        match justsse::tls::TlsConfig::from_env() {
            Ok(Some(tls)) => app = app.tls(tls),
            Ok(None) => {}
            Err(err) => return eprintln!("justsse: {err}"),
        }
        if let Err(err) = app.serve(format!("127.0.0.1:{port}")).await {
            eprintln!("justsse: {err}");
        }
    }
}

/// The justsse runtime alone, hand-wired, streaming a tokio broadcast of
/// pre-encoded events like raw hyper: separates the runtime's cost from the hub's.
mod with_justsse_runtime {
    use super::*;
    use futures_util::StreamExt;
    use justsse::runtime::{Router, get, sse};
    use justsse::{Event, Json, KeepAlive, Request, Sse};
    use tokio::sync::broadcast;
    use tokio_stream::wrappers::BroadcastStream;

    pub(crate) async fn run(port: u16) {
        let (tx, _) = broadcast::channel::<Event>(CAPACITY);
        let events_tx = tx.clone();
        let router = Router::new()
            .route(
                "/json",
                get(|_: Request| async {
                    Json(Hello {
                        message: "hello",
                        n: 42,
                    })
                }),
            )
            .route(
                "/events",
                sse(move |_: Request| {
                    let rx = events_tx.subscribe();
                    async move {
                        Sse::new(
                            BroadcastStream::new(rx).filter_map(|item| async move {
                                item.ok().map(Ok::<_, Infallible>)
                            }),
                        )
                        .keep_alive(KeepAlive::off())
                    }
                }),
            )
            .route(
                "/publish",
                get(move |req: Request| {
                    let tx = tx.clone();
                    async move {
                        let count = count_of(req.uri().query());
                        let mut pace = Pace::of(req.uri().query());
                        for n in 0..count {
                            pace.next().await;
                            if let Ok(event) = Event::named("tick").data(event_data(n)).freeze() {
                                let _ = tx.send(event);
                            }
                        }
                        count.to_string()
                    }
                }),
            );
        if let Err(err) =
            justsse::runtime::serve(format!("127.0.0.1:{port}"), router, std::future::pending())
                .await
        {
            eprintln!("justsse-runtime: {err}");
        }
    }
}

mod with_axum {
    use super::*;
    use axum::extract::{RawQuery, State};
    use axum::response::sse::{Event, Sse};
    use axum::routing::get;
    use futures_util::StreamExt;
    use tokio::sync::broadcast;
    use tokio_stream::wrappers::BroadcastStream;

    /// What an axum user writes: a broadcast of the data, an SSE event built per
    /// subscriber, lagged receivers skipping what they missed.
    pub(crate) async fn run(port: u16) {
        let (tx, _) = broadcast::channel::<String>(CAPACITY);
        let app = axum::Router::new()
            .route("/json", get(|| async { axum::Json(Hello { message: "hello", n: 42 }) }))
            .route(
                "/events",
                get(|State(tx): State<broadcast::Sender<String>>| async move {
                    let events = BroadcastStream::new(tx.subscribe())
                        .filter_map(|item| async move { item.ok() })
                        .map(|data| Ok::<_, Infallible>(Event::default().event("tick").data(data)));
                    Sse::new(events)
                }),
            )
            .route(
                "/publish",
                get(|State(tx): State<broadcast::Sender<String>>, RawQuery(q): RawQuery| async move {
                    let count = count_of(q.as_deref());
                    let mut pace = Pace::of(q.as_deref());
                    for n in 0..count {
                        pace.next().await;
                        let _ = tx.send(event_data(n));
                    }
                    count.to_string()
                }),
            )
            .with_state(tx);
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(err) => return eprintln!("axum: {err}"),
        };
        match justsse::tls::TlsConfig::from_env() {
            Ok(Some(tls)) => serve_tls(listener, app, tls).await,
            Ok(None) => {
                if let Err(err) = axum::serve(listener, app).await {
                    eprintln!("axum: {err}");
                }
            }
            Err(err) => eprintln!("axum: {err}"),
        }
    }

    /// axum over TLS as its users serve it: tokio-rustls, then hyper-util's
    /// auto builder (HTTP/2 or HTTP/1.1 by ALPN) with the router as the service.
    async fn serve_tls(
        listener: tokio::net::TcpListener,
        app: axum::Router,
        tls: justsse::tls::TlsConfig,
    ) {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        use hyper_util::service::TowerToHyperService;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.rustls().clone());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                    .await;
            });
        }
    }
}

mod with_hyper {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
    use hyper::body::Frame;
    use hyper::service::service_fn;
    use hyper::{Request, Response, body::Incoming};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tokio::sync::broadcast;
    use tokio_stream::wrappers::BroadcastStream;

    type Body = BoxBody<Bytes, Infallible>;

    /// The ceiling: hand-written hyper, each event encoded once and the same
    /// bytes written to every subscriber.
    async fn handle(
        req: Request<Incoming>,
        tx: broadcast::Sender<Bytes>,
    ) -> Result<Response<Body>, Infallible> {
        let response = match req.uri().path() {
            "/json" => {
                let body = serde_json::to_vec(&Hello {
                    message: "hello",
                    n: 42,
                })
                .unwrap_or_default();
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)).boxed())
            }
            "/events" => {
                let frames = BroadcastStream::new(tx.subscribe())
                    .filter_map(|item| async move { item.ok() })
                    .map(|bytes| Ok::<_, Infallible>(Frame::data(bytes)));
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .header("cache-control", "no-cache")
                    .body(BodyExt::boxed(StreamBody::new(frames)))
            }
            "/publish" => {
                let count = count_of(req.uri().query());
                let mut pace = Pace::of(req.uri().query());
                for n in 0..count {
                    pace.next().await;
                    let wire = format!("event: tick\ndata: {}\n\n", event_data(n));
                    let _ = tx.send(Bytes::from(wire));
                }
                Response::builder().body(Full::new(Bytes::from(count.to_string())).boxed())
            }
            _ => Response::builder()
                .status(404)
                .body(Full::new(Bytes::new()).boxed()),
        };
        Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed())))
    }

    /// `http1_only`: the floor, hyper's own HTTP/1.1 connection with no
    /// version detection; otherwise hyper-util's auto builder (HTTP/1.1 or
    /// h2c by the first bytes).
    pub(crate) async fn run(port: u16, http1_only: bool) {
        let (tx, _) = broadcast::channel::<Bytes>(CAPACITY);
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(err) => return eprintln!("hyper: {err}"),
        };
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let tx = tx.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, tx.clone()));
                let io = TokioIo::new(stream);
                if http1_only {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                }
            });
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(3100);
    match args.get(1).map(String::as_str) {
        Some("justsse") => with_justsse::run(port).await,
        Some("justsse-runtime") => with_justsse_runtime::run(port).await,
        Some("axum") => with_axum::run(port).await,
        Some("hyper") => with_hyper::run(port, false).await,
        Some("hyper-http1") => with_hyper::run(port, true).await,
        Some("justsse-app") => app::with_justsse::run(port).await,
        Some("axum-app") => app::with_axum::run(port).await,
        Some("hyper-http1-app") => app::with_hyper::run(port).await,
        _ => eprintln!(
            "usage: bench-server <justsse|justsse-runtime|axum|hyper|hyper-http1|justsse-app|axum-app|hyper-http1-app> <port>"
        ),
    }
}
