use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/:ticket")]
    async fn show(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
