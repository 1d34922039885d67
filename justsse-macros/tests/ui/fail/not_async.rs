use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/")]
    fn list(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
