use justsse::prelude::*;

struct C;

struct Counter;

#[controller("/c")]
impl C {
    #[get("/")]
    async fn list(&self, counter: Counter) -> Json<u32> {
        let _ = counter;
        Json(1)
    }
}

fn main() {}
