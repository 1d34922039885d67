use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[sse("/events", retry = 1000, retry = 2000)]
    async fn events(&self) -> impl EventStream {
        stream! { yield Event::named("a").data("1"); }
    }

    #[get("/status", sse, sse)]
    async fn status(&self, updates: Option<Channel<u32>>) -> Json<u32> {
        let _ = updates;
        Json(1)
    }
}

fn main() {}
