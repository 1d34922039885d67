//! Routing as a table: for each request (method, path, query, `Accept`), the
//! route it finds and whether it streams, or the answer instead (404, 405 with
//! `Allow`, 308 with `Location`).

use http::{HeaderMap, Method, StatusCode, header};

use super::{Routed, Router, Routes, get, sse};
use crate::request::Request;
use crate::routing::MethodRouter;

async fn text(_: Request) -> &'static str {
    "text"
}

fn routes() -> Routes {
    Router::new()
        .route("/tickets", get(text).post(text))
        .route("/tickets/:ticket", get(text).delete(text))
        .route("/files/*rest", get(text))
        .route("/both", get(text).sse(text))
        .route("/only-sse", sse(text))
        .route("/slash/", get(text))
        .route("/jobs", MethodRouter::default().stream(Method::POST, text))
        .build()
        .expect("the routes build")
}

/// What a request came to.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// A handler of this route; `true` when it answers with an event stream.
    Found(&'static str, bool),
    /// An answer with this status and, for 405 and 308, `Allow` or `Location`.
    Answer(u16, Option<&'static str>),
}

use Outcome::{Answer, Found};

const EVENTS: &str = "text/event-stream";

/// (method, path with query, Accept, outcome).
const TABLE: &[(&str, &str, &str, Outcome)] = &[
    ("GET", "/tickets", "", Found("/tickets", false)),
    ("POST", "/tickets", "", Found("/tickets", false)),
    ("HEAD", "/tickets", "", Found("/tickets", false)),
    ("PUT", "/tickets", "", Answer(405, Some("GET, POST, HEAD"))),
    ("GET", "/tickets/7", "", Found("/tickets/:ticket", false)),
    ("DELETE", "/tickets/7", "", Found("/tickets/:ticket", false)),
    ("PATCH", "/tickets/7", "", Answer(405, Some("GET, DELETE, HEAD"))),
    ("GET", "/files/a/b/c.txt", "", Found("/files/*rest", false)),
    // The SSE handler takes GETs that accept event streams, the GET one the rest.
    ("GET", "/both", EVENTS, Found("/both", true)),
    ("GET", "/both", "text/html, text/event-stream;q=0.9", Found("/both", true)),
    ("GET", "/both", "application/json", Found("/both", false)),
    ("GET", "/both", "", Found("/both", false)),
    ("HEAD", "/both", "", Found("/both", false)),
    // Alone, it takes every GET (curl without an Accept header).
    ("GET", "/only-sse", "", Found("/only-sse", true)),
    ("GET", "/only-sse", EVENTS, Found("/only-sse", true)),
    ("POST", "/only-sse", "", Answer(405, Some("GET, HEAD"))),
    // A stream route of another method streams; its GET does not exist.
    ("POST", "/jobs", "", Found("/jobs", true)),
    ("GET", "/jobs", EVENTS, Answer(405, Some("POST"))),
    // Trailing slashes: exact, with a 308 to the other form when it is a route.
    ("GET", "/slash/", "", Found("/slash/", false)),
    ("GET", "/slash", "", Answer(308, Some("/slash/"))),
    ("GET", "/tickets/", "", Answer(308, Some("/tickets"))),
    ("GET", "/tickets/?page=2", "", Answer(308, Some("/tickets?page=2"))),
    ("POST", "/tickets/", "", Answer(308, Some("/tickets"))),
    ("GET", "/nothing", "", Answer(404, None)),
    ("GET", "/", "", Answer(404, None)),
    ("GET", "/tickets/7/more", "", Answer(404, None)),
];

fn route(routes: &Routes, method: &str, target: &str, accept: &str) -> Outcome {
    let method: Method = method.parse().expect("a method");
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut headers = HeaderMap::new();
    if !accept.is_empty() {
        headers.insert(header::ACCEPT, accept.parse().expect("a header value"));
    }
    match routes.route(&method, path, query, &headers) {
        Routed::Found {
            pattern, streams, ..
        } => Found(leak(pattern), streams),
        Routed::Answer(response) => {
            let status = response.status();
            let header = match status {
                StatusCode::METHOD_NOT_ALLOWED => Some(header::ALLOW),
                StatusCode::PERMANENT_REDIRECT => Some(header::LOCATION),
                _ => None,
            };
            let value = header.map(|name| {
                let value = response.headers().get(name).expect("the header is sent");
                leak(value.to_str().expect("ASCII"))
            });
            Answer(status.as_u16(), value)
        }
    }
}

/// A `&'static str` for the table's comparisons.
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

#[test]
fn every_request_of_the_table_finds_its_route_or_its_answer() {
    let routes = routes();
    let mut wrong = Vec::new();
    for (method, target, accept, expected) in TABLE {
        let got = route(&routes, method, target, accept);
        if got != *expected {
            wrong.push(format!(
                "{method} {target} (Accept: {accept:?}): expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn routes_that_cannot_be_served_are_refused_when_built() {
    let refused = |router: Router| router.build().err().map(|err| err.to_string());
    let conflict = refused(
        Router::new()
            .route("/tickets/:ticket", get(text))
            .route("/tickets/:id", post_text()),
    );
    assert!(conflict.is_some_and(|err| err.contains("/tickets/:id")));
    let twice = refused(Router::new().route("/a", get(text).get(text)));
    assert_eq!(twice.as_deref(), Some("route `/a`: GET is defined twice"));
    let twice_sse = refused(Router::new().route("/a", sse(text)).route("/a", sse(text)));
    assert_eq!(twice_sse.as_deref(), Some("route `/a`: SSE is defined twice"));
    let bad_path = refused(Router::new().route("no-slash", get(text)));
    assert!(bad_path.is_some(), "a path without its leading slash is refused");
    // The same path twice adds methods.
    assert!(refused(Router::new().route("/a", get(text)).route("/a", post_text())).is_none());
}

fn post_text() -> MethodRouter {
    MethodRouter::default().post(text)
}
