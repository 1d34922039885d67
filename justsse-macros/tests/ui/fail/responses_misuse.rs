use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/a", responses(99))]
    async fn a(&self) -> Json<u32> {
        Json(1)
    }

    #[get("/b", responses = 409)]
    async fn b(&self) -> Json<u32> {
        Json(1)
    }

    #[get("/c", responses(409, 409))]
    async fn c(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
