// A hand-built route's handler asks for a value no `.uses(...)` provides.
use justsse::prelude::*;
use justsse::route;

struct User;

async fn list(_user: User) -> Json<u32> {
    Json(1)
}

fn main() {
    let _ = App::new().route("/list", route::get(list));
}
