//! The application: state, controllers, serving.

use std::future::Future;
use std::sync::Arc;

use justsse_http::{AppLayer, IntoListener, Router, Server, ServerConfig, Wrap};

use crate::controller::{Controller, Mount, RouteInfo, RouteTable};
use crate::route::IntoRoute;
use crate::state::AppState;

/// Why an application could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server failed: binding, an invalid route (a
    /// [`ServerError`](crate::runtime::ServerError)).
    #[error(transparent)]
    Server(#[from] justsse_http::Error),
    /// Routes need app state that was not given.
    #[error("routes need app state that was not given:\n  {}", .0.join("\n  "))]
    MissingState(Vec<String>),
}

type Mounter = Box<dyn FnOnce(&mut Mount<'_>) + Send>;
type Layering = Box<dyn FnOnce(Router) -> Router + Send>;

/// An application: state values, controllers, and the server configuration.
///
/// ```no_run
/// use justsse::prelude::*;
///
/// struct Health;
///
/// #[controller("/health")]
/// impl Health {
///     /// Is the server up?
///     #[get("/")]
///     async fn check(&self) -> Json<&'static str> {
///         Json("ok")
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), justsse::Error> {
///     let app = App::new().controller(Health);
///     print!("{}", app.routes());
///     app.serve("127.0.0.1:3000").await
/// }
/// ```
#[derive(Default)]
pub struct App {
    state: AppState,
    mounters: Vec<Mounter>,
    layers: Vec<Layering>,
    routes: Vec<RouteInfo>,
    config: ServerConfig,
    #[cfg(feature = "tls")]
    tls: Option<justsse_http::TlsConfig>,
    #[cfg(feature = "openapi")]
    openapi: Option<(&'static str, crate::openapi::OpenApi)>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("state", &self.state)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl App {
    /// An application with no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a state value, shared by every request; one per type (a second value
    /// of the same type replaces the first). Path parameters that [`Resolve`](crate::Resolve)
    /// and `State<T>` arguments read it.
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Mounts a controller's routes.
    pub fn controller<C: Controller>(mut self, controller: C) -> Self {
        self.routes.extend_from_slice(C::ROUTES);
        let controller = Arc::new(controller);
        self.mounters.push(Box::new(move |mount| {
            mount.table = C::ROUTES;
            controller.mount(mount);
        }));
        self
    }

    /// Mounts a route built by hand with [`route`](crate::route): `route::sse(handler)
    /// .uses(auth).guard(..)`, with the same typed chain as a controller's
    /// routes. It joins [`routes`](Self::routes) like them.
    ///
    /// ```
    /// use justsse::prelude::*;
    /// use justsse::route;
    ///
    /// async fn hello(greeting: State<&'static str>) -> Json<&'static str> {
    ///     Json(*greeting)
    /// }
    ///
    /// let app = App::new().state("hi").route("/hello", route::get(hello));
    /// assert!(app.routes().to_string().contains("/hello"));
    /// ```
    pub fn route<M>(mut self, path: &'static str, route: impl IntoRoute<M>) -> Self {
        let info: &'static RouteInfo = Box::leak(Box::new(route.info(path)));
        self.routes.push(*info);
        self.mounters
            .push(Box::new(move |mount| route.mount(info, mount)));
        self
    }

    /// Wraps the whole app in a tower layer (outside every [`wrap`](Self::wrap),
    /// which only sees requests that found a route): tower-http's `CorsLayer`,
    /// `CompressionLayer`, `TraceLayer`, `SetRequestIdLayer` work as they are.
    /// Each call wraps what is there, so the last layer added sees a request
    /// first. An app without layers pays nothing for them. See
    /// [`Router::layer`] for the layers that are wrong for event streams.
    ///
    /// ```
    /// use justsse::App;
    ///
    /// // tower-http's `CorsLayer`, `CompressionLayer`... go here.
    /// let app = App::new().layer(tower::layer::util::Identity::new());
    /// ```
    pub fn layer(mut self, layer: impl AppLayer) -> Self {
        self.layers
            .push(Box::new(move |router| router.layer(layer)));
        self
    }

    /// Wraps every route in a wrapping middleware, outside the controllers' and
    /// routes' own `#[wrap]`s: an `async fn(Request, Next) -> impl IntoResponse`
    /// that sees each request and its response head. Event streams keep
    /// streaming after it returns.
    ///
    /// ```
    /// use justsse::{App, Request, Response, middleware::Next};
    ///
    /// async fn server_header(req: Request, next: Next) -> Response {
    ///     let mut response = next.run(req).await;
    ///     response
    ///         .headers_mut()
    ///         .insert("server", justsse::http::HeaderValue::from_static("justsse"));
    ///     response
    /// }
    ///
    /// let app = App::new().wrap(server_header);
    /// ```
    pub fn wrap(mut self, wrap: impl Wrap) -> Self {
        self.layers.push(Box::new(move |router| router.wrap(wrap)));
        self
    }

    /// Sets the server's limits and defaults.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Serves HTTPS with `tls` (HTTP/2 and HTTP/1.1 by ALPN); the same as
    /// setting it in the [`config`](Self::config), after it.
    ///
    /// ```no_run
    /// use justsse::{App, tls::TlsConfig};
    ///
    /// # async fn run() -> Result<(), justsse::Error> {
    /// App::new()
    ///     .tls(TlsConfig::from_pem_files("cert.pem", "key.pem")?)
    ///     .serve("0.0.0.0:443")
    ///     .await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: justsse_http::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Every route of every controller, in mounting order; its `Display` prints an
    /// aligned table.
    pub fn routes(&self) -> RouteTable {
        RouteTable::new(self.routes.clone())
    }

    /// The OpenAPI document of every route (see [`openapi`](crate::openapi)).
    ///
    /// ```
    /// use justsse::openapi::OpenApi;
    /// use justsse::{App, Json, route};
    ///
    /// async fn hello() -> Json<&'static str> {
    ///     Json("hello")
    /// }
    ///
    /// let app = App::new().route("/hello", route::get(hello));
    /// let doc = app.openapi(&OpenApi::new("Hello", "1.0.0"));
    /// assert!(doc["paths"]["/hello"]["get"]["responses"]["200"].is_object());
    /// ```
    #[cfg(feature = "openapi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
    pub fn openapi(&self, info: &crate::openapi::OpenApi) -> serde_json::Value {
        info.document(&self.routes())
    }

    /// Serves the OpenAPI document of every route (this one included) as JSON
    /// at `GET path`; it is made once, when the app starts.
    ///
    /// ```
    /// use justsse::App;
    /// use justsse::openapi::OpenApi;
    ///
    /// let app = App::new().openapi_at("/openapi.json", OpenApi::new("Tickets", "0.1.0"));
    /// assert!(app.routes().to_string().contains("/openapi.json"));
    /// ```
    #[cfg(feature = "openapi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
    pub fn openapi_at(mut self, path: &'static str, info: crate::openapi::OpenApi) -> Self {
        self.routes.push(RouteInfo {
            method: "GET",
            path,
            kind: crate::route::RouteKind::Json,
            handler: "openapi",
            params: &[],
            uses: &[],
            guards: &[],
            summary: "This API's OpenAPI document.",
            events: &[],
            describe: crate::describe::Describer::NONE,
        });
        self.openapi = Some((path, info));
        self
    }

    /// Builds the router, checking that every route has the state it needs.
    pub fn into_router(self) -> Result<Router, Error> {
        self.build().map(|(router, _)| router)
    }

    pub(crate) fn build(self) -> Result<(Router, ServerConfig), Error> {
        let app = Arc::new(self.state);
        let mut mount = Mount {
            router: Router::new(),
            app: &app,
            missing: Vec::new(),
            table: &[],
        };
        for mounter in self.mounters {
            mounter(&mut mount);
        }
        if !mount.missing.is_empty() {
            return Err(Error::MissingState(mount.missing));
        }
        #[cfg(feature = "openapi")]
        if let Some((path, info)) = &self.openapi {
            let document = info
                .document(&RouteTable::new(self.routes.clone()))
                .to_string();
            let methods =
                justsse_http::MethodRouter::default().get(move |_: justsse_http::Request| {
                    let mut response = justsse_http::Response::new(document.clone().into());
                    response.headers_mut().insert(
                        justsse_http::http::header::CONTENT_TYPE,
                        justsse_http::http::HeaderValue::from_static("application/json"),
                    );
                    std::future::ready(response)
                });
            mount.router = std::mem::take(&mut mount.router).route(path, methods);
        }
        let router = self
            .layers
            .into_iter()
            .fold(mount.router, |router, layer| layer(router));
        #[cfg(feature = "tls")]
        let config = match self.tls {
            Some(tls) => self.config.tls(tls),
            None => self.config,
        };
        #[cfg(not(feature = "tls"))]
        let config = self.config;
        Ok((router, config))
    }

    /// Serves on `listener` (an address or a bound listener) until Ctrl-C or SIGTERM.
    pub async fn serve(self, listener: impl IntoListener) -> Result<(), Error> {
        self.serve_until(listener, justsse_http::ctrl_c()).await
    }

    /// Serves on `listener` until `shutdown` resolves, then shuts down gracefully.
    pub async fn serve_until(
        self,
        listener: impl IntoListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let (router, config) = self.build()?;
        let server = Server::bind(listener).await?.config(config);
        server.serve(router, shutdown).await?;
        Ok(())
    }
}
