//! Tokens -> a typed model of the controller, with every error collected.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Block, Expr, ExprClosure, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat,
    Path, Token, Type,
};

use crate::ctxt::Ctxt;
use justsse_http::RoutePath;

pub(crate) struct ControllerModel {
    pub(crate) self_ty: Type,
    /// Middleware and guards of every route, first.
    pub(crate) steps: Vec<Step>,
    /// `#[wrap(..)]` around every route, outermost first.
    pub(crate) wraps: Vec<Path>,
    pub(crate) routes: Vec<RouteModel>,
    /// The impl block without route attributes and without generator handlers,
    /// whose bodies move into their route functions.
    pub(crate) item: ItemImpl,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Sse,
}

impl Method {
    fn from_attr(name: &str) -> Option<Self> {
        Some(match name {
            "get" => Self::Get,
            "post" => Self::Post,
            "put" => Self::Put,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            "sse" => Self::Sse,
            _ => return None,
        })
    }

    pub(crate) fn http(self) -> &'static str {
        match self {
            Self::Get | Self::Sse => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

pub(crate) enum Step {
    /// `#[uses(path)]`: a middleware whose value joins the chain.
    Use(Path),
    /// `#[guard(...)]`.
    Guard(Guard),
}

pub(crate) enum Guard {
    /// `|user: &User| ...`: arguments named after path parameters borrow them;
    /// the others borrow chain values by type.
    Closure {
        closure: ExprClosure,
        args: Vec<(Option<Ident>, Type)>,
    },
    /// `is_admin`: a function of borrowed chain values.
    Function(Expr),
}

pub(crate) struct RouteModel {
    pub(crate) method: Method,
    /// `#[get("..", sse)]`: JSON for plain clients, a stream for SSE clients.
    pub(crate) progressive: bool,
    /// `retry = <ms>`: the reconnection hint sent first.
    pub(crate) retry: Option<u64>,
    /// The path as written in the attribute, for error spans.
    pub(crate) lit: LitStr,
    pub(crate) path: String,
    pub(crate) params: Vec<String>,
    pub(crate) handler: Ident,
    pub(crate) receiver: bool,
    pub(crate) args: Vec<Arg>,
    pub(crate) steps: Vec<Step>,
    /// `#[wrap(..)]` around this route, outermost first.
    pub(crate) wraps: Vec<Path>,
    /// The body of a generator handler (an `#[sse]` method ending in `stream! {}`).
    pub(crate) generator: Option<Block>,
    pub(crate) summary: String,
}

pub(crate) struct Arg {
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
    /// Set when the argument binds the path parameter of this name.
    pub(crate) param: Option<Ident>,
}

const ROUTE_ATTRS: [&str; 6] = ["get", "post", "put", "patch", "delete", "sse"];

fn attr_name(attr: &Attribute) -> Option<String> {
    let path = attr.path();
    let last = path.segments.last()?.ident.to_string();
    let ours =
        path.segments.len() == 1 || path.segments.first().is_some_and(|s| s.ident == "justsse");
    ours.then_some(last)
}

fn is_ours(attr: &Attribute) -> bool {
    attr_name(attr).is_some_and(|name| {
        ROUTE_ATTRS.contains(&name.as_str()) || ["uses", "guard", "wrap"].contains(&name.as_str())
    })
}

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

/// `#[wrap(..)]` in declared order (outermost first), removed from `attrs`.
fn take_wraps(cx: &mut Ctxt, attrs: &mut Vec<Attribute>) -> Vec<Path> {
    let mut wraps = Vec::new();
    attrs.retain(|attr| {
        if attr_name(attr).as_deref() != Some("wrap") {
            return true;
        }
        match attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated) {
            Ok(paths) if paths.is_empty() => cx.error_at(
                attr,
                "name at least one wrapping middleware: `#[wrap(timing)]`",
            ),
            Ok(paths) => wraps.extend(paths),
            Err(err) => cx.error_span(
                err.span(),
                format!("{err}; `#[wrap]` takes function paths: `#[wrap(timing, request_id)]`"),
            ),
        }
        false
    });
    wraps
}

/// `#[uses(..)]` and `#[guard(..)]` in declared order, removed from `attrs`.
fn take_steps(cx: &mut Ctxt, attrs: &mut Vec<Attribute>) -> Vec<Step> {
    let mut steps = Vec::new();
    attrs.retain(|attr| match attr_name(attr).as_deref() {
        Some("uses") => {
            match attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated) {
                Ok(paths) if paths.is_empty() => {
                    cx.error_at(attr, "name at least one middleware: `#[uses(auth)]`")
                }
                Ok(paths) => steps.extend(paths.into_iter().map(Step::Use)),
                Err(err) => cx.error_span(
                    err.span(),
                    format!(
                        "{err}; `#[uses]` takes middleware function paths: `#[uses(auth, audit)]`"
                    ),
                ),
            }
            false
        }
        Some("guard") => {
            match attr.parse_args::<Expr>() {
                Ok(expr) => {
                    if let Some(guard) = parse_guard(cx, expr) {
                        steps.push(Step::Guard(guard));
                    }
                }
                Err(err) => cx.error_span(
                    err.span(),
                    format!("{err}; expected `#[guard(|user: &User| user.is_admin)]`"),
                ),
            }
            false
        }
        _ => true,
    });
    steps
}

fn parse_guard(cx: &mut Ctxt, expr: Expr) -> Option<Guard> {
    match expr {
        Expr::Closure(closure) => {
            let mut args = Vec::new();
            for input in &closure.inputs {
                let Pat::Type(typed) = input else {
                    cx.error_at(
                        input,
                        "give each guard argument its type: `|user: &User| ...`",
                    );
                    continue;
                };
                let Type::Reference(reference) = &*typed.ty else {
                    cx.error_at(
                        &typed.ty,
                        format!(
                            "guard arguments are borrowed: write `&{}`",
                            typed.ty.to_token_stream()
                        ),
                    );
                    continue;
                };
                let name = match &*typed.pat {
                    Pat::Ident(ident) => Some(ident.ident.clone()),
                    _ => None,
                };
                args.push((name, (*reference.elem).clone()));
            }
            Some(Guard::Closure { closure, args })
        }
        Expr::Path(_) => Some(Guard::Function(expr)),
        other => {
            cx.error_at(
                other,
                "a guard is a closure `|user: &User| ...` or the path of a function",
            );
            None
        }
    }
}

struct RouteAttr {
    method: Method,
    lit: LitStr,
    progressive: bool,
    retry: Option<u64>,
}

/// An option after the path: `sse`, or `retry = 3000`.
struct RouteOption {
    name: Ident,
    value: Option<syn::LitInt>,
}

fn parse_route_attr(cx: &mut Ctxt, attr: &Attribute, method: Method) -> Option<RouteAttr> {
    let name = attr_name(attr).unwrap_or_default();
    let parsed = attr.parse_args_with(|input: ParseStream| {
        let lit: LitStr = input.parse()?;
        let mut options: Vec<RouteOption> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let name = input.call(syn::ext::IdentExt::parse_any)?;
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                Some(input.parse()?)
            } else {
                None
            };
            options.push(RouteOption { name, value });
        }
        Ok((lit, options))
    });
    let (lit, options) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            cx.error_span(
                err.span(),
                format!("expected a path and options: `#[{name}(\"/path\")]`"),
            );
            return None;
        }
    };
    let mut route = RouteAttr {
        method,
        lit,
        progressive: false,
        retry: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for RouteOption {
        name: option,
        value,
    } in options
    {
        let text = option.to_string();
        if seen.contains(&text) {
            cx.error_at(&option, format!("`{text}` is given more than once"));
            continue;
        }
        seen.push(text.clone());
        match (text.as_str(), method, value) {
            ("sse", Method::Get, None) => route.progressive = true,
            ("retry", Method::Sse, Some(ms)) | ("retry", Method::Get, Some(ms)) => match ms.base10_parse() {
                Ok(ms) => route.retry = Some(ms),
                Err(err) => cx.push(err),
            },
            ("get" | "post" | "put" | "patch" | "delete", Method::Sse, _) => {
                cx.error_at(&option, format!("an `#[sse]` route answers GET requests only; remove `{text}`"));
            }
            ("sse" | "retry", _, _) => cx.error_at(
                &option,
                format!("`{text}` is written `#[get(\"/path\", sse)]` or `#[sse(\"/path\", retry = 3000)]`"),
            ),
            _ => {
                let takes = match method {
                    Method::Sse => "`retry = <ms>`",
                    Method::Get => "`sse` and `retry = <ms>`",
                    _ => "no options",
                };
                cx.error_at(&option, format!("unknown option `{text}`: `#[{name}]` takes {takes}"));
            }
        }
    }
    if route.retry.is_some() && method == Method::Get && !route.progressive {
        cx.error_at(
            &route.lit,
            "`retry` applies to event streams: add `sse` or use `#[sse]`",
        );
    }
    Some(route)
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
        retry,
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

    let generator = match (kind, find_yield(method.block.to_token_stream())) {
        (Method::Sse, _) if ends_in_stream_macro(&method.block) => Some(method.block.clone()),
        (Method::Sse, _) | (_, None) => None,
        (_, Some(span)) => {
            cx.error_span(
                span,
                "`yield` makes an event stream: only an `#[sse]` route can yield",
            );
            None
        }
    };

    Some(RouteModel {
        method: kind,
        progressive,
        retry,
        lit,
        path: route_path,
        params,
        handler: sig.ident.clone(),
        receiver,
        args,
        steps,
        wraps,
        generator,
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

/// Two routes with the same method and path shape (parameter names aside).
fn check_duplicates(cx: &mut Ctxt, routes: &[RouteModel]) {
    // (is an event stream, method, path with parameter names erased)
    let shapes = |route: &RouteModel| {
        let path: Vec<String> = route
            .path
            .split('/')
            .map(|segment| match segment.chars().next() {
                Some(':') => ":".to_owned(),
                Some('*') => "*".to_owned(),
                _ => segment.to_owned(),
            })
            .collect();
        let path = path.join("/");
        let mut shapes = vec![(
            route.method == Method::Sse,
            route.method.http(),
            path.clone(),
        )];
        if route.progressive {
            shapes.push((true, "GET", path));
        }
        shapes
    };
    for (i, route) in routes.iter().enumerate() {
        let mine = shapes(route);
        if let Some(first) = routes[..i]
            .iter()
            .find(|earlier| shapes(earlier).iter().any(|shape| mine.contains(shape)))
        {
            cx.error_at(
                &route.lit,
                format!(
                    "{} {} is already routed to `{}`",
                    route.method.http(),
                    route.path,
                    first.handler
                ),
            );
        }
    }
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
        let path: Path = syn::parse_quote!(crate::auth::bearer);
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
