use justsse::prelude::*;

struct C;

struct User {
    is_admin: bool,
}

#[controller("/c")]
impl C {
    #[get("/")]
    #[guard(|user: &User| user.is_admin)]
    async fn list(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
