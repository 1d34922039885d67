//! `justsse::test::TestClient`: in memory and over a socket, with the app's
//! layers, refusing an app that misses state, headers both ways.

use justsse::http::StatusCode;
use justsse::prelude::*;
use justsse::route;
use justsse::test::TestClient;

struct Greeting(&'static str);

async fn hello(greeting: State<Greeting>, head: justsse::http::HeaderMap) -> String {
    let who = head
        .get("x-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("stranger");
    format!("{} {who}", greeting.0)
}

fn app() -> App {
    App::new()
        .state(Greeting("hello"))
        .route("/hello", route::get(hello))
        .layer(tower_http::cors::CorsLayer::permissive())
}

#[tokio::test]
async fn in_memory_requests_pass_through_the_apps_layers() {
    let client = TestClient::new(app()).expect("builds");
    assert!(client.addr().is_none());
    let response = client
        .get("/hello")
        .header("x-name", "ada")
        .header("origin", "http://example.test")
        .send()
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert_eq!(response.text().await, "hello ada");
    assert_eq!(
        client.get("/nowhere").send().await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_served_client_talks_tcp_and_others_can_too() {
    let client = TestClient::serve(app()).await.expect("serves");
    let addr = client.addr().expect("a socket");
    assert_eq!(
        client.get("/hello").send().await.text().await,
        "hello stranger"
    );
    let other = justsse_tests::get(addr, "/hello").await;
    assert_eq!(justsse_tests::text(other).await, "hello stranger");
}

#[tokio::test]
async fn an_app_missing_state_is_refused() {
    let app = App::new().route("/hello", route::get(hello));
    let Err(justsse::Error::MissingState(missing)) = TestClient::new(app) else {
        panic!("an app without its state must not build");
    };
    assert!(missing[0].contains("Greeting"), "{missing:?}");
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Count {
    to: u32,
}

async fn count(Json(count): Json<Count>) -> impl EventStream {
    stream! {
        for n in 1..=count.to {
            yield Event::named("n").data(n.to_string());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn test_client_streams_post_responses() {
    let app = App::new().route("/count", route::post(count).stream());
    let client = TestClient::new(app).expect("builds");
    let mut events = client
        .post("/count")
        .json(&serde_json::json!({"to": 3}))
        .send()
        .await
        .events();
    for n in ["1", "2", "3"] {
        assert_eq!(events.next().await.expect("an event").data, n);
    }
    let bad = client
        .post("/count")
        .json(&serde_json::json!({"to": "x"}))
        .send()
        .await;
    assert_eq!(
        bad.status(),
        StatusCode::BAD_REQUEST,
        "checked before any stream"
    );
}
