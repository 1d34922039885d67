//! A route as a plan of steps that generic code runs: the controller macro
//! writes what a route does (its path parameters, middleware and guards in
//! order, where each handler argument comes from, the handler, how its value
//! becomes a response) as values of the types below, and [`run`] does it.
//!
//! The work of a request is written once, here, not once per route in the
//! application: a route costs the application's build the selection of these
//! impls, no `async` block of its own to type-check and borrow-check.

use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::Stream;
use justsse_http::{BoxError, Event, HttpError, Response};

use crate::chain::{Arg, GuardOutcome, Pick};
use crate::context::Context;
use crate::controller::RouteFuture;
use crate::middleware::Middleware;
use crate::param::{PathParam, Plain};
use crate::progressive::ProgressiveResponse;
use crate::stream::SseResponse;

// ---------------------------------------------------------------- parameters

/// The path parameters a handler takes, in its argument order: `()`, or
/// `(Param<K>, Rest)`.
pub trait Params: Copy + Send + Sync + 'static {
    /// Their parsed texts.
    type Raw: Send;
    /// Their values, in the same order: `(V, Rest::Values)`.
    type Values: Send + Sync;

    /// Parses each: 400 naming the first malformed one.
    fn parse(self, cx: &Context) -> Result<Self::Raw, HttpError>;

    /// Resolves each: 404 naming the first one nothing matches.
    fn resolve(
        self,
        cx: &Context,
        raw: Self::Raw,
    ) -> impl Future<Output = Result<Self::Values, HttpError>> + Send;
}

/// A path parameter: its name, and how it becomes a value (`K`: [`Parsed`]
/// or [`Resolved`]).
pub struct Param<K>(pub &'static str, pub PhantomData<fn() -> K>);

impl<K> Param<K> {
    /// The parameter called `name`.
    pub const fn new(name: &'static str) -> Self {
        Self(name, PhantomData)
    }
}

impl<K> Clone for Param<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Param<K> {}

/// A primitive parameter: its parsed value, nothing to look up.
pub struct Parsed<T>(PhantomData<fn() -> T>);

/// A parameter looked up by [`PathParam::resolve`].
pub struct Resolved<T>(PhantomData<fn() -> T>);

impl Params for () {
    type Raw = ();
    type Values = ();

    fn parse(self, _: &Context) -> Result<(), HttpError> {
        Ok(())
    }

    fn resolve(self, _: &Context, _: ()) -> impl Future<Output = Result<(), HttpError>> + Send {
        ready(Ok(()))
    }
}

impl<T: Plain + Sync + 'static, Rest: Params> Params for (Param<Parsed<T>>, Rest) {
    type Raw = (T, Rest::Raw);
    type Values = (T, Rest::Values);

    fn parse(self, cx: &Context) -> Result<Self::Raw, HttpError> {
        let value = crate::__private::parse_plain::<T>(cx, self.0.0)?;
        Ok((value, self.1.parse(cx)?))
    }

    async fn resolve(self, cx: &Context, raw: Self::Raw) -> Result<Self::Values, HttpError> {
        let (value, rest) = raw;
        Ok((value, self.1.resolve(cx, rest).await?))
    }
}

impl<T: PathParam + Sync + 'static, Rest: Params> Params for (Param<Resolved<T>>, Rest) {
    type Raw = (T::Raw, Rest::Raw);
    type Values = (T, Rest::Values);

    fn parse(self, cx: &Context) -> Result<Self::Raw, HttpError> {
        let raw = crate::__private::parse_param::<T>(cx, self.0.0)?;
        Ok((raw, self.1.parse(cx)?))
    }

    async fn resolve(self, cx: &Context, raw: Self::Raw) -> Result<Self::Values, HttpError> {
        let (raw, rest) = raw;
        let value = crate::__private::resolve_param::<T>(cx, self.0.0, raw).await?;
        Ok((value, self.1.resolve(cx, rest).await?))
    }
}

/// The parameters before [`Resolve`]: parsed, not looked up.
pub struct Unresolved<L: Params>(L, L::Raw);

// --------------------------------------------------------------------- steps

/// One step of a route before its handler: a middleware, a guard, or the
/// lookup of the path parameters. `P` is the state of the parameters, `C`
/// the chain so far; `M` is inferred.
pub trait Step<P, C, M>: Send {
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
}

/// `#[uses(f)]`: runs middleware `f`, whose value joins the chain.
pub struct Use<F: 'static>(pub &'static F);

impl<P, C, F, M, V> Step<P, C, (M, V)> for Use<F>
where
    P: Send,
    C: Send + Sync,
    F: for<'a> Middleware<'a, C, M, Output = V>,
    V: Send + 'static,
{
    type P = P;
    type C = (V, C);

    async fn run(self, cx: &mut Context, params: P, chain: C) -> Result<(P, (V, C)), HttpError> {
        let value = self.0.call(cx, &chain).await?;
        Ok((params, (value, chain)))
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
}

/// Where a guard's argument is found: the path parameter at `I` (named by
/// the macro), or the chain value of its type.
pub struct FromParams<I>(PhantomData<I>);

/// A guard's argument found in the chain by type.
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

/// A guard written as a closure, with where each of its arguments is found
/// (a tuple of [`Found`]).
pub struct GuardClosure<G, F>(G, &'static str, F);

/// A guard closure's argument: a borrowed `A`, found at `I`.
pub struct Found<A, I>(PhantomData<fn() -> (A, I)>);

impl<A, I> Found<A, I> {
    /// The argument.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// A guard given as a function path: its arguments found by type among the
/// path parameters and the chain.
pub struct GuardFn<G>(pub G, pub &'static str);

/// A guard function callable with values found among `P` and `C`.
#[diagnostic::on_unimplemented(
    message = "this guard cannot be called with values from the route's chain",
    note = "a guard is `fn(&A) -> bool` (or up to three `&` arguments) where each type is returned by a `#[uses(...)]` middleware or is a path parameter"
)]
pub trait GuardWith<P, C, M> {
    /// Runs it; `false` is a 403 with the message `denied`.
    fn check(&self, params: &P, chain: &C, denied: &'static str) -> Result<(), HttpError>;
}

impl<F, P, C, Args, I, R> GuardWith<P, C, (Args, I, R)> for F
where
    F: GuardSignature<Args, R>,
    Args: FindArgs<F, P, C, I, R>,
    R: GuardOutcome,
{
    fn check(&self, params: &P, chain: &C, denied: &'static str) -> Result<(), HttpError> {
        Args::call(self, params, chain).check(denied)
    }
}

/// The argument types of a guard function, `(A,)` to `(A, B, D)`, told by
/// its signature alone, so that each is then looked for.
pub trait GuardSignature<Args, R> {}

impl<F: Fn(&A) -> R, A, R> GuardSignature<(A,), R> for F {}

impl<F: Fn(&A, &B) -> R, A, B, R> GuardSignature<(A, B), R> for F {}

impl<F: Fn(&A, &B, &D) -> R, A, B, D, R> GuardSignature<(A, B, D), R> for F {}

/// Calls guard `F` with its arguments `Self` found among `P` and `C`.
pub trait FindArgs<F, P, C, I, R> {
    /// Calls it.
    fn call(guard: &F, params: &P, chain: &C) -> R;
}

impl<P, C, M, G> Step<P, C, M> for GuardFn<G>
where
    P: Send,
    C: Send,
    G: GuardWith<P, C, M> + Send,
{
    type P = P;
    type C = C;

    fn run(
        self,
        _: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<(P, C), HttpError>> + Send {
        ready(
            self.0
                .check(&params, &chain, self.1)
                .map(|()| (params, chain)),
        )
    }
}

macro_rules! guard_arity {
    ($ctor:ident: $($A:ident $I:ident $a:ident),*) => {
        /// A guard closure of this many arguments.
        pub fn $ctor<$($A, $I,)* R, G: Fn($(&$A),*) -> R>(
            guard: G,
            denied: &'static str,
            found: ($(Found<$A, $I>,)*),
        ) -> GuardClosure<G, ($(Found<$A, $I>,)*)> {
            GuardClosure(guard, denied, found)
        }

        impl<P, C, G, R, $($A, $I,)*> Step<P, C, ()> for GuardClosure<G, ($(Found<$A, $I>,)*)>
        where
            P: Send,
            C: Send,
            G: Fn($(&$A),*) -> R + Send,
            R: GuardOutcome,
            $($A: Find<P, C, $I>,)*
        {
            type P = P;
            type C = C;

            fn run(
                self,
                _: &mut Context,
                params: P,
                chain: C,
            ) -> impl Future<Output = Result<(P, C), HttpError>> + Send {
                let outcome = (self.0)($($A::find(&params, &chain)),*).check(self.1);
                ready(outcome.map(|()| (params, chain)))
            }
        }

        impl<F, P, C, R, $($A, $I,)*> FindArgs<F, P, C, ($($I,)*), R> for ($($A,)*)
        where
            F: Fn($(&$A),*) -> R,
            $($A: Find<P, C, $I>,)*
        {
            #[allow(unused_variables)]
            fn call(guard: &F, params: &P, chain: &C) -> R {
                guard($($A::find(params, chain)),*)
            }
        }
    };
}

guard_arity!(guard0:);
guard_arity!(guard1: A1 I1 a1);
guard_arity!(guard2: A1 I1 a1, A2 I2 a2);
guard_arity!(guard3: A1 I1 a1, A2 I2 a2, A3 I3 a3);
guard_arity!(guard4: A1 I1 a1, A2 I2 a2, A3 I3 a3, A4 I4 a4);

/// The steps of a route, in order: `()`, or `(Step, Rest)`.
pub trait Steps<P, C, M>: Send {
    /// The parameters after the last.
    type P: Send;
    /// The chain after the last.
    type C: Send;

    /// Runs them in order; the first refusal is the answer.
    fn run(
        self,
        cx: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<(Self::P, Self::C), HttpError>> + Send;
}

impl<P: Send, C: Send> Steps<P, C, ()> for () {
    type P = P;
    type C = C;

    fn run(
        self,
        _: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<(P, C), HttpError>> + Send {
        ready(Ok((params, chain)))
    }
}

impl<P, C, S, M, Rest, MR> Steps<P, C, (M, MR)> for (S, Rest)
where
    P: Send,
    C: Send,
    S: Step<P, C, M>,
    Rest: Steps<S::P, S::C, MR>,
{
    type P = Rest::P;
    type C = Rest::C;

    async fn run(
        self,
        cx: &mut Context,
        params: P,
        chain: C,
    ) -> Result<(Rest::P, Rest::C), HttpError> {
        let (params, chain) = self.0.run(cx, params, chain).await?;
        self.1.run(cx, params, chain).await
    }
}

// ------------------------------------------------------------------ handler

/// Where a handler argument comes from: the next path parameter, or
/// [`Arg`] (an extractor, or the chain value of its type).
pub trait Source<P, C, M> {
    /// The argument.
    type Out: Send;
    /// The parameters left.
    type P: Send;
    /// The chain left.
    type C: Send;

    /// Produces it.
    fn get(
        cx: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<(Self::Out, Self::P, Self::C), HttpError>> + Send;
}

/// The next path parameter.
pub struct NextParam;

impl<V: Send, Rest: Send, C: Send> Source<(V, Rest), C, ()> for NextParam {
    type Out = V;
    type P = Rest;
    type C = C;

    fn get(
        _: &mut Context,
        params: (V, Rest),
        chain: C,
    ) -> impl Future<Output = Result<(V, Rest, C), HttpError>> + Send {
        ready(Ok((params.0, params.1, chain)))
    }
}

/// An argument of type `T` taken by [`Arg`].
pub struct Take<T>(PhantomData<fn() -> T>);

impl<T> Take<T> {
    /// The argument.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<P, C, T, M> Source<P, C, M> for Take<T>
where
    P: Send,
    C: Send,
    T: Arg<C, M> + Send,
    T::Rest: Send,
{
    type Out = T;
    type P = P;
    type C = T::Rest;

    async fn get(cx: &mut Context, params: P, chain: C) -> Result<(T, P, T::Rest), HttpError> {
        let (value, rest) = T::get(cx, chain).await?;
        Ok((value, params, rest))
    }
}

/// A handler's arguments: `()`, or `(Source, Rest)`, read in order.
pub trait Sources<P, C, M> {
    /// The arguments: `(A, Rest::Out)`.
    type Out: Send;

    /// Produces them.
    fn get(
        cx: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Result<Self::Out, HttpError>> + Send;
}

impl<P: Send, C: Send> Sources<P, C, ()> for () {
    type Out = ();

    fn get(_: &mut Context, _: P, _: C) -> impl Future<Output = Result<(), HttpError>> + Send {
        ready(Ok(()))
    }
}

impl<P, C, S, M, Rest, MR> Sources<P, C, (M, MR)> for (S, Rest)
where
    P: Send,
    C: Send,
    S: Source<P, C, M>,
    Rest: Sources<S::P, S::C, MR>,
{
    type Out = (S::Out, Rest::Out);

    async fn get(cx: &mut Context, params: P, chain: C) -> Result<Self::Out, HttpError> {
        let (value, params, chain) = S::get(cx, params, chain).await?;
        Ok((value, Rest::get(cx, params, chain).await?))
    }
}

/// The route's handler, called with its arguments `A` and the controller
/// `S` borrowed for `'s`.
pub trait Handler<'s, S: 's, A>: Send + Sync + 'static {
    /// What it answers (which may name `'s`: an `impl Trait` returned by an
    /// `async fn(&self)` does, though its value cannot borrow).
    type Output;
    /// Its future.
    type Future: Future<Output = Self::Output> + Send + 's;

    /// Calls it.
    fn call(&self, controller: &'s Arc<S>, args: A) -> Self::Future;
}

/// A handler method: `async fn(&self, ..)`.
pub struct Method<F>(pub F);

/// A handler without a receiver: `async fn(..)`.
pub struct Function<F>(pub F);

/// A generator handler's body: `fn(Arc<Self>, ..) -> stream`.
pub struct Generator<F>(pub F);

/// A generator handler's body that awaits before its stream:
/// `async fn(Arc<Self>, ..) -> stream`.
pub struct AsyncGenerator<F>(pub F);

// ------------------------------------------------------------------- finish

/// How the handler's value becomes the response.
pub trait Finish<R, M>: Send {
    /// Makes it.
    fn finish(self, cx: Context, value: R) -> Response;
}

/// A JSON (plain) route.
pub struct Respond;

impl<R: justsse_http::IntoResponse> Finish<R, ()> for Respond {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::respond(cx, value)
    }
}

/// A stream route (not a generator) with its options.
pub struct Streams(pub crate::__private::StreamOptions);

impl<R: SseResponse<M>, M> Finish<R, M> for Streams {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::sse(cx, value, self.0)
    }
}

/// A progressive route with its options.
pub struct Progressive(pub crate::__private::StreamOptions);

impl<R: ProgressiveResponse> Finish<R, ()> for Progressive {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::progressive(cx, value, self.0)
    }
}

/// What a generator handler's body returns: a stream of events that owns
/// what it uses.
pub trait Events: Stream<Item = Result<Event, BoxError>> + Send + 'static {}

impl<S: Stream<Item = Result<Event, BoxError>> + Send + 'static> Events for S {}

/// A generator route with its options.
pub struct Generates(pub crate::__private::StreamOptions);

impl<R: Events> Finish<R, ()> for Generates {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::generator(cx, value, self.0)
    }
}

/// `(A1, (A2, ()))` from `A1, A2`.
macro_rules! nest {
    () => { () };
    ($head:ident $(, $rest:ident)*) => { ($head, nest!($($rest),*)) };
}

macro_rules! handler_arity {
    ($($A:ident $a:ident),*) => {
        impl<'s, S, F, Fut, $($A,)*> Handler<'s, S, nest!($($A),*)> for Method<F>
        where
            S: Sync + 's,
            F: Fn(&'s S, $($A),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 's,
        {
            type Output = Fut::Output;
            type Future = Fut;

            fn call(&self, controller: &'s Arc<S>, args: nest!($($A),*)) -> Fut {
                let nest!($($a),*) = args;
                (self.0)(&**controller, $($a),*)
            }
        }

        impl<'s, S, F, Fut, $($A,)*> Handler<'s, S, nest!($($A),*)> for Function<F>
        where
            S: 's,
            F: Fn($($A),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 's,
        {
            type Output = Fut::Output;
            type Future = Fut;

            fn call(&self, _: &'s Arc<S>, args: nest!($($A),*)) -> Fut {
                let nest!($($a),*) = args;
                (self.0)($($a),*)
            }
        }

        impl<'s, S, F, R, $($A,)*> Handler<'s, S, nest!($($A),*)> for Generator<F>
        where
            S: Send + Sync + 's,
            F: Fn(Arc<S>, $($A),*) -> R + Send + Sync + 'static,
            R: Send + 's,
        {
            type Output = R;
            type Future = Ready<R>;

            fn call(&self, controller: &'s Arc<S>, args: nest!($($A),*)) -> Ready<R> {
                let nest!($($a),*) = args;
                ready((self.0)(Arc::clone(controller), $($a),*))
            }
        }

        impl<'s, S, F, Fut, $($A,)*> Handler<'s, S, nest!($($A),*)> for AsyncGenerator<F>
        where
            S: Send + Sync + 's,
            F: Fn(Arc<S>, $($A),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 's,
        {
            type Output = Fut::Output;
            type Future = Fut;

            fn call(&self, controller: &'s Arc<S>, args: nest!($($A),*)) -> Fut {
                let nest!($($a),*) = args;
                (self.0)(Arc::clone(controller), $($a),*)
            }
        }
    };
}

handler_arity!();
handler_arity!(A1 a1);
handler_arity!(A1 a1, A2 a2);
handler_arity!(A1 a1, A2 a2, A3 a3);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10, A11 a11);
handler_arity!(A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10, A11 a11, A12 a12);

// ---------------------------------------------------------------------- run

/// Runs a route: parses its parameters (400), runs its steps, reads the
/// handler's arguments, calls it and makes the response.
#[allow(clippy::too_many_arguments)]
pub fn run<S, L, St, MS, A, MA, H, F, MF>(
    controller: Arc<S>,
    mut cx: Context,
    params: L,
    steps: St,
    args: A,
    handler: H,
    finish: F,
) -> RouteFuture
where
    S: Send + Sync + 'static,
    L: Params,
    St: Steps<Unresolved<L>, (), MS> + 'static,
    A: Sources<St::P, St::C, MA> + 'static,
    H: for<'s> Handler<'s, S, A::Out>,
    F: for<'s> Finish<<H as Handler<'s, S, A::Out>>::Output, MF> + 'static,
    MS: 'static,
    MA: 'static,
    MF: 'static,
{
    let _ = args;
    Box::pin(async move {
        let raw = crate::__tri!(params.parse(&cx));
        let (params, chain) = crate::__tri!(steps.run(&mut cx, Unresolved(params, raw), ()).await);
        let args = crate::__tri!(A::get(&mut cx, params, chain).await);
        let value = handler.call(&controller, args).await;
        finish.finish(cx, value)
    })
}
