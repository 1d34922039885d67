//! The route attributes mean something only to `#[controller]`, which reads and
//! removes them. Met on their own, they say where they belong.

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) fn outside_controller(name: &str, item: TokenStream) -> TokenStream {
    let message = format!(
        "`#[{name}]` only works inside an `impl` block marked `#[controller(\"/prefix\")]`, placed below `#[controller]`"
    );
    let error = syn::Error::new(Span::call_site(), message).to_compile_error();
    quote! { #error #item }
}
