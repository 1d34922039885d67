//! The OpenAPI document: what each route's types say (bodies, query, path
//! parameters, events), the error responses its chain may answer, the tickets
//! example's document against a golden copy and an independent validator, and
//! the document served at `GET /openapi.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use justsse::openapi::{OpenApi, Spec};
use justsse::prelude::*;
use justsse::route;
use justsse::test::TestClient;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Note {
    text: String,
    pinned: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)] // read by the document, not the handler
struct Page {
    limit: u32,
    after: Option<String>,
}

/// Has no schema: described as any JSON.
#[derive(Serialize, Deserialize)]
struct Opaque {
    anything: u8,
}

#[derive(Serialize, JsonSchema)]
struct Moved {
    to: u32,
}

#[derive(SseEvent)]
#[allow(dead_code)] // described, not all sent
enum NoteEvent {
    Added(Note),
    Cleared,
    Moved {
        #[serde(rename = "fromLane")]
        from: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    Pair(Moved, u8),
    Blob(Opaque),
}

#[derive(Debug, Clone)]
struct Member;

async fn member(_: &justsse::RequestHead) -> Result<Member, HttpError> {
    Ok(Member)
}

struct Notes;

#[controller("/notes")]
impl Notes {
    /// A page of notes.
    #[get("/")]
    async fn list(&self, _page: Query<Page>) -> Json<Vec<Note>> {
        Json(Vec::new())
    }

    /// Adds a note.
    #[post("/")]
    #[uses(member)]
    #[guard(|_: &Member| true)]
    async fn add(&self, note: Json<Note>) -> Result<(StatusCode, Json<Note>), HttpError> {
        Ok((StatusCode::CREATED, note))
    }

    /// One note.
    #[get("/:id")]
    async fn show(&self, id: u64) -> Result<Json<Note>, HttpError> {
        Err(HttpError::not_found(format!("no note {id}")))
    }

    /// Makes a copy of a note: 409 when it moved (with where to), 422 when
    /// it cannot be copied.
    #[post("/copies", responses(409 = Moved, 422))]
    async fn copy(&self, note: Json<Note>) -> Created<Note> {
        Created(note.0)
    }

    /// Takes anything.
    #[put("/opaque")]
    async fn opaque(&self, body: Json<Opaque>) -> Json<Opaque> {
        body
    }

    /// Notes as they change.
    #[sse("/events", events = NoteEvent)]
    async fn events(&self) -> impl EventStream {
        stream! { yield NoteEvent::Cleared.to_event()?; }
    }

    /// Any events.
    #[sse("/raw")]
    async fn raw(&self) -> impl EventStream {
        stream! { yield Event::named("x").data("y"); }
    }
}

fn notes() -> Value {
    App::new()
        .controller(Notes)
        .openapi(&OpenApi::new("Notes", "1.0.0"))
}

#[test]
fn bodies_query_and_path_parameters_come_from_the_handlers_types() {
    let doc = notes();
    assert_eq!(doc["openapi"], "3.1.1");
    let list = &doc["paths"]["/notes"]["get"];
    assert_eq!(list["operationId"], "Notes_list");
    assert_eq!(list["tags"], json!(["Notes"]));
    assert_eq!(list["summary"], "A page of notes.");
    let params = list["parameters"].as_array().expect("the query's fields");
    let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
    assert_eq!(
        (limit["in"].as_str(), limit["required"].as_bool()),
        (Some("query"), Some(true))
    );
    let after = params.iter().find(|p| p["name"] == "after").expect("after");
    assert_eq!(after["required"], false);
    let items = &list["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(items["items"]["$ref"], "#/components/schemas/Note");

    let note = &doc["components"]["schemas"]["Note"];
    assert_eq!(note["required"], json!(["text"]));

    let add = &doc["paths"]["/notes"]["post"];
    let body = &add["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/Note");
    // `(StatusCode, Json<T>)`: the handler picks its success status.
    assert_eq!(
        add["responses"]["2XX"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Note"
    );

    // `Created<T>`: documented as the 201 it always is.
    let copy = &doc["paths"]["/notes/copies"]["post"]["responses"];
    assert_eq!(
        copy["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Note"
    );
    assert!(copy.get("200").is_none() && copy.get("2XX").is_none());
    // Statuses the handler declares it answers itself, with their bodies.
    assert_eq!(
        copy["409"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Moved"
    );
    assert_eq!(copy["409"]["description"], "Conflict");
    assert_eq!(
        copy["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );

    let show = &doc["paths"]["/notes/{id}"]["get"];
    assert_eq!(show["parameters"][0]["name"], "id");
    assert_eq!(show["parameters"][0]["in"], "path");
    assert_eq!(show["parameters"][0]["schema"]["type"], "integer");
    assert_eq!(show["parameters"][0]["schema"]["format"], "uint64");
    assert_eq!(
        show["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Note"
    );

    // A type without a schema is any JSON, never an error.
    let opaque = &doc["paths"]["/notes/opaque"]["put"];
    assert_eq!(
        opaque["requestBody"],
        Value::Null,
        "no schema, no described body"
    );
    assert_eq!(
        opaque["responses"]["200"]["content"]["application/json"]["schema"],
        json!({})
    );
}

#[test]
fn each_operation_lists_the_errors_its_route_may_answer() {
    let doc = notes();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let responses = doc["paths"][path][method]["responses"]
            .as_object()
            .expect("responses");
        responses.keys().cloned().collect()
    };
    assert_eq!(statuses("/notes", "get"), ["200", "400"]);
    // A JSON body, a middleware and a guard.
    assert_eq!(
        statuses("/notes", "post"),
        ["2XX", "400", "401", "403", "413", "415"]
    );
    // A path parameter: malformed (400) or naming nothing (404).
    assert_eq!(statuses("/notes/{id}", "get"), ["200", "400", "404"]);
    assert_eq!(statuses("/notes/events", "get"), ["200", "503"]);
    let forbidden = &doc["paths"]["/notes"]["post"]["responses"]["403"];
    assert_eq!(forbidden["$ref"], "#/components/responses/Forbidden");
    let error = &doc["components"]["responses"]["Forbidden"]["content"]["application/json"];
    assert_eq!(error["schema"]["$ref"], "#/components/schemas/Error");
    assert_eq!(
        doc["components"]["schemas"]["Error"]["required"],
        json!(["error", "message"])
    );
    let unavailable = &doc["components"]["responses"]["Unavailable"];
    assert!(unavailable["headers"]["Retry-After"].is_object());
}

/// The catalog of `NoteEvent`, from the 3.2 document's `itemSchema`.
fn catalog(spec: Spec) -> Value {
    let doc = App::new()
        .controller(Notes)
        .openapi(&OpenApi::new("Notes", "1.0.0").spec(spec));
    doc["paths"]["/notes/events"]["get"]["responses"]["200"]["content"]["text/event-stream"].clone()
}

#[test]
fn an_event_stream_lists_each_event_with_its_data_schema() {
    let stream = catalog(Spec::V3_2);
    let events = stream["itemSchema"]["oneOf"]
        .as_array()
        .expect("one item per event");
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| e["properties"]["event"]["const"].as_str())
        .collect();
    assert_eq!(names, NoteEvent::NAMES);
    let data = |name: &str| {
        let event = events
            .iter()
            .find(|e| e["properties"]["event"]["const"] == name)
            .expect("the event");
        assert_eq!(event["required"], json!(["event", "data"]));
        let data = &event["properties"]["data"];
        assert_eq!(data["contentMediaType"], "application/json");
        data["contentSchema"].clone()
    };
    assert_eq!(data("added")["$ref"], "#/components/schemas/Note");
    assert_eq!(data("cleared"), json!({ "type": "null" }));
    // Named fields: serde's renames and skipped-if fields as they are sent.
    let moved = data("moved");
    assert_eq!(moved["type"], "object");
    assert!(moved["properties"]["fromLane"].is_object(), "{moved}");
    assert_eq!(moved["required"], json!(["fromLane"]));
    let pair = data("pair");
    assert_eq!(pair["prefixItems"][0]["$ref"], "#/components/schemas/Moved");
    assert_eq!(pair["maxItems"], 2);
    assert_eq!(data("blob"), json!({}), "no schema: any JSON");

    // 3.1: the body is a string; the same catalog is an extension.
    let stream = catalog(Spec::V3_1);
    assert_eq!(stream["schema"]["type"], "string");
    assert_eq!(
        stream["x-itemSchema"]["oneOf"].as_array().map(Vec::len),
        Some(5)
    );
    assert!(stream.get("itemSchema").is_none());

    // An untyped stream: any event.
    let doc = notes();
    let raw =
        &doc["paths"]["/notes/raw"]["get"]["responses"]["200"]["content"]["text/event-stream"];
    assert_eq!(raw["x-itemSchema"]["required"], json!(["data"]));
}

#[test]
fn a_hand_built_typed_stream_describes_its_events_too() {
    async fn moves() -> impl futures_util::Stream<Item = NoteEvent> {
        futures_util::stream::iter([NoteEvent::Cleared])
    }
    let doc = App::new()
        .route("/moves", route::sse(moves))
        .openapi(&OpenApi::new("Moves", "1").spec(Spec::V3_2));
    let items = &doc["paths"]["/moves"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["itemSchema"]["oneOf"];
    assert_eq!(items.as_array().map(Vec::len), Some(5), "{items}");
    assert_eq!(
        items[0]["properties"]["data"]["contentSchema"]["$ref"],
        "#/components/schemas/Note"
    );
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/tickets-openapi.json")
}

/// The tickets example's document, as it serves it.
fn tickets_document(spec: Spec) -> Value {
    tickets::app().openapi(&tickets::openapi().spec(spec))
}

#[test]
fn the_tickets_document_matches_its_golden_copy() {
    let doc = serde_json::to_string_pretty(&tickets_document(Spec::V3_1)).expect("JSON") + "\n";
    if std::env::var_os("JUSTSSE_BLESS").is_some() {
        std::fs::write(golden(), &doc).expect("the golden copy is written");
    }
    let expected = std::fs::read_to_string(golden()).expect("tests/golden/tickets-openapi.json");
    assert!(
        doc == expected,
        "the tickets example's OpenAPI document changed; review it and rerun with JUSTSSE_BLESS=1:\n{doc}"
    );
}

#[test]
fn the_tickets_documents_pass_an_independent_validator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let found = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the OpenAPI validator needs Node.js: apt-get install nodejs npm"
    );
    if !dir
        .join("node_modules/@seriousme/openapi-schema-validator")
        .exists()
    {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(installed.success(), "npm ci in tests/openapi failed");
    }
    let out = std::env::temp_dir().join(format!("justsse-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("a temporary directory");
    let mut files = Vec::new();
    for (spec, name) in [
        (Spec::V3_1, "tickets-3.1.json"),
        (Spec::V3_2, "tickets-3.2.json"),
    ] {
        let file = out.join(name);
        std::fs::write(&file, tickets_document(spec).to_string()).expect("the document");
        files.push(file);
    }
    // A broken document fails it, so its passes mean something.
    let broken = out.join("broken.json");
    let mut doc = tickets_document(Spec::V3_1);
    doc["paths"]["/tickets/"]["get"]["responses"] = json!("none");
    std::fs::write(&broken, doc.to_string()).expect("the broken document");

    let run = |files: &[PathBuf]| {
        Command::new("node")
            .arg("validate.mjs")
            .args(files)
            .current_dir(&dir)
            .output()
            .expect("node runs")
    };
    let valid = run(&files);
    let report = String::from_utf8_lossy(&valid.stdout).into_owned();
    assert!(
        valid.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&valid.stderr)
    );
    assert!(
        report.contains("valid OpenAPI 3.1") && report.contains("valid OpenAPI 3.2"),
        "{report}"
    );
    assert!(
        !run(&[broken]).status.success(),
        "the validator accepts anything"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[tokio::test]
async fn the_tickets_example_serves_its_document() {
    let client = TestClient::new(tickets::app()).expect("the app builds");
    let response = client.get("/openapi.json").send().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let served: Value = response.json().await;
    assert_eq!(served, tickets_document(Spec::V3_1));
    assert!(
        served["paths"]["/openapi.json"]["get"].is_object(),
        "it lists itself"
    );
}

#[test]
fn operation_ids_stay_unique_when_a_handler_is_mounted_twice() {
    async fn ping() -> &'static str {
        "pong"
    }
    let doc = App::new()
        .route("/ping", route::get(ping))
        .route("/health", route::get(ping))
        .openapi(&OpenApi::new("Ping", "1"));
    let first = doc["paths"]["/ping"]["get"]["operationId"]
        .as_str()
        .map(str::to_owned);
    let second = doc["paths"]["/health"]["get"]["operationId"]
        .as_str()
        .map(str::to_owned);
    assert!(first.is_some() && second.is_some());
    assert_ne!(first, second, "{doc}");
    assert_eq!(second, first.map(|id| format!("{id}_2")));
}
