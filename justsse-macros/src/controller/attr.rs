//! Our attributes on a controller and its methods: which they are, and what they
//! say (`#[get("/path", sse, retry = 3000)]`, `#[uses]`, `#[guard]`, `#[wrap]`),
//! every mistake reported at its span.

use quote::ToTokens;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, LitStr, Pat, Path, Token, Type};

use crate::ctxt::Ctxt;

use super::ast::{Guard, Method, Step};

pub(super) const ROUTE_ATTRS: [&str; 6] = ["get", "post", "put", "patch", "delete", "sse"];

pub(super) fn attr_name(attr: &Attribute) -> Option<String> {
    let path = attr.path();
    let last = path.segments.last()?.ident.to_string();
    let ours =
        path.segments.len() == 1 || path.segments.first().is_some_and(|s| s.ident == "justsse");
    ours.then_some(last)
}

pub(super) fn is_ours(attr: &Attribute) -> bool {
    attr_name(attr).is_some_and(|name| {
        ROUTE_ATTRS.contains(&name.as_str()) || ["uses", "guard", "wrap"].contains(&name.as_str())
    })
}

/// `#[wrap(..)]` in declared order (outermost first), removed from `attrs`.
pub(super) fn take_wraps(cx: &mut Ctxt, attrs: &mut Vec<Attribute>) -> Vec<Path> {
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
pub(super) fn take_steps(cx: &mut Ctxt, attrs: &mut Vec<Attribute>) -> Vec<Step> {
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
            match attr.parse_args_with(guard_args) {
                Ok((expr, message)) => {
                    if let Some(guard) = parse_guard(cx, expr) {
                        steps.push(Step::Guard(guard, message));
                    }
                }
                Err(err) => cx.error_span(
                    err.span(),
                    format!(
                        "{err}; expected `#[guard(|user: &User| user.is_admin)]` or `#[guard(is_admin, message = \"admins only\")]`"
                    ),
                ),
            }
            false
        }
        _ => true,
    });
    steps
}

/// `expr` or `expr, message = "..."`.
fn guard_args(input: ParseStream<'_>) -> syn::Result<(Expr, Option<LitStr>)> {
    let expr: Expr = input.parse()?;
    if input.is_empty() {
        return Ok((expr, None));
    }
    input.parse::<Token![,]>()?;
    let key: Ident = input.parse()?;
    if key != "message" {
        return Err(syn::Error::new(
            key.span(),
            format!("unknown guard option `{key}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    let message: LitStr = input.parse()?;
    let _ = input.parse::<Option<Token![,]>>()?;
    Ok((expr, Some(message)))
}

pub(super) fn parse_guard(cx: &mut Ctxt, expr: Expr) -> Option<Guard> {
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

/// What a route attribute says: its method, path and options.
pub(super) struct RouteAttr {
    pub(super) method: Method,
    pub(super) lit: LitStr,
    pub(super) progressive: bool,
    /// `#[post("/path", stream)]`: the route answers with an event stream.
    pub(super) stream: bool,
    pub(super) retry: Option<u64>,
    /// `keep_alive = off` (0) or `keep_alive = <ms>`: the stream's own.
    pub(super) keep_alive: Option<u64>,
    /// `compress = off` (0) or `compress = <level 1-9>`: the stream's own.
    pub(super) compress: Option<u32>,
    /// `events = TicketEvent`: the `SseEvent` type the stream sends.
    pub(super) events: Option<Path>,
    /// `responses(409 = Conflict, 422)`: statuses the handler answers itself,
    /// each with its JSON body's type (the error body without one).
    pub(super) responses: Vec<(u16, Option<syn::Type>)>,
}

/// An option after the path: `sse`, `stream`, `retry = 3000`, or `events = Type`.
pub(super) struct RouteOption {
    name: Ident,
    value: Option<OptionValue>,
}

enum OptionValue {
    Int(syn::LitInt),
    Path(Path),
    /// `(409 = Type, 422)`.
    List(Vec<(syn::LitInt, Option<syn::Type>)>),
}

/// `(409 = Conflict, 422)`: statuses, each with an optional body type.
fn parse_statuses(input: ParseStream) -> syn::Result<Vec<(syn::LitInt, Option<syn::Type>)>> {
    let content;
    syn::parenthesized!(content in input);
    let mut statuses = Vec::new();
    while !content.is_empty() {
        let status: syn::LitInt = content.parse()?;
        let body = if content.peek(Token![=]) {
            content.parse::<Token![=]>()?;
            Some(content.parse()?)
        } else {
            None
        };
        statuses.push((status, body));
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(statuses)
}

pub(super) fn parse_route_attr(
    cx: &mut Ctxt,
    attr: &Attribute,
    method: Method,
) -> Option<RouteAttr> {
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
            let value = if input.peek(syn::token::Paren) {
                Some(OptionValue::List(parse_statuses(input)?))
            } else if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                if input.peek(syn::LitInt) {
                    Some(OptionValue::Int(input.parse()?))
                } else {
                    Some(OptionValue::Path(input.parse()?))
                }
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
        stream: false,
        retry: None,
        keep_alive: None,
        compress: None,
        events: None,
        responses: Vec::new(),
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
            ("stream", Method::Post | Method::Put | Method::Patch | Method::Delete, None) => {
                route.stream = true;
            }
            ("retry", _, Some(OptionValue::Int(ms))) => match ms.base10_parse() {
                Ok(ms) => route.retry = Some(ms),
                Err(err) => cx.push(err),
            },
            ("keep_alive", _, Some(OptionValue::Int(ms))) => match ms.base10_parse::<u64>() {
                Ok(ms) => route.keep_alive = Some(ms.max(1)),
                Err(err) => cx.push(err),
            },
            ("keep_alive", _, Some(OptionValue::Path(off))) if off.is_ident("off") => {
                route.keep_alive = Some(0);
            }
            ("keep_alive", _, _) => cx.error_at(
                &option,
                "`keep_alive` is `off` or a period in milliseconds: `keep_alive = off`, `keep_alive = 20000`",
            ),
            ("compress", _, Some(OptionValue::Int(level))) => match level.base10_parse::<u32>() {
                Ok(level @ 1..=9) => route.compress = Some(level),
                _ => cx.error_at(&level, "a compression level is 1 (fastest) to 9 (smallest)"),
            },
            ("compress", _, Some(OptionValue::Path(off))) if off.is_ident("off") => {
                route.compress = Some(0);
            }
            ("compress", _, _) => cx.error_at(
                &option,
                "`compress` is `off` or a level from 1 to 9: `compress = off`, `compress = 6`",
            ),
            ("events", _, Some(OptionValue::Path(ty))) => {
                route.events = Some(ty);
            }
            ("responses", _, Some(OptionValue::List(statuses))) => {
                for (status, body) in statuses {
                    match status.base10_parse::<u16>() {
                        Ok(code) if (200..=599).contains(&code) => {
                            if route.responses.iter().any(|(seen, _)| *seen == code) {
                                cx.error_at(&status, format!("status {code} is declared twice"));
                            }
                            route.responses.push((code, body));
                        }
                        _ => cx.error_at(&status, "a declared response is a status from 200 to 599"),
                    }
                }
            }
            ("responses", _, _) => cx.error_at(
                &option,
                "`responses` lists the statuses the handler answers itself, each with its JSON body's type: `responses(409 = Conflict, 422)`",
            ),
            ("events", _, _) => cx.error_at(
                &option,
                "`events` names the `SseEvent` type of a stream: `#[sse(\"/path\", events = TicketEvent)]`",
            ),
            ("get" | "post" | "put" | "patch" | "delete", Method::Sse, _) => {
                cx.error_at(
                    &option,
                    format!(
                        "an `#[sse]` route answers GET; a stream that starts with a request body is written `#[{text}(\"/path\", stream)]`"
                    ),
                );
            }
            ("stream", Method::Get | Method::Sse, _) => cx.error_at(
                &option,
                "a GET stream is written `#[sse(\"/path\")]`; `stream` is for `#[post]`, `#[put]`, `#[patch]` and `#[delete]`",
            ),
            ("sse" | "retry", _, _) => cx.error_at(
                &option,
                format!("`{text}` is written `#[get(\"/path\", sse)]` or `#[sse(\"/path\", retry = 3000)]`"),
            ),
            _ => {
                let takes = match method {
                    Method::Sse => "`retry = <ms>`, `keep_alive = off | <ms>`, `compress = off | <level>`, `events = Type` and `responses(..)`",
                    Method::Get => "`sse`, `retry = <ms>`, `keep_alive = off | <ms>`, `compress = off | <level>`, `events = Type` and `responses(..)`",
                    _ => "`stream`, `retry = <ms>`, `keep_alive = off | <ms>`, `compress = off | <level>`, `events = Type` and `responses(..)`",
                };
                cx.error_at(&option, format!("unknown option `{text}`: `#[{name}]` takes {takes}"));
            }
        }
    }
    if route.events.is_some() && method == Method::Get && !route.progressive {
        cx.error_at(
            &route.lit,
            "`events` applies to event streams: add `sse` or use `#[sse]`",
        );
    }
    for (given, option) in [
        (route.retry.is_some(), "retry"),
        (route.keep_alive.is_some(), "keep_alive"),
        (route.compress.is_some(), "compress"),
    ] {
        if given && method == Method::Get && !route.progressive {
            cx.error_at(
                &route.lit,
                format!("`{option}` applies to event streams: add `sse` or use `#[sse]`"),
            );
        }
    }
    let body_method = !matches!(method, Method::Get | Method::Sse);
    for (given, option) in [
        (route.events.is_some(), "events"),
        (route.retry.is_some(), "retry"),
        (route.keep_alive.is_some(), "keep_alive"),
        (route.compress.is_some(), "compress"),
    ] {
        if given && body_method && !route.stream {
            cx.error_at(
                &route.lit,
                format!("`{option}` applies to event streams: add `stream`, as in `#[{name}(\"/path\", stream, {option} = ..)]`"),
            );
        }
    }
    Some(route)
}
