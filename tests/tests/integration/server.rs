//! The server entry: binding by address or listener, port 0, HTTP/1.1 and h2c.

use http_body_util::Full;
use justsse::Json;
use justsse::runtime::{Router, Server, get};
use justsse_tests::{TestServer, json, request, send, send_h2};

fn router() -> Router {
    Router::new().route(
        "/hello",
        get(|_| async { Json(serde_json::json!({"hello": "world"})) }),
    )
}

#[tokio::test]
async fn port_zero_reports_the_real_port_and_serves_http1() {
    let server = TestServer::start(router()).await;
    let response = justsse_tests::get(server.addr, "/hello").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), justsse::http::Version::HTTP_11);
    assert_eq!(json(response).await, serde_json::json!({"hello": "world"}));
    server.stop().await;
}

#[tokio::test]
async fn h2c_prior_knowledge_is_served_on_the_same_port() {
    let server = TestServer::start(router()).await;
    let req = request("GET", &server.url("/hello"))
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    let response = send_h2(server.addr, req).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), justsse::http::Version::HTTP_2);
    assert_eq!(json(response).await, serde_json::json!({"hello": "world"}));
    server.stop().await;
}

#[tokio::test]
async fn serve_takes_a_bound_std_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = Server::bind(listener).await.expect("take listener");
    assert_eq!(server.local_addr(), addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(router(), async move {
        let _ = stopped.await;
    }));
    assert_eq!(justsse_tests::get(addr, "/hello").await.status(), 200);
    stop.send(()).expect("server running");
    task.await.expect("no panic").expect("clean stop");
}

#[tokio::test]
async fn the_free_serve_function_binds_an_address() {
    // Find a free port, release it, and let `serve` bind it by its text form.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(justsse::runtime::serve(
        format!("127.0.0.1:{port}"),
        router(),
        async move {
            let _ = stopped.await;
        },
    ));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = tokio::time::Instant::now() + justsse_tests::DEADLINE;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never listened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let req = request("GET", "/hello")
        .body(Full::<bytes::Bytes>::default())
        .expect("request");
    assert_eq!(send(addr, req).await.status(), 200);
    stop.send(()).expect("server running");
    task.await.expect("no panic").expect("clean stop");
}

#[tokio::test]
async fn binding_a_taken_port_is_a_bind_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let err = Server::bind(addr).await.expect_err("port is taken");
    assert!(
        matches!(err, justsse::runtime::ServerError::Bind { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}
