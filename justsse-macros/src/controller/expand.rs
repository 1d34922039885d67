//! The model -> tokens: the user's impl, one route function per route, and the
//! `Controller` impl holding the route table.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::ast::{Arg, ControllerModel, Guard, Method, RouteModel, Step};
use super::parse::tidy;

pub(crate) fn expand(model: &ControllerModel) -> TokenStream {
    let item = &model.item;
    let self_ty = &model.self_ty;
    let route_fns = model.routes.iter().map(|route| route_fn(model, route));
    let infos = model.routes.iter().map(|route| route_info(model, route));
    let mounts = model
        .routes
        .iter()
        .enumerate()
        .map(|(i, route)| mount(model, i, route));
    // The controller's middleware open every route's chain: followed once,
    // their needs checked for all its routes.
    let prefix = model.steps.iter().filter_map(|step| match step {
        Step::Use(path) => Some(quote_spanned! {path.span()=>
            let __prefix = __prefix.uses(&#path, __m, Self::ROUTES);
        }),
        Step::Guard(..) => None,
    });
    let prefix = quote! {
        let __prefix = ::justsse::__private::Mirror::new();
        #(#prefix)*
    };
    quote! {
        #item

        impl #self_ty {
            #(#route_fns)*
        }

        impl ::justsse::__private::Controller for #self_ty {
            const ROUTES: &'static [::justsse::__private::RouteInfo] = &[#(#infos),*];

            fn mount(self: ::justsse::__private::Arc<Self>, __m: &mut ::justsse::__private::Mount<'_>) {
                #[allow(unused_imports)]
                use ::justsse::__private::{RequireByExtract as _, RequireNothing as _};
                #prefix
                #(#mounts)*
            }
        }
    }
}

fn route_fn_name(route: &RouteModel) -> Ident {
    format_ident!("__justsse_{}", route.handler)
}

fn is_param(route: &RouteModel, name: &Ident) -> bool {
    route
        .args
        .iter()
        .any(|arg| arg.param.as_ref() == Some(name))
}

/// The route function: parameters (400), then middleware and guards in declared
/// order, parameters resolved (404) before the first guard, then the handler's
/// other arguments, then the call.
fn route_fn(model: &ControllerModel, route: &RouteModel) -> TokenStream {
    let name = route_fn_name(route);
    let params: Vec<&Arg> = route
        .args
        .iter()
        .filter(|arg| arg.param.is_some())
        .collect();

    let parse = params.iter().map(|arg| {
        let (ty, raw, text) = param_names(arg);
        // A primitive is its parsed value (`Plain`), one call; a type of the
        // user's own under such a name fails to compile on `Plain`.
        let parse = match is_primitive(ty) {
            true => quote!(parse_plain),
            false => quote!(parse_param),
        };
        quote_spanned! {ty.span()=>
            let #raw = ::justsse::__private::tri!(::justsse::__private::#parse::<#ty>(&__cx, #text));
        }
    });
    let resolve: Vec<TokenStream> = params
        .iter()
        .map(|arg| {
            let (ty, raw, text) = param_names(arg);
            let pat = &arg.pat;
            if is_primitive(ty) {
                // Nothing to look up: no await (each costs the type checker).
                return quote_spanned! {ty.span()=> let #pat = #raw; };
            }
            quote_spanned! {ty.span()=>
                let #pat = ::justsse::__private::tri!(::justsse::__private::resolve_param::<#ty>(&__cx, #text, #raw).await);
            }
        })
        .collect();

    let mut steps = Vec::new();
    let mut resolved = false;
    // The type of each middleware's value is kept only where two are
    // compared: every call costs the type checker.
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
                let value = format_ident!("__value{}", outputs.len());
                steps.push(quote_spanned! {path.span()=>
                    let #value = ::justsse::__private::tri!(::justsse::__private::uses(&#path, &mut __cx, &__chain).await);
                });
                // One value per type: two middleware of one type are named
                // together here, before the ambiguity they cause downstream.
                // Each middleware is named in the error by a type of its
                // name (`{F1}` and `{F2}` of `DistinctOutputs`).
                for (earlier, earlier_path) in &outputs {
                    let (first, second) = (marker(earlier_path), marker(path));
                    let second = if first == second {
                        format_ident!("{}_again", second)
                    } else {
                        second
                    };
                    steps.push(quote_spanned! {path.span()=>
                        {
                            #[allow(non_camel_case_types, dead_code)]
                            enum #first {}
                            #[allow(non_camel_case_types, dead_code)]
                            enum #second {}
                            ::justsse::__private::distinct::<#first, #second, _>(
                                (&::justsse::__private::Outputs::new(&#earlier, &::justsse::__private::type_of(&#value))).verdict(),
                            );
                        }
                    });
                }
                let ty = format_ident!("__type{}", outputs.len());
                if compared {
                    steps.push(quote_spanned! {path.span()=>
                        let #ty = ::justsse::__private::type_of(&#value);
                    });
                }
                steps.push(quote_spanned! {path.span()=>
                    let __chain = (#value, __chain);
                });
                outputs.push((ty, path));
            }
            Step::Guard(guard, message) => {
                if !resolved {
                    steps.extend(resolve.iter().cloned());
                    resolved = true;
                }
                steps.push(guard_call(route, guard, message.as_ref()));
            }
        }
    }
    if !resolved {
        steps.extend(resolve.iter().cloned());
    }

    let mut extract = Vec::new();
    let mut call_args = Vec::new();
    let mut bindings = Vec::new();
    for (i, arg) in route.args.iter().enumerate() {
        if let Some(param) = &arg.param {
            call_args.push(quote!(#param));
            continue;
        }
        let ty = &arg.ty;
        let value = format_ident!("__arg{}", i);
        extract.push(quote_spanned! {ty.span()=>
            let (#value, __chain) = ::justsse::__private::tri!(::justsse::__private::arg::<#ty, _, _>(&mut __cx, __chain).await);
        });
        let pat = &arg.pat;
        bindings.push(quote!(let #pat: #ty = #value;));
        call_args.push(quote!(#value));
    }

    let handler = &route.handler;
    let ms = |ms: Option<u64>| match ms {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    };
    let (retry, keep_alive) = (ms(route.retry), ms(route.keep_alive));
    let compress = match route.compress {
        Some(level) => quote!(::core::option::Option::Some(#level)),
        None => quote!(::core::option::Option::None),
    };
    let retry = quote! {
        ::justsse::__private::StreamOptions { retry: #retry, keep_alive: #keep_alive, compress: #compress }
    };
    let finish = match (&route.generator, route.method) {
        (Some(body), _) => {
            // A body that is only `stream! {..}` is passed as that expression:
            // braces around it would trip `unused_braces` at the user's code.
            let body = match body.stmts.as_slice() {
                [syn::Stmt::Expr(expr, None)] => quote!(#expr),
                [syn::Stmt::Macro(stmt)] if stmt.semi_token.is_none() => {
                    let mac = &stmt.mac;
                    quote!(#mac)
                }
                _ => quote!(#body),
            };
            quote! {
                #(#bindings)*
                ::justsse::__private::generator(__cx, #body, #retry)
            }
        }
        (None, method) => {
            let call = if route.receiver {
                quote!(Self::#handler(&*self, #(#call_args),*))
            } else {
                quote!(Self::#handler(#(#call_args),*))
            };
            match method {
                _ if method == Method::Sse || route.stream => {
                    // A return type that is no stream is reported at its span.
                    let span = route.output.as_ref().map_or(handler.span(), Spanned::span);
                    quote_spanned!(span=> ::justsse::__private::sse(__cx, #call.await, #retry))
                }
                _ if route.progressive => {
                    quote!(::justsse::__private::progressive(__cx, #call.await, #retry))
                }
                _ => quote!(::justsse::__private::respond(__cx, #call.await)),
            }
        }
    };

    // The verdict traits, only where two outputs are compared.
    let verdicts = (outputs.len() > 1).then(|| {
        quote! {
            #[allow(unused_imports)]
            use ::justsse::__private::{OtherOutputs as _, SameOutputs as _};
        }
    });
    // A plain function returning the boxed future: the runtime calls it as
    // it is (one allocation a request, as before), and the type checker sees
    // one `async` block, no opaque return type to follow.
    quote! {
        #[doc(hidden)]
        #[allow(
            unused_mut,
            clippy::let_unit_value,
            clippy::used_underscore_binding,
            clippy::no_effect_underscore_binding
        )]
        fn #name(
            self: ::justsse::__private::Arc<Self>,
            mut __cx: ::justsse::__private::Context,
        ) -> ::justsse::__private::RouteFuture {
            ::justsse::__private::Box::pin(async move {
                #verdicts
                #(#parse)*
                let __chain = ();
                #(#steps)*
                #(#extract)*
                #finish
            })
        }
    }
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

fn param_names(arg: &Arg) -> (&Type, Ident, String) {
    let name = arg
        .param
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    (&arg.ty, format_ident!("__raw_{}", name), name)
}

fn guard_call(route: &RouteModel, guard: &Guard, message: Option<&syn::LitStr>) -> TokenStream {
    // The 403 of a guard answering `false`.
    let denied = match message {
        Some(message) => quote!(#message),
        None => quote!("forbidden"),
    };
    match guard {
        Guard::Closure { closure, args } => {
            let values = args.iter().map(|(name, ty)| match name {
                Some(name) if is_param(route, name) => quote!(&#name),
                _ => quote_spanned! {ty.span()=> ::justsse::__private::pick::<#ty, _, _>(&__chain)},
            });
            quote! {
                ::justsse::__private::tri!(::justsse::__private::check((#closure)(#(#values),*), #denied));
            }
        }
        Guard::Function(path) => {
            // The route's path parameters are lent to the guard beside the
            // chain: a function finds them by type, as it finds chain values.
            let lent = route
                .params
                .iter()
                .rev()
                .fold(quote!(&__chain), |tail, name| {
                    let name = format_ident!("{}", name);
                    quote!((::justsse::__private::Lent(&#name), #tail))
                });
            quote_spanned! {path.span()=>
                ::justsse::__private::tri!(::justsse::__private::guard(&#lent, #path, #denied));
            }
        }
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

fn route_info(model: &ControllerModel, route: &RouteModel) -> TokenStream {
    let method = route.method.http();
    let path = &route.path;
    let kind = match (route.method, &route.output) {
        (Method::Sse, _) => quote!(::justsse::__private::RouteKind::Sse),
        // A stream from a request: what its response type says (JSON or a
        // stream, chosen per request, is `json+sse`).
        (_, Some(ty)) if route.stream && route.generator.is_none() && !names_impl(ty) => {
            quote_spanned! {ty.span()=> ::justsse::__private::stream_kind::<#ty, _>()}
        }
        _ if route.stream => quote!(::justsse::__private::RouteKind::Sse),
        _ if route.progressive => quote!(::justsse::__private::RouteKind::Progressive),
        (_, None) => quote!(::justsse::__private::RouteKind::Empty),
        // `impl IntoResponse` cannot be named here: its body is not known.
        (_, Some(ty)) if names_impl(ty) => quote!(::justsse::__private::RouteKind::Response),
        (_, Some(ty)) => quote_spanned! {ty.span()=>
            ::justsse::__private::RouteKind::plain(
                <#ty as ::justsse::__private::IntoResponse>::BODY,
            )
        },
    };
    let handler = format!("{}::{}", tidy(&model.self_ty), route.handler);
    let params = route.params.iter().map(|name| {
        let ty = route
            .args
            .iter()
            .find(|arg| arg.param.as_ref().is_some_and(|p| p == name))
            .map(|arg| tidy(&arg.ty))
            .unwrap_or_default();
        quote!((#name, #ty))
    });
    let steps = model.steps.iter().chain(&route.steps);
    let uses: Vec<String> = steps
        .clone()
        .filter_map(|step| match step {
            Step::Use(path) => Some(tidy(path)),
            Step::Guard(..) => None,
        })
        .collect();
    let guards: Vec<String> = steps
        .filter_map(|step| match step {
            Step::Guard(Guard::Closure { closure, .. }, _) => Some(tidy(closure)),
            Step::Guard(Guard::Function(path), _) => Some(tidy(path)),
            Step::Use(_) => None,
        })
        .collect();
    let summary = &route.summary;
    let events = match &route.events {
        Some(ty) => quote_spanned! {ty.span()=> <#ty as ::justsse::SseEvent>::NAMES},
        None => quote!(&[]),
    };
    let describe = describer(route);
    quote! {
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

/// The route's description function: each argument, path parameter and the
/// return type probed for a schema, and the events' data.
fn describer(route: &RouteModel) -> TokenStream {
    let args = route.args.iter().filter(|arg| !names_impl(&arg.ty)).map(|arg| {
        let ty = &arg.ty;
        match &arg.param {
            Some(param) => {
                let text = param.to_string();
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
        Some(ty) => quote_spanned! {ty.span()=> __d.declare::<#ty>(#status); },
        None => quote! { __d.declare_error(#status); },
    });
    // Only with justsse's `openapi` feature is the function kept (and its
    // probes type-checked): nothing else reads it.
    quote! {
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

fn mount(model: &ControllerModel, index: usize, route: &RouteModel) -> TokenStream {
    let name = route_fn_name(route);
    let requires = route.args.iter().map(|arg| {
        let ty = &arg.ty;
        if let Some(param) = &arg.param {
            let text = param.to_string();
            return quote_spanned! {ty.span()=>
                __m.require_param::<#ty>(&Self::ROUTES[#index], #text);
            };
        }
        // What an extractor needs (`State<T>`: state `T`), found by trait:
        // arguments that are not extractors (chain values) need nothing.
        quote_spanned! {ty.span()=>
            (&::justsse::__private::Probe::<#ty>::new()).require_arg(__m, &Self::ROUTES[#index]);
        }
    });
    // The chain's type followed step by step from the controller's, so each
    // middleware declares what its extracted arguments (`State<T>`) need
    // from the app.
    let mirror: Vec<TokenStream> = route
        .steps
        .iter()
        .filter_map(|step| match step {
            Step::Use(path) => Some(quote_spanned! {path.span()=>
                let __chain = __chain.uses(&#path, __m, &Self::ROUTES[#index..=#index]);
            }),
            Step::Guard(..) => None,
        })
        .collect();
    let mirror = (!mirror.is_empty()).then(|| {
        quote! {
            let __chain = __prefix;
            #(#mirror)*
            let _ = __chain;
        }
    });
    // Innermost first: the route's wraps (last written first), then the
    // controller's, so the first written is the outermost.
    let wraps = route.wraps.iter().rev().chain(model.wraps.iter().rev());
    quote! {
        __m.route(&Self::ROUTES[#index], &self, Self::#name, |__r| __r #(.wrap(#wraps))*);
        #(#requires)*
        #mirror
    }
}
