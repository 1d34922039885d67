use justsse::prelude::*;

struct C;

struct User {
    is_admin: bool,
}

fn is_admin(user: &User) -> bool {
    user.is_admin
}

// A guard given as a function: its argument is looked for in the chain (and
// among the path parameters); nothing provides `User`.
#[controller("/c")]
impl C {
    #[get("/")]
    #[guard(is_admin)]
    async fn list(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
