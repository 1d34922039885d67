use justsse::prelude::*;

struct C;

#[controller("/c")]
#[wrap()]
impl C {
    #[get("/")]
    async fn one(&self) -> Json<u32> {
        Json(1)
    }

    #[wrap(audit)]
    async fn helper(&self) {}
}

fn main() {}
