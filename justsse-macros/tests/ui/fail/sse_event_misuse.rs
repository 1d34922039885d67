use justsse::prelude::*;

#[derive(SseEvent)]
struct NotAnEnum {
    body: String,
}

#[derive(SseEvent)]
enum Generic<T> {
    Value(T),
}

#[derive(SseEvent)]
enum Empty {}

#[derive(SseEvent)]
enum Twice {
    Comment,
    #[event(rename = "comment")]
    Other,
}

#[derive(SseEvent)]
enum BadOption {
    #[event(name = "x")]
    Value,
}

#[derive(SseEvent)]
enum LineBreak {
    #[event(rename = "a\nb")]
    Value,
}

fn main() {}
