use justsse::prelude::*;

struct C;

struct User;

async fn session(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User)
}

async fn token(_: &RequestHead) -> Result<User, HttpError> {
    Ok(User)
}

// Two middleware provide `User`: which one the handler means is ambiguous, and
// the compiler says so rather than picking one silently.
#[controller("/c")]
impl C {
    #[get("/")]
    #[uses(session, token)]
    async fn list(&self, user: User) -> Json<u32> {
        let _ = user;
        Json(1)
    }
}

fn main() {}
