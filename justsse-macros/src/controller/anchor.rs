//! Generated items anchored in the controller's source, so that an edit
//! elsewhere in the file leaves them as they were for incremental checking.
//!
//! rustc keeps a function's results across an edit when its hash does not
//! change, and it hashes each span inside an item relative to the item's
//! source span when the item contains it, by file position otherwise; a
//! span's hygiene context is hashed too, and a macro's call-site context
//! names the expansion, whose hash holds the attribute's position. So a
//! generated item whose tokens come from the attribute and from the whole
//! `impl` (the handlers' types, the guards, `#[uses]`) changed whenever
//! anything before the controller moved by a byte. Here each generated item
//! spans the controller, from the attribute to the `impl`'s closing brace,
//! and the macro's own tokens are made resolving at the user's code (the
//! context they resolve in for a procedural macro anyway): what an edit
//! outside the controller shifts shifts the item with it.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// The controller's span: where its generated items sit.
pub(crate) struct Anchor {
    /// The user's code: the `impl` keyword, whose hygiene context the items
    /// take.
    root: Span,
    /// The `impl`'s braces and what is between them.
    body: Span,
    /// The `impl`'s closing brace.
    end: Span,
}

impl Anchor {
    pub(crate) fn new(item: &syn::ItemImpl) -> Self {
        Self {
            root: item.impl_token.span,
            body: item.brace_token.span.join(),
            end: item.brace_token.span.close(),
        }
    }

    /// Where the macro's own tokens are made: at the attribute, resolving
    /// at the user's code (the context a procedural macro's tokens resolve
    /// in anyway), so that no token of a generated item names the expansion.
    /// The user's tokens keep their own spans.
    pub(crate) fn site(&self) -> Span {
        Span::call_site().resolved_at(self.root)
    }

    /// `item` (an `fn`, `const` or `impl` made at [`site`](Self::site)), its
    /// end at the controller's end: it starts at the attribute, so it spans
    /// the whole controller.
    pub(crate) fn spanning(&self, item: TokenStream) -> TokenStream {
        let mut trees: Vec<TokenTree> = item.into_iter().collect();
        match trees.last_mut() {
            Some(TokenTree::Group(group)) => {
                let mut spanning = Group::new(group.delimiter(), group.stream());
                spanning.set_span(self.body.resolved_at(self.root));
                *group = spanning;
            }
            Some(last) => last.set_span(self.end.resolved_at(self.root)),
            None => {}
        }
        trees.into_iter().collect()
    }
}
