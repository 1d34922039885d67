//! The request a handler receives: head, path parameters and a size-limited body.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Uri, header};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use smallvec::SmallVec;

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
    /// Its responses' bodies are polled by the connection's task, which this
    /// server drives and wakes on shutdown (HTTP/1.1): an event stream on it
    /// needs no shutdown wait of its own.
    pub(crate) polled_by_connection: bool,
}

/// The path parameters of a matched route, percent-decoded, in path order.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Params {
    /// Each parameter's name, then its value, one after another: one
    /// allocation for all of a request's parameters.
    text: String,
    /// Where each name and each value ends in `text`; two parameters fit
    /// without an allocation.
    ends: SmallVec<[u32; 4]>,
}

impl Params {
    pub(crate) fn from_matched(params: matchit::Params<'_, '_>) -> Self {
        let mut text = String::new();
        let mut ends = SmallVec::new();
        for (name, raw) in params.iter() {
            text.push_str(name);
            ends.push(end(&text));
            text.push_str(&percent_encoding::percent_decode_str(raw).decode_utf8_lossy());
            ends.push(end(&text));
        }
        Self { text, ends }
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(key, _)| *key == name).map(|(_, value)| value)
    }

    /// All parameters as `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.ends.chunks_exact(2).scan(0, |start, ends| {
            let (name_end, value_end) = (ends[0] as usize, ends[1] as usize);
            let name = &self.text[*start..name_end];
            let value = &self.text[name_end..value_end];
            *start = value_end;
            Some((name, value))
        })
    }
}

/// Where `text` ends, as an index: a request head is far shorter than 4 GiB.
fn end(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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

    fn matched(pattern: &str, path: &str) -> Params {
        let mut router = matchit::Router::new();
        router.insert(pattern, ()).expect("pattern");
        Params::from_matched(router.at(path).expect("matches").params)
    }

    #[test]
    fn params_are_decoded_in_path_order_and_found_by_name() {
        let params = matched("/t/{ticket}/{note}", "/t/42/caf%C3%A9%20au%20lait");
        assert_eq!(params.get("ticket"), Some("42"));
        assert_eq!(params.get("note"), Some("café au lait"));
        assert_eq!(params.get("missing"), None);
        let pairs: Vec<_> = params.iter().collect();
        assert_eq!(pairs, [("ticket", "42"), ("note", "café au lait")]);
        assert_eq!(format!("{params:?}"), r#"{"ticket": "42", "note": "café au lait"}"#);
    }

    #[test]
    fn many_params_and_empty_values_keep_their_places() {
        let params = matched("/{a}/{b}/{c}/{*rest}", "/1/%FF/3/x/y");
        let pairs: Vec<_> = params.iter().collect();
        assert_eq!(pairs, [("a", "1"), ("b", "\u{fffd}"), ("c", "3"), ("rest", "x/y")]);
        assert_eq!(Params::default().iter().count(), 0);
    }
}
