use justsse::prelude::*;

struct C;
struct User;
struct Admin;

async fn auth(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User)
}

// Borrows `Admin`, which no earlier middleware of the chain returns.
async fn audit(_: &RequestHead, _: &Admin) -> Result<(), HttpError> {
    Ok(())
}

#[controller("/c")]
impl C {
    #[get("/")]
    #[uses(auth)]
    #[uses(audit)]
    async fn list(&self, _user: User) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
