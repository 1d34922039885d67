//! `#[controller("/prefix")]`: tokens -> [`ast::ControllerModel`] (`parse.rs`,
//! reading attributes with `attr.rs`, checking with `check.rs`) -> tokens (`expand.rs`).

mod anchor;
mod ast;
mod attr;
mod check;
mod expand;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = parse::parse(&mut cx, attr, item.clone());
    match (cx.finish(), model) {
        (Ok(()), Some(model)) => expand::expand(&model),
        (result, _) => {
            // The user's item goes out unchanged beside the errors, so the IDE
            // keeps working on it; the route attributes on it then explain
            // nothing more, since they are only reached without #[controller].
            let errors = result.err().map(|e| e.to_compile_error());
            let stub = stub(&item);
            let item = parse::strip_route_attributes(item);
            quote! { #errors #item #stub }
        }
    }
}

/// An empty `Controller` impl for a controller whose attributes were refused,
/// so that `.controller(..)` raises nothing more: the user sees the one error
/// that says what to fix (as serde's derives do).
fn stub(item: &TokenStream) -> Option<TokenStream> {
    let item: syn::ItemImpl = syn::parse2(item.clone()).ok()?;
    if item.trait_.is_some() {
        return None;
    }
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    Some(quote! {
        impl #impl_generics ::justsse::__private::Controller for #self_ty #where_clause {
            const ROUTES: &'static [::justsse::__private::RouteInfo] = &[];

            fn mount(
                self: ::justsse::__private::Arc<Self>,
                _: &mut ::justsse::__private::Mount<'_>,
            ) {
            }
        }
    })
}

/// The expansion of a route stays small: each token of it is type-checked
/// on every `cargo check` (docs/benchmarks.md, "Compile time"). A change that
/// grows it past the budget should say why, and move work into generic code.
#[cfg(test)]
mod budget {
    use proc_macro2::{TokenStream, TokenTree};
    use quote::quote;

    fn tokens(stream: TokenStream) -> usize {
        stream
            .into_iter()
            .map(|tree| match tree {
                TokenTree::Group(group) => 2 + tokens(group.stream()),
                _ => 1,
            })
            .sum()
    }

    /// The tokens a controller of `routes` expands to, beyond the empty one's.
    fn per_route(routes: TokenStream) -> usize {
        let expand = |body: TokenStream| {
            tokens(super::expand(
                quote!("/c"),
                quote! {
                    #[uses(auth)]
                    impl C { #body }
                },
            ))
        };
        expand(routes) - expand(TokenStream::new())
    }

    #[test]
    fn a_json_route_with_a_parameter_and_a_chain_value_stays_within_budget() {
        let used = per_route(quote! {
            #[get("/r/:id")]
            async fn r(&self, id: u32, user: User) -> Json<u32> { Json(id) }
        });
        assert!(used <= BUDGET_JSON, "{used} tokens (budget {BUDGET_JSON})");
    }

    #[test]
    fn a_guarded_generator_stream_route_stays_within_budget() {
        let used = per_route(quote! {
            #[sse("/s/:id")]
            #[guard(|user: &User| user.admin)]
            async fn s(&self, id: u32, last: LastEventId) -> impl EventStream {
                stream! { yield Event::new().data("x"); }
            }
        });
        assert!(used <= BUDGET_SSE, "{used} tokens (budget {BUDGET_SSE})");
    }

    /// 271 tokens on 2026-12-05 mounted in the controller's `mount`, 412
    /// with the `openapi` feature (598 as a route function, 616 as an `async`
    /// block, 732 on 2026-12-04).
    const BUDGET_JSON: usize = 450;
    /// 456 tokens on 2026-12-05 mounted in the controller's `mount`, 566
    /// with the `openapi` feature (653 as a route function and as an `async`
    /// block, 754 on 2026-12-04).
    const BUDGET_SSE: usize = 600;
}
