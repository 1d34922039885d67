use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/:id")]
    async fn one(&self, id: u32) -> Json<u32> {
        Json(id)
    }

    #[get("/:key")]
    async fn two(&self, key: u32) -> Json<u32> {
        Json(key)
    }
}

fn main() {}
