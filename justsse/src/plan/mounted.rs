//! A route's plan as mounted: the request handler the router keeps, which
//! runs a copy of the plan for each request.

use std::marker::PhantomData;
use std::sync::Arc;

use justsse_http::Request;

use crate::context::Context;
use crate::controller::RouteFuture;
use crate::state::AppState;

use super::Steps;
use super::handler::{Finish, Handler};
use super::params::{Params, Unresolved};

/// The plan of a route on controller `S`: parameters `L`, steps `St`
/// (markers `M`) leaving the handler's arguments (`A` of the impls), handler
/// `H` and the response made by `F` (marker `MF`).
pub(super) struct Mounted<S, L, St, M, H, F, MF> {
    pub(super) controller: Arc<S>,
    pub(super) app: Arc<AppState>,
    pub(super) params: L,
    pub(super) steps: St,
    pub(super) handler: H,
    pub(super) finish: F,
    pub(super) marker: PhantomData<fn() -> (M, MF)>,
}

impl<S, L, St, M, A, H, F, MF> justsse_http::Handler for Mounted<S, L, St, M, H, F, MF>
where
    S: Send + Sync + 'static,
    L: Params,
    St: Steps<L, M, A = A> + 'static,
    M: 'static,
    H: for<'s> Handler<'s, S, A>,
    F: for<'s> Finish<<H as Handler<'s, S, A>>::Output, MF> + 'static,
    MF: 'static,
{
    fn call(&self, req: Request) -> RouteFuture {
        let mut cx = Context::new(req, self.app.clone());
        let controller = self.controller.clone();
        let (params, steps) = (self.params, self.steps.copy());
        let (handler, finish) = (self.handler.copy(), self.finish.copy());
        Box::pin(async move {
            let raw = crate::__tri!(params.parse(&cx));
            let (_, _, args) = crate::__tri!(steps.run(&mut cx, Unresolved(params, raw)).await);
            let value = handler.call(&controller, args).await;
            finish.finish(cx, value)
        })
    }
}
