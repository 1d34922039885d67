use justsse::prelude::*;

struct C;
struct User;

// A middleware returns `Result<T, E>`, so that it can refuse the request.
async fn auth(_: &RequestHead) -> User {
    User
}

#[controller("/c")]
impl C {
    #[get("/")]
    #[uses(auth)]
    async fn list(&self, _user: User) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
