//! The request a handler receives: head, path parameters and a size-limited body.

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Uri, header};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;

use crate::error::BodyError;
use crate::request_body::BodyLimits;

/// A request as a handler sees it: its [`RequestHead`] (reachable through
/// `Deref`) and a body that is read at most once, never past the configured limit
/// ([`ServerConfig::body_limit`](crate::ServerConfig::body_limit), 1 MiB by
/// default) nor its time
/// ([`ServerConfig::body_read_timeout`](crate::ServerConfig::body_read_timeout)).
#[derive(Debug)]
pub struct Request {
    head: RequestHead,
    body: Option<Incoming>,
}

/// Everything of a request but its body: method, URI, headers and path parameters.
/// Middleware read this.
#[derive(Debug)]
pub struct RequestHead {
    parts: Parts,
    params: Params,
    origin: Arc<Origin>,
}

/// Where a request came from: one per connection, shared by its requests (a
/// pointer, so a request in flight stays small).
#[derive(Debug)]
pub(crate) struct Origin {
    pub(crate) peer: Option<std::net::SocketAddr>,
    pub(crate) limits: Arc<BodyLimits>,
}

/// The path parameters of a matched route, percent-decoded, in path order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn from_matched(params: matchit::Params<'_, '_>) -> Self {
        Self(
            params
                .iter()
                .map(|(name, raw)| {
                    let value = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
                    (name.to_owned(), value.into_owned())
                })
                .collect(),
        )
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// All parameters as `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl RequestHead {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The URI as sent (path and query).
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The query string, if any, still percent-encoded.
    pub fn query(&self) -> Option<&str> {
        self.parts.uri.query()
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The value of header `name`, if present and visible ASCII.
    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.parts.headers.get(name)?.to_str().ok()
    }

    /// The value of cookie `name` from the `Cookie` headers.
    ///
    /// ```
    /// # use justsse_http::Request;
    /// # fn check(req: &Request) {
    /// let token = req.cookie("token");
    /// # }
    /// ```
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim_matches('"'))
    }

    /// The client's address: the peer of the connection (a proxy's, behind
    /// one). `None` for requests that came over no socket.
    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.origin.peer
    }

    /// The HTTP parts: method, URI, version, headers and extensions.
    pub fn parts(&self) -> &Parts {
        &self.parts
    }

    /// The path parameter `name`, percent-decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }

    /// All path parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
}

impl std::ops::Deref for Request {
    type Target = RequestHead;

    fn deref(&self) -> &RequestHead {
        &self.head
    }
}

impl Request {
    pub(crate) fn new(parts: Parts, params: Params, body: Incoming, origin: Arc<Origin>) -> Self {
        Self {
            head: RequestHead {
                parts,
                params,
                origin,
            },
            body: Some(body),
        }
    }

    /// The head: everything but the body.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }

    /// Reads the whole body. A body larger than the limit is refused (413)
    /// without reading the rest; one slower than the body read timeout gets 408;
    /// one that would pass the memory all bodies in flight may hold gets 503
    /// (the connection is closed after either). A second call returns an empty
    /// body.
    pub async fn bytes(&mut self) -> Result<Bytes, BodyError> {
        let Some(body) = self.body.take() else {
            return Ok(Bytes::new());
        };
        let declared = declared_length(&self.head.parts.headers);
        self.head.origin.limits.read(body, declared).await
    }

    /// Reads the body as JSON into `T`: 415 unless the `Content-Type` is
    /// `application/json` (or `application/*+json`), 413 over the limit, 400 with
    /// serde's message when it does not parse.
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, BodyError> {
        if !is_json(&self.head.parts.headers) {
            return Err(BodyError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(BodyError::InvalidJson)
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let cases = [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/problem+json", true),
            ("application/+json", false),
            ("text/json", false),
            ("text/plain", false),
            ("application/jsonp", false),
            ("", false),
        ];
        for (value, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().expect("valid header"));
            assert_eq!(is_json(&headers), expected, "{value:?}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
