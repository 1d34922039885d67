//! What the server answers to each MCP method: its tools (`echo`, `countdown`,
//! `write_note`), its resources (`note://current`, `info://server`), `ping`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::Stream;
use justsse::{Event, Hub};
use serde_json::{Value, json};

use crate::rpc::{self, INTERNAL_ERROR, METHOD_NOT_FOUND, RESOURCE_NOT_FOUND, RpcError};
use crate::sessions::Store;

/// The most steps a countdown takes, and the longest step.
const MAX_STEPS: u64 = 100;
const MAX_DELAY_MS: u64 = 10_000;
/// The longest text `echo` and `write_note` take, in bytes.
const MAX_TEXT: usize = 4096;

/// The note resource, which `write_note` changes.
pub const NOTE: &str = "note://current";
/// A resource describing the server.
pub const INFO: &str = "info://server";

/// JSON-RPC messages sent as events: notifications, then the response.
pub(crate) type Messages = Pin<Box<dyn Stream<Item = Value> + Send>>;

/// How a method answers.
pub(crate) enum Answer {
    /// At once: a result, or an error.
    Now(Result<Value, RpcError>),
    /// Over time: the messages, the response last (an event stream).
    Over(Messages),
}

/// The hub topic of session `session`'s own stream (`GET /mcp`).
pub(crate) fn session_topic(session: &str) -> String {
    format!("mcp:{session}:g")
}

/// What a session's methods see.
#[derive(Clone)]
pub(crate) struct Methods {
    pub(crate) store: Store,
    pub(crate) hub: Hub<String>,
    pub(crate) steps: Arc<AtomicU64>,
    pub(crate) running: Arc<AtomicU64>,
}

/// Counts a countdown in progress while it lives.
struct Running(Arc<AtomicU64>);

impl Running {
    fn new(running: &Arc<AtomicU64>) -> Self {
        running.fetch_add(1, Ordering::Relaxed);
        Self(running.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Methods {
    /// The answer to request `id` calling `method` with `params`, in
    /// `session` when there is one.
    pub(crate) async fn call(
        &self,
        session: Option<&str>,
        id: &Value,
        method: &str,
        params: &Value,
    ) -> Answer {
        let now = match method {
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": tools()})),
            "tools/call" => return self.call_tool(id, params).await,
            "resources/list" => Ok(json!({"resources": resources()})),
            "resources/read" => self.read(params).await,
            "resources/subscribe" | "resources/unsubscribe" => {
                self.subscribe(session, params, method == "resources/subscribe")
                    .await
            }
            other => Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!("Method not found: {other}"),
            )),
        };
        Answer::Now(now)
    }

    async fn call_tool(&self, id: &Value, params: &Value) -> Answer {
        let arguments = &params["arguments"];
        let now = match params["name"].as_str() {
            Some("echo") => text(arguments, "text").map(|text| said(text, false)),
            Some("write_note") => match text(arguments, "text") {
                Ok(note) => self.write_note(note).await,
                Err(err) => Err(err),
            },
            Some("countdown") => {
                return match countdown(id.clone(), params, self) {
                    Ok(messages) => Answer::Over(messages),
                    Err(err) => Answer::Now(Err(err)),
                };
            }
            Some(other) => Err(RpcError::params(format!("Unknown tool: {other}"))),
            None => Err(RpcError::params("`name` must name a tool")),
        };
        Answer::Now(now)
    }

    async fn write_note(&self, note: &str) -> Result<Value, RpcError> {
        self.store.set_note(note).await.map_err(store_error)?;
        // Each subscribed session hears of it on its own stream, once.
        let updated = rpc::notification("notifications/resources/updated", json!({"uri": NOTE}));
        let event = Event::new().data(updated.to_string());
        for session in self.store.subscribers(NOTE).await.map_err(store_error)? {
            if let Err(err) = self
                .hub
                .publish(&session_topic(&session), event.clone())
                .await
            {
                tracing::warn!(%session, error = %err, "a resource update was not published");
            }
        }
        Ok(said("noted", false))
    }

    async fn read(&self, params: &Value) -> Result<Value, RpcError> {
        let uri = params["uri"]
            .as_str()
            .ok_or_else(|| RpcError::params("`uri` must be a string"))?;
        let (mime, text) = match uri {
            NOTE => ("text/plain", self.store.note().await.map_err(store_error)?),
            INFO => (
                "application/json",
                json!({"name": "justsse-mcp", "transport": "streamable-http"}).to_string(),
            ),
            _ => return Err(not_found(uri)),
        };
        Ok(json!({"contents": [{"uri": uri, "mimeType": mime, "text": text}]}))
    }

    async fn subscribe(
        &self,
        session: Option<&str>,
        params: &Value,
        subscribed: bool,
    ) -> Result<Value, RpcError> {
        let uri = params["uri"]
            .as_str()
            .ok_or_else(|| RpcError::params("`uri` must be a string"))?;
        if uri != NOTE && uri != INFO {
            return Err(not_found(uri));
        }
        let session = session
            .ok_or_else(|| RpcError::new(METHOD_NOT_FOUND, "subscriptions need a session"))?;
        self.store
            .subscribe(session, uri, subscribed)
            .await
            .map_err(store_error)?;
        Ok(json!({}))
    }
}

fn not_found(uri: &str) -> RpcError {
    RpcError {
        data: Some(json!({"uri": uri})),
        ..RpcError::new(RESOURCE_NOT_FOUND, format!("Resource not found: {uri}"))
    }
}

fn store_error(err: justsse::HttpError) -> RpcError {
    RpcError::new(INTERNAL_ERROR, err.to_string())
}

/// A tool result of one text.
fn said(text: &str, is_error: bool) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": is_error})
}

/// The string argument `name`, at most 4 KiB.
fn text<'a>(arguments: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    let text = arguments[name]
        .as_str()
        .ok_or_else(|| RpcError::params(format!("`{name}` must be a string")))?;
    if text.len() > MAX_TEXT {
        return Err(RpcError::params(format!(
            "`{name}` is longer than {MAX_TEXT} bytes"
        )));
    }
    Ok(text)
}

/// The integer argument `name`, within `1..=max` (`0..=max` with `zero`).
fn number(arguments: &Value, name: &str, max: u64, zero: bool) -> Result<u64, RpcError> {
    let min = u64::from(!zero);
    arguments[name]
        .as_u64()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| RpcError::params(format!("`{name}` must be an integer from {min} to {max}")))
}

/// `countdown {from, delay_ms}`: a step every `delay_ms`, each a progress
/// notification when the request asked for progress, then "liftoff".
fn countdown(id: Value, params: &Value, methods: &Methods) -> Result<Messages, RpcError> {
    let arguments = &params["arguments"];
    let from = number(arguments, "from", MAX_STEPS, false)?;
    let delay = Duration::from_millis(number(arguments, "delay_ms", MAX_DELAY_MS, true)?);
    let token = params["_meta"]["progressToken"].clone();
    let steps = methods.steps.clone();
    let running = Running::new(&methods.running);
    Ok(Box::pin(async_stream::stream! {
        let _running = running;
        for step in 1..=from {
            tokio::time::sleep(delay).await;
            steps.fetch_add(1, Ordering::Relaxed);
            if !token.is_null() {
                yield rpc::notification("notifications/progress", json!({
                    "progressToken": token,
                    "progress": step,
                    "total": from,
                    "message": (from - step).to_string(),
                }));
            }
        }
        yield rpc::reply(&id, said("liftoff", false));
    }))
}

/// The tools, as `tools/list` shows them.
fn tools() -> Value {
    json!([
        {
            "name": "echo",
            "description": "Answers the text it is given.",
            "inputSchema": {
                "type": "object",
                "properties": {"text": {"type": "string", "maxLength": MAX_TEXT}},
                "required": ["text"],
            },
        },
        {
            "name": "countdown",
            "description": "Counts down from `from`, one step every `delay_ms`, reporting progress, then says liftoff.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "from": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS},
                    "delay_ms": {"type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS},
                },
                "required": ["from", "delay_ms"],
            },
        },
        {
            "name": "write_note",
            "description": "Replaces the note (note://current); its subscribers are told.",
            "inputSchema": {
                "type": "object",
                "properties": {"text": {"type": "string", "maxLength": MAX_TEXT}},
                "required": ["text"],
            },
        },
    ])
}

/// The resources, as `resources/list` shows them.
fn resources() -> Value {
    json!([
        {"uri": NOTE, "name": "note", "title": "The note", "mimeType": "text/plain"},
        {"uri": INFO, "name": "server", "title": "About this server", "mimeType": "application/json"},
    ])
}
