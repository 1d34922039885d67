use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[sse("/events")]
    async fn events(&self) -> impl EventStream {
        yield Event::new().data("one");
    }

    // A stream made first and returned is fine.
    #[sse("/fine")]
    async fn fine(&self) -> impl EventStream {
        let events = stream! { yield Event::new().data("one"); };
        events
    }
}

fn main() {}
