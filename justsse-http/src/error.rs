//! Errors: [`HttpError`] for everything a client is told, [`Error`] for the server itself.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// Any error that can be boxed and sent across threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error answered to the client as a status and a JSON body.
///
/// The body is always `{"error": "<status in snake_case>", "message": "<message>"}`;
/// this type is the one place where errors become HTTP responses. Server errors
/// (5xx) built from a source error keep that source for the logs and show the
/// client only a generic message, so nothing internal leaks.
///
/// ```
/// use justsse_http::HttpError;
/// use http::StatusCode;
///
/// let err = HttpError::bad_request("parameter `ticket`: invalid digit found in string");
/// assert_eq!(err.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(err.message(), "parameter `ticket`: invalid digit found in string");
///
/// let hidden = HttpError::internal(std::io::Error::other("db password is hunter2"));
/// assert_eq!(hidden.message(), "internal server error");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{status}: {message}")]
pub struct HttpError {
    status: StatusCode,
    message: Cow<'static, str>,
    headers: Option<Box<HeaderMap>>,
    #[source]
    source: Option<BoxError>,
}

impl HttpError {
    /// An error with this status and a message shown to the client.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            headers: None,
            source: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401 Unauthorized, with the `WWW-Authenticate: Bearer` challenge HTTP
    /// requires of a 401 ([`challenge`](Self::challenge) sets another).
    ///
    /// ```
    /// use justsse_http::{HttpError, IntoResponse};
    ///
    /// let response = HttpError::unauthorized("log in first").into_response();
    /// assert_eq!(response.headers()["www-authenticate"], "Bearer");
    /// ```
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
            .challenge(HeaderValue::from_static("Bearer"))
    }

    /// Sets the `WWW-Authenticate` challenge of a 401, replacing the default.
    ///
    /// ```
    /// use justsse_http::http::HeaderValue;
    /// use justsse_http::{HttpError, IntoResponse};
    ///
    /// let response = HttpError::unauthorized("who are you?")
    ///     .challenge(HeaderValue::from_static(r#"Basic realm="admin""#))
    ///     .into_response();
    /// assert_eq!(response.headers()["www-authenticate"], r#"Basic realm="admin""#);
    /// ```
    pub fn challenge(mut self, challenge: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .insert(http::header::WWW_AUTHENTICATE, challenge);
        self
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 Internal Server Error that keeps `source` for the logs and tells the
    /// client only "internal server error".
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: Cow::Borrowed("internal server error"),
            headers: None,
            source: Some(source.into()),
        }
    }

    /// Adds a response header (for example `Allow` on a 405, `WWW-Authenticate` on a 401).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers
            .get_or_insert_with(Default::default)
            .append(name, value);
        self
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `error` field of the JSON body: the status' reason in snake_case.
    pub fn code(&self) -> Cow<'static, str> {
        let reason = self.status.canonical_reason().unwrap_or("error");
        let code: String = reason
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        Cow::Owned(code)
    }

    pub(crate) fn take_headers(&mut self) -> Option<Box<HeaderMap>> {
        self.headers.take()
    }

    /// Logs the error where an operator will look: server errors with their source
    /// at `error`, client errors at `debug`.
    pub(crate) fn log(&self) {
        if self.status.is_server_error() {
            match &self.source {
                Some(source) => {
                    tracing::error!(status = %self.status, error = %source, "request failed")
                }
                None => {
                    tracing::error!(status = %self.status, message = %self.message, "request failed")
                }
            }
        } else {
            tracing::debug!(status = %self.status, message = %self.message, "request rejected");
        }
    }
}

/// Why reading a request body failed; each variant maps to one status in
/// `From<BodyError> for HttpError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is larger than the configured limit (413).
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The `Content-Type` is not the one the route reads (415).
    #[error("expected a request with `Content-Type: {expected}`")]
    UnsupportedMediaType {
        /// The media type the route reads.
        expected: &'static str,
    },
    /// The body is not valid JSON for the expected type (400), with serde's message.
    #[error("invalid JSON body: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The body did not arrive within the body read timeout (408); the
    /// connection is closed.
    #[error("the request body did not arrive within {after:?}")]
    TimedOut {
        /// The timeout.
        after: std::time::Duration,
    },
    /// The bodies being read already hold the server's body memory (503 with
    /// `Retry-After`); the connection is closed.
    #[error("the server is reading too many request bodies; retry shortly")]
    Busy,
    /// The connection failed while the body was being read (400).
    #[error("failed to read the request body: {0}")]
    Read(#[source] BoxError),
}

impl From<BodyError> for HttpError {
    fn from(err: BodyError) -> Self {
        let status = match &err {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyError::InvalidJson(_) | BodyError::Read(_) => StatusCode::BAD_REQUEST,
            BodyError::TimedOut { .. } => StatusCode::REQUEST_TIMEOUT,
            BodyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        let error = HttpError::new(status, err.to_string());
        match err {
            BodyError::Busy => {
                error.with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1"))
            }
            _ => error,
        }
    }
}

