use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    // Levels go from 1 to 9.
    #[sse("/level", compress = 12)]
    async fn level(&self) -> impl EventStream {
        stream! { yield Event::named("a"); }
    }

    // `off` or a level, nothing else.
    #[sse("/word", compress = fast)]
    async fn word(&self) -> impl EventStream {
        stream! { yield Event::named("a"); }
    }

    // Compression is for event streams.
    #[get("/json", compress = 6)]
    async fn json(&self) -> Json<u32> {
        Json(1)
    }
}

fn main() {}
