//! JSON routes: bodies in and out, and every way a body can be refused.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Full, StreamBody};
use hyper::body::Frame;
use justsse::runtime::{Router, post};
use justsse::{HttpError, Json, Request, ServerConfig};
use justsse_tests::{TestServer, json, raw_exchange, request, send};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct NewTicket {
    subject: String,
    priority: u8,
}

async fn create(
    mut req: Request,
) -> Result<(justsse::http::StatusCode, Json<NewTicket>), HttpError> {
    let ticket: NewTicket = req.json().await?;
    Ok((justsse::http::StatusCode::CREATED, Json(ticket)))
}

async fn start(limit: usize) -> TestServer {
    let router = Router::new().route("/tickets", post(create));
    TestServer::with_config(router, ServerConfig::default().body_limit(limit)).await
}

fn post_json(body: &'static str) -> justsse::http::Request<Full<Bytes>> {
    request("POST", "/tickets")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("request")
}

#[tokio::test]
async fn json_in_and_out() {
    let server = start(1024).await;
    let response = send(
        server.addr,
        post_json(r#"{"subject": "printer on fire", "priority": 1}"#),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        json(response).await,
        serde_json::json!({"subject": "printer on fire", "priority": 1})
    );
}

#[tokio::test]
async fn bad_json_is_400_with_serdes_message() {
    let server = start(1024).await;
    let cases = [
        (
            r#"{"subject": "x""#,
            "EOF while parsing an object at line 1 column 15",
        ),
        (
            r#"{"subject": "x"}"#,
            "missing field `priority` at line 1 column 16",
        ),
        (
            r#"{"subject": "x", "priority": 300}"#,
            "invalid value: integer `300`, expected u8 at line 1 column 32",
        ),
    ];
    for (body, message) in cases {
        let response = send(server.addr, post_json(body)).await;
        assert_eq!(response.status(), 400, "{body}");
        let error = json(response).await;
        assert_eq!(error["error"], "bad_request");
        assert_eq!(
            error["message"],
            format!("invalid JSON body: {message}"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let server = start(1024).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut req = request("POST", "/tickets");
        if let Some(value) = content_type {
            req = req.header("content-type", value);
        }
        let req = req
            .body(Full::new(Bytes::from_static(b"{}")))
            .expect("request");
        let response = send(server.addr, req).await;
        assert_eq!(response.status(), 415, "{content_type:?}");
        let error = json(response).await;
        assert_eq!(error["error"], "unsupported_media_type");
        assert_eq!(
            error["message"],
            "expected a request with `Content-Type: application/json`"
        );
    }
}

#[tokio::test]
async fn declared_oversize_body_is_413_before_the_body_is_sent() {
    let server = start(1024).await;
    // The client announces 10 MB and sends none of it: the answer must come
    // without the server waiting for (or reading) the body.
    let head = "POST /tickets HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n";
    let answer = raw_exchange(server.addr, head.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("request body is larger than the limit of 1024 bytes"),
        "{answer}"
    );
}

#[tokio::test]
async fn chunked_oversize_body_is_413_once_the_limit_is_passed() {
    let server = start(1024).await;
    // An endless chunked body: the server must stop at the limit and answer.
    let chunks = futures_util::stream::unfold(0u32, |n| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Some((
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(vec![b' '; 256]))),
            n + 1,
        ))
    });
    let req = request("POST", "/tickets")
        .header("content-type", "application/json")
        .body(StreamBody::new(chunks))
        .expect("request");
    // `send` fails the test unless the answer comes before its deadline.
    let response = send(server.addr, req).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_body_at_the_limit_is_read() {
    let server = start(64).await;
    let body = r#"{"subject": "abcdefghijklmnopqrstuvwxyz0123", "priority": 9}"#;
    assert_eq!(body.len(), 60);
    assert_eq!(send(server.addr, post_json(body)).await.status(), 201);
}

/// Regression (issue 10's attack rerun): a body arriving in several frames was
/// counted twice once it passed its first frame, so a body of 1,048,000 bytes
/// under a 1 MiB limit was refused with 413.
#[tokio::test]
async fn a_body_at_the_limit_in_many_frames_is_read() {
    let limit = 64 * 1024;
    let server = start(limit).await;
    let subject = "a".repeat(limit - r#"{"subject":"","priority":9}"#.len());
    let body = format!(r#"{{"subject":"{subject}","priority":9}}"#);
    assert_eq!(body.len(), limit);
    let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = body
        .as_bytes()
        .chunks(1000)
        .map(|chunk| Ok(Frame::data(Bytes::copy_from_slice(chunk))))
        .collect();
    let req = request("POST", "/tickets")
        .header("content-type", "application/json")
        .header("content-length", limit)
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .expect("request");
    let response = send(server.addr, req).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        json(response).await["subject"].as_str().map(str::len),
        Some(subject.len())
    );
}
