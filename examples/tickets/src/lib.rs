//! The JustScale ticket controller, in justsse: the app, built by [`app`].
//!
//! ```text
//! cargo run -p tickets            # PORT=3000 by default
//! curl -X POST localhost:3000/tickets -H 'content-type: application/json' -d '{"subject":"printer on fire"}'
//! curl -N localhost:3000/tickets/1/events -H 'authorization: Bearer admin-token'
//! curl -X POST localhost:3000/tickets/1/comments -H 'content-type: application/json' -d '{"body":"on it"}'
//! ```

use std::collections::HashMap;
use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};

use justsse::http::{HeaderName, HeaderValue, Method, header};
use justsse::openapi::{OpenApi, SecurityScheme};
use justsse::prelude::*;
use justsse::{Request, Response, middleware::Next};
use metrics_exporter_prometheus::PrometheusHandle;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tower_http::cors::CorsLayer;
use tracing::Instrument;

mod records;

pub use records::{InMemory, MAX_RECORD_BYTES, MAX_TICKETS, Records};

/// A ticket.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Ticket {
    /// Its number.
    pub id: u64,
    /// What it is about.
    pub subject: String,
}

/// The tickets, their comments and their live updates, shared by the app.
#[derive(Clone, Default)]
pub struct TicketStore {
    records: Records,
    hub: Hub<u64>,
}

/// `:ticket` in a path: a number (400 otherwise) naming an existing ticket (404).
impl Resolve for Ticket {
    type Key = u64;
    type State = TicketStore;

    async fn resolve(id: u64, store: &TicketStore) -> Result<Option<Self>, HttpError> {
        store.records.get(id).await
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub struct User {
    /// The user's name.
    pub name: &'static str,
    /// Whether the user may watch tickets live.
    pub is_admin: bool,
}

/// Who each session token belongs to: app state, read by [`auth`].
#[derive(Debug, Clone)]
pub struct Sessions {
    users: HashMap<String, User>,
}

impl Sessions {
    /// The demo's two sessions: `admin-token` (an admin) and `user-token`.
    pub fn demo() -> Self {
        let mut sessions = Self {
            users: HashMap::new(),
        };
        sessions.insert(
            "admin-token",
            User {
                name: "admin",
                is_admin: true,
            },
        );
        sessions.insert(
            "user-token",
            User {
                name: "user",
                is_admin: false,
            },
        );
        sessions
    }

    /// Opens a session: `token` now authenticates `user`.
    pub fn insert(&mut self, token: &str, user: User) {
        self.users.insert(token.to_owned(), user);
    }

    /// The user `token` belongs to.
    pub fn user(&self, token: &str) -> Option<&User> {
        self.users.get(token)
    }
}

/// `Authorization: Bearer <token>`, or a `token` cookie for browsers, whose
/// `EventSource` cannot set headers; the token is looked up in the
/// [`Sessions`] held in app state.
pub async fn auth(head: &RequestHead, sessions: State<Sessions>) -> Result<User, HttpError> {
    let token = head
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .or_else(|| head.cookie("token"))
        .ok_or_else(|| {
            HttpError::unauthorized("send `Authorization: Bearer <token>` or a `token` cookie")
        })?;
    sessions
        .user(token)
        .cloned()
        .ok_or_else(|| HttpError::unauthorized("unknown token"))
}

/// A ticket as it is opened.
#[derive(Deserialize, JsonSchema)]
struct NewTicket {
    /// What it is about.
    subject: String,
}

/// A comment as it is posted.
#[derive(Deserialize, JsonSchema)]
struct Comment {
    /// What it says: at most 4,096 bytes (`MAX_COMMENT`).
    body: String,
}

/// The longest comment, in bytes: a longer one is answered 413.
pub const MAX_COMMENT: usize = 4096;

/// The longest ticket subject, in bytes: a longer one is answered 413.
pub const MAX_SUBJECT: usize = 256;

/// The largest request body the app reads: a comment or a subject with room
/// for JSON escapes; past it, 413 before any of it is kept.
pub const BODY_LIMIT: usize = 6 * MAX_COMMENT;

/// 413 for `what`, longer than `max` bytes.
fn too_long(what: &str, max: usize) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("{what} is longer than {max} bytes"),
    )
}

/// A comment on a ticket, numbered from 1 per ticket: a client merging the
/// snapshot (`GET /tickets/:ticket/comments`) with live events tells repeats
/// by the number.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PostedComment {
    /// Its number on the ticket.
    pub id: u64,
    /// What it says.
    pub body: String,
}

/// What a ticket's event stream sends: the names are checked at compile time
/// and listed in the route table (`events connected, comment`).
#[derive(SseEvent)]
pub enum TicketEvent {
    /// First, the ticket as it is.
    Connected(Ticket),
    /// Then every new comment.
    Comment(PostedComment),
}

struct TicketController {
    store: TicketStore,
}

#[controller("/tickets")]
impl TicketController {
    /// List tickets.
    #[get("/")]
    async fn list(&self) -> Result<Json<Vec<Ticket>>, HttpError> {
        Ok(Json(self.store.records.list().await?))
    }

    /// Open a ticket.
    #[post("/", responses(507))]
    async fn create(&self, Json(new): Json<NewTicket>) -> Result<Created<Ticket>, HttpError> {
        if new.subject.len() > MAX_SUBJECT {
            return Err(too_long("the subject", MAX_SUBJECT));
        }
        let ticket = self.store.records.create(new.subject).await?;
        Ok(Created(ticket))
    }

    /// One ticket.
    #[get("/:ticket")]
    async fn show(&self, ticket: Ticket) -> Json<Ticket> {
        Json(ticket)
    }

    /// Comment on a ticket; subscribers of its events see it live.
    #[post("/:ticket/comments", responses(507))]
    async fn comment(
        &self,
        ticket: Ticket,
        Json(comment): Json<Comment>,
    ) -> Result<Created<PostedComment>, HttpError> {
        if comment.body.len() > MAX_COMMENT {
            return Err(too_long("the comment", MAX_COMMENT));
        }
        // Stored and published (in one transaction, on PostgreSQL).
        let records = &self.store.records;
        let posted = records
            .comment(&self.store.hub, ticket.id, comment.body)
            .await?;
        Ok(Created(posted))
    }

    /// Every comment of a ticket so far: what a client that got a `resync`
    /// fetches, then merges with the events that follow (by comment number).
    #[get("/:ticket/comments")]
    #[uses(auth)]
    #[guard(|user: &User| user.is_admin)]
    async fn comments(&self, ticket: Ticket) -> Result<Json<Vec<PostedComment>>, HttpError> {
        Ok(Json(self.store.records.comments(ticket.id).await?))
    }

    /// Live events of one ticket, for admins: `connected`, then every comment.
    /// A browser that reconnects resumes after the last comment it saw.
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
}

/// The service's status.
#[derive(Clone, Serialize, JsonSchema)]
pub struct Status {
    /// How many tickets exist.
    pub tickets: usize,
    /// Seconds since start.
    pub uptime_s: u64,
}

struct StatusController {
    store: TicketStore,
    started: tokio::time::Instant,
}

/// The status now.
async fn status_of(
    store: &TicketStore,
    started: tokio::time::Instant,
) -> Result<Status, HttpError> {
    Ok(Status {
        tickets: store.records.count().await?,
        uptime_s: started.elapsed().as_secs(),
    })
}

#[controller("/status")]
impl StatusController {
    /// The status: JSON, or for an event stream the status every 5 seconds.
    #[get("/", sse)]
    async fn status(&self, updates: Option<Channel<Status>>) -> Result<Json<Status>, HttpError> {
        if let Some(updates) = updates {
            let store = self.store.clone();
            let started = self.started;
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(5));
                every.tick().await;
                loop {
                    // The task ends as soon as its client leaves, not at its
                    // next send: clients that open and drop streams at once
                    // leave no task behind.
                    tokio::select! {
                        () = updates.closed() => break,
                        _ = every.tick() => {}
                    }
                    // Records unreachable for a moment: no update this time.
                    let Ok(status) = status_of(&store, started).await else {
                        continue;
                    };
                    if updates.send(&status).await.is_err() {
                        break; // the client left
                    }
                }
            });
        }
        Ok(Json(status_of(&self.store, self.started).await?))
    }
}

/// The whole application on the in-memory hub.
pub fn app() -> App {
    app_with_hub(Hub::new())
}

/// Where request ids come from when the client sends none: this process's
/// start, then a counter.
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// Every response carries an `x-request-id`: the client's, or a new one; the
/// request is served inside a `tracing` span that carries it.
pub async fn request_id(req: Request, next: Next) -> Response {
    let id = match req.header("x-request-id") {
        Some(id) if is_request_id(id) => id.to_owned(),
        _ => format!(
            "{:x}-{}",
            std::process::id(),
            NEXT_REQUEST.fetch_add(1, Ordering::Relaxed)
        ),
    };
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(req).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Whether a client's `x-request-id` is taken as it is: 1 to 128 letters,
/// digits and `-_.:`. Anything else (a line break, a quote, spaces) would let
/// a client forge log lines or headers, so a new id is made instead.
pub fn is_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// `app` with CORS for the browser origins in `origins` (comma-separated, as
/// the `CORS_ORIGINS` variable gives them): credentials allowed, so an
/// `EventSource` with `withCredentials` on another origin may open the streams.
///
/// `*` (alone or among others) allows every origin **without** credentials:
/// any page may then call the API with an `Authorization` header it holds
/// itself, but no page can use a visitor's cookie, since allowing credentials
/// to every origin would let any site act as its visitors.
pub fn with_cors(app: App, origins: &str) -> App {
    let origins: Vec<&str> = origins
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .collect();
    let cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ]);
    let cors = if origins.contains(&"*") {
        cors.allow_origin(tower_http::cors::Any)
    } else {
        let origins: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        cors.allow_origin(origins).allow_credentials(true)
    };
    app.layer(cors)
}

/// The server's metrics, for admins only: what they say (streams open,
/// clients refused, the hub's bytes) helps an attacker as much as an operator.
struct MetricsController {
    exporter: PrometheusHandle,
}

#[controller("/")]
impl MetricsController {
    /// The server's metrics in Prometheus text (the exporter holds what the
    /// `metrics` facade recorded). Prometheus scrapes it with
    /// `authorization: { credentials: <an admin token> }`.
    #[get("/metrics")]
    #[uses(auth)]
    #[guard(|user: &User| user.is_admin)]
    async fn metrics(&self) -> String {
        self.exporter.render()
    }
}

/// Serves `GET /metrics` in Prometheus text from `exporter`, to admins only
/// (`401` without a token, `403` for others): connections, streams by end
/// reason, events and bytes sent, rejections, timeouts, the hub's bytes and
/// resyncs (the names are listed in docs/runtime.md). To keep metrics off the
/// public port altogether, leave this out and let the exporter listen on a
/// private address of its own (`PrometheusBuilder::with_http_listener`).
pub fn with_metrics(app: App, exporter: PrometheusHandle) -> App {
    app.controller(MetricsController { exporter })
}

/// What the OpenAPI document at `GET /openapi.json` says about the API.
pub fn openapi() -> OpenApi {
    OpenApi::new("Tickets", env!("CARGO_PKG_VERSION"))
        .description(
            "Support tickets, their comments, and each ticket's live events \
             (Server-Sent Events; admins only: `authorization: Bearer <token>`).",
        )
        .security("auth", SecurityScheme::bearer())
}

/// The most event streams one client (an IPv4 address, an IPv6 /64) holds
/// open: a browser needs one per open tab.
pub const MAX_STREAMS_PER_CLIENT: usize = 32;

/// The server settings of the app: bodies no larger than [`BODY_LIMIT`] and
/// [`MAX_STREAMS_PER_CLIENT`]. Behind a load balancer every client has its
/// address: raise the per-client limit there and set one on the balancer.
pub fn config() -> ServerConfig {
    ServerConfig::default()
        .body_limit(BODY_LIMIT)
        .max_streams_per_ip(MAX_STREAMS_PER_CLIENT)
}

/// The whole application on `hub`, its records in this process's memory.
pub fn app_with_hub(hub: Hub<u64>) -> App {
    app_with(Records::default(), hub)
}

/// The whole application: ticket and status controllers sharing one store of
/// `records` and live events on `hub`. With both in Redis
/// ([`Records::redis`], a Redis hub) or both in PostgreSQL
/// ([`Records::postgres`], a PostgreSQL hub), instances keep no state of their own:
/// any of them answers any request, behind a load balancer.
pub fn app_with(records: Records, hub: Hub<u64>) -> App {
    let store = TicketStore { records, hub };
    App::new()
        .config(config())
        .openapi_at("/openapi.json", openapi())
        .wrap(request_id)
        .state(Sessions::demo())
        .state(store.clone())
        .controller(TicketController {
            store: store.clone(),
        })
        .controller(StatusController {
            store,
            started: tokio::time::Instant::now(),
        })
}
