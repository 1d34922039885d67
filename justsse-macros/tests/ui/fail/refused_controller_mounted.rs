use justsse::prelude::*;

struct C;

// The attribute's error is the only one: `.controller(C)` below raises none.
#[controller("/c")]
impl C {
    #[get("no-slash")]
    async fn one(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {
    let _ = App::new().controller(C);
}
