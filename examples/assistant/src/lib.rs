//! An OpenAI-compatible service on a deterministic fake model, built by
//! [`app`]: `POST /v1/chat/completions` answers JSON, or with `"stream": true`
//! an event stream of `chat.completion.chunk`s ending in `data: [DONE]`;
//! `GET /v1/models` lists the model. A client that leaves stops its
//! generation within a second (`assistant_tokens_generated_total` shows it).
//! `POST /v1/responses` with `background` starts a generation that outlives
//! its client, resumed by `GET /v1/responses/{id}?stream=true&starting_after=N`.
//!
//! ```text
//! cargo run -p assistant            # PORT=3000, ASSISTANT_API_KEYS=sk-local
//! curl -N localhost:3000/v1/chat/completions -H 'authorization: Bearer sk-local' \
//!   -H 'content-type: application/json' \
//!   -d '{"model":"fake-1","stream":true,"messages":[{"role":"user","content":"hello there"}]}'
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use justsse::http::{HeaderValue, StatusCode, header};
use justsse::prelude::*;
use justsse::response::JsonOrStream;
use justsse::{Request, Response, middleware::Next};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod responses;

pub use responses::{CreateResponse, Input, MemoryResponses, Responses, Retrieve};

/// The one model this service has.
pub const MODEL: &str = "fake-1";

/// The fake model: its reply to a conversation is "You said:" and the last
/// user message, word by word, one word every `pace`; the same input gives
/// the same output.
#[derive(Debug, Clone)]
pub struct Model {
    /// How long each word takes.
    pub pace: Duration,
    /// Words generated so far, by every generation: a generation whose
    /// client left stops adding to it.
    pub generated: Arc<AtomicU64>,
    /// Generations in progress: one whose client left is dropped at once.
    pub generating: Arc<AtomicU64>,
}

/// Counts a generation in progress while it lives
/// (`assistant_generations_in_progress`).
struct Generating(Arc<AtomicU64>);

impl Drop for Generating {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("assistant_generations_in_progress").decrement(1.0);
    }
}

impl Model {
    /// A model producing a word every `pace`.
    pub fn new(pace: Duration) -> Self {
        Self {
            pace,
            generated: Arc::default(),
            generating: Arc::default(),
        }
    }

    /// Counts one more generation in progress, until the guard drops.
    fn generation(&self) -> Generating {
        self.generating.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("assistant_generations_in_progress").increment(1.0);
        Generating(self.generating.clone())
    }

    /// The reply's tokens: words, each but the first with its leading space,
    /// so that they concatenate into the reply.
    pub fn tokens(&self, messages: &[Message]) -> Vec<String> {
        let said = messages
            .iter()
            .rev()
            .find(|message| message.role == "user")
            .map_or("", |message| message.content.as_str());
        std::iter::once("You said:")
            .chain(said.split_whitespace())
            .enumerate()
            .map(|(n, word)| {
                if n == 0 {
                    word.to_owned()
                } else {
                    format!(" {word}")
                }
            })
            .collect()
    }

    /// Counts one generated token.
    fn generated_one(&self) {
        self.generated.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("assistant_tokens_generated_total").increment(1);
    }
}

/// The API keys this service accepts: app state, read by [`api_key`].
#[derive(Debug, Clone)]
pub struct Keys(pub Vec<String>);

impl Keys {
    /// The keys in `list`, comma-separated (as `ASSISTANT_API_KEYS` gives them).
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

/// A caller whose key was accepted.
#[derive(Debug, Clone)]
pub struct Caller;

/// `Authorization: Bearer <key>` with one of the [`Keys`]; 401 otherwise.
pub async fn api_key(head: &RequestHead, keys: State<Keys>) -> Result<Caller, HttpError> {
    let key = head
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| HttpError::unauthorized("You didn't provide an API key."))?;
    if keys.0.iter().any(|known| known == key) {
        Ok(Caller)
    } else {
        Err(HttpError::unauthorized("Incorrect API key provided."))
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What it says.
    pub content: String,
}

/// `POST /v1/chat/completions`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChatRequest {
    /// The model: `fake-1`.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Whether to answer with an event stream of chunks.
    #[serde(default)]
    pub stream: bool,
}

/// A whole completion.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Completion {
    id: String,
    object: &'static str,
    created: u64,
    model: &'static str,
    choices: Vec<Choice>,
    usage: Usage,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Choice {
    index: u32,
    message: Message,
    finish_reason: &'static str,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// One streamed piece of a completion.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Chunk {
    id: String,
    object: &'static str,
    created: u64,
    model: &'static str,
    choices: Vec<ChunkChoice>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ChunkChoice {
    index: u32,
    delta: Delta,
    finish_reason: Option<&'static str>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

impl Chunk {
    fn new(id: &str, created: u64, delta: Delta, finish_reason: Option<&'static str>) -> Self {
        Self {
            id: id.to_owned(),
            object: "chat.completion.chunk",
            created,
            model: MODEL,
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
            }],
        }
    }
}

/// `GET /v1/models`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Models {
    object: &'static str,
    data: Vec<ModelInfo>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ModelInfo {
    id: &'static str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// 404 (`model_not_found` in OpenAI's shape) for a model other than [`MODEL`].
pub(crate) fn known_model(model: &str) -> Result<(), HttpError> {
    if model == MODEL {
        return Ok(());
    }
    Err(HttpError::not_found(format!(
        "The model `{model}` does not exist."
    )))
}

/// Completion ids: `chatcmpl-` and a number.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Api {
    model: Model,
}

#[controller("/v1")]
#[uses(api_key)]
impl Api {
    /// The models: one, `fake-1`.
    #[get("/models")]
    async fn models(&self) -> Json<Models> {
        Json(Models {
            object: "list",
            data: vec![ModelInfo {
                id: MODEL,
                object: "model",
                created: 0,
                owned_by: "justsse",
            }],
        })
    }

    /// A chat completion: JSON, or with `"stream": true` its chunks as they
    /// are generated, then `data: [DONE]`. The generation stops when the
    /// client leaves.
    #[post("/chat/completions", stream, keep_alive = off)]
    async fn chat(
        &self,
        Json(request): Json<ChatRequest>,
    ) -> Result<JsonOrStream<Completion>, HttpError> {
        known_model(&request.model)?;
        let id = format!("chatcmpl-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let created = now();
        let tokens = self.model.tokens(&request.messages);
        let model = self.model.clone();
        if !request.stream {
            for _ in &tokens {
                tokio::time::sleep(model.pace).await;
                model.generated_one();
            }
            let prompt_tokens: usize = request
                .messages
                .iter()
                .map(|m| m.content.split_whitespace().count())
                .sum();
            let usage = Usage {
                prompt_tokens: prompt_tokens as u64,
                completion_tokens: tokens.len() as u64,
                total_tokens: (prompt_tokens + tokens.len()) as u64,
            };
            return Ok(JsonOrStream::json(Completion {
                id,
                object: "chat.completion",
                created,
                model: MODEL,
                choices: vec![Choice {
                    index: 0,
                    message: Message {
                        role: "assistant".to_owned(),
                        content: tokens.concat(),
                    },
                    finish_reason: "stop",
                }],
                usage,
            }));
        }
        let generation = model.generation();
        Ok(JsonOrStream::stream(stream! {
            let _generation = generation;
            let role = Delta { role: Some("assistant"), content: Some(String::new()) };
            yield Event::new().json(&Chunk::new(&id, created, role, None))?;
            for token in tokens {
                tokio::time::sleep(model.pace).await;
                model.generated_one();
                let delta = Delta { role: None, content: Some(token) };
                yield Event::new().json(&Chunk::new(&id, created, delta, None))?;
            }
            yield Event::new().json(&Chunk::new(&id, created, Delta::default(), Some("stop")))?;
            yield Event::done();
        }))
    }
}

/// Errors in OpenAI's shape, `{"error": {"message", "type", "code", "param"}}`,
/// which the official SDKs read: every JSON error of the app (a bad key, a
/// bad body, an unknown model, a route that does not exist) is rewritten here,
/// in one place.
pub async fn openai_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.body().is_event_stream()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let collected = match http_body_util::BodyExt::collect(body).await {
        Ok(collected) => collected,
        Err(never) => match never {},
    };
    let ours: serde_json::Value = serde_json::from_slice(&collected.to_bytes()).unwrap_or_default();
    let message = ours["message"].as_str().unwrap_or("error").to_owned();
    let code = match status {
        StatusCode::UNAUTHORIZED => "invalid_api_key".to_owned(),
        StatusCode::NOT_FOUND if message.starts_with("The model") => "model_not_found".to_owned(),
        _ => ours["error"].as_str().unwrap_or("error").to_owned(),
    };
    let kind = match status.as_u16() {
        401 => "invalid_request_error",
        429 => "rate_limit_exceeded",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    let body = serde_json::json!({
        "error": { "message": message, "type": kind, "code": code, "param": null }
    });
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, justsse::response::Body::full(body.to_string()))
}

/// The metrics, for callers with a key: `assistant_tokens_generated_total`
/// shows a generation whose client left stop.
struct MetricsController {
    exporter: metrics_exporter_prometheus::PrometheusHandle,
}

#[controller("/")]
impl MetricsController {
    /// The server's metrics in Prometheus text.
    #[get("/metrics")]
    #[uses(api_key)]
    async fn metrics(&self) -> String {
        self.exporter.render()
    }
}

/// Serves `GET /metrics` (Prometheus text, for callers with a key) from
/// `exporter`.
pub fn with_metrics(app: App, exporter: metrics_exporter_prometheus::PrometheusHandle) -> App {
    app.controller(MetricsController { exporter })
}

/// The service with `model`, accepting `keys`, its responses in this
/// process (memory and hub).
pub fn app(model: Model, keys: Keys) -> App {
    app_with(model, keys, Responses::default(), Hub::new())
}

/// The service with its responses' records in `responses` and their events
/// on `hub`: both in Redis ([`Responses::Redis`], a Redis hub), any instance
/// resumes any response.
pub fn app_with(model: Model, keys: Keys, responses: Responses, hub: Hub<String>) -> App {
    App::new()
        .wrap(openai_errors)
        .state(keys)
        .controller(Api {
            model: model.clone(),
        })
        .controller(responses::ResponsesApi {
            model,
            responses,
            hub,
        })
}
