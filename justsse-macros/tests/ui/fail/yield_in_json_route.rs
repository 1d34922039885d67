use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[get("/")]
    async fn list(&self) -> impl EventStream {
        stream! {
            yield Event::new().data("not here");
        }
    }
}

fn main() {}
