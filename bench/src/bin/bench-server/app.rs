//! The tickets contract written the way each framework's users write it
//! (issue 32): `GET /tickets/:id` (authenticated, the ticket as JSON),
//! `GET /tickets/:id/events` (authenticated, admins only, a `connected` event
//! with the ticket, then the ticket's comments) and
//! `GET /tickets/:id/publish?count=N&every_ms=M` (N comments on the ticket).
//! A topic per ticket, a bearer token naming a user, a ticket looked up per
//! request. justsse as the guide teaches (`#[uses(auth)]`, `#[guard]`,
//! `Resolve`, a `Hub` topic per ticket, typed events, `stream!`); axum and raw
//! hyper with what their users hand-roll (an extractor or a header check, a
//! `HashMap` of tokio broadcasts, one per ticket).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bench::now_micros;
use serde::Serialize;

use super::{Pace, count_of};

/// A ticket.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Ticket {
    id: u64,
    subject: &'static str,
}

/// A comment event's data, stamped when published.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Comment {
    t: u64,
    n: u64,
    pad: &'static str,
}

impl Comment {
    fn new(n: u64) -> Self {
        Self {
            t: now_micros(),
            n,
            pad: bench::PAD,
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) struct User {
    #[allow(dead_code)]
    name: &'static str,
    is_admin: bool,
}

/// The tickets every server knows: 1 to 100.
fn ticket(id: u64) -> Option<Ticket> {
    (1..=100).contains(&id).then_some(Ticket {
        id,
        subject: "printer on fire",
    })
}

/// The user a bearer token names.
fn user(authorization: Option<&str>) -> Option<User> {
    match authorization?.strip_prefix("Bearer ")? {
        "admin-token" => Some(User {
            name: "admin",
            is_admin: true,
        }),
        "user-token" => Some(User {
            name: "user",
            is_admin: false,
        }),
        _ => None,
    }
}

/// A topic per ticket, made on first use: what axum and hyper users keep.
struct Topics<T>(Mutex<HashMap<u64, tokio::sync::broadcast::Sender<T>>>);

impl<T: Clone> Topics<T> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    fn sender(&self, id: u64) -> tokio::sync::broadcast::Sender<T> {
        let mut topics = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        topics
            .entry(id)
            .or_insert_with(|| tokio::sync::broadcast::channel(super::CAPACITY).0)
            .clone()
    }
}

pub(crate) mod with_justsse {
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

    #[derive(Clone)]
    pub(crate) struct Store {
        hub: Hub<u64>,
    }

    impl Resolve for Ticket {
        type Key = u64;
        type State = Store;

        async fn resolve(id: u64, _: &Store) -> Result<Option<Self>, HttpError> {
            Ok(ticket(id))
        }
    }

    async fn auth(head: &RequestHead) -> Result<User, HttpError> {
        user(head.header("authorization")).ok_or_else(|| HttpError::unauthorized("unknown token"))
    }

    #[derive(SseEvent)]
    enum TicketEvent {
        Connected(Ticket),
        Comment(Comment),
    }

    struct Tickets {
        store: Store,
    }

    #[controller("/tickets")]
    impl Tickets {
        #[get("/:ticket")]
        #[uses(auth)]
        async fn show(&self, ticket: Ticket) -> Json<Ticket> {
            Json(ticket)
        }

        #[sse("/:ticket/events", events = TicketEvent)]
        #[uses(auth)]
        #[guard(|user: &User| user.is_admin)]
        async fn events(&self, ticket: Ticket, last: LastEventId) -> impl EventStream {
            let mut comments = self.store.hub.subscribe(&ticket.id, last.as_deref()).await;
            stream! {
                yield TicketEvent::Connected(ticket);
                while let Some(comment) = comments.next().await {
                    yield comment;
                }
            }
        }

        #[get("/:ticket/publish")]
        async fn publish(&self, ticket: Ticket, raw: RawQuery) -> Result<String, HttpError> {
            let count = count_of(raw.0.as_deref());
            let mut pace = Pace::of(raw.0.as_deref());
            for n in 0..count {
                pace.next().await;
                let event = TicketEvent::Comment(Comment::new(n)).to_event()?;
                self.store.hub.publish(&ticket.id, event).await?;
            }
            Ok(count.to_string())
        }
    }

    pub(crate) async fn run(port: u16) {
        let hub = Hub::memory(MemoryConfig {
            replay: super::super::CAPACITY,
            ..MemoryConfig::default()
        });
        let store = Store { hub };
        let config = ServerConfig::default().keep_alive(KeepAlive::off());
        let app = App::new()
            .config(config)
            .state(store.clone())
            .controller(Tickets { store });
        if let Err(err) = app.serve(format!("127.0.0.1:{port}")).await {
            eprintln!("justsse-app: {err}");
        }
    }
}

pub(crate) mod with_axum {
    use super::*;
    use axum::extract::{FromRequestParts, Path, RawQuery, State};
    use axum::http::StatusCode;
    use axum::http::request::Parts;
    use axum::response::sse::{Event, Sse};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use futures_util::StreamExt;
    use std::convert::Infallible;
    use tokio_stream::wrappers::BroadcastStream;

    type Shared = Arc<Topics<String>>;

    impl<S: Send + Sync> FromRequestParts<S> for User {
        type Rejection = StatusCode;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
            let header = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            user(header).ok_or(StatusCode::UNAUTHORIZED)
        }
    }

    async fn show(_: User, Path(id): Path<u64>) -> Response {
        match ticket(id) {
            Some(ticket) => axum::Json(ticket).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }

    async fn events(user: User, Path(id): Path<u64>, State(topics): State<Shared>) -> Response {
        if !user.is_admin {
            return StatusCode::FORBIDDEN.into_response();
        }
        let Some(ticket) = ticket(id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let connected = Event::default()
            .event("connected")
            .json_data(&ticket)
            .unwrap_or_default();
        let comments = BroadcastStream::new(topics.sender(id).subscribe())
            .filter_map(|item| async move { item.ok() })
            .map(|data| Event::default().event("comment").data(data));
        let events = futures_util::stream::once(async move { connected })
            .chain(comments)
            .map(Ok::<_, Infallible>);
        Sse::new(events).into_response()
    }

    async fn publish(
        Path(id): Path<u64>,
        State(topics): State<Shared>,
        RawQuery(q): RawQuery,
    ) -> Response {
        if ticket(id).is_none() {
            return StatusCode::NOT_FOUND.into_response();
        }
        let count = count_of(q.as_deref());
        let mut pace = Pace::of(q.as_deref());
        let sender = topics.sender(id);
        for n in 0..count {
            pace.next().await;
            let data = serde_json::to_string(&Comment::new(n)).unwrap_or_default();
            let _ = sender.send(data);
        }
        count.to_string().into_response()
    }

    pub(crate) async fn run(port: u16) {
        let app = axum::Router::new()
            .route("/tickets/{id}", get(show))
            .route("/tickets/{id}/events", get(events))
            .route("/tickets/{id}/publish", get(publish))
            .with_state(Arc::new(Topics::new()));
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => {
                if let Err(err) = axum::serve(listener, app).await {
                    eprintln!("axum-app: {err}");
                }
            }
            Err(err) => eprintln!("axum-app: {err}"),
        }
    }
}

pub(crate) mod with_hyper {
    use super::*;
    use bytes::Bytes;
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
    use hyper::body::Frame;
    use hyper::service::service_fn;
    use hyper::{Request, Response, body::Incoming};
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use std::time::Duration;
    use tokio_stream::wrappers::BroadcastStream;

    type Body = BoxBody<Bytes, Infallible>;

    fn status(code: u16) -> Response<Body> {
        let mut response = Response::new(Full::new(Bytes::new()).boxed());
        *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or_default();
        response
    }

    /// Hand-written routing and checks, each event encoded once per ticket.
    async fn handle(
        req: Request<Incoming>,
        topics: Arc<Topics<Bytes>>,
    ) -> Result<Response<Body>, Infallible> {
        let path = req.uri().path();
        let Some(rest) = path.strip_prefix("/tickets/") else {
            return Ok(status(404));
        };
        let (id, action) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(ticket) = id.parse().ok().and_then(ticket) else {
            return Ok(status(404));
        };
        let authorization = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let response = match action {
            "" => {
                if user(authorization).is_none() {
                    return Ok(status(401));
                }
                let body = serde_json::to_vec(&ticket).unwrap_or_default();
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)).boxed())
            }
            "events" => {
                match user(authorization) {
                    None => return Ok(status(401)),
                    Some(user) if !user.is_admin => return Ok(status(403)),
                    Some(_) => {}
                }
                let connected = format!(
                    "event: connected\ndata: {}\n\n",
                    serde_json::to_string(&ticket).unwrap_or_default()
                );
                let comments = BroadcastStream::new(topics.sender(ticket.id).subscribe())
                    .filter_map(|item| async move { item.ok() });
                let frames = futures_util::stream::once(async move { Bytes::from(connected) })
                    .chain(comments)
                    .map(|bytes| Ok::<_, Infallible>(Frame::data(bytes)));
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .header("cache-control", "no-cache")
                    .body(BodyExt::boxed(StreamBody::new(frames)))
            }
            "publish" => {
                let count = count_of(req.uri().query());
                let mut pace = Pace::of(req.uri().query());
                let sender = topics.sender(ticket.id);
                for n in 0..count {
                    pace.next().await;
                    let data = serde_json::to_string(&Comment::new(n)).unwrap_or_default();
                    let _ = sender.send(Bytes::from(format!("event: comment\ndata: {data}\n\n")));
                }
                Response::builder().body(Full::new(Bytes::from(count.to_string())).boxed())
            }
            _ => return Ok(status(404)),
        };
        Ok(response.unwrap_or_else(|_| status(500)))
    }

    /// On `hyper::server::conn::http1`: the floor.
    pub(crate) async fn run(port: u16) {
        let topics = Arc::new(Topics::new());
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(err) => return eprintln!("hyper-app: {err}"),
        };
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let topics = topics.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, topics.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }
}
