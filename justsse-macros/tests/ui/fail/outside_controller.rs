use justsse::prelude::*;


#[get("/")]
async fn list() -> Json<u32> {
    Json(1)
}



fn main() {}
