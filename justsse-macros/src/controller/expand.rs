//! The model -> tokens: the user's impl (with a generator body's function per
//! generator route), and the `Controller` impl holding the route table and
//! mounting each route's plan.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::anchor::Anchor;
use super::ast::{Arg, ControllerModel, Guard, Method, RouteModel, Step};
use super::parse::tidy;

pub(crate) fn expand(model: &ControllerModel) -> TokenStream {
    let item = &model.item;
    let self_ty = &model.self_ty;
    let anchor = Anchor::new(item);
    let site = anchor.site();
    let routes: Vec<Route> = model
        .routes
        .iter()
        .enumerate()
        .map(|(i, route)| route_plan(model, i, route, site))
        .collect();
    let generator_fns = routes
        .iter()
        .filter_map(|route| route.generator_fn.clone())
        .map(|generator_fn| anchor.spanning(generator_fn));
    let mounts = routes.iter().map(|route| &route.mount);
    let infos = model
        .routes
        .iter()
        .map(|route| route_info(model, route, site));
    let table = anchor.spanning(quote_spanned! {site=>
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, clippy::restriction)]
        const ROUTES: &'static [::justsse::__private::RouteInfo] = &[#(#infos),*];
    });
    // Every route's plan is mounted in one function: what its routes prove
    // alike (their middleware, most of their steps) is proven once there.
    // The macro's own code: its tokens resolve at the user's code (see
    // `anchor.rs`), where lints would find them.
    let mount = anchor.spanning(quote_spanned! {site=>
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, clippy::restriction)]
        fn mount(self: ::justsse::__private::Arc<Self>, __m: &mut ::justsse::__private::Mount<'_>) {
            #(#mounts)*
        }
    });
    let generated = anchor.spanning(quote_spanned! {site=>
        impl #self_ty {
            #(#generator_fns)*
        }
    });
    let controller = anchor.spanning(quote_spanned! {site=>
        impl ::justsse::__private::Controller for #self_ty {
            #table
            #mount
        }
    });
    quote_spanned! {site=>
        #item
        #generated
        #controller
    }
}

/// A route in tokens: its plan, mounted (a block of the controller's
/// `mount`), and the function of its generator body, if it has one.
struct Route {
    mount: TokenStream,
    generator_fn: Option<TokenStream>,
}

/// The route's plan, mounted (`Plan::mount` checks what it needs from the
/// app and keeps it for the requests). Parameters (400), then middleware and
/// guards in declared order, parameters resolved (404) before the first
/// guard, then the handler's other arguments, then the call. The plan is
/// values of library types: no `async` block per route for the
/// application's build to check.
fn route_plan(model: &ControllerModel, index: usize, route: &RouteModel, site: Span) -> Route {
    let index = lit(index, site);
    let private = quote_spanned!(site=> ::justsse::__private);
    // The path parameters in the handler's argument order: the handler takes
    // them in this order, and a guard names one by its place.
    let params: Vec<&Arg> = route
        .args
        .iter()
        .filter(|arg| arg.param.is_some())
        .collect();
    let param_list = params
        .iter()
        .rev()
        .fold(quote_spanned!(site=> ()), |tail, arg| {
            let (ty, text) = (&arg.ty, param_text(arg));
            // Found by its place in the path: the route's future carries no name.
            let at = route
                .params
                .iter()
                .position(|name| *name == text)
                .unwrap_or_default();
            let at = lit(at, site);
            // A primitive is its parsed value (`Plain`); a type of the user's
            // own under such a name fails to compile on `Plain`.
            let ctor = match is_primitive(ty) {
                true => quote_spanned!(site=> parsed),
                false => quote_spanned!(site=> resolved),
            };
            let param = quote_spanned! {ty.span()=>
                ::justsse::__private::#ctor::<#ty, #at>()
            };
            quote_spanned!(site=> (#param, #tail))
        });

    // One statement a step, each checked where the user wrote what it
    // comes from.
    let mut steps = Vec::new();
    let mut resolved = false;
    // The type of each middleware's value is kept only where two are
    // compared.
    let compared = model
        .steps
        .iter()
        .chain(&route.steps)
        .filter(|step| matches!(step, Step::Use(_)))
        .count()
        > 1;
    let mut outputs: Vec<(Ident, &syn::Path)> = Vec::new();
    for step in model.steps.iter().chain(&route.steps) {
        match step {
            Step::Use(path) => {
                steps.push(quote_spanned! {path.span()=>
                    let __plan = __plan.uses(&#path);
                });
                if compared {
                    let output = format_ident!("__output{}", outputs.len(), span = site);
                    steps.push(quote_spanned! {path.span()=>
                        let #output = __plan.output(&#path);
                    });
                    steps.push(compare(path, &output, &outputs));
                    outputs.push((output, path));
                }
            }
            Step::Guard(guard, message) => {
                if !resolved {
                    steps.push(quote_spanned!(site=> let __plan = __plan.step(#private::Resolve);));
                    resolved = true;
                }
                steps.push(guard_step(&params, guard, message.as_ref(), site));
            }
        }
    }
    if !resolved {
        steps.push(quote_spanned!(site=> let __plan = __plan.step(#private::Resolve);));
    }
    for arg in &route.args {
        steps.push(match arg.param {
            Some(_) => quote_spanned!(site=> let __plan = __plan.param();),
            None => {
                let ty = &arg.ty;
                quote_spanned! {ty.span()=>
                    let __plan = __plan.take::<#ty, _>();
                }
            }
        });
    }

    let handler = &route.handler;
    // The stream's options, as a function (no size in the route's future):
    // the server's, or a closure of the route's.
    let options = match (route.retry, route.keep_alive, route.compress) {
        (None, None, None) => quote_spanned!(site=> #private::server_options),
        (retry, keep_alive, compress) => {
            let (retry, keep_alive, compress) = (
                option(retry, site),
                option(keep_alive, site),
                option(compress, site),
            );
            quote_spanned! {site=>
                || #private::StreamOptions { retry: #retry, keep_alive: #keep_alive, compress: #compress }
            }
        }
    };
    let generator_fn;
    let mut span = site;
    let (call, finish) = match (&route.generator, route.method) {
        (Some(body), _) => {
            // The body becomes a function of the controller and the
            // arguments that returns the stream (which owns what it uses).
            let gen_name = format_ident!("__justsse_gen_{}", handler);
            let args = route.args.iter().map(|arg| {
                let (pat, ty) = (&arg.pat, &arg.ty);
                quote_spanned!(site=> #pat: #ty)
            });
            // Statements before `stream!` may await: then the function is
            // `async`; a body that is only the stream is not.
            let (asyncness, kind) = match body.stmts.len() {
                1 => (None, quote_spanned!(site=> Generator)),
                _ => (
                    Some(quote_spanned!(site=> async)),
                    quote_spanned!(site=> AsyncGenerator),
                ),
            };
            // The body's `stream!` is expanded here, as `stream!` would:
            // a macro expanded later would stand in the function with a
            // context naming its position, which an edit before the
            // controller moves (see `anchor.rs`).
            let (last, before) = body.stmts.split_last().unzip();
            let before = before.unwrap_or_default();
            let last = last.map(|last| match stream_macro(last) {
                Some(mac) => crate::stream_body::expand_at(
                    &quote_spanned!(site=> ::justsse),
                    mac.tokens.clone(),
                    mac.path.span(),
                ),
                None => quote_spanned!(site=> #last),
            });
            let body = quote_spanned!(site=> #(#before)* #last);
            // Spanned at the handler's name, its return type at the handler's
            // (what it stands for), not at the attribute: an `async` block or
            // opaque type there is found changed by an edit before the
            // controller (see `anchor.rs`).
            let output_span = route.output.as_ref().map_or(handler.span(), Spanned::span);
            let output = respan(quote_spanned!(site=> impl #private::Events), output_span);
            generator_fn = Some(quote_spanned! {handler.span()=>
                #[doc(hidden)]
                #[allow(
                    unused_braces,
                    unused_mut,
                    unused_variables,
                    clippy::needless_return,
                    clippy::unused_async,
                    clippy::unused_self,
                    clippy::used_underscore_binding
                )]
                #asyncness fn #gen_name(self: #private::Arc<Self>, #(#args),*) -> #output {
                    #body
                }
            });
            (
                quote_spanned!(site=> #private::#kind(Self::#gen_name)),
                quote_spanned!(site=> #private::Generates(#options)),
            )
        }
        (None, method) => {
            let call = match route.receiver {
                true => quote_spanned!(site=> #private::Method(Self::#handler)),
                false => quote_spanned!(site=> #private::Function(Self::#handler)),
            };
            generator_fn = None;
            let finish = match method {
                _ if method == Method::Sse || route.stream => {
                    // A return type that is no stream is reported at its span.
                    span = route.output.as_ref().map_or(handler.span(), Spanned::span);
                    quote_spanned!(site=> #private::Streams(#options))
                }
                _ if route.progressive => quote_spanned!(site=> #private::Progressive(#options)),
                _ => quote_spanned!(site=> #private::Respond),
            };
            (call, finish)
        }
    };

    // The verdict traits, only where two outputs are compared.
    let verdicts = compared.then(|| {
        quote_spanned! {site=>
            #[allow(unused_imports)]
            use ::justsse::__private::{OtherOutputs as _, SameOutputs as _};
        }
    });
    // Innermost first: the route's wraps (last written first), then the
    // controller's, so the first written is the outermost.
    let wraps: Vec<_> = route
        .wraps
        .iter()
        .rev()
        .chain(model.wraps.iter().rev())
        .collect();
    let (wraps, wrapping) = match wraps.is_empty() {
        true => (quote_spanned!(site=> ::core::convert::identity), None),
        // A closure, coerced where it is written (at the wraps' spans).
        false => (
            quote_spanned!(site=> __wraps),
            Some(quote_spanned! {site=>
                let __wraps: #private::WrapRoute = |__r| __r #(.wrap(#wraps))*;
            }),
        ),
    };
    // The mount is where a handler's value that cannot be its response
    // is reported: at the return type of a stream route.
    let mount = respan(
        quote_spanned!(site=> __plan.mount(__m, #index, &self, #call, #finish, #wraps)),
        span,
    );
    Route {
        mount: quote_spanned! {site=>
            {
                #verdicts
                let __plan = #private::plan(#param_list);
                #(#steps)*
                #wrapping
                #mount;
            }
        },
        generator_fn,
    }
}

/// The body of `stmt` when it is `stream! { .. }` (or `justsse::stream!`)
/// as the value of a block.
fn stream_macro(stmt: &syn::Stmt) -> Option<&syn::Macro> {
    let mac = match stmt {
        syn::Stmt::Macro(stmt) if stmt.semi_token.is_none() => &stmt.mac,
        syn::Stmt::Expr(syn::Expr::Macro(expr), None) => &expr.mac,
        _ => return None,
    };
    let path: Vec<String> = mac
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let ours = match path.as_slice() {
        [name] => name == "stream",
        [krate, name] => krate == "justsse" && name == "stream",
        _ => false,
    };
    ours.then_some(mac)
}

/// `Some(value)` or `None`, as tokens.
fn option(value: Option<impl quote::ToTokens>, site: Span) -> TokenStream {
    match value {
        Some(value) => {
            let value = lit(value, site);
            quote_spanned!(site=> ::core::option::Option::Some(#value))
        }
        None => quote_spanned!(site=> ::core::option::Option::None),
    }
}

/// `value` (a number, a string) as tokens at `site`: a value's own tokens
/// are made at the call site, whose context names the expansion.
fn lit(value: impl quote::ToTokens, site: Span) -> TokenStream {
    respan(value.into_token_stream(), site)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// The comparison of middleware `path`'s output (in `output`) with each
/// earlier one's: one value per type, two middleware of one type are named
/// together here, before the ambiguity they cause downstream (each by a type
/// of its name, `{F1}` and `{F2}` of `DistinctOutputs`).
fn compare(path: &syn::Path, output: &Ident, earlier: &[(Ident, &syn::Path)]) -> TokenStream {
    let mut tokens = TokenStream::new();
    for (earlier, earlier_path) in earlier {
        let (first, second) = (marker(earlier_path), marker(path));
        let second = if first == second {
            format_ident!("{}_again", second)
        } else {
            second
        };
        tokens.extend(quote_spanned! {path.span()=>
            {
                #[allow(non_camel_case_types, dead_code)]
                enum #first {}
                #[allow(non_camel_case_types, dead_code)]
                enum #second {}
                ::justsse::__private::distinct::<#first, #second, _>(
                    (&::justsse::__private::Outputs::new(&#earlier, &#output)).verdict(),
                );
            }
        });
    }
    tokens
}

/// A type named after middleware `path` (its last segment), for errors.
fn marker(path: &syn::Path) -> Ident {
    path.segments.last().map_or_else(
        || format_ident!("middleware"),
        |segment| segment.ident.clone(),
    )
}

/// Whether `ty` is written as one of the primitive path parameter types
/// (`u32`, `String`...), which resolve to their parsed value. A type of the
/// user's own under such a name fails to compile on `Plain`.
fn is_primitive(ty: &Type) -> bool {
    const PRIMITIVES: [&str; 17] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char", "String",
    ];
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .get_ident()
            .is_some_and(|ident| PRIMITIVES.iter().any(|name| ident == name)),
        _ => false,
    }
}

fn param_text(arg: &Arg) -> String {
    arg.param
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// A guard step: a closure's arguments are the path parameters it names
/// (found at their place) and chain values (found by type); a function's
/// are found by type among both.
fn guard_step(
    params: &[&Arg],
    guard: &Guard,
    message: Option<&syn::LitStr>,
    site: Span,
) -> TokenStream {
    let private = quote_spanned!(site=> ::justsse::__private);
    // The 403 of a guard answering `false`.
    let denied = match message {
        Some(message) => quote_spanned!(site=> || #message),
        None => quote_spanned!(site=> #private::forbidden),
    };
    match guard {
        Guard::Closure { closure, args } => {
            let ctor = format_ident!("guard{}", args.len(), span = site);
            let found = args.iter().map(|(name, ty)| {
                let at = name.as_ref().and_then(|name| {
                    params
                        .iter()
                        .position(|arg| arg.param.as_ref() == Some(name))
                });
                match at {
                    Some(at) => {
                        let index = (0..at).fold(
                            quote_spanned!(site=> ::justsse::__private::ParamHere),
                            |inner, _| quote_spanned!(site=> ::justsse::__private::ParamThere<#inner>),
                        );
                        quote_spanned! {ty.span()=> __plan.in_params::<#ty, #index>()}
                    }
                    None => quote_spanned! {ty.span()=> __plan.in_chain::<#ty, _>()},
                }
            });
            quote_spanned! {site=>
                let __found = (#(#found,)*);
                let __plan = __plan.step(#private::#ctor(#closure, #denied, __found));
            }
        }
        Guard::Function(path) => quote_spanned! {path.span()=>
            let __plan = __plan.guard_fn(#path, #denied);
        },
    }
}

/// Whether `ty` has an `impl Trait` in it.
fn names_impl(ty: &Type) -> bool {
    struct Finds(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finds {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finds = Finds(false);
    syn::visit::Visit::visit_type(&mut finds, ty);
    finds.0
}

fn route_info(model: &ControllerModel, route: &RouteModel, site: Span) -> TokenStream {
    let method = lit(route.method.http(), site);
    let path = lit(&route.path, site);
    let kind = match (route.method, &route.output) {
        (Method::Sse, _) => quote_spanned!(site=> ::justsse::__private::RouteKind::Sse),
        // A stream from a request: what its response type says (JSON or a
        // stream, chosen per request, is `json+sse`).
        (_, Some(ty)) if route.stream && route.generator.is_none() && !names_impl(ty) => {
            quote_spanned! {ty.span()=> ::justsse::__private::stream_kind::<#ty, _>()}
        }
        _ if route.stream => quote_spanned!(site=> ::justsse::__private::RouteKind::Sse),
        _ if route.progressive => {
            quote_spanned!(site=> ::justsse::__private::RouteKind::Progressive)
        }
        (_, None) => quote_spanned!(site=> ::justsse::__private::RouteKind::Empty),
        // `impl IntoResponse` cannot be named here: its body is not known.
        (_, Some(ty)) if names_impl(ty) => {
            quote_spanned!(site=> ::justsse::__private::RouteKind::Response)
        }
        (_, Some(ty)) => quote_spanned! {ty.span()=>
            ::justsse::__private::RouteKind::plain(
                <#ty as ::justsse::__private::IntoResponse>::BODY,
            )
        },
    };
    let handler = lit(format!("{}::{}", tidy(&model.self_ty), route.handler), site);
    let params = route.params.iter().map(|name| {
        let ty = route
            .args
            .iter()
            .find(|arg| arg.param.as_ref().is_some_and(|p| p == name))
            .map(|arg| tidy(&arg.ty))
            .unwrap_or_default();
        let (name, ty) = (lit(name, site), lit(ty, site));
        quote_spanned!(site=> (#name, #ty))
    });
    let steps = model.steps.iter().chain(&route.steps);
    let uses: Vec<TokenStream> = steps
        .clone()
        .filter_map(|step| match step {
            Step::Use(path) => Some(lit(tidy(path), site)),
            Step::Guard(..) => None,
        })
        .collect();
    let guards: Vec<TokenStream> = steps
        .filter_map(|step| match step {
            Step::Guard(Guard::Closure { closure, .. }, _) => Some(lit(tidy(closure), site)),
            Step::Guard(Guard::Function(path), _) => Some(lit(tidy(path), site)),
            Step::Use(_) => None,
        })
        .collect();
    let summary = lit(&route.summary, site);
    let events = match &route.events {
        Some(ty) => quote_spanned! {ty.span()=> <#ty as ::justsse::SseEvent>::NAMES},
        None => quote_spanned!(site=> &[]),
    };
    let describe = describer(route, site);
    quote_spanned! {site=>
        ::justsse::__private::RouteInfo::__new(
            #method,
            #path,
            #kind,
            #handler,
            &[#(#params),*],
            &[#(#uses),*],
            &[#(#guards),*],
            #summary,
            #events,
            #describe,
        )
    }
}

/// Without the `openapi` feature nothing reads a route's description: none is
/// written (no tokens for the application's build).
#[cfg(not(feature = "openapi"))]
fn describer(_: &RouteModel, site: Span) -> TokenStream {
    quote_spanned!(site=> ::justsse::__private::Describer::NONE)
}

/// The route's description function: each argument, path parameter and the
/// return type probed for a schema, and the events' data.
#[cfg(feature = "openapi")]
fn describer(route: &RouteModel, site: Span) -> TokenStream {
    let args = route.args.iter().filter(|arg| !names_impl(&arg.ty)).map(|arg| {
        let ty = &arg.ty;
        match &arg.param {
            Some(param) => {
                let text = lit(param.to_string(), site);
                quote_spanned! {ty.span()=>
                    (&::justsse::__private::Probe::<<#ty as ::justsse::__private::PathParam>::Raw>::new())
                        .describe_param(__d, #text);
                }
            }
            None => quote_spanned! {ty.span()=>
                (&::justsse::__private::Probe::<#ty>::new()).describe_arg(__d);
            },
        }
    });
    let output = route
        .output
        .as_ref()
        .filter(|ty| !names_impl(ty))
        .map(|ty| {
            quote_spanned! {ty.span()=>
                (&::justsse::__private::Probe::<#ty>::new()).describe_output(__d);
            }
        });
    let events = route.events.as_ref().map(|ty| {
        quote_spanned! {ty.span()=>
            <#ty as ::justsse::SseEvent>::describe_events(__d);
        }
    });
    let declared = route.responses.iter().map(|(status, body)| match body {
        Some(ty) => {
            let status = lit(status, site);
            quote_spanned! {ty.span()=> __d.declare::<#ty>(#status); }
        }
        None => {
            let status = lit(status, site);
            quote_spanned! {site=> __d.declare_error(#status); }
        }
    });
    // Only with justsse's `openapi` feature is the function kept (and its
    // probes type-checked): nothing else reads it.
    quote_spanned! {site=>
        ::justsse::__describer!(|__d| {
            #[allow(unused_imports)]
            use ::justsse::__private::{
                DescribeArg as _, DescribeNothing as _, DescribeOutput as _, DescribeParam as _,
            };
            #(#args)*
            #output
            #events
            #(#declared)*
        })
    }
}
