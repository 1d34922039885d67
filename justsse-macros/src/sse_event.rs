//! `#[derive(SseEvent)]`: an enum whose variants are named events, each
//! variant's fields the event's JSON data.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitStr, Variant};

use crate::ctxt::Ctxt;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let Data::Enum(data) = &input.data else {
        cx.error_at(
            &input.ident,
            "`SseEvent` is derived for an enum: each variant is one named event",
        );
        return errors(cx);
    };
    if !input.generics.params.is_empty() {
        cx.error_at(
            &input.generics,
            "`SseEvent` is derived for enums without generic parameters",
        );
    }
    if data.variants.is_empty() {
        cx.error_at(
            &input.ident,
            "an `SseEvent` enum needs at least one variant",
        );
    }
    let mut names: Vec<(String, &Variant)> = Vec::new();
    for variant in &data.variants {
        let name = match event_name(&mut cx, variant) {
            Some(name) => name,
            None => continue,
        };
        if let Some((_, earlier)) = names.iter().find(|(n, _)| *n == name) {
            cx.error_at(
                variant,
                format!(
                    "two variants send the event `{name}`: `{}` and `{}`",
                    earlier.ident, variant.ident
                ),
            );
        }
        names.push((name, variant));
    }
    if let Err(err) = cx.finish() {
        return err.to_compile_error();
    }
    let ident = &input.ident;
    let name_list = names.iter().map(|(name, _)| name);
    let name_arms = names.iter().map(|(name, variant)| {
        let v = &variant.ident;
        quote!(Self::#v { .. } => #name)
    });
    let event_arms = names.iter().map(|(name, variant)| event_arm(name, variant));
    let describes = names.iter().map(|(name, variant)| describe(name, variant));
    quote! {
        impl ::justsse::SseEvent for #ident {
            const NAMES: &'static [&'static str] = &[#(#name_list),*];

            fn name(&self) -> &'static str {
                match self {
                    #(#name_arms,)*
                }
            }

            fn to_event(&self) -> ::core::result::Result<::justsse::Event, ::justsse::response::EventError> {
                match self {
                    #(#event_arms)*
                }
            }

            fn describe_events(__d: &mut ::justsse::__private::Describe<'_>) {
                __d.events_type(::core::stringify!(#ident));
                #[allow(unused_imports)]
                use ::justsse::__private::{DescribeNothing as _, DescribeValue as _};
                #(#describes)*
            }
        }
    }
}

fn errors(cx: Ctxt) -> TokenStream {
    match cx.finish() {
        Ok(()) => TokenStream::new(),
        Err(err) => err.to_compile_error(),
    }
}

/// `#[event(rename = "...")]`, or the variant's name in snake_case.
fn event_name(cx: &mut Ctxt, variant: &Variant) -> Option<String> {
    let mut name = snake_case(&variant.ident.to_string());
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("event")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: LitStr = meta.value()?.parse()?;
                if value.value().is_empty() || value.value().contains(['\r', '\n']) {
                    return Err(meta.error("an event name is not empty and has no line break"));
                }
                name = value.value();
                Ok(())
            } else {
                Err(meta.error("unknown option: `#[event(rename = \"name\")]`"))
            }
        });
        if let Err(err) = parsed {
            cx.push(err);
            return None;
        }
    }
    Some(name)
}

/// The match arm that builds the event of one variant.
fn event_arm(name: &str, variant: &Variant) -> TokenStream {
    let v = &variant.ident;
    match &variant.fields {
        Fields::Unit => quote! {
            Self::#v => ::justsse::Event::named(#name).json(&()),
        },
        Fields::Unnamed(fields) if fields.unnamed.len() == 1 => quote! {
            Self::#v(value) => ::justsse::Event::named(#name).json(value),
        },
        Fields::Unnamed(fields) => {
            let bindings: Vec<_> = (0..fields.unnamed.len())
                .map(|i| format_ident!("field{i}"))
                .collect();
            quote! {
                Self::#v(#(#bindings),*) => ::justsse::Event::named(#name).json(&(#(#bindings,)*)),
            }
        }
        Fields::Named(fields) => {
            let idents: Vec<_> = fields
                .named
                .iter()
                .filter_map(|f| f.ident.as_ref())
                .collect();
            let types = fields.named.iter().map(|f| &f.ty);
            // The fields borrowed into a struct serde writes as one JSON object.
            let serde_attrs = fields.named.iter().map(|f| {
                let attrs = f.attrs.iter().filter(|a| a.path().is_ident("serde"));
                quote!(#(#attrs)*)
            });
            quote! {
                Self::#v { #(#idents),* } => {
                    #[derive(::justsse::__private::serde::Serialize)]
                    #[serde(crate = "::justsse::__private::serde")]
                    struct Data<'event> {
                        #(#serde_attrs #idents: &'event #types,)*
                    }
                    ::justsse::Event::named(#name).json(&Data { #(#idents),* })
                }
            }
        }
    }
}

/// Records one variant's event name and data schema: its fields' schemas
/// where they have one, in the shape [`event_arm`] writes them.
fn describe(name: &str, variant: &Variant) -> TokenStream {
    let value =
        |ty: &syn::Type| quote!((&::justsse::__private::Probe::<#ty>::new()).describe_value(__d));
    let data = match &variant.fields {
        Fields::Unit => quote!(::justsse::__private::Describe::null()),
        Fields::Unnamed(fields) if fields.unnamed.len() == 1 => value(&fields.unnamed[0].ty),
        Fields::Unnamed(fields) => {
            let items = fields.unnamed.iter().map(|f| value(&f.ty));
            quote!(::justsse::__private::Describe::tuple(
                ::std::vec![#(#items),*]
            ))
        }
        Fields::Named(fields) => {
            let fields = fields.named.iter().filter_map(|f| {
                let serde = SerdeField::read(f);
                if serde.skip {
                    return None;
                }
                let name = serde
                    .rename
                    .or_else(|| f.ident.as_ref().map(ToString::to_string))?;
                let schema = value(&f.ty);
                let required = !serde.maybe_absent;
                Some(quote!((#name, #schema, #required)))
            });
            quote!(::justsse::__private::Describe::object(
                ::std::vec![#(#fields),*]
            ))
        }
    };
    quote! {
        let __data = #data;
        __d.event(#name, __data);
    }
}

/// What a field's `#[serde(..)]` attributes change in its data's shape.
#[derive(Default)]
struct SerdeField {
    rename: Option<String>,
    skip: bool,
    maybe_absent: bool,
}

impl SerdeField {
    fn read(field: &syn::Field) -> Self {
        let mut out = SerdeField::default();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            // Options this reading does not know are serde's to check.
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Ok(value) = meta.value().and_then(|v| v.parse::<LitStr>()) {
                        out.rename = Some(value.value());
                    }
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    out.skip = true;
                } else if meta.path.is_ident("skip_serializing_if") {
                    out.maybe_absent = true;
                    let _ = meta.value().and_then(|v| v.parse::<LitStr>());
                } else if meta.input.peek(syn::Token![=]) {
                    let _ = meta.value().and_then(|v| v.parse::<syn::Expr>());
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.parse_nested_meta(|inner| {
                        if inner.input.peek(syn::Token![=]) {
                            inner.value()?.parse::<syn::Expr>()?;
                        }
                        Ok(())
                    });
                }
                Ok(())
            });
        }
        out
    }
}

/// `CommentAdded` -> `comment_added`.
fn snake_case(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, c) in ident.char_indices() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("Comment"), "comment");
        assert_eq!(snake_case("CommentAdded"), "comment_added");
        assert_eq!(snake_case("Closed2"), "closed2");
    }
}
