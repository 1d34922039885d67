//! The subset of OpenAI's Responses API that carries resumption: `POST
//! /v1/responses` with `stream` and `background`, every event numbered by its
//! `sequence_number`; a background response is a generation detached from its
//! request (`Hub::detach`): it goes on when its client leaves, and
//! `GET /v1/responses/{id}?stream=true&starting_after=N` resumes it;
//! `GET /v1/responses/{id}` answers its state.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use justsse::JsonOrStream;
use justsse::hub::Subscription;
use justsse::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{MODEL, Message, Model, api_key, now};

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

/// The responses of this instance, by id.
#[derive(Debug, Default)]
pub struct Responses {
    records: Mutex<BTreeMap<u64, (String, Record)>>,
    by_id: Mutex<HashMap<String, u64>>,
    next: AtomicU64,
}

impl Responses {
    fn insert(&self, record: Record) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("resp_{n:016x}");
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let mut by_id = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        while records.len() >= MAX_RESPONSES {
            if let Some((_, (old, _))) = records.pop_first() {
                by_id.remove(&old);
            }
        }
        records.insert(n, (id.clone(), record));
        by_id.insert(id.clone(), n);
        id
    }

    fn get(&self, id: &str) -> Option<Record> {
        let n = *self
            .by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)?;
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.get(&n).map(|(_, record)| record.clone())
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Record)) {
        let Some(n) = self
            .by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied()
        else {
            return;
        };
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, record)) = records.get_mut(&n) {
            change(record);
        }
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
fn event(kind: &str, sequence: u64, mut fields: Value) -> Result<Event, justsse::EventError> {
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
    pub(crate) responses: Arc<Responses>,
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
        if request.model != MODEL {
            return Err(HttpError::not_found(format!(
                "The model `{}` does not exist.",
                request.model
            )));
        }
        let tokens = self.model.tokens(&request.input.messages());
        let record = Record {
            created_at: now(),
            status: "queued",
            text: String::new(),
            background: request.background,
            start: None,
        };
        let id = self.responses.insert(record.clone());
        let start = self.hub.position(&id).await;
        self.responses
            .update(&id, |record| record.start.clone_from(&start));
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
    responses: Arc<Responses>,
    id: String,
    tokens: Vec<String>,
    queued: Value,
) -> impl futures_util::Stream<Item = Result<Event, justsse::EventError>> + Send + 'static {
    let item = format!("msg_{id}");
    async_stream::try_stream! {
        let mut sequence = 0..;
        let mut next = || sequence.next().unwrap_or_default();
        yield event("response.created", next(), json!({"response": queued}))?;
        responses.update(&id, |record| record.status = "in_progress");
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
            responses.update(&id, |record| record.text.push_str(&token));
            yield event("response.output_text.delta", next(), json!({"item_id": item, "output_index": 0, "content_index": 0, "delta": token, "logprobs": []}))?;
        }
        yield event("response.output_text.done", next(), json!({"item_id": item, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}))?;
        responses.update(&id, |record| record.status = "completed");
        let done = responses.get(&id).map(|record| response_json(&id, &record)).unwrap_or_default();
        yield event("response.completed", next(), json!({"response": done}))?;
    }
}
