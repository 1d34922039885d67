//! Procedural macros of justsse. Use them through the `justsse` crate, which
//! documents them with examples: `#[controller]` on an `impl` block, and inside
//! it `#[get]`, `#[post]`, `#[put]`, `#[patch]`, `#[delete]`, `#[sse]`,
//! `#[uses]`, `#[guard]` and `#[wrap]` on methods.

use proc_macro::TokenStream;

mod controller;
mod ctxt;
mod inert;
mod sse_event;
mod stream_body;

/// The body of `justsse::stream!`, which passes its own crate path first:
/// each `yield` converts its value into an event. Not for direct use.
#[doc(hidden)]
#[proc_macro]
pub fn __stream_body(input: TokenStream) -> TokenStream {
    stream_body::expand(input.into()).into()
}

/// Turns an `impl` block into a controller: its annotated methods become routes
/// under the given path prefix.
#[proc_macro_attribute]
pub fn controller(attr: TokenStream, item: TokenStream) -> TokenStream {
    controller::expand(attr.into(), item.into()).into()
}

/// A `GET` route; only inside a `#[controller]` impl.
#[proc_macro_attribute]
pub fn get(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("get", item.into()).into()
}

/// A `POST` route; only inside a `#[controller]` impl.
#[proc_macro_attribute]
pub fn post(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("post", item.into()).into()
}

/// A `PUT` route; only inside a `#[controller]` impl.
#[proc_macro_attribute]
pub fn put(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("put", item.into()).into()
}

/// A `PATCH` route; only inside a `#[controller]` impl.
#[proc_macro_attribute]
pub fn patch(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("patch", item.into()).into()
}

/// A `DELETE` route; only inside a `#[controller]` impl.
#[proc_macro_attribute]
pub fn delete(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("delete", item.into()).into()
}

/// An event-stream route; only inside a `#[controller]` impl.
#[proc_macro_attribute]
pub fn sse(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("sse", item.into()).into()
}

/// Middleware of a route or controller; only below `#[controller]`.
#[proc_macro_attribute]
pub fn uses(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("uses", item.into()).into()
}

/// A guard of a route or controller; only below `#[controller]`.
#[proc_macro_attribute]
pub fn guard(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("guard", item.into()).into()
}

/// Wrapping middleware around a route or every route of a controller
/// (`async fn(Request, Next) -> impl IntoResponse`); only below `#[controller]`.
#[proc_macro_attribute]
pub fn wrap(_: TokenStream, item: TokenStream) -> TokenStream {
    inert::outside_controller("wrap", item.into()).into()
}

/// Derives `justsse::SseEvent` for an enum: each variant is one named event
/// (its name the variant's in snake_case, or `#[event(rename = "...")]`), its
/// data the variant's fields as JSON (an object for named fields, the value for
/// one unnamed field, an array for several, `null` for none).
#[proc_macro_derive(SseEvent, attributes(event, serde))]
pub fn derive_sse_event(input: TokenStream) -> TokenStream {
    sse_event::expand(input.into()).into()
}
