//! Controllers: what `#[controller]` implements, the route table it declares,
//! and how its routes are mounted on the router.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use justsse_http::{HttpError, MethodRouter, Request, Router};

use crate::context::Context;
use crate::extract::Extract;
use crate::middleware::Middleware;
use crate::param::{Needs, PathParam};
use crate::state::AppState;

/// A set of routes sharing a path prefix, implemented by `#[controller]`.
pub trait Controller: Send + Sync + 'static {
    /// The route table, as the macro wrote it.
    const ROUTES: &'static [RouteInfo];

    /// Adds every route to `mount`.
    fn mount(self: Arc<Self>, mount: &mut Mount<'_>);
}

/// Whether a route answers JSON (or any plain response) or streams events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A plain response.
    Json,
    /// An event stream.
    Sse,
    /// Progressive enhancement: JSON for plain clients, an event stream for
    /// clients that accept one.
    Progressive,
}

/// One row of a controller's route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The full path, prefix included, as written (`/tickets/:ticket/events`).
    pub path: &'static str,
    /// JSON or SSE.
    pub kind: RouteKind,
    /// `Controller::method`.
    pub handler: &'static str,
    /// The path parameters with their types, in path order.
    pub params: &'static [(&'static str, &'static str)],
    /// The middleware, controller-level first.
    pub uses: &'static [&'static str],
    /// The guards, as written.
    pub guards: &'static [&'static str],
    /// The first line of the method's doc comment.
    pub summary: &'static str,
}

impl fmt::Display for RouteInfo {
    /// `GET  /tickets/:ticket/events  sse  TicketController::events  uses auth, guard`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        RouteTable(vec![*self]).fmt(f)
    }
}

/// Routes listed one per line with aligned columns, as [`App::routes`](crate::App::routes) returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable(pub Vec<RouteInfo>);

impl RouteKind {
    /// `json`, `sse` or `json+sse`.
    pub fn label(self) -> &'static str {
        match self {
            RouteKind::Json => "json",
            RouteKind::Sse => "sse",
            RouteKind::Progressive => "json+sse",
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
            if !route.summary.is_empty() {
                line.push_str("  # ");
                line.push_str(route.summary);
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// The result of a generated route function.
pub type RouteResult = Result<justsse_http::Response, HttpError>;

/// Where a controller's routes go when the app is built.
pub struct Mount<'a> {
    pub(crate) router: Router,
    pub(crate) app: &'a Arc<AppState>,
    pub(crate) missing: Vec<String>,
}

impl fmt::Debug for Mount<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

impl Mount<'_> {
    /// Adds the route `info`, served by `route` on `controller`, inside the
    /// wrapping middleware `wraps` adds (route's innermost, then controller's).
    pub fn route<C, F, Fut, W>(
        &mut self,
        info: &'static RouteInfo,
        controller: &Arc<C>,
        route: F,
        wraps: W,
    ) where
        C: Send + Sync + 'static,
        F: Fn(Arc<C>, Context) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = RouteResult> + Send + 'static,
        W: FnOnce(MethodRouter) -> MethodRouter,
    {
        let controller = controller.clone();
        let app = self.app.clone();
        // The route's future as it is: the runtime turns its result into the
        // response, so no wrapper has to copy it once more per request.
        let handler = move |req: Request| route(controller.clone(), Context::new(req, app.clone()));
        let methods = match (info.kind, info.method) {
            (RouteKind::Sse, _) => MethodRouter::default().sse(handler),
            (RouteKind::Progressive, _) => {
                MethodRouter::default().get(handler.clone()).sse(handler)
            }
            (RouteKind::Json, method) => match method.parse() {
                Ok(method) => MethodRouter::default().on(method, handler),
                Err(_) => {
                    self.missing
                        .push(format!("{}: invalid method {method}", info.handler));
                    return;
                }
            },
        };
        self.add(info, wraps(methods));
    }

    /// Adds `methods` at the route's path.
    pub(crate) fn add(&mut self, info: &RouteInfo, methods: MethodRouter) {
        self.router = std::mem::take(&mut self.router).route(info.path, methods);
    }

    /// Checks that the app has what path parameter `P` needs.
    pub fn require_param<P: PathParam>(&mut self, info: &'static RouteInfo, name: &str) {
        self.require(info, &format!("path parameter `{name}`"), P::require);
    }

    /// Checks that the app has what argument type `T` needs (a `State<S>`
    /// argument: state `S`).
    pub fn require_arg<T: Extract>(&mut self, info: &'static RouteInfo) {
        let what = format!("argument `{}`", std::any::type_name::<T>());
        self.require(info, &what, T::require);
    }

    /// Checks that the app has what middleware `F`'s arguments need.
    pub fn require_middleware<F: Middleware<'static, C, M>, C, M>(
        &mut self,
        info: &'static RouteInfo,
    ) {
        let what = format!("middleware `{}`", std::any::type_name::<F>());
        self.require(info, &what, F::require);
    }

    pub(crate) fn require(
        &mut self,
        info: &RouteInfo,
        what: &str,
        require: impl FnOnce(&mut Needs<'_>),
    ) {
        let mut needs = Needs {
            app: self.app,
            missing: Vec::new(),
        };
        require(&mut needs);
        for state in needs.missing {
            self.missing.push(format!(
                "{} {} ({}): {what} needs app state `{state}`; add it with App::state",
                info.method, info.path, info.handler
            ));
        }
    }
}
