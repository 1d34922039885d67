use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/a//b")]
    async fn list(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
