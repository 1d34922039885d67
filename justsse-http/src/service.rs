//! One request, from hyper's parts to our response: route, call the handler with
//! panics contained, prepare event streams, strip HEAD bodies.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

use crate::body::Body;
use crate::config::ServerConfig;
use crate::error::HttpError;
use crate::request::{Params, Request};
use crate::response::{IntoResponse, Response};
use crate::router::{Routed, Routes};

/// What every connection of one server shares.
pub(crate) struct App {
    pub(crate) routes: Routes,
    pub(crate) config: ServerConfig,
    pub(crate) shutdown: CancellationToken,
}

impl App {
    pub(crate) async fn handle(&self, req: http::Request<Incoming>) -> Response {
        let (parts, body) = req.into_parts();
        let routed = self.routes.route(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
        );
        let (handler, params) = match routed {
            Routed::Found { handler, params } => (handler, Params::from_matched(params)),
            Routed::Answer(response) => return response,
        };
        let is_head = parts.method == Method::HEAD;
        let req = Request::new(parts, params, body, self.config.body_limit);

        let called = std::panic::catch_unwind(AssertUnwindSafe(|| handler.call(req)));
        let outcome = match called {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        let mut response = outcome.unwrap_or_else(|panic| {
            tracing::error!(panic = panic_message(&*panic), "handler panicked");
            HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
                .into_response()
        });

        if is_head {
            strip_body(&mut response);
        } else if let Some(stream) = response.body_mut().as_sse_mut() {
            stream.attach(
                &self.config.streams,
                self.shutdown.clone().cancelled_owned(),
            );
        }
        response
    }
}

/// A HEAD answer keeps the GET answer's headers, its length included, and no body.
fn strip_body(response: &mut Response) {
    let body = std::mem::take(response.body_mut());
    if let Some(length) = http_body::Body::size_hint(&body).exact() {
        if !body.is_event_stream() {
            response
                .headers_mut()
                .entry(header::CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(length));
        }
    }
    *response.body_mut() = Body::empty();
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "non-string panic payload"
    }
}
