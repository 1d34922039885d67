use justsse::prelude::*;

struct NotAnEvent;

struct C;

#[controller("/c")]
impl C {
    #[get("/b", events = NotAnEvent)]
    async fn b(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
