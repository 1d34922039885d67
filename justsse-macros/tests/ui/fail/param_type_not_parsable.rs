use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/:ids")]
    async fn list(&self, ids: Vec<u8>) -> Json<Vec<u8>> {
        Json(ids)
    }
}

fn main() {}
