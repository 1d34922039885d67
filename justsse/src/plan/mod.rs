//! A route as a plan that generic code runs. The controller macro writes
//! what a route does (its path parameters, its middleware and guards in
//! order, where each handler argument comes from, the handler, how its value
//! becomes a response) as calls on a `Plan`, and `Plan::mount` keeps it in
//! the router (`mounted.rs`), which runs it for each request.
//!
//! The work of a request is written once, here, not once per route in the
//! application: a route costs the application's build the selection of these
//! impls, no `async` block of its own to type-check and borrow-check.
//!
//! Each step is checked by the method that adds it (`uses`, `guard_fn`,
//! `in_chain`, `in_params`, `take`), spanned at the user's code that asks for
//! it, with the message of the trait it misses. The check infers a marker
//! that the step carries; what runs the step asks only for the marker's impl,
//! so a step whose check failed is not reported a second time.

mod handler;
mod mounted;
mod params;
mod source;
mod step;

use std::future::{Future, ready};
use std::marker::PhantomData;
use std::sync::Arc;

use justsse_http::{HttpError, MethodRouter};

use crate::__private::TypeOf;
use crate::chain::{Arg, Pick};
use crate::context::Context;
use crate::controller::{Mount, RouteInfo};
use crate::middleware::{Middleware, MiddlewareSignature};

use handler::{Finish, Handler};
use mounted::Mounted;
use params::{Params, Unresolved};
use source::{NextParam, Source, Take};
use step::{Found, FromChain, FromParams, GuardFn, GuardWith, Step, Use};

pub use handler::{
    AsyncGenerator, Events, Function, Generates, Generator, Method, Progressive, Respond, Streams,
};
pub use params::{parsed, resolved};
pub use step::{Resolve, guard0, guard1, guard2, guard3, guard4};

/// Steps run: the parameters, chain and handler arguments they leave.
type Ran<P, C, A> = Result<(P, C, A), HttpError>;

/// What a route does before its handler, from the request's parameters
/// `L`: its steps and the reading of the handler's arguments, in order.
/// `M` is inferred.
pub trait Steps<L: Params, M>: Send + Sync {
    /// The parameters at the end.
    type P: Send;
    /// The chain at the end.
    type C: Send;
    /// The handler's arguments: `(((), A1), A2)`.
    type A: Send;

    /// Runs them in order; the first refusal is the answer.
    fn run(
        self,
        cx: &mut Context,
        params: Unresolved<L>,
    ) -> impl Future<Output = Ran<Self::P, Self::C, Self::A>> + Send;

    /// A copy for one request (the steps are functions and markers).
    fn copy(&self) -> Self;

    /// Checks that the app has what the steps need (middleware and
    /// extractor arguments: their app state), for route `info`.
    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo);
}

/// Nothing done yet.
pub struct Start;

impl<L: Params> Steps<L, ()> for Start {
    type P = Unresolved<L>;
    type C = ();
    type A = ();

    fn run(
        self,
        _: &mut Context,
        params: Unresolved<L>,
    ) -> impl Future<Output = Result<(Unresolved<L>, (), ()), HttpError>> + Send {
        ready(Ok((params, (), ())))
    }

    fn copy(&self) -> Self {
        Start
    }

    fn require(_: &mut Mount<'_>, _: &'static RouteInfo) {}
}

/// The steps `Before`, then step `S`.
pub struct StepThen<Before, S>(Before, S);

impl<L, Before, MB, S, MS> Steps<L, (MB, MS)> for StepThen<Before, S>
where
    L: Params,
    Before: Steps<L, MB>,
    S: Step<Before::P, Before::C, MS>,
{
    type P = S::P;
    type C = S::C;
    type A = Before::A;

    async fn run(
        self,
        cx: &mut Context,
        params: Unresolved<L>,
    ) -> Result<(S::P, S::C, Before::A), HttpError> {
        let (params, chain, args) = self.0.run(cx, params).await?;
        let (params, chain) = self.1.run(cx, params, chain).await?;
        Ok((params, chain, args))
    }

    fn copy(&self) -> Self {
        StepThen(self.0.copy(), self.1.copy())
    }

    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        Before::require(mount, info);
        S::require(mount, info);
    }
}

/// The steps `Before`, then the handler's next argument from `S`.
pub struct ArgThen<Before, S>(Before, PhantomData<fn() -> S>);

impl<L, Before, MB, S, MS> Steps<L, (MB, MS)> for ArgThen<Before, S>
where
    L: Params,
    Before: Steps<L, MB>,
    S: Source<Before::P, Before::C, MS>,
{
    type P = S::P;
    type C = S::C;
    type A = (Before::A, S::Out);

    async fn run(
        self,
        cx: &mut Context,
        params: Unresolved<L>,
    ) -> Result<(S::P, S::C, Self::A), HttpError> {
        let (params, chain, args) = self.0.run(cx, params).await?;
        let (value, params, chain) = S::get(cx, params, chain).await?;
        Ok((params, chain, (args, value)))
    }

    fn copy(&self) -> Self {
        ArgThen(self.0.copy(), PhantomData)
    }

    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        Before::require(mount, info);
        S::require(mount, info);
    }
}

/// A route's plan as the macro writes it, one step at a time: parameters
/// `P`, chain `C` and handler arguments `A` at this point, `M` the markers
/// of the steps so far. Each method checks its step where the macro writes
/// it (at the user's code that makes it); `Plan::mount` keeps the whole.
pub struct Plan<L, St, M, P, C, A> {
    params: L,
    steps: St,
    marker: PhantomData<At<M, P, C, A>>,
}

/// The types a plan is at.
type At<M, P, C, A> = fn() -> (M, P, C, A);

/// The plan of a route whose handler takes path parameters `params`
/// (parsed first, looked up later).
pub fn plan<L: Params>(params: L) -> Plan<L, Start, (), Unresolved<L>, (), ()> {
    Plan {
        params,
        steps: Start,
        marker: PhantomData,
    }
}

// The checks are methods whose types are known when rustc selects, so a
// failed one commits to no impl and leaves its marker unknown: what runs the
// step asks only for the marker's impl, so it is not reported again (rustc
// then names the trait at the top: `admin` is no middleware on this route).
impl<L, St, M, P, C, A> Plan<L, St, M, P, C, A> {
    fn then<St2, M2, P2, C2, A2>(
        self,
        steps: impl FnOnce(St) -> St2,
    ) -> Plan<L, St2, M2, P2, C2, A2> {
        Plan {
            params: self.params,
            steps: steps(self.steps),
            marker: PhantomData,
        }
    }

    /// `#[uses(f)]`: middleware `f` on the chain at this point.
    #[allow(clippy::type_complexity)]
    pub fn uses<'a, F, MF, V>(
        self,
        f: &'static F,
    ) -> Plan<L, StepThen<St, Use<F, MF>>, (M, V), P, (V, C), A>
    where
        F: Middleware<'a, C, MF, Output = V>,
    {
        self.then(|steps| StepThen(steps, Use::new(f)))
    }

    /// A guard given as function `g` on the parameters and chain at this
    /// point.
    #[allow(clippy::type_complexity)]
    pub fn guard_fn<G, MG, D>(
        self,
        g: G,
        denied: D,
    ) -> Plan<L, StepThen<St, GuardFn<G, MG, D>>, (M, ()), P, C, A>
    where
        G: GuardWith<P, C, MG>,
    {
        self.then(|steps| StepThen(steps, GuardFn::new(g, denied)))
    }

    /// A step whose check is in its own type: a guard closure (its
    /// arguments found by [`Plan::in_chain`] and [`Plan::in_params`]), or the
    /// lookup of the parameters.
    #[allow(clippy::type_complexity)]
    pub fn step<S, MS>(self, step: S) -> Plan<L, StepThen<St, S>, (M, MS), S::P, S::C, A>
    where
        S: Step<P, C, MS>,
    {
        self.then(|steps| StepThen(steps, step))
    }

    /// A guard closure's argument `T`: the chain's value of that type.
    pub fn in_chain<T, X>(&self) -> Found<T, FromChain<X>>
    where
        C: Pick<T, X>,
    {
        Found::new()
    }

    /// A guard closure's argument `T`: the path parameter at `X`.
    pub fn in_params<T, X>(&self) -> Found<T, FromParams<X>>
    where
        P: Pick<T, X>,
    {
        Found::new()
    }

    /// The handler's next argument, `T`: an extractor, or the chain's value
    /// of that type.
    #[allow(clippy::type_complexity)]
    pub fn take<T, MT>(self) -> Plan<L, ArgThen<St, Take<T, MT>>, (M, ()), P, T::Rest, (A, T)>
    where
        T: Arg<C, MT>,
    {
        self.then(|steps| ArgThen(steps, PhantomData))
    }

    /// The type of the value middleware `f` adds, told by its signature.
    pub fn output<F: MiddlewareSignature<Args>, Args>(&self, f: &F) -> TypeOf<F::Output> {
        let _ = f;
        TypeOf::new()
    }
}

impl<L, St, M, V, Rest, C, A> Plan<L, St, M, (V, Rest), C, A> {
    /// The handler's next argument: the next path parameter.
    #[allow(clippy::type_complexity)]
    pub fn param(self) -> Plan<L, ArgThen<St, NextParam>, (M, ()), Rest, C, (A, V)> {
        self.then(|steps| ArgThen(steps, PhantomData))
    }
}

impl<L: Params, St, M, P, C, A> Plan<L, St, M, P, C, A> {
    /// Mounts route `index` of the controller's table: checks that the app
    /// has what its parameters, middleware and arguments need, and adds it to
    /// the router, served by `handler` on `controller` with the response made
    /// by `finish`, inside the wrapping middleware `wraps` adds. Each request then parses the
    /// parameters (400), runs the steps and reads the handler's arguments,
    /// calls the handler and makes the response.
    #[allow(clippy::too_many_arguments)]
    pub fn mount<S, H, F, MF>(
        self,
        mount: &mut Mount<'_>,
        index: usize,
        controller: &Arc<S>,
        handler: H,
        finish: F,
        wraps: fn(MethodRouter) -> MethodRouter,
    ) where
        S: Send + Sync + 'static,
        St: Steps<L, M, A = A> + 'static,
        M: 'static,
        H: for<'s> Handler<'s, S, A>,
        F: for<'s> Finish<<H as Handler<'s, S, A>>::Output, MF> + 'static,
        MF: 'static,
    {
        let Some(info) = mount.info(index) else {
            return;
        };
        L::require(mount, info);
        St::require(mount, info);
        let route = Mounted {
            controller: controller.clone(),
            app: mount.app.clone(),
            params: self.params,
            steps: self.steps,
            handler,
            finish,
            marker: PhantomData,
        };
        // Boxed as a handler first: `Arc::from` the box is one function for
        // every route, where `Arc::new` of the plan is one per route (and so
        // is its drop), for the application's build.
        let route: Box<dyn justsse_http::Handler> = Box::new(route);
        mount.route(info, Arc::from(route), wraps);
    }
}
