use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    // A POST stream whose handler returns no stream.
    #[post("/complete", stream)]
    async fn complete(&self) -> Json<u32> {
        Json(3)
    }
}

fn main() {}
