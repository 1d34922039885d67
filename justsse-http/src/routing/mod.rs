//! Method and path dispatch on matchit.
//!
//! Trailing slashes: matching is exact, so `/tickets` and `/tickets/` are two
//! paths. When a request misses only by its trailing slash and the other form is a
//! route, the answer is `308 Permanent Redirect` to that form (query kept): the
//! method and body are kept, and browsers' `EventSource` follows it. Otherwise 404.

pub(crate) mod handler;
pub(crate) mod layer;
mod method_router;
#[cfg(test)]
mod tests;
pub(crate) mod wrap;

use std::sync::Arc;

use http::header::{self, HeaderValue};

use http::{Method, StatusCode};

use crate::error::HttpError;
use crate::routing::layer::LayerFn;
use crate::path::{PathError, RoutePath};
use crate::response::{IntoResponse, Response};

pub use handler::{BoxFuture, Handler, SharedHandler};
pub use method_router::{MethodRouter, delete, get, patch, post, put, sse};
pub use layer::{AppLayer, AppService};
pub use wrap::{Next, Wrap};

/// Why a route could not be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The path is not valid route syntax.
    #[error(transparent)]
    Path(#[from] PathError),
    /// matchit refused the path, e.g. because it conflicts with another route.
    #[error("route `{path}`: {source}")]
    Conflict {
        /// The path as written.
        path: String,
        /// matchit's explanation.
        #[source]
        source: matchit::InsertError,
    },
    /// The same method twice on one path.
    #[error("route `{path}`: {method} is defined twice")]
    DuplicateMethod {
        /// The path as written.
        path: String,
        /// The method, or `SSE` for the event-stream route.
        method: String,
    },
}

/// The routes of an application.
///
/// Paths are written `/tickets/:ticket` (one segment) and `/files/*rest` (the rest
/// of the path, last segment only). See the module docs for the trailing-slash
/// policy. An invalid or conflicting route is reported by the server when it
/// starts, as an [`Error::Route`](crate::Error::Route).
///
/// ```
/// use justsse_http::{get, sse, Router, Request, Json};
///
/// async fn ticket(req: Request) -> Json<String> {
///     Json(req.param("ticket").unwrap_or_default().to_owned())
/// }
/// async fn events(_: Request) -> &'static str { "" }
///
/// let router = Router::new()
///     .route("/tickets/:ticket", get(ticket))
///     .route("/tickets/:ticket/events", sse(events));
/// ```
#[derive(Default)]
pub struct Router {
    paths: Vec<(RoutePath, MethodRouter)>,
    errors: Vec<RouteError>,
    layers: Vec<LayerFn>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "paths",
                &self
                    .paths
                    .iter()
                    .map(|(p, _)| &p.written)
                    .collect::<Vec<_>>(),
            )
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Router {
    /// A router with no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the handlers of `path`; adding the same path again adds methods to it.
    pub fn route(mut self, path: &str, methods: MethodRouter) -> Self {
        match RoutePath::parse(path) {
            Ok(parsed) => match self
                .paths
                .iter_mut()
                .find(|(p, _)| p.matchit == parsed.matchit)
            {
                Some((_, existing)) => existing.merge(methods),
                None => self.paths.push((parsed, methods)),
            },
            Err(err) => self.errors.push(err.into()),
        }
        self
    }

    /// Wraps the whole app, every route of it, in a tower layer: tower-http's
    /// `CorsLayer`, `CompressionLayer`, `TraceLayer`, `SetRequestIdLayer`... Each
    /// call wraps what is there, so the last layer added sees a request first.
    /// Without layers, requests go straight to the router and nothing is boxed.
    ///
    /// Layers see event streams as responses whose body keeps streaming after
    /// they return. A layer that bounds a whole response, such as a total
    /// request timeout, would cut every stream at its limit: bound the time a
    /// request may take to arrive with [`ServerConfig`](crate::ServerConfig)
    /// instead. Compression must not apply to `text/event-stream` (tower-http's
    /// default predicate already leaves it alone).
    ///
    /// ```
    /// use justsse_http::{Json, Router, get};
    ///
    /// let router = Router::new()
    ///     .route("/", get(|_| async { Json("hello") }))
    ///     .layer(tower::layer::util::Identity::new());
    /// ```
    pub fn layer(mut self, layer: impl AppLayer) -> Self {
        self.layers
            .push(Box::new(move |inner| layer.wrap_app(inner)));
        self
    }

    /// Wraps every route added so far in `wrap`, outside their own wraps: an
    /// app-wide wrapping middleware. Unlike a [`layer`](Self::layer), it sees
    /// only requests that found a route, as a justsse [`Request`](crate::Request).
    pub fn wrap(mut self, wrap: impl Wrap) -> Self {
        let wrap: Arc<dyn Wrap> = Arc::new(wrap);
        for (_, methods) in &mut self.paths {
            *methods = std::mem::take(methods).wrap_shared(&wrap);
        }
        self
    }

    /// The layers, innermost first, leaving the routes.
    pub(crate) fn take_layers(&mut self) -> Vec<LayerFn> {
        std::mem::take(&mut self.layers)
    }

    /// Checks every route and builds the matcher.
    pub(crate) fn build(mut self) -> Result<Routes, RouteError> {
        if let Some(err) = self.errors.drain(..).next() {
            return Err(err);
        }
        let mut matcher = matchit::Router::new();
        let mut entries = Vec::with_capacity(self.paths.len());
        let mut patterns = Vec::with_capacity(self.paths.len());
        for (index, (path, methods)) in self.paths.into_iter().enumerate() {
            if let Some(method) = methods.duplicate {
                return Err(RouteError::DuplicateMethod {
                    path: path.written,
                    method,
                });
            }
            matcher
                .insert(path.matchit.clone(), index)
                .map_err(|source| RouteError::Conflict {
                    path: path.written.clone(),
                    source,
                })?;
            entries.push(methods);
            patterns.push(path.written.into_boxed_str());
        }
        Ok(Routes {
            matcher,
            entries,
            patterns,
        })
    }
}

/// The built routes, shared by every connection.
pub(crate) struct Routes {
    matcher: matchit::Router<usize>,
    entries: Vec<MethodRouter>,
    /// Each entry's path as written (`/tickets/:ticket`), for logs.
    patterns: Vec<Box<str>>,
}

/// The outcome of routing one request.
pub(crate) enum Routed<'r, 'p> {
    Found {
        handler: &'r SharedHandler,
        params: matchit::Params<'r, 'p>,
        /// The route's path as written.
        pattern: &'r str,
        /// Whether the answer is an event stream (the SSE handler, chosen by
        /// `Accept` on GET, or a stream route of another method): its place
        /// among the open streams is taken before the handler runs.
        streams: bool,
    },
    Answer(Response),
}

impl Routes {
    pub(crate) fn route<'r, 'p>(
        &'r self,
        method: &Method,
        path: &'p str,
        query: Option<&str>,
        headers: &http::HeaderMap,
    ) -> Routed<'r, 'p> {
        let Ok(matched) = self.matcher.at(path) else {
            return Routed::Answer(self.not_found(path, query));
        };
        let methods = &self.entries[*matched.value];
        // Only a path with both a GET and an SSE handler needs the Accept header.
        let accepts_sse = methods.sse.is_some() && accepts_event_stream(headers);
        match methods.select(method, accepts_sse) {
            Some(handler) => Routed::Found {
                streams: methods
                    .sse
                    .as_ref()
                    .is_some_and(|sse| Arc::ptr_eq(sse, handler))
                    || methods.streams.contains(method),
                handler,
                params: matched.params,
                pattern: &self.patterns[*matched.value],
            },
            None => Routed::Answer(methods.method_not_allowed(method)),
        }
    }

    /// 404, or a 308 to the same path with its trailing slash toggled when that is a route.
    fn not_found(&self, path: &str, query: Option<&str>) -> Response {
        let other = match path.strip_suffix('/') {
            Some("") => None,
            Some(stripped) => Some(stripped.to_owned()),
            None => Some(format!("{path}/")),
        };
        if let Some(other) = other.filter(|other| self.matcher.at(other).is_ok()) {
            let location = match query {
                Some(query) => format!("{other}?{query}"),
                None => other,
            };
            if let Ok(value) = HeaderValue::from_str(&location) {
                let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
                response.headers_mut().insert(header::LOCATION, value);
                return response;
            }
        }
        HttpError::not_found(format!("no route for {path}")).into_response()
    }
}

/// Whether the `Accept` header lists `text/event-stream`, as `EventSource` sends it.
///
/// ```
/// use justsse_http::{accepts_event_stream, http::HeaderMap};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("accept", "text/html, text/event-stream;q=0.9".parse().unwrap());
/// assert!(accepts_event_stream(&headers));
/// ```
pub fn accepts_event_stream(headers: &http::HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value.split(',').any(|range| {
                let essence = range.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("text/event-stream")
            })
        })
    })
}
