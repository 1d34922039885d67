//! `#[controller("/prefix")]`: tokens -> [`ast::ControllerModel`] (`parse.rs`,
//! reading attributes with `attr.rs`, checking with `check.rs`) -> tokens (`expand.rs`).

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
            let item = parse::strip_route_attributes(item);
            quote! { #errors #item }
        }
    }
}
