//! What a route's types say about its wire format: the request body, the query,
//! the path parameters, the response body and the events, collected for the
//! OpenAPI document. Generated code fills a [`Describe`] by probing each type:
//! with the `openapi` feature, a type that implements `schemars::JsonSchema`
//! gives its schema; any other type (or any type without the feature) gives
//! none, and the document says "any JSON" there. Method lookup on
//! `&Probe<T>` tries the traits on `Probe<T>` (which hold when `T` has a
//! schema) before [`DescribeNothing`] on `&Probe<T>`.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::probe::Probe;

/// What one route's types say, filled by [`Describer`] functions.
// Without the `openapi` feature nothing makes or reads one.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
pub struct Describe<'a> {
    #[cfg(feature = "openapi")]
    pub(crate) generator: &'a mut schemars::SchemaGenerator,
    #[cfg(not(feature = "openapi"))]
    pub(crate) generator: std::marker::PhantomData<&'a mut ()>,
    /// The JSON request body's schema.
    pub(crate) request: Option<Value>,
    /// The query string's object schema (its properties become parameters).
    pub(crate) query: Option<Value>,
    /// Each path parameter's schema, by name.
    pub(crate) params: Vec<(&'static str, Value)>,
    /// The JSON response body's schema.
    pub(crate) response: Option<Value>,
    /// The success status the handler's type tells: `None` for 200, `2XX`
    /// when it chooses at run time (`(StatusCode, Json<T>)`), `201` for
    /// `Created<T>`.
    pub(crate) success: Option<&'static str>,
    /// Each event's name and data schema.
    pub(crate) events: Vec<(&'static str, Value)>,
    /// The name of the type the events come from (`TicketEvent`), which
    /// names their union in the document's components.
    pub(crate) events_type: Option<&'static str>,
    /// Statuses the handler answers itself, with their body's schema (`None`:
    /// the error body).
    pub(crate) declared: Vec<(u16, Option<Value>)>,
}

impl fmt::Debug for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Describe")
            .field("request", &self.request)
            .field("query", &self.query)
            .field("params", &self.params)
            .field("response", &self.response)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl<'a> Describe<'a> {
    #[cfg(feature = "openapi")]
    pub(crate) fn new(generator: &'a mut schemars::SchemaGenerator) -> Self {
        Describe {
            generator,
            request: None,
            query: None,
            params: Vec::new(),
            response: None,
            success: None,
            events: Vec::new(),
            events_type: None,
            declared: Vec::new(),
        }
    }

    /// Declares that the handler answers `status` with a JSON `T`
    /// (`responses(409 = Conflict)` on the route).
    #[cfg(feature = "openapi")]
    pub fn declare<T: schemars::JsonSchema>(&mut self, status: u16) {
        let schema = self.schema::<T>();
        self.declared.push((status, Some(schema)));
    }

    /// Declares that the handler answers `status` with the error body
    /// (`responses(422)` on the route).
    pub fn declare_error(&mut self, status: u16) {
        self.declared.push((status, None));
    }

    /// `T`'s schema: a reference to a shared component for named types.
    #[cfg(feature = "openapi")]
    pub fn schema<T: schemars::JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    /// `T`'s own schema, never a reference (a query struct's properties).
    #[cfg(feature = "openapi")]
    pub fn inline_schema<T: schemars::JsonSchema>(&mut self) -> Value {
        T::json_schema(self.generator).to_value()
    }

    /// Names the type the events recorded next come from (the derive calls it).
    pub fn events_type(&mut self, name: &'static str) {
        self.events_type = Some(name);
    }

    /// Records one event: its name and its data's schema.
    pub fn event(&mut self, name: &'static str, data: Value) {
        self.events.push((name, data));
    }

    /// The schema of no data (`null`).
    pub fn null() -> Value {
        json!({ "type": "null" })
    }

    /// The schema of a JSON array of `items`, in order (a tuple variant).
    pub fn tuple(items: Vec<Value>) -> Value {
        let len = items.len();
        json!({ "type": "array", "prefixItems": items, "minItems": len, "maxItems": len })
    }

    /// The schema of a JSON object with `fields` (name, schema, always present).
    pub fn object(fields: Vec<(&'static str, Value, bool)>) -> Value {
        let required: Vec<&str> = fields
            .iter()
            .filter(|(_, _, required)| *required)
            .map(|(name, _, _)| *name)
            .collect();
        let properties: Map<String, Value> = fields
            .into_iter()
            .map(|(name, schema, _)| (name.to_owned(), schema))
            .collect();
        json!({ "type": "object", "properties": properties, "required": required })
    }
}

/// A route's description function, as the route table holds it.
#[derive(Clone, Copy)]
pub struct Describer(pub fn(&mut Describe<'_>));

impl Describer {
    /// Describes nothing: a route whose types are not known.
    pub const NONE: Describer = Describer(|_| {});
}

#[cfg(feature = "openapi")]
/// A route's events' data schemas, inlined, as its route-table row serializes
/// them.
pub(crate) fn event_schemas<S: serde::Serializer>(
    describe: &Describer,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut d = Describe::new(&mut generator);
    (describe.0)(&mut d);
    serializer.collect_map(d.events)
}

/// Whether a route has no typed events to list.
#[cfg(feature = "openapi")]
pub(crate) fn no_event_schemas(describe: &Describer) -> bool {
    let mut generator = schemars::SchemaGenerator::default();
    let mut d = Describe::new(&mut generator);
    (describe.0)(&mut d);
    d.events.is_empty()
}

impl Default for Describer {
    fn default() -> Self {
        Describer::NONE
    }
}

impl fmt::Debug for Describer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Describer")
    }
}

/// A handler argument that reads the request: `Json<T>` is the body, `Query<T>`
/// the query string.
pub trait DescribeArg {
    /// Records what the argument reads.
    fn describe_arg(&self, d: &mut Describe<'_>);
}

/// A handler's return type that is JSON: `Json<T>`, or it inside `Result`,
/// or after a status code.
pub trait DescribeOutput {
    /// Records the response body.
    fn describe_output(&self, d: &mut Describe<'_>);
}

/// A path parameter's text, by the type it parses to.
pub trait DescribeParam {
    /// Records the parameter `name`.
    fn describe_param(&self, d: &mut Describe<'_>, name: &'static str);
}

/// A value's schema (an event's data, a field of it).
pub trait DescribeValue {
    /// Its schema.
    fn describe_value(&self, d: &mut Describe<'_>) -> Value;
}

/// What a type without a schema says: nothing, or "any JSON".
pub trait DescribeNothing {
    /// Records nothing.
    fn describe_arg(&self, d: &mut Describe<'_>) {
        let _ = d;
    }
    /// Records nothing.
    fn describe_output(&self, d: &mut Describe<'_>) {
        let _ = d;
    }
    /// Records the parameter as a string.
    fn describe_param(&self, d: &mut Describe<'_>, name: &'static str) {
        d.params.push((name, json!({ "type": "string" })));
    }
    /// Any JSON value.
    fn describe_value(&self, d: &mut Describe<'_>) -> Value {
        let _ = d;
        json!({})
    }
}

impl<T> DescribeNothing for &Probe<T> {}

#[cfg(feature = "openapi")]
mod with_schemas {
    use justsse_http::Json;
    use justsse_http::http::StatusCode;
    use schemars::JsonSchema;
    use serde_json::Value;

    use super::{Describe, DescribeArg, DescribeOutput, DescribeParam, DescribeValue};
    use crate::extractors::Query;
    use crate::probe::Probe;

    impl<T: JsonSchema> DescribeArg for Probe<Json<T>> {
        fn describe_arg(&self, d: &mut Describe<'_>) {
            d.request = Some(d.schema::<T>());
        }
    }

    impl<T: JsonSchema> DescribeArg for Probe<Query<T>> {
        fn describe_arg(&self, d: &mut Describe<'_>) {
            d.query = Some(d.inline_schema::<T>());
        }
    }

    impl<T: JsonSchema> DescribeOutput for Probe<Json<T>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
        }
    }

    impl<T: JsonSchema, E> DescribeOutput for Probe<Result<Json<T>, E>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
        }
    }

    impl<T: JsonSchema> DescribeOutput for Probe<(StatusCode, Json<T>)> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
            d.success = Some("2XX");
        }
    }

    impl<T: JsonSchema, E> DescribeOutput for Probe<Result<(StatusCode, Json<T>), E>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
            d.success = Some("2XX");
        }
    }

    impl<T: JsonSchema> DescribeOutput for Probe<justsse_http::Created<T>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
            d.success = Some("201");
        }
    }

    impl<T: JsonSchema, E> DescribeOutput for Probe<Result<justsse_http::Created<T>, E>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
            d.success = Some("201");
        }
    }

    impl<T: JsonSchema> DescribeOutput for Probe<crate::response::JsonOrStream<T>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
        }
    }

    impl<T: JsonSchema, E> DescribeOutput for Probe<Result<crate::response::JsonOrStream<T>, E>> {
        fn describe_output(&self, d: &mut Describe<'_>) {
            d.response = Some(d.schema::<T>());
        }
    }

    impl<T: JsonSchema> DescribeParam for Probe<T> {
        fn describe_param(&self, d: &mut Describe<'_>, name: &'static str) {
            let schema = d.schema::<T>();
            d.params.push((name, schema));
        }
    }

    impl<T: JsonSchema> DescribeValue for Probe<T> {
        fn describe_value(&self, d: &mut Describe<'_>) -> Value {
            d.schema::<T>()
        }
    }
}
