use justsse::prelude::*;

/// Takes the request but no `Next`: not a wrapping middleware.
async fn timing(_req: Request) -> Response {
    StatusCode::OK.into_response()
}

struct C;

#[controller("/c")]
impl C {
    #[get("/")]
    #[wrap(timing)]
    async fn one(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
