//! `stream!`'s body: each `yield value` becomes `yield into_event(value)`,
//! so that a generator yields `Event`s and typed events (`#[derive(SseEvent)]`)
//! alike, one kind or both, then async-stream's `try_stream!` runs it.

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

/// `input` is the path of the justsse crate (`$crate` of `stream!`), a comma,
/// then the body.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let krate: TokenStream = tokens
        .by_ref()
        .take_while(|token| !matches!(token, TokenTree::Punct(p) if p.as_char() == ','))
        .collect();
    let body = convert(&krate, tokens.collect());
    quote! {
        #krate::__private::event_stream(#krate::__private::try_stream! { #body })
    }
}

/// Whether `token` ends a yielded expression: `;` or `,` at its level.
fn ends_expression(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == ';' || p.as_char() == ',')
}

fn convert(krate: &TokenStream, tokens: TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(ident) if ident == "yield" => {
                let mut value = TokenStream::new();
                while let Some(next) = tokens.next_if(|next| !ends_expression(next)) {
                    value.extend([next]);
                }
                let value = convert(krate, value);
                out.extend(quote_spanned! {ident.span()=>
                    #ident #krate::__private::into_event(#value)
                });
            }
            TokenTree::Group(group) => {
                let mut converted = Group::new(group.delimiter(), convert(krate, group.stream()));
                converted.set_span(group.span());
                out.extend([TokenTree::Group(converted)]);
            }
            other => out.extend([other]),
        }
    }
    out
}
