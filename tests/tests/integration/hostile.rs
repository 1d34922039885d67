//! What held against issue 10's attacker, kept that way: malformed requests are
//! answered with a 4xx or closed, never a 5xx or a hang, and the server goes on
//! serving; a 100,000-deep JSON body is a 400, not a stack overflow.

use bytes::Bytes;
use http_body_util::Full;
use justsse::runtime::{Router, post};
use justsse::{HttpError, Json, Request};
use justsse_tests::{TestServer, json, raw_exchange, request, send, serves_again};

fn router() -> Router {
    Router::new()
        .route(
            "/ok",
            justsse::runtime::get(|_: Request| async { Json("ok") }),
        )
        .route(
            "/json",
            post(|mut req: Request| async move {
                let value: serde_json::Value = req.json().await.map_err(HttpError::from)?;
                Ok::<_, HttpError>(Json(value.is_object()))
            }),
        )
}

#[tokio::test]
async fn malformed_requests_get_a_4xx_or_a_close_and_the_server_goes_on() {
    let server = TestServer::start(router()).await;
    let cases: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /ok\r\n\r\n",
        b"GET /ok HTTP/9.9\r\nhost: t\r\n\r\n",
        b"GET /ok HTTP/1.1\r\nhost t\r\n\r\n",
        b"GET /ok HTTP/1.1\r\n: empty-name\r\n\r\n",
        b"GET /ok HTTP/1.1\r\nhost: t\r\nx: a\rb\r\n\r\n",
        b"GET /o\x00k HTTP/1.1\r\nhost: t\r\n\r\n",
        b"GET /ok HTTP/1.1\r\nhost: t\r\ncontent-length: -1\r\n\r\n",
        b"GET /ok HTTP/1.1\r\nhost: t\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
        b"POST /json HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n",
        b"POST /json HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"POST /json HTTP/1.1\r\nhost: t\r\ntransfer-encoding: gzip\r\n\r\n",
        b"GET http://[::1 HTTP/1.1\r\nhost: t\r\n\r\n",
        b"GET /%ff%fe HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        b"GET /../../etc/passwd HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nnot a frame at all",
    ];
    for case in cases {
        let answer = raw_exchange(server.addr, case).await;
        let status = answer
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3));
        assert!(
            matches!(
                status,
                None | Some(
                    "400" | "404" | "405" | "408" | "411" | "413" | "415" | "431" | "501" | "505"
                )
            ),
            "{:?} was answered {answer:?}",
            String::from_utf8_lossy(case)
        );
        assert_ne!(status, Some("500"), "{:?}", String::from_utf8_lossy(case));
    }
    serves_again(server.addr, "/ok").await;
}

#[tokio::test]
async fn a_hundred_thousand_deep_json_body_is_400() {
    let limit_free = justsse::ServerConfig::default().body_limit(1024 * 1024);
    let server = TestServer::with_config(router(), limit_free).await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let req = request("POST", "/json")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(deep)))
        .expect("request");
    let response = send(server.addr, req).await;
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("recursion limit")),
        "{body}"
    );
    serves_again(server.addr, "/ok").await;
}
