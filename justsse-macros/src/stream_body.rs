//! `stream!`'s body, as one `async` block run by `__private::generated`:
//! - each `yield value` becomes `yielded(into_event(value)).await`, so that a
//!   generator yields `Event`s and typed events (`#[derive(SseEvent)]`) alike,
//!   one kind or both;
//! - `for await pattern in stream { .. }` becomes a `while let` over the
//!   pinned stream's `next()`, as async-stream has it;
//! - `?` is Rust's own: the block returns `Result<(), BoxError>`, so each
//!   `return;` of the body (not of a closure, `async` block or function in it)
//!   becomes `return Ok(())`.

use proc_macro2::{Delimiter, Group, Spacing, Span, TokenStream, TokenTree};
use quote::quote_spanned;

/// `input` is the path of the justsse crate (`$crate` of `stream!`), a comma,
/// then the body.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let krate: TokenStream = tokens
        .by_ref()
        .take_while(|token| !matches!(token, TokenTree::Punct(p) if p.as_char() == ','))
        .collect();
    expand_at(&krate, tokens.collect(), Span::call_site())
}

/// The stream of `body`, its own tokens at `span`: `#[controller]` expands a
/// generator's `stream!` itself, at the macro's name (see
/// `controller/anchor.rs`).
pub(crate) fn expand_at(krate: &TokenStream, body: TokenStream, span: Span) -> TokenStream {
    let body = convert(krate, body, true);
    quote_spanned! {span=>
        #krate::__private::generated(async move {
            { #body }
            #[allow(unreachable_code)]
            return ::core::result::Result::<(), #krate::__private::BoxError>::Ok(());
        })
    }
}

/// Whether `token` ends a yielded expression: `;` or `,` at its level.
fn ends_expression(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == ';' || p.as_char() == ',')
}

/// Rewrites `yield`s, and when `returns` (the tokens are the body's own, not
/// a nested closure's, `async` block's or function's) a bare `return`.
fn convert(krate: &TokenStream, tokens: TokenStream, returns: bool) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    // After `fn` or `->`: the next `{ .. }` (before a `;`) is a function's or
    // a closure's body.
    let mut signature = false;
    // The last token was `async` (or `async move`) or a closure's closing
    // `|`: a `{ .. }` now is an `async` block's or a closure's body.
    let mut opens_body = false;
    let mut arrow = false;
    while let Some(token) = tokens.next() {
        let (next_signature, next_opens_body, next_arrow) = match &token {
            TokenTree::Ident(ident) if ident == "fn" => (true, false, false),
            TokenTree::Ident(ident) if ident == "async" => (signature, true, false),
            TokenTree::Ident(ident) if ident == "move" => (signature, opens_body, false),
            TokenTree::Punct(p) if p.as_char() == '-' && p.spacing() == Spacing::Joint => {
                (signature, false, true)
            }
            TokenTree::Punct(p) if p.as_char() == '>' && arrow => (true, false, false),
            TokenTree::Punct(p) if p.as_char() == '|' && p.spacing() == Spacing::Alone => {
                (signature, true, false)
            }
            TokenTree::Punct(p) if p.as_char() == ';' => (false, false, false),
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                (false, false, false)
            }
            _ => (signature, false, false),
        };
        match token {
            TokenTree::Ident(ident) if ident == "yield" => {
                let mut value = TokenStream::new();
                while let Some(next) = tokens.next_if(|next| !ends_expression(next)) {
                    value.extend([next]);
                }
                let value = convert(krate, value, returns);
                out.extend(quote_spanned! {ident.span()=>
                    #krate::__private::yielded(#krate::__private::into_event(#value)).await
                });
            }
            TokenTree::Ident(ident)
                if ident == "for"
                    && matches!(tokens.peek(), Some(TokenTree::Ident(next)) if next == "await") =>
            {
                tokens.next();
                let pattern: TokenStream = tokens
                    .by_ref()
                    .take_while(|token| !matches!(token, TokenTree::Ident(i) if i == "in"))
                    .collect();
                let mut stream = TokenStream::new();
                while let Some(next) = tokens.next_if(
                    |next| !matches!(next, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace),
                ) {
                    stream.extend([next]);
                }
                let stream = convert(krate, stream, returns);
                // A label (`'outer: for await`) goes on the loop.
                let label = match out.as_slice() {
                    [
                        ..,
                        TokenTree::Punct(tick),
                        TokenTree::Ident(_),
                        TokenTree::Punct(colon),
                    ] if tick.as_char() == '\'' && colon.as_char() == ':' => {
                        out.split_off(out.len() - 3)
                    }
                    _ => Vec::new(),
                };
                let label: TokenStream = label.into_iter().collect();
                let body = match tokens.next() {
                    Some(TokenTree::Group(body)) => {
                        let mut converted =
                            Group::new(Delimiter::Brace, convert(krate, body.stream(), returns));
                        converted.set_span(body.span());
                        converted
                    }
                    _ => Group::new(Delimiter::Brace, TokenStream::new()),
                };
                out.extend(quote_spanned! {ident.span()=>
                    {
                        let mut __justsse_stream = ::core::pin::pin!(#stream);
                        #label while let ::core::option::Option::Some(#pattern) =
                            #krate::__private::next(&mut __justsse_stream).await
                        #body
                    }
                });
            }
            TokenTree::Ident(ident)
                if returns && ident == "return" && tokens.peek().is_none_or(ends_expression) =>
            {
                out.extend(quote_spanned! {ident.span()=>
                    #ident ::core::result::Result::Ok(())
                });
            }
            TokenTree::Group(group) => {
                let nested = group.delimiter() == Delimiter::Brace && (signature || opens_body);
                let mut converted = Group::new(
                    group.delimiter(),
                    convert(krate, group.stream(), returns && !nested),
                );
                converted.set_span(group.span());
                out.push(TokenTree::Group(converted));
            }
            other => out.push(other),
        }
        (signature, opens_body, arrow) = (next_signature, next_opens_body, next_arrow);
    }
    out.into_iter().collect()
}
