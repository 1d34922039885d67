//! Turning handler results into responses.

use bytes::{BufMut, BytesMut};
use http::StatusCode;
use http::header::{self, HeaderValue};
use serde::Serialize;

use crate::body::Body;
use crate::error::HttpError;

/// The response type of every handler.
pub type Response = http::Response<Body>;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// Anything a handler may return.
///
/// Implemented for [`Response`], [`Json`], [`HttpError`], `Result<T, E>` of two
/// such types, `(StatusCode, T)`, [`StatusCode`], `()`, `String` and `&'static str`.
///
/// ```
/// use justsse_http::{IntoResponse, Json};
/// use http::StatusCode;
///
/// let created = (StatusCode::CREATED, Json(serde_json::json!({"id": 1}))).into_response();
/// assert_eq!(created.status(), StatusCode::CREATED);
/// assert_eq!(created.headers()["content-type"], "application/json");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into a response",
    note = "return `Json<T>`, `Result<T, HttpError>`, `(StatusCode, T)`, a `String`, or build a `Response`"
)]
pub trait IntoResponse {
    /// What the body is, as far as the type tells (a [`Response`] built by
    /// hand does not): the route table's kind column reads it. Types of your
    /// own may say it too.
    const BODY: BodyKind = BodyKind::Unknown;

    /// Builds the response.
    fn into_response(self) -> Response;
}

/// What a response type's body is, as far as its type tells.
///
/// ```
/// use justsse_http::{BodyKind, Html, HttpError, IntoResponse, Json};
///
/// assert_eq!(<Json<Vec<u32>> as IntoResponse>::BODY, BodyKind::Json);
/// assert_eq!(<Result<Html<String>, HttpError> as IntoResponse>::BODY, BodyKind::Html);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyKind {
    /// `application/json`.
    Json,
    /// `text/html`.
    Html,
    /// `text/plain`.
    Text,
    /// No body.
    Empty,
    /// `text/event-stream`.
    EventStream,
    /// Not known from the type.
    Unknown,
}

impl BodyKind {
    /// Its media type, when known (`application/json`...).
    pub const fn media_type(self) -> Option<&'static str> {
        match self {
            BodyKind::Json => Some("application/json"),
            BodyKind::Html => Some("text/html"),
            BodyKind::Text => Some("text/plain"),
            BodyKind::EventStream => Some("text/event-stream"),
            BodyKind::Empty | BodyKind::Unknown => None,
        }
    }
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for () {
    const BODY: BodyKind = BodyKind::Empty;

    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }
}

impl IntoResponse for StatusCode {
    const BODY: BodyKind = BodyKind::Empty;

    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }
}

impl IntoResponse for String {
    const BODY: BodyKind = BodyKind::Text;

    fn into_response(self) -> Response {
        text(Body::from(self))
    }
}

impl IntoResponse for &'static str {
    const BODY: BodyKind = BodyKind::Text;

    fn into_response(self) -> Response {
        text(Body::from(self))
    }
}

fn text(body: Body) -> Response {
    let mut response = Response::new(body);
    response.headers_mut().insert(header::CONTENT_TYPE, TEXT);
    response
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    const BODY: BodyKind = T::BODY;

    fn into_response(self) -> Response {
        let mut response = self.1.into_response();
        *response.status_mut() = self.0;
        response
    }
}

/// Headers added to any response, an event stream's included; they replace
/// headers of the same name the response had (so `Cache-Control` can be
/// changed), and several values of one name are all sent (`Set-Cookie`).
///
/// ```
/// use justsse_http::http::{HeaderMap, HeaderValue, header};
/// use justsse_http::{IntoResponse, Json};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::SET_COOKIE, HeaderValue::from_static("session=abc; HttpOnly"));
/// let response = (headers, Json("ok")).into_response();
/// assert_eq!(response.headers()[header::SET_COOKIE], "session=abc; HttpOnly");
/// ```
impl<T: IntoResponse> IntoResponse for (http::HeaderMap, T) {
    const BODY: BodyKind = T::BODY;

    fn into_response(self) -> Response {
        let mut response = self.1.into_response();
        response.headers_mut().extend(self.0);
        response
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    const BODY: BodyKind = T::BODY;

    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(err) => err.into_response(),
        }
    }
}

impl IntoResponse for HttpError {
    const BODY: BodyKind = BodyKind::Json;

    fn into_response(mut self) -> Response {
        self.log();
        let body = ErrorBody {
            error: &self.code(),
            message: self.message(),
        };
        let mut response = json_response(&body).unwrap_or_else(|_| {
            // Two plain strings always serialize; this branch only keeps the
            // function total.
            Response::new(Body::empty())
        });
        *response.status_mut() = self.status();
        if let Some(headers) = self.take_headers() {
            response.headers_mut().extend(*headers);
        }
        response
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

/// An HTML response: `Content-Type: text/html; charset=utf-8`.
///
/// ```
/// use justsse_http::{Html, IntoResponse};
///
/// let page = Html("<h1>hello</h1>").into_response();
/// assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Html<T>(pub T);

impl<T: Into<Body>> IntoResponse for Html<T> {
    const BODY: BodyKind = BodyKind::Html;

    fn into_response(self) -> Response {
        let mut response = Response::new(self.0.into());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }
}

/// A JSON request or response body.
///
/// As a response it serializes `T` with `Content-Type: application/json`; a value
/// that fails to serialize becomes a logged 500. As a request body, read it with
/// [`Request::json`](crate::Request::json).
///
/// ```
/// use justsse_http::{IntoResponse, Json};
///
/// let response = Json(vec![1, 2, 3]).into_response();
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    const BODY: BodyKind = BodyKind::Json;

    fn into_response(self) -> Response {
        json_response(&self.0).unwrap_or_else(|err| HttpError::internal(err).into_response())
    }
}

/// `201 Created` with `T` as JSON: what a handler that makes a resource
/// answers, documented as `201` in the OpenAPI document (where a
/// `(StatusCode, Json<T>)` is documented as `2XX`, its status being chosen at
/// run time).
///
/// ```
/// use justsse_http::{Created, IntoResponse};
///
/// let response = Created(vec![1, 2, 3]).into_response();
/// assert_eq!(response.status(), 201);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    const BODY: BodyKind = BodyKind::Json;

    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        if response.status() == StatusCode::OK {
            *response.status_mut() = StatusCode::CREATED;
        }
        response
    }
}

fn json_response<T: Serialize + ?Sized>(value: &T) -> Result<Response, serde_json::Error> {
    let mut buf = BytesMut::with_capacity(128).writer();
    serde_json::to_writer(&mut buf, value)?;
    let mut response = Response::new(Body::full(buf.into_inner().freeze()));
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    Ok(response)
}
