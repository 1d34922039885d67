//! The steps of a route before its handler: its middleware, its guards and
//! the lookup of its path parameters.
//!
//! Each step type carries the marker its check inferred (`M`), and its
//! `Step` impl asks for that marker's impl (the marker is the `Self` of the
//! bound): where the check failed, the marker is unknown, so the step's own
//! bounds are left undecided rather than reported again.

use std::future::{Future, Ready, ready};
use std::marker::PhantomData;

use justsse_http::HttpError;

use crate::chain::{GuardOutcome, GuardSignature, Pick};
use crate::context::Context;
use crate::controller::{Mount, RouteInfo};
use crate::middleware::Middleware;
use crate::param::Needs;

use super::params::{Params, Unresolved};

/// One step before the handler, on parameters `P` and chain `C`.
pub trait Step<P, C, M>: Send + Sync {
    /// The parameters after the step.
    type P: Send;
    /// The chain after the step.
    type C: Send;

    /// Runs it.
    fn run(
        self,
        cx: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<(Self::P, Self::C), HttpError>> + Send;

    /// A copy for one request.
    fn copy(&self) -> Self;

    /// Checks that the app has what the step needs, for route `info`.
    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        let _ = (mount, info);
    }
}

/// `#[uses(f)]`: runs middleware `f` (whose arguments `M` tells), and its
/// value joins the chain.
pub struct Use<F: 'static, M>(&'static F, PhantomData<fn() -> M>);

impl<F, M> Use<F, M> {
    pub(super) const fn new(f: &'static F) -> Self {
        Self(f, PhantomData)
    }
}

/// Calls middleware `F` on chain `C`, told by its marker `Self`.
pub trait UseBy<F, C, V> {
    /// Calls it.
    fn call<'a>(
        f: &'a F,
        cx: &'a mut Context,
        chain: &'a C,
    ) -> impl Future<Output = Result<V, HttpError>> + Send + 'a;

    /// Declares the app state its extracted arguments need.
    fn require(needs: &mut Needs<'_>);
}

impl<M, F, C, V> UseBy<F, C, V> for M
where
    F: for<'a> Middleware<'a, C, M, Output = V>,
{
    fn call<'a>(
        f: &'a F,
        cx: &'a mut Context,
        chain: &'a C,
    ) -> impl Future<Output = Result<V, HttpError>> + Send + 'a {
        f.call(cx, chain)
    }

    fn require(needs: &mut Needs<'_>) {
        <F as Middleware<'_, C, M>>::require(needs);
    }
}

#[diagnostic::do_not_recommend]
impl<P, C, F, M, V> Step<P, C, V> for Use<F, M>
where
    P: Send,
    C: Send + Sync,
    F: Sync,
    M: UseBy<F, C, V>,
    V: Send,
{
    type P = P;
    type C = (V, C);

    async fn run(self, cx: &mut Context, params: P, chain: C) -> Result<(P, (V, C)), HttpError> {
        let value = M::call(self.0, cx, &chain).await?;
        Ok((params, (value, chain)))
    }

    fn copy(&self) -> Self {
        Use(self.0, PhantomData)
    }

    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        let what = format!("middleware `{}`", std::any::type_name::<F>());
        mount.require(info, &what, M::require);
    }
}

/// Looks the path parameters up (404), after the middleware before the
/// route's first guard.
pub struct Resolve;

impl<L: Params, C: Send> Step<Unresolved<L>, C, ()> for Resolve {
    type P = L::Values;
    type C = C;

    async fn run(
        self,
        cx: &mut Context,
        params: Unresolved<L>,
        chain: C,
    ) -> Result<(L::Values, C), HttpError> {
        let Unresolved(list, raw) = params;
        Ok((list.resolve(cx, raw).await?, chain))
    }

    fn copy(&self) -> Self {
        Resolve
    }
}

/// A guard's refusal message, as a function (no size in the route's future).
pub trait Text: Copy + Send + Sync + 'static {
    /// The text.
    fn text(self) -> &'static str;
}

impl<N: Fn() -> &'static str + Copy + Send + Sync + 'static> Text for N {
    fn text(self) -> &'static str {
        self()
    }
}

/// Where a guard's argument is: the path parameter at `I`.
pub struct FromParams<I>(PhantomData<I>);

/// Where a guard's argument is: the chain value at `I`.
pub struct FromChain<I>(PhantomData<I>);

/// A value a guard borrows, from the path parameters `P` or the chain `C`.
#[diagnostic::on_unimplemented(
    message = "no middleware in this route's chain provides `{Self}`",
    label = "no middleware (`#[uses(...)]`, `.uses(...)`) before this guard returns `{Self}`",
    note = "add a middleware that returns `Result<{Self}, HttpError>` before the guard"
)]
pub trait Find<P, C, I> {
    /// Borrows it.
    fn find<'a>(params: &'a P, chain: &'a C) -> &'a Self;
}

#[diagnostic::do_not_recommend]
impl<P: Pick<T, I>, C, T, I> Find<P, C, FromParams<I>> for T {
    fn find<'a>(params: &'a P, _: &'a C) -> &'a T {
        params.pick()
    }
}

#[diagnostic::do_not_recommend]
impl<P, C: Pick<T, I>, T, I> Find<P, C, FromChain<I>> for T {
    fn find<'a>(_: &'a P, chain: &'a C) -> &'a T {
        chain.pick()
    }
}

/// Finds `T` among `P` and `C`, told by where it is (`Self`).
pub trait FindBy<T, P, C> {
    /// Borrows it.
    fn find<'a>(params: &'a P, chain: &'a C) -> &'a T;
}

impl<X, T, P, C> FindBy<T, P, C> for FromParams<X>
where
    X: PickBy<T, P>,
{
    fn find<'a>(params: &'a P, _: &'a C) -> &'a T {
        X::pick(params)
    }
}

impl<X, T, P, C> FindBy<T, P, C> for FromChain<X>
where
    X: PickBy<T, C>,
{
    fn find<'a>(_: &'a P, chain: &'a C) -> &'a T {
        X::pick(chain)
    }
}

/// Picks `T` from list `L` at the index `Self`.
pub trait PickBy<T, L> {
    /// Borrows it.
    fn pick(list: &L) -> &T;
}

impl<X, T, L: Pick<T, X>> PickBy<T, L> for X {
    fn pick(list: &L) -> &T {
        list.pick()
    }
}

/// A guard closure's argument: a borrowed `A`, found at `I`.
pub struct Found<A, I>(PhantomData<fn() -> (A, I)>);

impl<A, I> Found<A, I> {
    pub(super) const fn new() -> Self {
        Self(PhantomData)
    }
}

/// A guard written as a closure, with where each of its arguments is found
/// (a tuple of `Found`).
pub struct GuardClosure<G, F, D>(G, D, F);

/// A guard given as a function path: its arguments found by type among the
/// path parameters and the chain, as its check (`M`) told.
pub struct GuardFn<G, M, D>(G, D, PhantomData<fn() -> M>);

impl<G, M, D> GuardFn<G, M, D> {
    pub(super) const fn new(guard: G, denied: D) -> Self {
        Self(guard, denied, PhantomData)
    }
}

/// A guard function callable with values found among `P` and `C`.
#[diagnostic::on_unimplemented(
    message = "this guard cannot be called with values from the route's chain",
    note = "a guard is `fn(&A) -> bool` (or up to three `&` arguments) where each type is returned by a `#[uses(...)]` middleware or is a path parameter"
)]
pub trait GuardWith<P, C, M> {}

impl<F, P, C, Args, I, R> GuardWith<P, C, (Args, I, R)> for F
where
    F: GuardSignature<Args, R>,
    Args: FindArgs<P, C, I>,
    R: GuardOutcome,
{
}

/// Where each of a guard's arguments `Args` is among `P` and `C`.
pub trait FindArgs<P, C, I> {}

/// Calls guard `G` with its arguments `Args` found among `P` and `C`, told
/// by where each is (`Self`).
pub trait FindAllBy<Args, P, C, G, R> {
    /// Calls it.
    fn call(guard: &G, params: &P, chain: &C) -> R;
}

macro_rules! guard_fn_arity {
    ($($A:ident $I:ident),+) => {
        impl<P, C, $($A, $I,)+> FindArgs<P, C, ($($I,)+)> for ($($A,)+)
        where
            $($A: Find<P, C, $I>,)+
        {
        }

        impl<P, C, G, R, $($A, $I,)+> FindAllBy<($($A,)+), P, C, G, R> for ($($I,)+)
        where
            G: Fn($(&$A),+) -> R,
            $($I: FindBy<$A, P, C>,)+
        {
            fn call(guard: &G, params: &P, chain: &C) -> R {
                guard($($I::find(params, chain)),+)
            }
        }
    };
}

guard_fn_arity!(A1 I1);
guard_fn_arity!(A1 I1, A2 I2);
guard_fn_arity!(A1 I1, A2 I2, A3 I3);

#[diagnostic::do_not_recommend]
impl<P, C, G, Args, I, R, D> Step<P, C, ()> for GuardFn<G, (Args, I, R), D>
where
    P: Send,
    C: Send,
    G: Clone + Send + Sync,
    D: Text,
    I: FindAllBy<Args, P, C, G, R>,
    R: GuardOutcome,
{
    type P = P;
    type C = C;

    fn run(
        self,
        _: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<(P, C), HttpError>> + Send {
        let outcome = I::call(&self.0, &params, &chain).check(self.1.text());
        guarded(outcome, params, chain)
    }

    fn copy(&self) -> Self {
        GuardFn(self.0.clone(), self.1, PhantomData)
    }
}

/// A guard's step: the parameters and chain on, or its refusal.
fn guarded<P, C>(
    outcome: Result<(), HttpError>,
    params: P,
    chain: C,
) -> Ready<Result<(P, C), HttpError>> {
    ready(outcome.map(|()| (params, chain)))
}

macro_rules! guard_arity {
    ($ctor:ident: $($A:ident $I:ident),*) => {
        /// A guard closure of this many arguments, each found as its
        /// `Found` says.
        #[allow(clippy::type_complexity)]
        pub fn $ctor<$($A, $I,)* R, G: Fn($(&$A),*) -> R, D: Text>(
            guard: G,
            denied: D,
            found: ($(Found<$A, $I>,)*),
        ) -> GuardClosure<G, ($(Found<$A, $I>,)*), D> {
            GuardClosure(guard, denied, found)
        }

        #[diagnostic::do_not_recommend]
        impl<P, C, G, R, D, $($A, $I,)*> Step<P, C, ()> for GuardClosure<G, ($(Found<$A, $I>,)*), D>
        where
            P: Send,
            C: Send,
            D: Text,
            G: Fn($(&$A),*) -> R + Clone + Send + Sync,
            R: GuardOutcome,
            ($(Found<$A, $I>,)*): Send,
            $($I: FindBy<$A, P, C>,)*
        {
            type P = P;
            type C = C;

            fn run(
                self,
                _: &mut Context,
                params: P,
                chain: C,
            ) -> impl Future<Output = Result<(P, C), HttpError>> + Send {
                let outcome = (self.0)($($I::find(&params, &chain)),*).check(self.1.text());
                guarded(outcome, params, chain)
            }

            fn copy(&self) -> Self {
                GuardClosure(self.0.clone(), self.1, ($(Found::<$A, $I>::new(),)*))
            }
        }
    };
}

guard_arity!(guard0:);
guard_arity!(guard1: A1 I1);
guard_arity!(guard2: A1 I1, A2 I2);
guard_arity!(guard3: A1 I1, A2 I2, A3 I3);
guard_arity!(guard4: A1 I1, A2 I2, A3 I3, A4 I4);
