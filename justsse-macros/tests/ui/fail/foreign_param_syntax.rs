use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/{id}")]
    async fn show(&self, id: u64) -> Json<u64> {
        Json(id)
    }

    #[get("/files/<rest..>")]
    async fn file(&self, rest: String) -> String {
        rest
    }
}

fn main() {}
