//! One route as an OpenAPI operation: what its types say (a [`Describe`]) and
//! what its route-table row says (kind, chain, parameters).

use schemars::SchemaGenerator;
use serde_json::{Map, Value, json};

use super::Spec;
use crate::controller::{RouteInfo, RouteKind};
use crate::describe::Describe;

/// The error responses a route may answer, each a shared component with the
/// [error body](error_schema).
const ERRORS: [(&str, &str, &str); 7] = [
    (
        "400",
        "BadRequest",
        "A malformed parameter, query or body; the message names it.",
    ),
    (
        "401",
        "Unauthorized",
        "A middleware refused the request's credentials.",
    ),
    ("403", "Forbidden", "A guard refused the request."),
    ("404", "NotFound", "No resource matches a path parameter."),
    ("413", "PayloadTooLarge", "The body is over the size limit."),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not `application/json`.",
    ),
    (
        "503",
        "Unavailable",
        "The server holds as many streams as it may; retry after `Retry-After` seconds.",
    ),
];

/// An operation being assembled.
pub(super) struct Operation<'r> {
    route: &'r RouteInfo,
    described: Described,
    spec: Spec,
}

/// What the route's types said.
struct Described {
    request: Option<Value>,
    query: Option<Value>,
    params: Vec<(&'static str, Value)>,
    response: Option<Value>,
    success: Option<&'static str>,
    events: Vec<(&'static str, Value)>,
    events_type: Option<&'static str>,
    declared: Vec<(u16, Option<Value>)>,
}

impl<'r> Operation<'r> {
    pub(super) fn of(route: &'r RouteInfo, generator: &mut SchemaGenerator, spec: Spec) -> Self {
        let mut d = Describe::new(generator);
        (route.describe.0)(&mut d);
        let described = Described {
            request: d.request,
            query: d.query,
            params: d.params,
            response: d.response,
            success: d.success,
            events: d.events,
            events_type: d.events_type,
            declared: d.declared,
        };
        Operation {
            route,
            described,
            spec,
        }
    }

    pub(super) fn into_value(self) -> Value {
        let route = self.route;
        let mut op = Map::new();
        op.insert(
            "operationId".into(),
            json!(route.handler.replace("::", "_")),
        );
        if let Some((controller, _)) = route.handler.split_once("::") {
            op.insert("tags".into(), json!([controller]));
        }
        if !route.summary.is_empty() {
            op.insert("summary".into(), json!(route.summary));
        }
        let parameters = self.parameters();
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(schema) = &self.described.request {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
            );
        }
        op.insert("responses".into(), self.responses());
        Value::Object(op)
    }

    /// Path parameters (by the type they parse to), then the query's fields.
    fn parameters(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for &(name, ty) in self.route.params {
            let schema = self
                .described
                .params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, schema)| schema.clone())
                .unwrap_or_else(|| json!({ "type": "string" }));
            let mut param =
                json!({ "name": name, "in": "path", "required": true, "schema": schema });
            if !ty.is_empty() {
                param["description"] = json!(format!("`{ty}`"));
            }
            out.push(param);
        }
        if let Some(query) = &self.described.query {
            let required: Vec<&str> = query["required"]
                .as_array()
                .map(|names| names.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(properties) = query["properties"].as_object() {
                for (name, schema) in properties {
                    out.push(json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "schema": schema,
                    }));
                }
            }
        }
        out
    }

    fn responses(&self) -> Value {
        let route = self.route;
        let mut responses = Map::new();
        let mut ok = json!({ "description": self.ok_description() });
        let mut content = Map::new();
        match route.kind {
            RouteKind::Json => {
                content.insert("application/json".into(), json!({ "schema": self.json() }));
            }
            RouteKind::Html => {
                content.insert(
                    "text/html".into(),
                    json!({ "schema": { "type": "string" } }),
                );
            }
            RouteKind::Text => {
                content.insert(
                    "text/plain".into(),
                    json!({ "schema": { "type": "string" } }),
                );
            }
            RouteKind::Sse => {
                content.insert("text/event-stream".into(), self.event_stream());
            }
            RouteKind::Progressive => {
                content.insert("application/json".into(), json!({ "schema": self.json() }));
                content.insert("text/event-stream".into(), self.event_stream());
            }
            RouteKind::Empty | RouteKind::Response => {}
        }
        if !content.is_empty() {
            ok["content"] = Value::Object(content);
        }
        // `201` for `Created<T>`; a handler returning `(StatusCode, Json<T>)`
        // picks its own success (`2XX`).
        let success = self.described.success.unwrap_or("200");
        responses.insert(success.into(), ok);

        let d = &self.described;
        let has_params = !route.params.is_empty();
        let applies = |status: &str| match status {
            "400" => has_params || d.query.is_some() || d.request.is_some(),
            "401" => !route.uses.is_empty(),
            "403" => !route.guards.is_empty(),
            "404" => has_params,
            "413" | "415" => d.request.is_some(),
            "503" => matches!(route.kind, RouteKind::Sse | RouteKind::Progressive),
            _ => false,
        };
        // What the handler declares it answers itself (`responses(..)`).
        for (status, body) in &d.declared {
            let schema = body
                .clone()
                .unwrap_or_else(|| json!({ "$ref": "#/components/schemas/Error" }));
            let description = justsse_http::http::StatusCode::from_u16(*status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Declared by the handler.");
            responses.insert(
                status.to_string(),
                json!({
                    "description": description,
                    "content": { "application/json": { "schema": schema } },
                }),
            );
        }
        for (status, name, _) in ERRORS {
            if applies(status) && !responses.contains_key(status) {
                responses.insert(
                    status.into(),
                    json!({ "$ref": format!("#/components/responses/{name}") }),
                );
            }
        }
        Value::Object(responses)
    }

    fn ok_description(&self) -> &'static str {
        match self.route.kind {
            RouteKind::Sse => "An event stream.",
            RouteKind::Progressive if self.route.method != "GET" => {
                "JSON, or an event stream, as the request asks."
            }
            RouteKind::Progressive => {
                "JSON; an event stream for a client whose `Accept` is `text/event-stream`."
            }
            RouteKind::Empty => "Done.",
            _ => "OK.",
        }
    }

    /// The JSON body's schema, or any JSON.
    fn json(&self) -> Value {
        self.described.response.clone().unwrap_or_else(|| json!({}))
    }

    /// The union of the stream's events as a client holds them once parsed
    /// (`event`, `data` parsed from JSON, `id`), named after their type, for
    /// the document's components: a generator (`openapi-typescript`) makes it
    /// a discriminated union on `event`.
    pub(super) fn events_component(&self) -> Option<(&'static str, Value)> {
        let name = self.described.events_type?;
        if self.described.events.is_empty() {
            return None;
        }
        let variants: Vec<Value> = self
            .described
            .events
            .iter()
            .map(|(event, data)| {
                json!({
                    "type": "object",
                    "properties": {
                        "event": { "const": event },
                        "data": data,
                        "id": { "type": "string" },
                    },
                    "required": ["event", "data"],
                })
            })
            .collect();
        Some((
            name,
            json!({
                "description": "An event of the stream as a client holds it: its name, its `data` parsed as JSON, its id.",
                "oneOf": variants,
            }),
        ))
    }

    /// The `text/event-stream` media type: its items, one per event.
    fn event_stream(&self) -> Value {
        let items = match self.described.events.as_slice() {
            // A progressive route's updates: unnamed events of its JSON.
            [] if self.route.kind == RouteKind::Progressive => {
                item(json!({ "type": "string" }), json_text(&self.json()), false)
            }
            [] => item(
                json!({ "type": "string" }),
                json!({ "type": "string" }),
                false,
            ),
            events => json!({
                "oneOf": events
                    .iter()
                    .map(|(name, data)| item(json!({ "const": name }), json_text(data), true))
                    .collect::<Vec<_>>()
            }),
        };
        let mut media = match self.spec {
            Spec::V3_2 => json!({ "itemSchema": items }),
            Spec::V3_1 => json!({
                "schema": {
                    "type": "string",
                    "description": "Server-Sent Events; each event is described by `x-itemSchema` (the OpenAPI 3.2 `itemSchema`).",
                },
                "x-itemSchema": items,
            }),
        };
        if let Some((name, _)) = self.events_component() {
            media["x-events"] = json!({ "$ref": format!("#/components/schemas/{name}") });
        }
        media
    }
}

/// One event on the wire: its fields as the `EventSource` parser sees them.
fn item(event: Value, data: Value, named: bool) -> Value {
    let required = if named {
        json!(["event", "data"])
    } else {
        json!(["data"])
    };
    json!({
        "type": "object",
        "properties": {
            "event": event,
            "data": data,
            "id": { "type": "string" },
            "retry": { "type": "integer", "minimum": 0 },
        },
        "required": required,
    })
}

/// `data` is text holding JSON of `schema`.
fn json_text(schema: &Value) -> Value {
    json!({
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": schema,
    })
}

/// The body of every error: `{"error": "<status in snake_case>", "message": ".."}`.
pub(super) fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "error": { "type": "string", "description": "The status in snake_case: `not_found`." },
            "message": { "type": "string", "description": "What went wrong, naming the bad parameter." },
        },
        "required": ["error", "message"],
    })
}

/// The shared error responses.
pub(super) fn error_responses() -> Value {
    let mut out = Map::new();
    for (status, name, description) in ERRORS {
        let mut response = json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
        });
        if status == "503" {
            response["headers"] = json!({
                "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "integer" } }
            });
        }
        out.insert(name.to_owned(), response);
    }
    Value::Object(out)
}
