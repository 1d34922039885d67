use justsse::prelude::*;

struct C;
struct User;

// `String` is neither borrowed from the request or chain nor an extractor.
async fn auth(_: &RequestHead, token: String) -> Result<User, HttpError> {
    let _ = token;
    Ok(User)
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
