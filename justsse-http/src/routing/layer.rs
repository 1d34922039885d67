//! tower layers around the whole app: tower-http's CORS, compression, tracing,
//! request ids and the rest work unchanged. An app without layers serves
//! requests straight from its router and pays nothing for this.

use std::any::Any;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::Incoming;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::Body;
use crate::error::BoxError;
use crate::response::Response;

/// The app as a tower [`Service`]: what a layer given to
/// [`Router::layer`](crate::Router::layer) wraps. It takes hyper's requests and
/// answers with justsse's [`Response`]; an error a layer returns is answered
/// `500` (and logged).
///
/// Layers that change the request body's type (request decompression) do not
/// fit around it; request bodies are bounded by [`ServerConfig`](crate::ServerConfig)
/// instead.
#[derive(Clone)]
pub struct AppService(BoxCloneSyncService<http::Request<Incoming>, Response, BoxError>);

impl std::fmt::Debug for AppService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppService")
    }
}

impl Service<http::Request<Incoming>> for AppService {
    type Response = Response;
    type Error = BoxError;
    type Future = <BoxCloneSyncService<http::Request<Incoming>, Response, BoxError> as Service<
        http::Request<Incoming>,
    >>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Incoming>) -> Self::Future {
        self.0.call(req)
    }
}

impl AppService {
    /// `service` as the app, for the server to wrap its routes.
    pub(crate) fn new(service: BoxCloneSyncService<http::Request<Incoming>, Response, BoxError>) -> Self {
        Self(service)
    }
}

/// One layer, kept until the server builds its service.
pub(crate) type LayerFn = Box<dyn FnOnce(AppService) -> AppService + Send>;

/// A tower layer that fits around the app: what [`Router::layer`](crate::Router::layer)
/// takes. Implemented for every [`Layer`] whose service answers
/// `http::Request<hyper::body::Incoming>` with an `http::Response` of a body of
/// [`Bytes`] (tower-http's `CorsLayer`, `CompressionLayer`, `TraceLayer`...), so
/// there is nothing to implement. Its responses become justsse's (their bodies
/// boxed unless they already are a [`Body`]); its errors are answered 500.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tower layer that fits around the app",
    note = "a layer for `App::layer` wraps an `AppService` into a `Clone + Send + Sync` service of `http::Request<Incoming>` whose response body yields `Bytes`"
)]
pub trait AppLayer: Send + 'static {
    /// Wraps `inner`, the app so far.
    fn wrap_app(self, inner: AppService) -> AppService;
}

impl<L, B> AppLayer for L
where
    L: Layer<AppService> + Send + 'static,
    L::Service: Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as Service<http::Request<Incoming>>>::Future: Send + 'static,
    <L::Service as Service<http::Request<Incoming>>>::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn wrap_app(self, inner: AppService) -> AppService {
        let service = self
            .layer(inner)
            .map_response(|response| response.map(into_body))
            .map_err(Into::into);
        AppService(BoxCloneSyncService::new(service))
    }
}

/// A layer's response body as justsse's: as it is when it already is one
/// (CORS, request ids), boxed otherwise (compression, tracing).
fn into_body<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut slot = Some(body);
    if let Some(own) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Body>>() {
        return own.take().unwrap_or_default();
    }
    match slot {
        Some(body) => Body::new(body),
        None => Body::empty(),
    }
}
