// A chain built by hand is typed like a controller's: a guard asking for a
// type no `.uses(...)` provides does not compile, and the error names it.
use justsse::prelude::*;
use justsse::route;

struct User;
struct Admin {
    active: bool,
}

async fn auth(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User)
}

async fn list(_user: User) -> Json<u32> {
    Json(1)
}

fn main() {
    let _ = App::new().route(
        "/list",
        route::get(list).uses(auth).guard(|admin: &Admin| admin.active),
    );
}
