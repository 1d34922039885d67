//! Wrapping middleware: an `async fn(Request, Next) -> impl IntoResponse` around
//! a route's handler. It sees the request before the handler and the response
//! head after it; an event stream's body keeps streaming after it returns.

use std::future::Future;
use std::sync::Arc;

use crate::routing::handler::{BoxFuture, Handler, SharedHandler};
use crate::request::Request;
use crate::response::{IntoResponse, Response};

/// The rest of the route: the inner wraps and the handler. Call
/// [`Next::run`] once to get the response, or answer without it.
///
/// ```
/// use justsse_http::http::HeaderValue;
/// use justsse_http::{Next, Request, Response};
///
/// /// How long the handler took to answer, in a response header.
/// async fn timing(req: Request, next: Next) -> Response {
///     let started = std::time::Instant::now();
///     let mut response = next.run(req).await;
///     let micros = started.elapsed().as_micros().to_string();
///     if let Ok(value) = HeaderValue::from_str(&micros) {
///         response.headers_mut().insert("x-response-micros", value);
///     }
///     response
/// }
/// ```
pub struct Next(SharedHandler);

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Next")
    }
}

impl Next {
    /// Runs the rest of the route with `req`.
    pub async fn run(self, req: Request) -> Response {
        self.0.call(req).await
    }
}

/// A wrapping middleware. Implemented for every
/// `Fn(Request, Next) -> Future` whose output is [`IntoResponse`], such as an
/// `async fn(Request, Next) -> Response`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a wrapping middleware",
    note = "a wrap is an `async fn(Request, Next) -> impl IntoResponse`"
)]
pub trait Wrap: Send + Sync + 'static {
    /// Answers `req`, calling `next` for the rest of the route (or not).
    fn call(&self, req: Request, next: Next) -> BoxFuture<Response>;
}

impl<F, Fut, R> Wrap for F
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request, next: Next) -> BoxFuture<Response> {
        let fut = self(req, next);
        Box::pin(async move { fut.await.into_response() })
    }
}

/// A handler inside a wrap.
pub(crate) struct Wrapped {
    wrap: Arc<dyn Wrap>,
    inner: SharedHandler,
}

impl Wrapped {
    pub(crate) fn around(wrap: &Arc<dyn Wrap>, inner: SharedHandler) -> SharedHandler {
        Arc::new(Self {
            wrap: wrap.clone(),
            inner,
        })
    }
}

impl Handler for Wrapped {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        self.wrap.call(req, Next(self.inner.clone()))
    }
}
