use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/:a/:a")]
    async fn show(&self, a: u32) -> Json<u32> {
        Json(a)
    }
}

fn main() {}
