//! Where each of a handler's arguments comes from: the next path parameter,
//! or `Arg` (an extractor, or the chain's value of its type).

use std::future::{Future, ready};
use std::marker::PhantomData;

use justsse_http::HttpError;

use crate::chain::Arg;
use crate::context::Context;
use crate::controller::{Mount, RouteInfo};
use crate::param::Needs;

/// An argument read, with the parameters and chain left.
pub(super) type Read<T, P, C> = Result<(T, P, C), HttpError>;

/// A handler argument read from parameters `P` and chain `C`.
pub trait Source<P, C, M> {
    /// The argument.
    type Out: Send;
    /// The parameters left.
    type P: Send;
    /// The chain left.
    type C: Send;

    /// Reads it.
    fn get(
        cx: &mut Context,
        params: P,
        chain: C,
    ) -> impl Future<Output = Read<Self::Out, Self::P, Self::C>> + Send;

    /// Checks that the app has what the argument needs, for route `info`.
    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        let _ = (mount, info);
    }
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

/// An argument of type `T` read by `Arg`, as its check (`M`) told.
pub struct Take<T, M>(PhantomData<fn() -> (T, M)>);

/// Reads argument `T` from chain `C`, told by its marker `Self`.
pub trait ArgBy<T, C> {
    /// The chain left.
    type Rest: Send;

    /// Reads it.
    fn get(
        cx: &mut Context,
        chain: C,
    ) -> impl Future<Output = Result<(T, Self::Rest), HttpError>> + Send;

    /// Declares what the argument needs from the app.
    fn require(needs: &mut Needs<'_>);
}

impl<M, T: Arg<C, M>, C> ArgBy<T, C> for M
where
    T::Rest: Send,
{
    type Rest = T::Rest;

    fn get(
        cx: &mut Context,
        chain: C,
    ) -> impl Future<Output = Result<(T, T::Rest), HttpError>> + Send {
        T::get(cx, chain)
    }

    fn require(needs: &mut Needs<'_>) {
        T::require(needs);
    }
}

#[diagnostic::do_not_recommend]
impl<P, C, T, M> Source<P, C, ()> for Take<T, M>
where
    P: Send,
    C: Send,
    T: Send,
    M: ArgBy<T, C>,
{
    type Out = T;
    type P = P;
    type C = M::Rest;

    async fn get(cx: &mut Context, params: P, chain: C) -> Result<(T, P, M::Rest), HttpError> {
        let (value, rest) = M::get(cx, chain).await?;
        Ok((value, params, rest))
    }

    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        let what = format!("argument `{}`", std::any::type_name::<T>());
        mount.require(info, &what, M::require);
    }
}
