//! A Model Context Protocol server over Streamable HTTP, built by [`app`]: one
//! endpoint, `/mcp`, in one controller.
//!
//! - `POST /mcp` takes one JSON-RPC message. `initialize` begins a session
//!   (`Mcp-Session-Id`, 128 random bits) at the newest handshake revision the
//!   client also speaks (2025-11-25, 2025-06-18, 2025-03-26; batches only at
//!   2025-03-26); a quick method answers JSON, a slow one (`countdown`) an
//!   event stream of `notifications/progress` then its result; notifications
//!   and responses get `202`. Without a session id: `400`; an unknown or ended
//!   one: `404`. A request of the stateless revision 2026-07-28
//!   (`server/discover`, per-request `_meta`, `Mcp-Method`/`Mcp-Name` checked
//!   against the body) needs no session, and its stream ends its work when
//!   the client closes it.
//! - `GET /mcp` opens the session's own stream (`notifications/resources/
//!   updated` after a subscribed resource changes); a newer one replaces it.
//! - `GET /mcp` with `Last-Event-ID` resumes whichever stream that id came
//!   from, a POST's or the session's own: every event id names its stream
//!   (`r<stream>_<n>`, `g_<n>`), and the hub replays what was missed, on any
//!   instance when the hub and the sessions are in Redis. A handshake-era
//!   request's work is detached from its connection (a dropped connection is
//!   not a cancellation); `notifications/cancelled` stops it.
//! - `DELETE /mcp` ends the session.
//! - `Origin`, when sent, must be an allowed one (`403` otherwise): local
//!   pages by default, against DNS rebinding. With tokens configured,
//!   `Authorization: Bearer` is required too (`401`).
//!
//! ```text
//! cargo run -p mcp                    # 127.0.0.1:3000/mcp
//! curl -i localhost:3000/mcp -H 'content-type: application/json' \
//!   -H 'accept: application/json, text/event-stream' \
//!   -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use justsse::extract::{Context, Extract};
use justsse::http::{HeaderMap, HeaderValue, StatusCode, header};
use justsse::hub::Subscription;
use justsse::prelude::*;
use serde_json::{Value, json};

mod methods;
mod modern;
mod rpc;
mod sessions;

pub use methods::{INFO, NOTE};
pub use sessions::{FIRST_NOTE, Memory, Store};

use methods::{Answer, Messages, Methods, session_topic};
use rpc::{INVALID_REQUEST, Message, PARSE_ERROR, RpcError};

/// The handshake revisions spoken, newest first.
pub const HANDSHAKE_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// The stateless revisions spoken.
pub const MODERN_VERSIONS: [&str; 1] = ["2026-07-28"];

const SESSION_ID: &str = "mcp-session-id";
const PROTOCOL_VERSION: &str = "mcp-protocol-version";

/// An event that ends a stream without reaching the client: a cancelled
/// request's, or a session stream replaced or ended.
const END: &str = "end";
/// A control event on a session's stream: a newer `GET` took over.
const TAKEOVER: &str = "takeover";

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `Origin` values allowed besides local pages (`http://localhost`,
    /// `http://127.0.0.1`, `http://[::1]`, any port).
    pub origins: Vec<String>,
    /// Bearer tokens; empty: no authentication.
    pub tokens: Vec<String>,
    /// How long a stream holds its connection before the server closes it
    /// and the client comes back with `Last-Event-ID` (the transport's
    /// "polling"); `None`: until its work ends. Keep it well above a Redis
    /// hub's [`block`](justsse::hub::RedisConfig::block) (250 ms), the
    /// longest a stream's first event may wait.
    pub hold: Option<Duration>,
    /// The `retry` sent at a resumable stream's start: how long the client
    /// waits before it comes back.
    pub retry: Duration,
    /// Countdown steps taken by this instance, by every countdown: one that
    /// was cancelled stops adding to it.
    pub steps: Arc<AtomicU64>,
    /// Countdowns in progress on this instance: one whose request was
    /// cancelled (or, stateless, whose stream was closed) is dropped at once.
    pub running: Arc<AtomicU64>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            origins: Vec::new(),
            tokens: Vec::new(),
            hold: None,
            retry: Duration::from_secs(1),
            steps: Arc::default(),
            running: Arc::default(),
        }
    }
}

/// The `Origin`s allowed: app state, read by [`origin`].
#[derive(Debug, Clone)]
pub struct Origins(pub Vec<String>);

/// The bearer tokens accepted: app state, read by [`bearer`].
#[derive(Debug, Clone)]
pub struct Tokens(pub Vec<String>);

/// A request whose `Origin`, if any, is allowed.
#[derive(Debug, Clone)]
pub struct Allowed;

/// A caller authenticated (or none needed).
#[derive(Debug, Clone)]
pub struct Caller;

/// Whether `origin` is a local page: `http(s)://localhost`, `127.0.0.1` or
/// `[::1]`, any port.
fn is_local(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix("[::1]") {
        Some(port) => return port.is_empty() || is_port(port),
        None => rest.split_once(':').map_or(rest, |(host, _)| host),
    };
    let port = &rest[host.len()..];
    matches!(host, "localhost" | "127.0.0.1") && (port.is_empty() || is_port(port))
}

fn is_port(port: &str) -> bool {
    port.strip_prefix(':')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Against DNS rebinding: a request with an `Origin` that is neither a local
/// page nor one of [`Origins`] gets `403`.
pub async fn origin(head: &RequestHead, allowed: State<Origins>) -> Result<Allowed, HttpError> {
    match head.header("origin") {
        None => Ok(Allowed),
        Some(origin) if is_local(origin) || allowed.0.iter().any(|o| o == origin) => Ok(Allowed),
        Some(origin) => Err(HttpError::forbidden(format!(
            "the origin {origin} is not allowed"
        ))),
    }
}

/// With [`Tokens`] configured, `Authorization: Bearer <token>` with one of
/// them; `401` otherwise.
pub async fn bearer(head: &RequestHead, tokens: State<Tokens>) -> Result<Caller, HttpError> {
    if tokens.0.is_empty() {
        return Ok(Caller);
    }
    let given = head
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        Some(token) if tokens.0.iter().any(|known| known == token) => Ok(Caller),
        _ => Err(HttpError::unauthorized("a bearer token is required")
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))),
    }
}

/// The body of a POST: JSON, or text that is not (a JSON-RPC parse error).
pub enum Incoming {
    /// Parsed JSON.
    Json(Value),
    /// Not JSON: serde's message.
    Unparseable(String),
}

/// `415` without `Content-Type: application/json`, `413` over the body limit.
impl Extract for Incoming {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        let json = cx
            .head()
            .header(header::CONTENT_TYPE)
            .is_some_and(|kind| kind.trim_start().starts_with("application/json"));
        if !json {
            return Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "MCP messages are sent as Content-Type: application/json",
            ));
        }
        let bytes = cx.request().bytes().await?;
        Ok(match serde_json::from_slice(&bytes) {
            Ok(value) => Incoming::Json(value),
            Err(err) => Incoming::Unparseable(err.to_string()),
        })
    }
}

/// A JSON response with `status`.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Json(body).into_response();
    *response.status_mut() = status;
    response
}

/// A JSON-RPC error as an HTTP error with `status`.
fn rpc_failure(status: StatusCode, id: &Value, error: &RpcError) -> Response {
    json_response(status, &error.reply(id))
}

/// `202 Accepted`, no body: a notification or response was taken.
fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Whether `Accept` lists both JSON and event streams, as the transport
/// requires of a POST.
fn accepts_both(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let listed = |kind: &str| {
        accept
            .split(',')
            .any(|item| item.split(';').next().is_some_and(|k| k.trim() == kind))
    };
    listed("*/*") || (listed("application/json") && listed("text/event-stream"))
}

/// The transport: sessions, streams and their ids, over [`Methods`].
struct Endpoint {
    methods: Methods,
    config: Arc<Config>,
}

#[controller("/mcp")]
#[uses(origin, bearer)]
impl Endpoint {
    /// One JSON-RPC message (a batch at 2025-03-26): `202` for a
    /// notification or a response; for a request, JSON or an event stream.
    #[post("/", stream)]
    async fn post(&self, headers: HeaderMap, body: Incoming) -> Response {
        if !accepts_both(&headers) {
            return HttpError::new(
                StatusCode::NOT_ACCEPTABLE,
                "Accept must list application/json and text/event-stream",
            )
            .into_response();
        }
        let value = match body {
            Incoming::Json(value) => value,
            Incoming::Unparseable(why) => {
                let error = RpcError::new(PARSE_ERROR, format!("Parse error: {why}"));
                return rpc_failure(StatusCode::BAD_REQUEST, &Value::Null, &error);
            }
        };
        if modern::applies(&headers, &value) {
            return modern::post(&self.methods, &headers, value).await;
        }
        self.handshake_era(&headers, value).await
    }

    /// The session's own stream, or with `Last-Event-ID` the rest of the
    /// stream that id came from.
    #[sse("/")]
    async fn listen(
        &self,
        headers: HeaderMap,
        last: LastEventId,
    ) -> Result<impl Stream<Item = Event> + use<>, HttpError> {
        let (session, _) = self.session(&headers).await?;
        let Some(last) = last.0 else {
            return Ok(self.session_stream(&session, None).await.boxed());
        };
        let (stream, position) = last
            .split_once('_')
            .filter(|(stream, _)| is_stream_name(stream))
            .ok_or_else(|| {
                HttpError::bad_request("Last-Event-ID is not an event id of this server")
            })?;
        if stream == "g" {
            return Ok(self.session_stream(&session, Some(position)).await.boxed());
        }
        let topic = request_topic(&session, stream);
        let events = self.methods.hub.subscribe(&topic, Some(position)).await;
        Ok(self.follow(events, stream.to_owned()).boxed())
    }

    /// Ends the session: later requests naming it get `404`.
    #[delete("/")]
    async fn end(&self, headers: HeaderMap) -> Result<StatusCode, HttpError> {
        let (session, _) = self.session(&headers).await?;
        self.methods.store.end(&session).await?;
        // Its own stream ends, wherever it is served.
        let ended = Event::named(END).data("");
        if let Err(err) = self
            .methods
            .hub
            .publish(&session_topic(&session), ended)
            .await
        {
            tracing::warn!(error = %err, "a session's end was not published");
        }
        Ok(StatusCode::NO_CONTENT)
    }
}

/// Whether `name` is a stream's part of an event id: `g`, or `r` and hex.
fn is_stream_name(name: &str) -> bool {
    name == "g"
        || name
            .strip_prefix('r')
            .is_some_and(|hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The hub topic of a POST's stream `stream` in `session`.
fn request_topic(session: &str, stream: &str) -> String {
    format!("mcp:{session}:{stream}")
}

/// The hub topic where `notifications/cancelled` reach the work.
fn cancel_topic(session: &str) -> String {
    format!("mcp:{session}:c")
}

impl Endpoint {
    /// The session the request names: `400` without one, `404` for one that
    /// never was or has ended; `400` for a protocol version not spoken. Its
    /// id and the version it negotiated.
    async fn session(&self, headers: &HeaderMap) -> Result<(String, String), HttpError> {
        let id = header_str(headers, SESSION_ID)
            .ok_or_else(|| HttpError::bad_request("Mcp-Session-Id is required"))?;
        if let Some(version) = header_str(headers, PROTOCOL_VERSION)
            && !HANDSHAKE_VERSIONS.contains(&version)
        {
            return Err(HttpError::bad_request(format!(
                "MCP-Protocol-Version {version} is not supported"
            )));
        }
        match self.methods.store.version(id).await? {
            Some(version) => Ok((id.to_owned(), version)),
            None => Err(HttpError::not_found("no such session")),
        }
    }

    async fn handshake_era(&self, headers: &HeaderMap, value: Value) -> Response {
        if value.get("method") == Some(&json!("initialize")) {
            return self.initialize(value).await;
        }
        let (session, version) = match self.session(headers).await {
            Ok(session) => session,
            Err(err) => return rpc_error_for(err),
        };
        if let Value::Array(batch) = value {
            return self.batch(&session, &version, batch).await;
        }
        let message = match Message::parse(value) {
            Ok(message) => message,
            Err((id, error)) => return rpc_failure(StatusCode::BAD_REQUEST, &id, &error),
        };
        match message {
            Message::Notification { method, params } => {
                if method == "notifications/cancelled" {
                    self.cancel(&session, &params).await;
                }
                accepted()
            }
            Message::Response => accepted(),
            Message::Request { id, method, params } => {
                match self
                    .methods
                    .call(Some(&session), &id, &method, &params)
                    .await
                {
                    Answer::Now(answer) => json_response(StatusCode::OK, &answered(&id, answer)),
                    Answer::Over(messages) => self.detach(&session, &version, id, messages).await,
                }
            }
        }
    }

    /// `initialize`: the newest revision both speak, a new session.
    async fn initialize(&self, value: Value) -> Response {
        let (id, params) = match Message::parse(value) {
            Ok(Message::Request { id, params, .. }) => (id, params),
            Ok(_) => {
                let error = RpcError::new(INVALID_REQUEST, "initialize is a request");
                return rpc_failure(StatusCode::BAD_REQUEST, &Value::Null, &error);
            }
            Err((id, error)) => return rpc_failure(StatusCode::BAD_REQUEST, &id, &error),
        };
        let Some(asked) = params["protocolVersion"].as_str() else {
            let error = RpcError::params("`protocolVersion` must be a string");
            return rpc_failure(StatusCode::OK, &id, &error);
        };
        let version = HANDSHAKE_VERSIONS
            .into_iter()
            .find(|spoken| *spoken == asked)
            .unwrap_or(HANDSHAKE_VERSIONS[0]);
        let session = match self.methods.store.create(version).await {
            Ok(session) => session,
            Err(err) => return err.into_response(),
        };
        tracing::info!(%session, version, "session began");
        let result = json!({
            "protocolVersion": version,
            "capabilities": capabilities(),
            "serverInfo": server_info(),
            "instructions": "Tools: echo, countdown (progress), write_note. Resources: note://current (subscribe to hear of changes), info://server.",
        });
        let mut response = json_response(StatusCode::OK, &rpc::reply(&id, result));
        if let Ok(value) = HeaderValue::from_str(&session) {
            response.headers_mut().insert(SESSION_ID, value);
        }
        response
    }

    /// A batch (2025-03-26 only): each request answered at once, the answers
    /// in one array.
    async fn batch(&self, session: &str, version: &str, batch: Vec<Value>) -> Response {
        if version != "2025-03-26" || batch.is_empty() {
            let error = RpcError::new(
                INVALID_REQUEST,
                "batches are taken at protocol version 2025-03-26 only, and not empty",
            );
            return rpc_failure(StatusCode::BAD_REQUEST, &Value::Null, &error);
        }
        let mut answers = Vec::new();
        for value in batch {
            match Message::parse(value) {
                Ok(Message::Request { id, method, params }) => {
                    let answer = match self
                        .methods
                        .call(Some(session), &id, &method, &params)
                        .await
                    {
                        Answer::Now(answer) => answered(&id, answer),
                        Answer::Over(messages) => last_of(messages).await,
                    };
                    answers.push(answer);
                }
                Ok(Message::Notification { method, params }) => {
                    if method == "notifications/cancelled" {
                        self.cancel(session, &params).await;
                    }
                }
                Ok(Message::Response) => {}
                Err((id, error)) => answers.push(error.reply(&id)),
            }
        }
        if answers.is_empty() {
            return accepted();
        }
        json_response(StatusCode::OK, &Value::Array(answers))
    }

    /// Tells the work of request `params.requestId`, on whichever instance,
    /// to stop.
    async fn cancel(&self, session: &str, params: &Value) {
        let cancelled = json!({"requestId": params["requestId"]});
        let event = Event::new().data(cancelled.to_string());
        if let Err(err) = self
            .methods
            .hub
            .publish(&cancel_topic(session), event)
            .await
        {
            tracing::warn!(error = %err, "a cancellation was not published");
        }
    }

    /// Runs `messages` detached from this connection, each published on a
    /// topic of its own, and answers the stream that follows it: a dropped
    /// connection does not stop the work, `GET` with `Last-Event-ID` resumes
    /// it, `notifications/cancelled` ends it.
    async fn detach(
        &self,
        session: &str,
        version: &str,
        id: Value,
        messages: Messages,
    ) -> Response {
        let stream = match sessions::new_id() {
            Ok(random) => format!("r{}", &random[..16]),
            Err(err) => return err.into_response(),
        };
        let hub = &self.methods.hub;
        let cancels = hub.subscribe(&cancel_topic(session), None).await;
        let topic = request_topic(session, &stream);
        // From 2025-11-25 a stream begins with an id and empty data, so that a
        // client whose connection drops before the first message can resume:
        // the topic's position before the work starts, sent at once (a hub on
        // Redis may take a read's time to deliver the first event).
        let start = hub.position(&topic).await;
        let primer = start.filter(|_| version >= "2025-11-25").map(|start| {
            Event::new()
                .id(format!("{stream}_{start}"))
                .data("")
                .retry(self.config.retry)
        });
        let events = hub
            .detach(&topic, until_cancelled(messages, cancels, id))
            .await;
        let events = futures_util::stream::iter(primer).chain(self.follow(events, stream));
        Sse::new(events.map(Ok::<_, Infallible>)).into_response()
    }

    /// A POST's stream `stream` from the hub: to its response (or its end),
    /// the ids naming the stream, cut after [`Config::hold`].
    fn follow(
        &self,
        events: Subscription,
        stream: String,
    ) -> impl Stream<Item = Event> + Send + 'static {
        let events = events
            .until(|event| event.name() == Some(END) || carries_response(event))
            .filter(|event| std::future::ready(event.name() != Some(END)))
            .map(move |event| {
                let id = format!("{stream}_{}", event.id_str().unwrap_or_default());
                event.id(id)
            });
        held(events, self.config.hold)
    }

    /// The session's own stream, from `position` (after a `Last-Event-ID`)
    /// or from now. It announces itself with a takeover event, which the
    /// client receives as its primer (an id of its own, empty data): a newer
    /// `GET` of the session takes over in the same way, which ends this one,
    /// so no message goes out twice; the session's end ends it too.
    async fn session_stream(
        &self,
        session: &str,
        position: Option<&str>,
    ) -> impl Stream<Item = Event> + Send + 'static + use<> {
        let hub = &self.methods.hub;
        let topic = session_topic(session);
        let events = hub.subscribe(&topic, position).await;
        let me = sessions::new_id().unwrap_or_default();
        let takeover = Event::named(TAKEOVER).data(me.clone());
        if let Err(err) = hub.publish(&topic, takeover).await {
            tracing::warn!(error = %err, "a session stream's takeover was not published");
        }
        let (retry, ours) = (self.config.retry, me.clone());
        // Takeovers before ours are history; after ours, another one is a
        // newer stream.
        let mut mine = false;
        let events = events
            .until(move |event| {
                let takeover = event.name() == Some(TAKEOVER);
                let other = takeover && event.data_str() != Some(&me);
                mine |= takeover && !other;
                event.name() == Some(END) || (mine && other)
            })
            .filter_map(move |event| {
                let id = format!("g_{}", event.id_str().unwrap_or_default());
                let sent = match event.name() {
                    Some(TAKEOVER) if event.data_str() == Some(&ours) => {
                        Some(Event::new().id(id).data("").retry(retry))
                    }
                    Some(TAKEOVER | END) => None,
                    _ => Some(event.id(id)),
                };
                std::future::ready(sent)
            });
        held(events, self.config.hold)
    }
}

/// `messages` as events, ending early (with [`END`]) when `cancels` carries
/// `id`.
fn until_cancelled(
    mut messages: Messages,
    mut cancels: Subscription,
    id: Value,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    enum Next {
        Message(Option<Value>),
        Cancel(Option<Event>),
    }
    async_stream::stream! {
        loop {
            let next = tokio::select! {
                message = messages.next() => Next::Message(message),
                cancel = cancels.next() => Next::Cancel(cancel),
            };
            match next {
                Next::Message(Some(message)) => yield Ok(as_event(&message)),
                Next::Message(None) => break,
                Next::Cancel(cancel) => {
                    let asked = cancel
                        .as_ref()
                        .and_then(Event::data_str)
                        .and_then(|data| serde_json::from_str::<Value>(data).ok());
                    if cancel.is_none() || asked.is_some_and(|asked| asked["requestId"] == id) {
                        tracing::info!(request = %id, "cancelled");
                        yield Ok(Event::named(END).data(""));
                        break;
                    }
                }
            }
        }
    }
}

/// `events`, ended after `hold` when set.
fn held<S>(events: S, hold: Option<Duration>) -> impl Stream<Item = Event> + Send + 'static
where
    S: Stream<Item = Event> + Send + 'static,
{
    let deadline = async move {
        match hold {
            Some(hold) => tokio::time::sleep(hold).await,
            None => std::future::pending().await,
        }
    };
    events.take_until(deadline)
}

/// The event name of a JSON-RPC response: `message`, which is what clients
/// dispatch an unnamed event as, so the response is marked when it is made
/// and found by name, without reading any event's JSON again.
const RESPONSE: &str = "message";

/// A JSON-RPC message as an event; a response is named [`RESPONSE`].
fn as_event(message: &Value) -> Event {
    let event = Event::new().data(message.to_string());
    if rpc::is_response(message) {
        event.event(RESPONSE)
    } else {
        event
    }
}

/// Whether `event` carries a JSON-RPC response.
fn carries_response(event: &Event) -> bool {
    event.name() == Some(RESPONSE)
}

/// The response to `id`: its result, or its error.
fn answered(id: &Value, answer: Result<Value, RpcError>) -> Value {
    match answer {
        Ok(result) => rpc::reply(id, result),
        Err(error) => error.reply(id),
    }
}

/// The last of `messages`: the response, for a batch, which answers at once.
async fn last_of(messages: Messages) -> Value {
    messages
        .fold(Value::Null, |_, message| std::future::ready(message))
        .await
}

/// An HTTP error of the session checks as a JSON-RPC error without an id,
/// which clients show.
fn rpc_error_for(err: HttpError) -> Response {
    let status = err.status();
    let error = RpcError::new(INVALID_REQUEST, err.message());
    rpc_failure(status, &Value::Null, &error)
}

/// What the server can do.
fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}, "resources": {"subscribe": true, "listChanged": false}})
}

/// Who the server is.
fn server_info() -> Value {
    json!({"name": "justsse-mcp", "version": env!("CARGO_PKG_VERSION")})
}

/// The server with `config`, its sessions in this process.
pub fn app(config: Config) -> App {
    app_with(config, Store::default(), Hub::new())
}

/// The server with its sessions in `store` and its streams on `hub`: both in
/// Redis ([`Store::Redis`], a Redis hub), any instance serves any session
/// and resumes any stream.
pub fn app_with(config: Config, store: Store, hub: Hub<String>) -> App {
    App::new()
        .state(Origins(config.origins.clone()))
        .state(Tokens(config.tokens.clone()))
        .controller(Endpoint {
            methods: Methods {
                store,
                hub,
                steps: config.steps.clone(),
                running: config.running.clone(),
            },
            config: Arc::new(config),
        })
}
