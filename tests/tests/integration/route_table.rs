//! The route table tells what each route answers, from the handler's return
//! type (controllers and hand-built routes alike), and its text and JSON forms
//! say the same.

use justsse::http::StatusCode;
use justsse::prelude::*;
use justsse::{IntoResponse, extract::Path, route, route::RouteKind};

struct Pages;

#[controller("/pages")]
impl Pages {
    #[get("/html")]
    async fn html(&self) -> Html<&'static str> {
        Html("<h1>hi</h1>")
    }

    #[get("/text")]
    async fn text(&self) -> String {
        "hi".to_owned()
    }

    #[post("/empty")]
    async fn empty(&self) {}

    #[delete("/status")]
    async fn status(&self) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    #[get("/result")]
    async fn result(&self) -> Result<(StatusCode, Json<u32>), HttpError> {
        Ok((StatusCode::CREATED, Json(1)))
    }

    #[get("/opaque")]
    async fn opaque(&self) -> impl IntoResponse {
        Html("<p>unknown to the table</p>")
    }

    #[get("/both", sse)]
    async fn both(&self, updates: Option<Channel<u32>>) -> Json<u32> {
        drop(updates);
        Json(0)
    }

    #[sse("/events")]
    async fn events(&self) -> impl EventStream {
        stream! { yield Event::new().data("x"); }
    }
}

async fn page() -> Html<String> {
    Html("<p>hand-built</p>".to_owned())
}

async fn opaque() -> impl IntoResponse {
    Json(1)
}

fn app() -> App {
    App::new()
        .controller(Pages)
        .route("/page", route::get(page))
        .route("/opaque", route::get(opaque))
}

#[test]
fn each_route_is_labelled_by_what_its_handler_returns() {
    let table = app().routes();
    let kinds: Vec<(&str, &str)> = table
        .routes()
        .iter()
        .map(|r| (r.path(), r.kind().label()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("/pages/html", "html"),
            ("/pages/text", "text"),
            ("/pages/empty", "empty"),
            ("/pages/status", "empty"),
            ("/pages/result", "json"),
            ("/pages/opaque", "response"),
            ("/pages/both", "json+sse"),
            ("/pages/events", "sse"),
            ("/page", "html"),
            // A hand-built route knows the concrete type behind `impl IntoResponse`.
            ("/opaque", "json"),
        ]
    );
    assert_eq!(table.routes()[0].kind(), RouteKind::Html);
}

#[test]
fn the_text_and_json_forms_of_the_table_agree() {
    let table = app().routes();
    let json = serde_json::to_value(&table).expect("serializes");
    let rows = json.as_array().expect("an array");
    let text = table.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), lines.len());
    for (row, line) in rows.iter().zip(lines) {
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(row["method"], columns[0], "{line}");
        assert_eq!(row["path"], columns[1], "{line}");
        assert_eq!(row["kind"], columns[2], "{line}");
        assert_eq!(row["handler"], columns[3], "{line}");
    }
    assert_eq!(rows[0]["handler"], "Pages::html");
}

#[test]
fn path_parameters_are_listed_with_their_types_in_json() {
    async fn show(Path(id): Path<u64>) -> Json<u64> {
        Json(id)
    }
    let table = App::new().route("/items/:id", route::get(show)).routes();
    let json = serde_json::to_value(&table).expect("serializes");
    assert_eq!(json[0]["path"], "/items/:id");
    assert_eq!(
        json[0]["params"],
        serde_json::json!([{ "name": "id", "type": "u64" }])
    );
}
