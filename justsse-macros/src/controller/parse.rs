//! Tokens -> a typed model of the controller, with every error collected.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Attribute, Block, Expr, FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, Type};

use crate::ctxt::Ctxt;
use justsse_http::RoutePath;

use super::ast::{Arg, ControllerModel, Method, RouteModel};
use super::attr::{RouteAttr, attr_name, is_ours, parse_route_attr, take_steps, take_wraps};
use super::check::check_duplicates;

/// The item with our attributes removed, for the error path.
pub(crate) fn strip_route_attributes(item: TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<ItemImpl>(item.clone()) else {
        return item;
    };
    item.attrs.retain(|a| !is_ours(a));
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            method.attrs.retain(|a| !is_ours(a));
            if ends_in_stream_macro(&method.block) {
                // A generator's stream borrows the controller; only its route
                // function can own it, so here the body would add borrow errors.
                method.block = syn::parse_quote!({ ::justsse::__private::placeholder_stream() });
            }
        }
    }
    item.into_token_stream()
}

pub(crate) fn parse(
    cx: &mut Ctxt,
    attr: TokenStream,
    item: TokenStream,
) -> Option<ControllerModel> {
    let prefix = parse_prefix(cx, attr);
    let mut item = match syn::parse2::<ItemImpl>(item) {
        Ok(item) => item,
        Err(err) => {
            cx.error_span(err.span(), "#[controller] goes on an `impl` block");
            return None;
        }
    };
    if let Some((_, trait_path, _)) = &item.trait_ {
        cx.error_at(
            trait_path,
            "#[controller] goes on an inherent `impl` block, not a trait impl",
        );
    }
    if !item.generics.params.is_empty() {
        cx.error_at(&item.generics, "a controller cannot be generic");
    }

    let steps = take_steps(cx, &mut item.attrs);
    let wraps = take_wraps(cx, &mut item.attrs);
    let mut routes = Vec::new();
    let mut kept = Vec::with_capacity(item.items.len());
    for impl_item in std::mem::take(&mut item.items) {
        let ImplItem::Fn(mut method) = impl_item else {
            kept.push(impl_item);
            continue;
        };
        match parse_route(cx, prefix.as_deref().unwrap_or(""), &mut method) {
            Some(route) if route.generator.is_some() => routes.push(route),
            Some(route) => {
                routes.push(route);
                kept.push(ImplItem::Fn(method));
            }
            None => kept.push(ImplItem::Fn(method)),
        }
    }
    item.items = kept;
    check_duplicates(cx, &routes);

    Some(ControllerModel {
        self_ty: (*item.self_ty).clone(),
        steps,
        wraps,
        routes,
        item,
    })
}

fn parse_prefix(cx: &mut Ctxt, attr: TokenStream) -> Option<String> {
    let lit = match syn::parse2::<LitStr>(attr) {
        Ok(lit) => lit,
        Err(err) => {
            cx.error_span(
                err.span(),
                "expected the path prefix: `#[controller(\"/tickets\")]`",
            );
            return None;
        }
    };
    let prefix = lit.value();
    if let Err(err) = RoutePath::parse(&prefix) {
        cx.error_at(&lit, err);
        return None;
    }
    if prefix.len() > 1 && prefix.ends_with('/') {
        cx.error_at(&lit, "a controller prefix does not end with `/`");
        return None;
    }
    Some(if prefix == "/" { String::new() } else { prefix })
}

fn parse_route(cx: &mut Ctxt, prefix: &str, method: &mut ImplItemFn) -> Option<RouteModel> {
    let mut route_attr: Option<RouteAttr> = None;
    let mut route_attrs = Vec::new();
    method.attrs.retain(|attr| {
        let name = attr_name(attr);
        match name.as_deref().and_then(Method::from_attr) {
            Some(kind) => {
                route_attrs.push((attr.clone(), kind));
                false
            }
            None => true,
        }
    });
    for (attr, kind) in route_attrs {
        if route_attr.is_some() {
            cx.error_at(&attr, "a handler has one route attribute");
            continue;
        }
        route_attr = parse_route_attr(cx, &attr, kind);
    }
    let steps = take_steps(cx, &mut method.attrs);
    let wraps = take_wraps(cx, &mut method.attrs);
    let Some(RouteAttr {
        method: kind,
        lit,
        progressive,
        stream,
        retry,
        keep_alive,
        compress,
        events,
        responses,
    }) = route_attr
    else {
        if !steps.is_empty() || !wraps.is_empty() {
            cx.error_at(&method.sig.ident, "`#[uses]`, `#[guard]` and `#[wrap]` need a route attribute such as `#[get(\"/\")]` on this method");
        }
        return None;
    };

    let written = lit.value();
    let route_path = match RoutePath::parse(&written) {
        Ok(_) => join(prefix, &written),
        Err(err) => {
            cx.error_at(&lit, err);
            return None;
        }
    };
    let params = match RoutePath::parse(&route_path) {
        Ok(parsed) => parsed.params().to_vec(),
        Err(err) => {
            cx.error_at(&lit, format!("with the controller prefix: {err}"));
            return None;
        }
    };

    let sig = &method.sig;
    if sig.asyncness.is_none() {
        cx.error_at(sig.fn_token, "a route handler must be an `async fn`");
    }
    if !sig.generics.params.is_empty() {
        cx.error_at(&sig.generics, "a route handler cannot be generic");
    }
    let mut receiver = false;
    let mut args = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(recv) => {
                let shared_ref = match (&recv.reference, &recv.colon_token) {
                    (Some((_, None)), _) => recv.mutability.is_none(),
                    (None, Some(_)) => {
                        matches!(&*recv.ty, Type::Reference(r) if r.mutability.is_none())
                    }
                    _ => false,
                };
                if !shared_ref {
                    cx.error_at(
                        recv,
                        "a route handler takes `&self`: one controller serves every request",
                    );
                }
                receiver = true;
            }
            FnArg::Typed(typed) => {
                let param = match &*typed.pat {
                    Pat::Ident(ident) if params.contains(&ident.ident.to_string()) => {
                        Some(ident.ident.clone())
                    }
                    _ => None,
                };
                args.push(Arg {
                    pat: (*typed.pat).clone(),
                    ty: (*typed.ty).clone(),
                    param,
                });
            }
        }
    }
    for name in &params {
        if !args
            .iter()
            .any(|a| a.param.as_ref().is_some_and(|p| p == name))
        {
            cx.error_at(
                &lit,
                format!(
                    "path parameter `:{name}` has no argument: add `{name}: T` to `{}`",
                    sig.ident
                ),
            );
        }
    }

    // Any method but a plain GET streams from a `stream!` body: `#[sse]` on
    // GET, `#[post]` (with or without `stream`) and the others on a request.
    let streams = kind != Method::Get;
    let generator = match (streams, find_yield(method.block.to_token_stream())) {
        (true, _) if ends_in_stream_macro(&method.block) => Some(method.block.clone()),
        (true, Some(_)) => {
            if let Some(span) = find_bare_yield(method.block.to_token_stream()) {
                cx.error_span(
                    span,
                    format!(
                        "`yield` outside `stream!`: `{}` yields its events inside `stream! {{ ... }}`, as the last expression of its body",
                        sig.ident
                    ),
                );
            }
            None
        }
        (true, None) | (false, None) => None,
        (false, Some(span)) => {
            cx.error_span(
                span,
                "`yield` makes an event stream: a GET stream is an `#[sse]` route",
            );
            None
        }
    };
    let stream = stream || (kind != Method::Sse && generator.is_some());

    // Handlers are async because the route calls them so; one that does not
    // await is not the user's to fix.
    // Spanned at the handler's name: an attribute from the call site would
    // be found changed by an edit before the controller (see `anchor.rs`).
    let name = sig.ident.span();
    method
        .attrs
        .push(syn::parse_quote_spanned!(name=> #[allow(clippy::unused_async)]));
    Some(RouteModel {
        method: kind,
        progressive,
        stream,
        retry,
        keep_alive,
        compress,
        events,
        responses,
        lit,
        path: route_path,
        params,
        handler: sig.ident.clone(),
        receiver,
        args,
        steps,
        wraps,
        generator,
        output: match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
        },
        summary: summary(&method.attrs),
    })
}

/// `/tickets` + `/` is `/tickets`; `/tickets` + `/:id` is `/tickets/:id`.
fn join(prefix: &str, path: &str) -> String {
    match (prefix, path) {
        ("", path) => path.to_owned(),
        (prefix, "/") => prefix.to_owned(),
        (prefix, path) => format!("{prefix}{path}"),
    }
}

/// A generator handler: its body ends in `stream! { ... }`. `yield` cannot stand
/// in a plain method body on stable Rust (the parser gates it before any macro
/// runs), so generators are written inside `stream!`.
fn ends_in_stream_macro(block: &Block) -> bool {
    let mac = match block.stmts.last() {
        Some(syn::Stmt::Macro(stmt)) => &stmt.mac,
        Some(syn::Stmt::Expr(Expr::Macro(expr), None)) => &expr.mac,
        _ => return false,
    };
    mac.path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "stream")
}

fn find_yield(tokens: TokenStream) -> Option<Span> {
    tokens.into_iter().find_map(|tree| match tree {
        TokenTree::Ident(ident) if ident == "yield" => Some(ident.span()),
        TokenTree::Group(group) => find_yield(group.stream()),
        _ => None,
    })
}

/// The first `yield` not inside a `stream!` or `try_stream!` invocation.
fn find_bare_yield(tokens: TokenStream) -> Option<Span> {
    let mut in_stream_macro = [false, false];
    for tree in tokens {
        // `stream` `!` `{..}`: the group after a stream macro's name and `!`.
        let skip = in_stream_macro == [true, true];
        in_stream_macro = match &tree {
            TokenTree::Ident(ident) => [ident == "stream" || ident == "try_stream", false],
            TokenTree::Punct(punct) if punct.as_char() == '!' => [in_stream_macro[0], true],
            _ => [false, false],
        };
        match tree {
            TokenTree::Ident(ident) if ident == "yield" => return Some(ident.span()),
            TokenTree::Group(group) if !skip => {
                if let Some(span) = find_bare_yield(group.stream()) {
                    return Some(span);
                }
            }
            _ => {}
        }
    }
    None
}

/// The first non-empty line of the doc comment.
fn summary(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.trim().to_owned())
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

/// The text of tokens as a person writes it, for the route table:
/// `| user : & User | user . is_admin` becomes `|user: &User| user.is_admin`.
pub(crate) fn tidy(tokens: &impl ToTokens) -> String {
    let raw = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    let mut open_pipe = false;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied().unwrap_or(' ');
        if c == '|' {
            open_pipe = !open_pipe;
        }
        if c == ' ' {
            let prev = out.chars().last().unwrap_or(' ');
            let after_path_sep = out.ends_with("::");
            let skip = matches!(next, '.' | ',' | ';' | ')' | ']' | '?' | ':' | '<' | '>')
                || matches!(prev, '(' | '[' | '.' | '!' | '<')
                || (prev == '&' && !out.ends_with("&&"))
                || after_path_sep
                || (prev == '|' && open_pipe)
                || (next == '|' && open_pipe)
                || (next == '(' && prev.is_alphanumeric());
            if skip {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_reads_like_source() {
        let closure: Expr = syn::parse_quote!(|user: &User| user.is_admin);
        assert_eq!(tidy(&closure), "|user: &User| user.is_admin");
        let path: syn::Path = syn::parse_quote!(crate::auth::bearer);
        assert_eq!(tidy(&path), "crate::auth::bearer");
        let ty: Type = syn::parse_quote!(Json<Vec<Ticket>>);
        assert_eq!(tidy(&ty), "Json<Vec<Ticket>>");
        let call: Expr = syn::parse_quote!(check(a, &b).is_ok() && c);
        assert_eq!(tidy(&call), "check(a, &b).is_ok() && c");
    }

    #[test]
    fn joins_prefix_and_path() {
        assert_eq!(join("/tickets", "/"), "/tickets");
        assert_eq!(join("/tickets", "/:id"), "/tickets/:id");
        assert_eq!(join("", "/"), "/");
        assert_eq!(join("", "/x"), "/x");
    }
}
