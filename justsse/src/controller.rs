//! Controllers: what `#[controller]` implements, the route table it declares,
//! and how its routes are mounted on the router.

use std::fmt;
use std::sync::Arc;

use justsse_http::http::Method;
use justsse_http::{BodyKind, MethodRouter, Router, SharedHandler};
use serde::Serialize;

use crate::describe::Describer;
use crate::param::Needs;
use crate::state::AppState;

/// A set of routes sharing a path prefix, implemented by `#[controller]`.
pub trait Controller: Send + Sync + 'static {
    /// The route table, as the macro wrote it.
    const ROUTES: &'static [RouteInfo];

    /// Adds every route to `mount`.
    fn mount(self: Arc<Self>, mount: &mut Mount<'_>);
}

/// What a route answers: a plain response (by its type: JSON, HTML, text,
/// nothing, or a [`Response`](crate::Response) built by hand), an event
/// stream, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteKind {
    /// JSON ([`Json`](crate::Json), or an error body).
    Json,
    /// HTML ([`Html`](crate::Html)).
    Html,
    /// Plain text (`String`, `&str`).
    Text,
    /// No body (`()`, `StatusCode`).
    Empty,
    /// A response whose type does not tell its body.
    Response,
    /// An event stream.
    Sse,
    /// Progressive enhancement: JSON for plain clients, an event stream for
    /// clients that accept one.
    Progressive,
}

/// One row of a controller's route table. It serializes as a JSON object with
/// the same fields, `params` as `[{"name": .., "type": ..}]` and `kind` as its
/// [label](RouteKind::label).
#[derive(Debug, Clone, Copy, Serialize)]
#[non_exhaustive]
pub struct RouteInfo {
    /// `GET`, `POST`, ...
    pub(crate) method: &'static str,
    /// The full path, prefix included, as written (`/tickets/:ticket/events`).
    pub(crate) path: &'static str,
    /// What it answers.
    pub(crate) kind: RouteKind,
    /// `Controller::method`.
    pub(crate) handler: &'static str,
    /// The path parameters with their types, in path order.
    #[serde(serialize_with = "params_as_objects")]
    pub(crate) params: &'static [(&'static str, &'static str)],
    /// The middleware, controller-level first.
    pub(crate) uses: &'static [&'static str],
    /// The guards, as written.
    pub(crate) guards: &'static [&'static str],
    /// The first line of the method's doc comment.
    pub(crate) summary: &'static str,
    /// The names of the events an event stream sends, when its
    /// [`SseEvent`](crate::SseEvent) type is known (`events = Type` on the
    /// route attribute, or a hand-built route returning a stream of that type).
    pub(crate) events: &'static [&'static str],
    /// What the route's types say about its bodies, parameters and events,
    /// for the OpenAPI document (the `openapi` feature). With that feature, a
    /// stream of typed events serializes its events' data schemas as
    /// `event_schemas` (`{"name": schema}`, self-contained).
    #[cfg_attr(not(feature = "openapi"), serde(skip))]
    #[cfg_attr(
        feature = "openapi",
        serde(
            rename = "event_schemas",
            serialize_with = "crate::describe::event_schemas",
            skip_serializing_if = "crate::describe::no_event_schemas"
        )
    )]
    pub(crate) describe: Describer,
}

impl RouteInfo {
    /// A row, as the macros and [`App::route`](crate::App::route) write them.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        method: &'static str,
        path: &'static str,
        kind: RouteKind,
        handler: &'static str,
        params: &'static [(&'static str, &'static str)],
        uses: &'static [&'static str],
        guards: &'static [&'static str],
        summary: &'static str,
        events: &'static [&'static str],
        describe: Describer,
    ) -> Self {
        Self {
            method,
            path,
            kind,
            handler,
            params,
            uses,
            guards,
            summary,
            events,
            describe,
        }
    }

    /// `GET`, `POST`, ...
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The full path, prefix included, as written (`/tickets/:ticket/events`).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// What it answers.
    pub fn kind(&self) -> RouteKind {
        self.kind
    }

    /// `Controller::method`, or the handler function's name.
    pub fn handler(&self) -> &'static str {
        self.handler
    }

    /// The path parameters with their types, in path order.
    pub fn params(&self) -> &'static [(&'static str, &'static str)] {
        self.params
    }

    /// The middleware, controller-level first.
    pub fn uses(&self) -> &'static [&'static str] {
        self.uses
    }

    /// The guards, as written.
    pub fn guards(&self) -> &'static [&'static str] {
        self.guards
    }

    /// The first line of the method's doc comment.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// The names of the events an event stream sends, when its
    /// [`SseEvent`](crate::SseEvent) type is known.
    pub fn events(&self) -> &'static [&'static str] {
        self.events
    }

    /// What the route's types say about its bodies, parameters and events, for
    /// the OpenAPI document.
    #[doc(hidden)]
    pub fn describer(&self) -> Describer {
        self.describe
    }
}

/// Two rows are equal when they show the same; what their types describe is
/// not compared.
impl PartialEq for RouteInfo {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method
            && self.path == other.path
            && self.kind == other.kind
            && self.handler == other.handler
            && self.params == other.params
            && self.uses == other.uses
            && self.guards == other.guards
            && self.summary == other.summary
            && self.events == other.events
    }
}

impl Eq for RouteInfo {}

fn params_as_objects<S: serde::Serializer>(
    params: &&'static [(&'static str, &'static str)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Param {
        name: &'static str,
        #[serde(rename = "type")]
        ty: &'static str,
    }
    serializer.collect_seq(params.iter().map(|&(name, ty)| Param { name, ty }))
}

impl Serialize for RouteKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

impl fmt::Display for RouteInfo {
    /// `GET  /tickets/:ticket/events  sse  TicketController::events  uses auth, guard`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        RouteTable(vec![*self]).fmt(f)
    }
}

/// Routes listed one per line with aligned columns, as [`App::routes`](crate::App::routes)
/// returns them; it serializes as a JSON array of [`RouteInfo`] objects.
///
/// ```
/// use justsse::{App, Json, route};
///
/// async fn hello() -> Json<&'static str> {
///     Json("hello")
/// }
///
/// let table = App::new().route("/hello", route::get(hello)).routes();
/// assert!(table.to_string().starts_with("GET  /hello  json"));
/// let json = serde_json::to_value(&table).unwrap();
/// assert_eq!(json[0]["kind"], "json");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteTable(Vec<RouteInfo>);

impl RouteTable {
    pub(crate) fn new(routes: Vec<RouteInfo>) -> Self {
        Self(routes)
    }

    /// The rows, in the order the routes were added.
    pub fn routes(&self) -> &[RouteInfo] {
        &self.0
    }

    /// The rows, in the order the routes were added.
    pub fn iter(&self) -> std::slice::Iter<'_, RouteInfo> {
        self.0.iter()
    }

    /// How many routes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no route.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a RouteTable {
    type Item = &'a RouteInfo;
    type IntoIter = std::slice::Iter<'a, RouteInfo>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl RouteKind {
    /// `json`, `html`, `text`, `empty`, `response`, `sse` or `json+sse`.
    pub fn label(self) -> &'static str {
        match self {
            RouteKind::Json => "json",
            RouteKind::Html => "html",
            RouteKind::Text => "text",
            RouteKind::Empty => "empty",
            RouteKind::Response => "response",
            RouteKind::Sse => "sse",
            RouteKind::Progressive => "json+sse",
        }
    }

    /// The kind of a plain route whose handler returns a body of `kind`.
    ///
    /// ```
    /// use justsse::{response::BodyKind, route::RouteKind};
    ///
    /// assert_eq!(RouteKind::plain(BodyKind::Html), RouteKind::Html);
    /// assert_eq!(RouteKind::plain(BodyKind::Unknown).label(), "response");
    /// ```
    pub const fn plain(kind: BodyKind) -> RouteKind {
        match kind {
            BodyKind::Json => RouteKind::Json,
            BodyKind::Html => RouteKind::Html,
            BodyKind::Text => RouteKind::Text,
            BodyKind::Empty => RouteKind::Empty,
            BodyKind::EventStream => RouteKind::Sse,
            _ => RouteKind::Response,
        }
    }
}

impl fmt::Display for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = |column: fn(&RouteInfo) -> usize| self.0.iter().map(column).max().unwrap_or(0);
        let (method_w, path_w, kind_w, handler_w) = (
            width(|r| r.method.len()),
            width(|r| r.path.len()),
            width(|r| r.kind.label().len()),
            width(|r| r.handler.len()),
        );
        for route in &self.0 {
            let mut line = format!(
                "{:method_w$}  {:path_w$}  {:kind_w$}  {:handler_w$}",
                route.method,
                route.path,
                route.kind.label(),
                route.handler
            );
            let mut chain: Vec<&str> = route.uses.to_vec();
            chain.extend(route.guards.iter().map(|_| "guard"));
            if !chain.is_empty() {
                line.push_str("  uses ");
                line.push_str(&chain.join(", "));
            }
            if !route.events.is_empty() {
                line.push_str("  events ");
                line.push_str(&route.events.join(", "));
            }
            if !route.summary.is_empty() {
                line.push_str("  # ");
                line.push_str(route.summary);
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// What a mounted route answers a request with: its response, boxed once.
pub type RouteFuture = justsse_http::BoxFuture<justsse_http::Response>;

/// Where a controller's routes go when the app is built.
pub struct Mount<'a> {
    pub(crate) router: Router,
    pub(crate) app: &'a Arc<AppState>,
    pub(crate) missing: Vec<String>,
    /// The route table of the controller being mounted.
    pub(crate) table: &'static [RouteInfo],
}

impl fmt::Debug for Mount<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

impl Mount<'_> {
    /// Adds the route `info`, served by `handler`, inside the wrapping
    /// middleware `wraps` adds (route's innermost, then controller's).
    pub(crate) fn route(
        &mut self,
        info: &'static RouteInfo,
        handler: SharedHandler,
        wraps: fn(MethodRouter) -> MethodRouter,
    ) {
        let methods = match (info.kind, info.method) {
            (RouteKind::Sse, "GET") => MethodRouter::default().sse_shared(handler),
            (RouteKind::Progressive, "GET") => MethodRouter::default()
                .on_shared(Method::GET, handler.clone())
                .sse_shared(handler),
            (kind, method) => match method.parse() {
                // A stream that starts with a request: its place among the
                // open streams is taken before its handler runs.
                Ok(method) if kind == RouteKind::Sse => {
                    MethodRouter::default().stream_shared(method, handler)
                }
                Ok(method) => MethodRouter::default().on_shared(method, handler),
                Err(_) => {
                    self.missing
                        .push(format!("{}: invalid method {method}", info.handler));
                    return;
                }
            },
        };
        self.add(info, wraps(methods));
    }

    /// Row `index` of the route table of the controller being mounted.
    pub(crate) fn info(&mut self, index: usize) -> Option<&'static RouteInfo> {
        let info = self.table.get(index);
        if info.is_none() {
            self.missing
                .push(format!("route {index} is not in its controller's table"));
        }
        info
    }

    /// Adds `methods` at the route's path (after [`route`](Self::route)).
    pub(crate) fn add(&mut self, info: &RouteInfo, methods: MethodRouter) {
        self.router = std::mem::take(&mut self.router).route(info.path, methods);
    }

    /// Checks that the app has what `require` declares, for route `info`:
    /// each missing state is an error naming `what` needs it.
    pub(crate) fn require(
        &mut self,
        info: &RouteInfo,
        what: &str,
        require: impl FnOnce(&mut Needs<'_>),
    ) {
        let mut needs = Needs::new(self.app);
        require(&mut needs);
        for state in needs.missing {
            self.missing.push(format!(
                "{} {} ({}): {what} needs app state `{state}`; add it with App::state",
                info.method, info.path, info.handler
            ));
        }
    }
}
