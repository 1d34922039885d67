//! What a route calls: any `async fn(Request) -> impl IntoResponse`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::request::Request;
use crate::response::{IntoResponse, Response};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A request handler. Implemented for every `Fn(Request) -> Future` whose output
/// is [`IntoResponse`]; generated controller code implements it too.
///
/// ```
/// use justsse_http::{Json, Request};
///
/// async fn hello(req: Request) -> Json<String> {
///     Json(format!("hello {}", req.param("name").unwrap_or("world")))
/// }
/// let route = justsse_http::get(hello);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a request handler",
    note = "a handler is an `async fn(Request) -> impl IntoResponse` (or a closure returning such a future)"
)]
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, req: Request) -> BoxFuture<Response>;
}

impl<F, Fut, R> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let fut = self(req);
        Box::pin(async move { fut.await.into_response() })
    }
}

/// A handler behind one pointer, as a [`MethodRouter`](crate::MethodRouter)
/// keeps it: one value can serve several methods.
pub type SharedHandler = Arc<dyn Handler>;
