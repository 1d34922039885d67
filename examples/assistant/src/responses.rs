//! The subset of OpenAI's Responses API that carries resumption: `POST
//! /v1/responses` with `stream` and `background`, every event numbered by its
//! `sequence_number`; a background response is a generation detached from its
//! request (`Hub::detach`): it goes on when its client leaves, and
//! `GET /v1/responses/{id}?stream=true&starting_after=N` resumes it;
//! `GET /v1/responses/{id}` answers its state.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use justsse::hub::{RedisConnection, Subscription};
use justsse::prelude::*;
use justsse::response::JsonOrStream;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{MODEL, Message, Model, api_key, known_model, now};

/// The most responses kept: past it, the oldest are forgotten.
const MAX_RESPONSES: usize = 10_000;

/// `POST /v1/responses`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateResponse {
    /// The model: `fake-1`.
    pub model: String,
    /// A prompt, or a conversation.
    pub input: Input,
    /// Whether to answer with an event stream.
    #[serde(default)]
    pub stream: bool,
    /// Whether the response goes on without its client (and can be resumed).
    #[serde(default)]
    pub background: bool,
}

/// What a response answers: a prompt or messages.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Input {
    /// One user message.
    Text(String),
    /// A conversation.
    Messages(Vec<Message>),
}

impl Input {
    fn messages(self) -> Vec<Message> {
        match self {
            Input::Text(content) => vec![Message {
                role: "user".to_owned(),
                content,
            }],
            Input::Messages(messages) => messages,
        }
    }
}

/// Where a response stands: its text so far, its status, and where its
/// events start in the hub.
#[derive(Debug, Clone)]
struct Record {
    created_at: u64,
    status: &'static str,
    text: String,
    background: bool,
    /// An id before its first event, to replay them all.
    start: Option<String>,
}

/// How long a response is kept in Redis after its last change.
const KEEP_SECONDS: u64 = 24 * 60 * 60;

/// The responses, by id: in this process, or in Redis, where every instance
/// sees them and any of them resumes any response.
#[derive(Clone)]
pub enum Responses {
    /// This process's memory: the most recent 10,000 responses.
    Memory(Arc<MemoryResponses>),
    /// Redis: a hash per response (`assistant:{<id>}:r`) and its text
    /// (`assistant:{<id>}:t`, grown with `APPEND`), kept a day.
    Redis(RedisConnection),
}

impl Default for Responses {
    fn default() -> Self {
        Responses::Memory(Arc::default())
    }
}

/// The responses of one process.
#[derive(Debug, Default)]
pub struct MemoryResponses {
    records: Mutex<BTreeMap<u64, (String, Record)>>,
    by_id: Mutex<HashMap<String, u64>>,
}

/// Response ids, unique across instances: the start of this process and a count.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A new response's number in this process, and its id.
fn new_id() -> (u64, String) {
    static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // The process id first, in a fixed width: logs (and tests) tell which
    // instance made a response.
    (
        n,
        format!("resp_{:08x}{started:x}{n:08x}", std::process::id()),
    )
}

fn unavailable(err: redis::RedisError) -> HttpError {
    tracing::warn!(error = %err, "the responses store is unreachable");
    HttpError::new(
        justsse::http::StatusCode::SERVICE_UNAVAILABLE,
        "the responses store is unavailable",
    )
}

impl MemoryResponses {
    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn change(&self, id: &str, change: impl FnOnce(&mut Record)) {
        let Some(n) = Self::lock(&self.by_id).get(id).copied() else {
            return;
        };
        if let Some((_, record)) = Self::lock(&self.records).get_mut(&n) {
            change(record);
        }
    }
}

impl Responses {
    async fn insert(&self, record: &Record) -> Result<String, HttpError> {
        let (n, id) = new_id();
        match self {
            Responses::Memory(memory) => {
                let mut records = MemoryResponses::lock(&memory.records);
                let mut by_id = MemoryResponses::lock(&memory.by_id);
                while records.len() >= MAX_RESPONSES {
                    if let Some((_, (old, _))) = records.pop_first() {
                        by_id.remove(&old);
                    }
                }
                records.insert(n, (id.clone(), record.clone()));
                by_id.insert(id.clone(), n);
            }
            Responses::Redis(redis) => {
                redis::cmd("HSET")
                    .arg(format!("assistant:{{{id}}}:r"))
                    .arg("created_at")
                    .arg(record.created_at)
                    .arg("status")
                    .arg(record.status)
                    .arg("background")
                    .arg(u8::from(record.background))
                    .exec_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                self.keep(&id).await?;
            }
        }
        Ok(id)
    }

    /// Keeps response `id` a day from now (Redis).
    async fn keep(&self, id: &str) -> Result<(), HttpError> {
        if let Responses::Redis(redis) = self {
            for key in [
                format!("assistant:{{{id}}}:r"),
                format!("assistant:{{{id}}}:t"),
            ] {
                redis::cmd("EXPIRE")
                    .arg(key)
                    .arg(KEEP_SECONDS)
                    .exec_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
            }
        }
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Record>, HttpError> {
        match self {
            Responses::Memory(memory) => {
                let Some(n) = MemoryResponses::lock(&memory.by_id).get(id).copied() else {
                    return Ok(None);
                };
                Ok(MemoryResponses::lock(&memory.records)
                    .get(&n)
                    .map(|(_, r)| r.clone()))
            }
            Responses::Redis(redis) => {
                let fields: HashMap<String, String> = redis::cmd("HGETALL")
                    .arg(format!("assistant:{{{id}}}:r"))
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                if fields.is_empty() {
                    return Ok(None);
                }
                let text: Option<String> = redis::cmd("GET")
                    .arg(format!("assistant:{{{id}}}:t"))
                    .query_async(&mut redis.clone())
                    .await
                    .map_err(unavailable)?;
                let status = match fields.get("status").map(String::as_str) {
                    Some("in_progress") => "in_progress",
                    Some("completed") => "completed",
                    _ => "queued",
                };
                Ok(Some(Record {
                    created_at: fields
                        .get("created_at")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0),
                    status,
                    text: text.unwrap_or_default(),
                    background: fields.get("background").is_some_and(|b| b == "1"),
                    start: fields.get("start").cloned(),
                }))
            }
        }
    }

    async fn set(&self, id: &str, field: &'static str, value: &str) -> Result<(), HttpError> {
        match self {
            Responses::Memory(memory) => memory.change(id, |record| match field {
                "status" => {
                    record.status = if value == "completed" {
                        "completed"
                    } else {
                        "in_progress"
                    };
                }
                _ => record.start = Some(value.to_owned()),
            }),
            Responses::Redis(redis) => redis::cmd("HSET")
                .arg(format!("assistant:{{{id}}}:r"))
                .arg(field)
                .arg(value)
                .exec_async(&mut redis.clone())
                .await
                .map_err(unavailable)?,
        }
        Ok(())
    }

    async fn append(&self, id: &str, token: &str) -> Result<(), HttpError> {
        match self {
            Responses::Memory(memory) => memory.change(id, |record| record.text.push_str(token)),
            Responses::Redis(redis) => redis::cmd("APPEND")
                .arg(format!("assistant:{{{id}}}:t"))
                .arg(token)
                .exec_async(&mut redis.clone())
                .await
                .map_err(unavailable)?,
        }
        Ok(())
    }
}

/// The response object as the API shows it.
fn response_json(id: &str, record: &Record) -> Value {
    let output = if record.text.is_empty() {
        json!([])
    } else {
        json!([{
            "type": "message",
            "id": format!("msg_{id}"),
            "status": if record.status == "completed" { "completed" } else { "in_progress" },
            "role": "assistant",
            "content": [{"type": "output_text", "text": record.text, "annotations": []}],
        }])
    };
    json!({
        "id": id,
        "object": "response",
        "created_at": record.created_at,
        "status": record.status,
        "background": record.background,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": false,
        "tool_choice": "auto",
        "tools": [],
    })
}

/// One event of a response's stream: its `type`, its `sequence_number`.
fn event(
    kind: &str,
    sequence: u64,
    mut fields: Value,
) -> Result<Event, justsse::response::EventError> {
    fields["type"] = json!(kind);
    fields["sequence_number"] = json!(sequence);
    Event::named(kind.to_owned()).json(&fields)
}

fn is_last(event: &Event) -> bool {
    matches!(event.name(), Some("response.completed" | "response.failed"))
}

/// `?stream=true&starting_after=N`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Retrieve {
    /// Whether to stream the response's events.
    #[serde(default)]
    pub stream: bool,
    /// Only the events after this sequence number.
    pub starting_after: Option<u64>,
}

pub(crate) struct ResponsesApi {
    pub(crate) model: Model,
    pub(crate) responses: Responses,
    pub(crate) hub: Hub<String>,
}

#[controller("/v1/responses")]
#[uses(api_key)]
impl ResponsesApi {
    /// Creates a response: JSON (with `background`, at once, while it is
    /// generated), or its events as they come.
    #[post("/", stream, keep_alive = off)]
    async fn create(
        &self,
        Json(request): Json<CreateResponse>,
    ) -> Result<JsonOrStream<Value>, HttpError> {
        known_model(&request.model)?;
        let tokens = self.model.tokens(&request.input.messages());
        let record = Record {
            created_at: now(),
            status: "queued",
            text: String::new(),
            background: request.background,
            start: None,
        };
        let id = self.responses.insert(&record).await?;
        let start = self.hub.position(&id).await;
        if let Some(start) = &start {
            self.responses.set(&id, "start", start).await?;
        }
        let queued = response_json(&id, &Record { start, ..record });
        let generation = generate(
            self.model.clone(),
            self.responses.clone(),
            id.clone(),
            tokens,
            queued.clone(),
        );
        if !request.stream && request.background {
            // Generated on its own; `GET /v1/responses/{id}` tells how far.
            drop(self.hub.detach(&id, generation).await);
            return Ok(JsonOrStream::json(queued));
        }
        if !request.stream {
            let mut generation = std::pin::pin!(generation);
            while futures_util::StreamExt::next(&mut generation)
                .await
                .is_some()
            {}
            let record = self
                .responses
                .get(&id)
                .await?
                .ok_or_else(|| HttpError::not_found("gone"))?;
            return Ok(JsonOrStream::json(response_json(&id, &record)));
        }
        if request.background {
            return Ok(JsonOrStream::stream(
                self.hub.detach(&id, generation).await.until(is_last),
            ));
        }
        Ok(JsonOrStream::stream(generation))
    }

    /// The response now, or with `stream=true` its events after
    /// `starting_after` (all of them without it), then live ones.
    #[get("/:id")]
    async fn retrieve(
        &self,
        id: String,
        query: Query<Retrieve>,
    ) -> Result<JsonOrStream<Value>, HttpError> {
        let record = self
            .responses
            .get(&id)
            .await?
            .ok_or_else(|| HttpError::not_found(format!("No response with id `{id}`.")))?;
        if !query.0.stream {
            return Ok(JsonOrStream::json(response_json(&id, &record)));
        }
        if !record.background {
            return Err(HttpError::bad_request(
                "only a background response can be streamed again",
            ));
        }
        let after = query.0.starting_after;
        let events: Subscription = self
            .hub
            .subscribe(&id, record.start.as_deref())
            .await
            .until(is_last);
        let events = futures_util::StreamExt::filter(events, move |event| {
            let sequence = event
                .data_str()
                .and_then(|data| serde_json::from_str::<Value>(data).ok())
                .and_then(|data| data["sequence_number"].as_u64());
            std::future::ready(after.is_none_or(|after| sequence.is_some_and(|n| n > after)))
        });
        Ok(JsonOrStream::stream(events))
    }
}

/// A response's events: created, in progress, one delta a token (the record
/// following), the text done, completed. Its `sequence_number`s count from 0.
fn generate(
    model: Model,
    responses: Responses,
    id: String,
    tokens: Vec<String>,
    queued: Value,
) -> impl futures_util::Stream<Item = Result<Event, justsse::runtime::BoxError>> + Send + 'static {
    let item = format!("msg_{id}");
    async_stream::try_stream! {
        let mut sequence = 0..;
        let mut next = || sequence.next().unwrap_or_default();
        yield event("response.created", next(), json!({"response": queued}))?;
        responses.set(&id, "status", "in_progress").await?;
        let mut in_progress = queued.clone();
        in_progress["status"] = json!("in_progress");
        yield event("response.in_progress", next(), json!({"response": in_progress}))?;
        let message = json!({"type": "message", "id": item, "status": "in_progress", "role": "assistant", "content": []});
        yield event("response.output_item.added", next(), json!({"output_index": 0, "item": message}))?;
        let part = json!({"type": "output_text", "text": "", "annotations": []});
        yield event("response.content_part.added", next(), json!({"item_id": item, "output_index": 0, "content_index": 0, "part": part}))?;
        let mut text = String::new();
        for token in tokens {
            tokio::time::sleep(model.pace).await;
            model.generated_one();
            text.push_str(&token);
            responses.append(&id, &token).await?;
            yield event("response.output_text.delta", next(), json!({"item_id": item, "output_index": 0, "content_index": 0, "delta": token, "logprobs": []}))?;
        }
        yield event("response.output_text.done", next(), json!({"item_id": item, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}))?;
        responses.set(&id, "status", "completed").await?;
        responses.keep(&id).await?;
        let done = responses.get(&id).await?.map(|record| response_json(&id, &record)).unwrap_or_default();
        yield event("response.completed", next(), json!({"response": done}))?;
    }
}
