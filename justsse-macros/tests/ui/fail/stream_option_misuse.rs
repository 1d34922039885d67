use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    // A GET stream is an `#[sse]` route.
    #[get("/", stream)]
    async fn list(&self) -> Json<u32> {
        Json(1)
    }

    // `retry` on a POST that does not stream.
    #[post("/plain", retry = 3000)]
    async fn plain(&self) -> Json<u32> {
        Json(2)
    }
}

fn main() {}
