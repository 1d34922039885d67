use justsse::prelude::*;

struct NotAnEvent;

struct C;

#[controller("/c")]
impl C {
    #[sse("/a", events = NotAnEvent)]
    async fn a(&self) -> impl EventStream {
        stream! { yield Event::new().data("x"); }
    }
}

fn main() {}
