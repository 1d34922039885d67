//! The handlers of one path, by method: `get(list).post(create)`, the SSE
//! handler chosen by `Accept` beside a `GET` one, and the `405` with `Allow`.

use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use crate::error::HttpError;
use crate::response::{IntoResponse, Response};
use crate::routing::handler::{Handler, SharedHandler};
use crate::routing::wrap::{Wrap, Wrapped};

/// The handlers of one path, by method.
///
/// An SSE handler ([`sse`]) answers `GET` requests that accept
/// `text/event-stream`; beside a `GET` handler on the same path it takes exactly
/// those, and the `GET` handler the rest.
///
/// ```
/// use justsse_http::{get, Request};
///
/// async fn list(_: Request) -> &'static str { "[]" }
/// async fn create(_: Request) -> &'static str { "{}" }
/// let methods = get(list).post(create);
/// ```
#[derive(Default, Clone)]
pub struct MethodRouter {
    methods: Vec<(Method, SharedHandler)>,
    /// The methods in `methods` whose handlers answer with event streams.
    pub(super) streams: Vec<Method>,
    pub(super) sse: Option<SharedHandler>,
    /// The first method given twice, refused when the router is built.
    pub(super) duplicate: Option<String>,
}

impl std::fmt::Debug for MethodRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodRouter")
            .field(
                "methods",
                &self.methods.iter().map(|(m, _)| m).collect::<Vec<_>>(),
            )
            .field("sse", &self.sse.is_some())
            .finish()
    }
}

macro_rules! method_fns {
    ($($name:ident $method:ident),*) => {
        $(
            #[doc = concat!("A route answering `", stringify!($method), "` with `handler`.")]
            pub fn $name(handler: impl Handler) -> MethodRouter {
                MethodRouter::default().$name(handler)
            }
        )*

        impl MethodRouter {
            $(
                #[doc = concat!("Adds `handler` for `", stringify!($method), "`.")]
                pub fn $name(self, handler: impl Handler) -> Self {
                    self.on(Method::$method, handler)
                }
            )*
        }
    };
}

method_fns!(get GET, post POST, put PUT, patch PATCH, delete DELETE);

/// A route answering `GET` requests that accept `text/event-stream` with `handler`.
pub fn sse(handler: impl Handler) -> MethodRouter {
    MethodRouter::default().sse(handler)
}

impl MethodRouter {
    /// Adds `handler` for `method`.
    pub fn on(self, method: Method, handler: impl Handler) -> Self {
        self.on_shared(method, Arc::new(handler))
    }

    /// Adds `handler`, already shared, for `method` (as [`on`](Self::on)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use justsse_http::{MethodRouter, Request, SharedHandler, http::Method};
    ///
    /// async fn hello(_: Request) -> &'static str { "hello" }
    /// let handler: SharedHandler = Arc::new(hello);
    /// let route = MethodRouter::default()
    ///     .on_shared(Method::GET, handler.clone())
    ///     .on_shared(Method::POST, handler);
    /// ```
    pub fn on_shared(mut self, method: Method, handler: SharedHandler) -> Self {
        if self.methods.iter().any(|(m, _)| *m == method) {
            self.duplicate.get_or_insert(method.to_string());
        } else {
            self.methods.push((method, handler));
        }
        self
    }

    /// Adds `handler` for `method`, answering with an event stream: a stream
    /// that starts with a request (`POST` and a JSON body, as model output and
    /// MCP do). Its place among the open streams
    /// ([`ServerConfig::max_streams`](crate::ServerConfig::max_streams)) is
    /// taken before it runs, so a refused request starts nothing.
    ///
    /// ```
    /// use justsse_http::{Event, MethodRouter, Request, Sse, http::Method};
    ///
    /// async fn complete(_: Request) -> Sse {
    ///     let words = futures_util::stream::iter(
    ///         ["hello", "world"].map(|w| Ok::<_, std::convert::Infallible>(Event::new().data(w))),
    ///     );
    ///     Sse::new(words)
    /// }
    /// let route = MethodRouter::default().stream(Method::POST, complete);
    /// ```
    pub fn stream(self, method: Method, handler: impl Handler) -> Self {
        self.stream_shared(method, Arc::new(handler))
    }

    /// Adds `handler`, already shared, for `method`, answering with an event
    /// stream (as [`stream`](Self::stream)).
    pub fn stream_shared(mut self, method: Method, handler: SharedHandler) -> Self {
        self.streams.push(method.clone());
        self.on_shared(method, handler)
    }

    /// Adds the event-stream handler.
    pub fn sse(self, handler: impl Handler) -> Self {
        self.sse_shared(Arc::new(handler))
    }

    /// Adds the event-stream handler, already shared (as [`sse`](Self::sse)).
    pub fn sse_shared(mut self, handler: SharedHandler) -> Self {
        if self.sse.is_some() {
            self.duplicate.get_or_insert_with(|| "SSE".to_owned());
        }
        self.sse = Some(handler);
        self
    }

    /// Wraps every handler of this path in `wrap`, outside the wraps given
    /// before. See [`Next`](crate::Next).
    ///
    /// ```
    /// use justsse_http::{Next, Request, Response, get};
    ///
    /// async fn log(req: Request, next: Next) -> Response {
    ///     let path = req.uri().path().to_owned();
    ///     let response = next.run(req).await;
    ///     tracing::info!(%path, status = %response.status(), "answered");
    ///     response
    /// }
    /// let route = get(|_| async { "hello" }).wrap(log);
    /// ```
    pub fn wrap(self, wrap: impl Wrap) -> Self {
        self.wrap_shared(&(Arc::new(wrap) as Arc<dyn Wrap>))
    }

    pub(super) fn wrap_shared(mut self, wrap: &Arc<dyn Wrap>) -> Self {
        for (_, handler) in &mut self.methods {
            *handler = Wrapped::around(wrap, handler.clone());
        }
        if let Some(handler) = &mut self.sse {
            *handler = Wrapped::around(wrap, handler.clone());
        }
        self
    }

    pub(super) fn merge(&mut self, other: MethodRouter) {
        if let Some(method) = other.duplicate {
            self.duplicate.get_or_insert(method);
        }
        self.streams.extend(other.streams);
        for (method, handler) in other.methods {
            if self.methods.iter().any(|(m, _)| *m == method) {
                self.duplicate.get_or_insert(method.to_string());
            } else {
                self.methods.push((method, handler));
            }
        }
        if let Some(handler) = other.sse {
            if self.sse.is_some() {
                self.duplicate.get_or_insert_with(|| "SSE".to_owned());
            }
            self.sse = Some(handler);
        }
    }

    fn find(&self, method: &Method) -> Option<&SharedHandler> {
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, h)| h)
    }

    /// The handler for this request; `None` means 405.
    pub(super) fn select(&self, method: &Method, accepts_sse: bool) -> Option<&SharedHandler> {
        if let Some(handler) = self.find(method) {
            if *method != Method::GET || self.sse.is_none() || !accepts_sse {
                return Some(handler);
            }
        }
        if *method == Method::GET || *method == Method::HEAD {
            let get = self.find(&Method::GET);
            return match (&self.sse, get) {
                (Some(sse), Some(_)) if accepts_sse => Some(sse),
                (_, Some(get)) => Some(get),
                (Some(sse), None) => Some(sse),
                (None, None) => None,
            };
        }
        None
    }

    pub(super) fn method_not_allowed(&self, method: &Method) -> Response {
        let mut allow: Vec<&str> = self.methods.iter().map(|(m, _)| m.as_str()).collect();
        if self.sse.is_some() && !allow.contains(&"GET") {
            allow.push("GET");
        }
        if allow.contains(&"GET") {
            allow.push("HEAD");
        }
        let allow = allow.join(", ");
        let value = HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static(""));
        HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not allowed here; allowed: {allow}"),
        )
        .with_header(header::ALLOW, value)
        .into_response()
    }
}

