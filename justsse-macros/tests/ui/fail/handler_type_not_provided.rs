use justsse::prelude::*;

struct C;

struct User;
struct Admin;

async fn auth(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User)
}

#[controller("/c")]
impl C {
    #[get("/")]
    #[uses(auth)]
    async fn list(&self, admin: Admin) -> Json<u32> {
        let _ = admin;
        Json(1)
    }
}

fn main() {}
