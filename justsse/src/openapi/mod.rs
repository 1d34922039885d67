//! The app's OpenAPI document, made from its route table: paths, methods,
//! parameters, bodies (their schemas from [`schemars`]), errors, and each event
//! stream's event catalog.
//!
//! Types give their schemas by implementing `schemars::JsonSchema` (derive it);
//! a body or parameter whose type does not is described as any JSON value.
//! Bodies are described for controller routes, whose types the macros see;
//! a hand-built route lists its path, parameters, kind and events.
//!
//! An event stream's events are a `text/event-stream` response whose items are
//! described by the OpenAPI 3.2 `itemSchema`: one object per event, its `event`
//! a constant name and its `data` JSON text of the variant's schema. In a 3.1
//! document (the default: more tools read it), the body is a string and the
//! same catalog is the extension `x-itemSchema`.
//!
//! ```
//! use justsse::openapi::{OpenApi, Spec};
//! use justsse::prelude::*;
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! struct Note {
//!     text: String,
//! }
//!
//! #[derive(SseEvent)]
//! enum NoteEvent {
//!     Added(Note),
//! }
//!
//! struct Notes;
//!
//! #[controller("/notes")]
//! impl Notes {
//!     /// Adds a note.
//!     #[post("/")]
//!     async fn add(&self, note: Json<Note>) -> Json<Note> {
//!         note
//!     }
//!
//!     /// Notes as they are added.
//!     #[sse("/events", events = NoteEvent)]
//!     async fn events(&self) -> impl EventStream {
//!         stream! { yield NoteEvent::Added(Note { text: "hi".into() }).to_event()?; }
//!     }
//! }
//!
//! let app = App::new().controller(Notes);
//! let doc = app.openapi(&OpenApi::new("Notes", "1.0.0"));
//! assert_eq!(doc["openapi"], "3.1.1");
//! let add = &doc["paths"]["/notes"]["post"];
//! assert_eq!(add["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Note");
//! assert_eq!(doc["components"]["schemas"]["Note"]["required"][0], "text");
//!
//! let doc = app.openapi(&OpenApi::new("Notes", "1.0.0").spec(Spec::V3_2));
//! let stream = &doc["paths"]["/notes/events"]["get"]["responses"]["200"]["content"]["text/event-stream"];
//! assert_eq!(stream["itemSchema"]["oneOf"][0]["properties"]["event"]["const"], "added");
//! ```

mod operation;

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::controller::RouteTable;
use operation::Operation;

/// Which OpenAPI version a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Spec {
    /// OpenAPI 3.1.1; an event stream's catalog is the extension `x-itemSchema`.
    #[default]
    V3_1,
    /// OpenAPI 3.2.0; an event stream's catalog is its `itemSchema`.
    V3_2,
}

impl Spec {
    /// The document's `openapi` field.
    pub fn version(self) -> &'static str {
        match self {
            Spec::V3_1 => "3.1.1",
            Spec::V3_2 => "3.2.0",
        }
    }
}

/// What a document says about the API itself (its `info`), and its version.
///
/// ```
/// use justsse::openapi::{OpenApi, Spec};
///
/// let info = OpenApi::new("Tickets", "0.1.0")
///     .description("Support tickets and their live comments.")
///     .spec(Spec::V3_2);
/// let doc = info.document(&justsse::route::RouteTable::default());
/// assert_eq!(doc["info"]["title"], "Tickets");
/// assert_eq!(doc["openapi"], "3.2.0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApi {
    title: String,
    version: String,
    description: Option<String>,
    spec: Spec,
    /// Middleware (by the name `#[uses]` gives them) that authenticate, and
    /// how: their routes carry `security`.
    security: Vec<(String, SecurityScheme)>,
}

/// How a middleware authenticates a request, as the document's
/// `securitySchemes` say it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityScheme {
    /// `Authorization: Bearer <token>`, with an optional format hint
    /// (`JWT`, an opaque session token...).
    Bearer {
        /// What the token is, for the reader (`bearerFormat`).
        format: Option<String>,
    },
    /// A key in a header, such as `x-api-key`.
    ApiKeyHeader {
        /// The header's name.
        header: String,
    },
}

impl SecurityScheme {
    /// `Authorization: Bearer <token>`.
    pub fn bearer() -> Self {
        SecurityScheme::Bearer { format: None }
    }

    fn to_value(&self) -> Value {
        match self {
            SecurityScheme::Bearer { format: None } => {
                json!({ "type": "http", "scheme": "bearer" })
            }
            SecurityScheme::Bearer {
                format: Some(format),
            } => {
                json!({ "type": "http", "scheme": "bearer", "bearerFormat": format })
            }
            SecurityScheme::ApiKeyHeader { header } => {
                json!({ "type": "apiKey", "in": "header", "name": header })
            }
        }
    }
}

impl OpenApi {
    /// A document titled `title` for version `version` of the API.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> Self {
        OpenApi {
            title: title.into(),
            version: version.into(),
            description: None,
            spec: Spec::default(),
            security: Vec::new(),
        }
    }

    /// Says that middleware `name` (as written in `#[uses(..)]`, its last
    /// path segment) authenticates with `scheme`: the document lists the
    /// scheme under `components.securitySchemes` (named after the
    /// middleware), and every route that uses it carries `security`.
    ///
    /// ```
    /// use justsse::openapi::{OpenApi, SecurityScheme};
    /// use justsse::prelude::*;
    ///
    /// #[derive(Clone)]
    /// struct User;
    ///
    /// async fn auth(_: &RequestHead) -> Result<User, HttpError> {
    ///     Ok(User)
    /// }
    ///
    /// struct Me;
    ///
    /// #[controller("/me")]
    /// impl Me {
    ///     #[get("/")]
    ///     #[uses(auth)]
    ///     async fn me(&self, _user: User) -> Json<u32> {
    ///         Json(1)
    ///     }
    /// }
    ///
    /// let doc = App::new()
    ///     .controller(Me)
    ///     .openapi(&OpenApi::new("Me", "1").security("auth", SecurityScheme::bearer()));
    /// assert_eq!(doc["components"]["securitySchemes"]["auth"]["scheme"], "bearer");
    /// assert_eq!(doc["paths"]["/me"]["get"]["security"][0]["auth"], serde_json::json!([]));
    /// ```
    pub fn security(mut self, name: impl Into<String>, scheme: SecurityScheme) -> Self {
        self.security.push((name.into(), scheme));
        self
    }

    /// A longer description (CommonMark).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The OpenAPI version to write: [`Spec::V3_1`] unless set.
    pub fn spec(mut self, spec: Spec) -> Self {
        self.spec = spec;
        self
    }

    /// The document of `routes`.
    pub fn document(&self, routes: &RouteTable) -> Value {
        let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        let mut generator = settings.into_generator();
        let mut paths = Map::new();
        // Operation ids are unique in a document: a handler serving several
        // routes (a function mounted twice) gets `_2`, `_3`... after the first.
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut event_types = Vec::new();
        for route in routes {
            let operation = Operation::of(route, &mut generator, self.spec);
            event_types.extend(operation.events_component());
            let mut operation = operation.into_value();
            let required: Vec<Value> = self
                .security
                .iter()
                .filter(|(name, _)| route.uses.iter().any(|used| short(used) == name))
                .map(|(name, _)| json!({ name.as_str(): [] }))
                .collect();
            if !required.is_empty() {
                operation["security"] = Value::Array(required);
            }
            if let Some(id) = operation["operationId"].as_str().map(str::to_owned) {
                let seen = ids.entry(id.clone()).or_insert(0);
                *seen += 1;
                if *seen > 1 {
                    operation["operationId"] = json!(format!("{id}_{seen}"));
                }
            }
            let path = paths
                .entry(openapi_path(route.path))
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(methods) = path {
                methods.insert(route.method.to_ascii_lowercase(), operation);
            }
        }
        let mut schemas = generator.take_definitions(true);
        schemas.insert("Error".to_owned(), operation::error_schema());
        // A type of events named like a schema of data would hide it: the
        // data's schema stays, the union is not added.
        for (name, union) in event_types {
            schemas.entry(name.to_owned()).or_insert(union);
        }
        let mut info = json!({ "title": self.title, "version": self.version });
        if let Some(description) = &self.description {
            info["description"] = json!(description);
        }
        let mut components = json!({
            "schemas": schemas,
            "responses": operation::error_responses(),
        });
        if !self.security.is_empty() {
            let schemes: Map<String, Value> = self
                .security
                .iter()
                .map(|(name, scheme)| (name.clone(), scheme.to_value()))
                .collect();
            components["securitySchemes"] = Value::Object(schemes);
        }
        json!({
            "openapi": self.spec.version(),
            "info": info,
            "paths": paths,
            "components": components,
        })
    }
}

/// A middleware's name as `#[uses]` lists it, without its module path.
fn short(used: &str) -> &str {
    used.rsplit("::").next().unwrap_or(used)
}

/// `/tickets/:ticket/events` -> `/tickets/{ticket}/events`; a catch-all
/// `*rest` -> `{rest}`.
fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix([':', '*']) {
            Some(name) => format!("{{{name}}}"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::openapi_path;

    #[test]
    fn paths_name_their_parameters_in_braces() {
        assert_eq!(
            openapi_path("/tickets/:ticket/events"),
            "/tickets/{ticket}/events"
        );
        assert_eq!(openapi_path("/files/*rest"), "/files/{rest}");
        assert_eq!(openapi_path("/"), "/");
    }
}
