//! The typed chain of a route: the values its `uses` middleware contribute, kept
//! as a type-level list `(Last, (.., (First, ())))`. Guards borrow from it and
//! handler arguments are taken out of it by type; the index of each type is
//! inferred (`Here` / `There<I>`), so asking for a type no middleware provides is
//! a compile error that names the type.

use std::future::Future;

use justsse_http::HttpError;

use crate::context::Context;
use crate::extractors::Extract;
use crate::param::Needs;

/// The index of the list's head.
#[derive(Debug)]
pub struct Here;

/// An index further down the list.
#[derive(Debug)]
pub struct There<I>(I);

/// Borrows the value of type `T` from a chain.
#[diagnostic::on_unimplemented(
    message = "no middleware in this route's chain provides `{T}`",
    label = "nothing in `#[uses(...)]` returns `{T}`",
    note = "add `#[uses(...)]` with a middleware that returns `Result<{T}, HttpError>`, on the route or on the controller"
)]
pub trait Pick<T, I> {
    /// The value.
    fn pick(&self) -> &T;
}

#[diagnostic::do_not_recommend]
impl<T, Tail> Pick<T, Here> for (T, Tail) {
    fn pick(&self) -> &T {
        &self.0
    }
}

#[diagnostic::do_not_recommend]
impl<T, H, Tail: Pick<T, I>, I> Pick<T, There<I>> for (H, Tail) {
    fn pick(&self) -> &T {
        self.1.pick()
    }
}

/// A value of the chain, as a guard borrows it.
#[diagnostic::on_unimplemented(
    message = "no middleware in this route's chain provides `{Self}`",
    label = "no middleware (`#[uses(...)]`, `.uses(...)`) before this guard returns `{Self}`",
    note = "add a middleware that returns `Result<{Self}, HttpError>` before the guard"
)]
pub trait InChain<C, I> {
    /// Borrows it.
    fn from_chain(chain: &C) -> &Self;
}

#[diagnostic::do_not_recommend]
impl<C: Pick<T, I>, T, I> InChain<C, I> for T {
    fn from_chain(chain: &C) -> &Self {
        chain.pick()
    }
}

/// Moves the value of type `T` out of a chain, leaving the rest.
#[diagnostic::on_unimplemented(
    message = "no middleware in this route's chain provides `{T}`, and it is not an extractor",
    label = "not a path parameter, not returned by any middleware (`#[uses(...)]`, `.uses(...)`), not `Extract`",
    note = "add a middleware that returns `Result<{T}, HttpError>` to the route's chain, bind it to a `:name` in the path, or implement `justsse::extract::Extract` for it"
)]
pub trait Take<T, I> {
    /// The chain without the taken value.
    type Rest;
    /// Splits the value from the rest.
    fn take(self) -> (T, Self::Rest);
}

#[diagnostic::do_not_recommend]
impl<T, Tail> Take<T, Here> for (T, Tail) {
    type Rest = Tail;
    fn take(self) -> (T, Tail) {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<T, H, Tail: Take<T, I>, I> Take<T, There<I>> for (H, Tail) {
    type Rest = (H, Tail::Rest);
    fn take(self) -> (T, Self::Rest) {
        let (value, rest) = self.1.take();
        (value, (self.0, rest))
    }
}

/// Marks an argument read by [`Extract`].
#[derive(Debug)]
pub struct Extracted;

/// Marks an argument taken from the chain at index `I`.
#[derive(Debug)]
pub struct Chained<I>(I);

/// A handler argument: from the chain or from the request. `M` is inferred.
#[diagnostic::on_unimplemented(
    message = "no middleware in this route's chain provides `{Self}`, and it is not an extractor",
    label = "not a path parameter, not returned by any middleware (`#[uses(...)]`, `.uses(...)`), not `Extract`",
    note = "add a middleware that returns `Result<{Self}, HttpError>` to the route's chain, bind it to a `:name` in the path, or implement `justsse::extract::Extract` for it"
)]
pub trait Arg<C, M>: Sized {
    /// The chain after this argument.
    type Rest;
    /// Produces the argument.
    fn get(
        cx: &mut Context,
        chain: C,
    ) -> impl Future<Output = Result<(Self, Self::Rest), HttpError>> + Send;

    /// Declares what the argument needs from the app (an extractor's state).
    fn require(needs: &mut Needs<'_>) {
        let _ = needs;
    }
}

impl<C: Send, T: Extract> Arg<C, Extracted> for T {
    type Rest = C;
    async fn get(cx: &mut Context, chain: C) -> Result<(Self, C), HttpError> {
        Ok((T::extract(cx).await?, chain))
    }

    fn require(needs: &mut Needs<'_>) {
        T::require(needs);
    }
}

#[diagnostic::do_not_recommend]
impl<C: Take<T, I> + Send, T: Send, I> Arg<C, Chained<I>> for T
where
    C::Rest: Send,
{
    type Rest = C::Rest;
    fn get(
        _: &mut Context,
        chain: C,
    ) -> impl Future<Output = Result<(T, C::Rest), HttpError>> + Send {
        std::future::ready(Ok(chain.take()))
    }
}

/// What a guard may return: `bool` (false is 403), or `Result<(), E>` with its
/// own error.
#[diagnostic::on_unimplemented(
    message = "a guard returns `bool` or `Result<(), E>` where `E: Into<HttpError>`, not `{Self}`"
)]
pub trait GuardOutcome {
    /// `Ok` lets the request through; a refusal without its own error is a
    /// 403 with the message `denied`.
    fn check(self, denied: &'static str) -> Result<(), HttpError>;
}

impl GuardOutcome for bool {
    fn check(self, denied: &'static str) -> Result<(), HttpError> {
        if self {
            Ok(())
        } else {
            Err(HttpError::forbidden(denied))
        }
    }
}

impl<E: Into<HttpError>> GuardOutcome for Result<(), E> {
    fn check(self, _: &'static str) -> Result<(), HttpError> {
        self.map_err(Into::into)
    }
}

/// A guard given as a function path (`#[guard(is_admin)]`): a function of
/// borrowed chain values.
#[diagnostic::on_unimplemented(
    message = "this guard cannot be called with values from the route's chain",
    note = "a guard is `fn(&A) -> bool` (or up to three `&` arguments) where each type is returned by a `#[uses(...)]` middleware"
)]
pub trait Guard<C, M> {
    /// Runs the guard; `false` is a 403 with the message `denied`.
    fn run(&self, chain: &C, denied: &'static str) -> Result<(), HttpError>;
}

impl<F, C, Args, I, R> Guard<C, (Args, I, R)> for F
where
    F: GuardSignature<Args, R>,
    Args: GuardArgs<F, C, I, R>,
    R: GuardOutcome,
{
    fn run(&self, chain: &C, denied: &'static str) -> Result<(), HttpError> {
        Args::call(self, chain).check(denied)
    }
}

/// The argument types of a guard function, `(A,)` to `(A, B, D)`, told by
/// its signature alone, so that the chain is searched for each of them.
pub trait GuardSignature<Args, R> {}

impl<F: Fn(&A) -> R, A, R> GuardSignature<(A,), R> for F {}

impl<F: Fn(&A, &B) -> R, A, B, R> GuardSignature<(A, B), R> for F {}

impl<F: Fn(&A, &B, &D) -> R, A, B, D, R> GuardSignature<(A, B, D), R> for F {}

/// Calls guard `F` with its arguments `Self` borrowed from chain `C`.
pub trait GuardArgs<F, C, I, R> {
    /// Calls it.
    fn call(guard: &F, chain: &C) -> R;
}

impl<F, C, A, IA, R> GuardArgs<F, C, (IA,), R> for (A,)
where
    F: Fn(&A) -> R,
    A: InChain<C, IA>,
{
    fn call(guard: &F, chain: &C) -> R {
        guard(A::from_chain(chain))
    }
}

impl<F, C, A, IA, B, IB, R> GuardArgs<F, C, (IA, IB), R> for (A, B)
where
    F: Fn(&A, &B) -> R,
    A: InChain<C, IA>,
    B: InChain<C, IB>,
{
    fn call(guard: &F, chain: &C) -> R {
        guard(A::from_chain(chain), B::from_chain(chain))
    }
}

impl<F, C, A, IA, B, IB, D, ID, R> GuardArgs<F, C, (IA, IB, ID), R> for (A, B, D)
where
    F: Fn(&A, &B, &D) -> R,
    A: InChain<C, IA>,
    B: InChain<C, IB>,
    D: InChain<C, ID>,
{
    fn call(guard: &F, chain: &C) -> R {
        guard(
            A::from_chain(chain),
            B::from_chain(chain),
            D::from_chain(chain),
        )
    }
}
