use justsse::prelude::*;

struct C;

#[controller("/c")]
impl C {
    #[sse("/events", post)]
    async fn events(&self) -> Sse {
        Sse::new(futures_util::stream::empty::<Result<Event, HttpError>>())
    }
}

fn main() {}
