use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/")]
    async fn list(&mut self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
