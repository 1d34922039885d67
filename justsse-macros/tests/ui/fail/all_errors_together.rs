use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("no-slash")]
    async fn one(&self) -> Json<u32> {
        Json(1)
    }

    #[put("/:x", quick)]
    fn two(&self) -> Json<u32> {
        Json(2)
    }
}

fn main() {}
