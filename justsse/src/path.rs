//! `Path<T>`: the path parameters of a route built by hand, parsed and
//! resolved the way a controller's are.

use std::future::Future;

use justsse_http::HttpError;

use crate::context::Context;
use crate::extractors::Extract;
use crate::param::{self, Needs, PathParam};

/// The path parameters of a hand-built route, in path order: one as `Path<T>`,
/// several as `Path<(A, B)>` or `Path<(A, B, C)>`. Each is a [`PathParam`]: a
/// value that does not parse is a 400 naming the parameter, a
/// [`Resolve`](crate::Resolve) lookup that finds nothing is a 404. (Controller
/// routes bind parameters by name instead.)
///
/// ```
/// use justsse::prelude::*;
/// use justsse::{route, extract::Path};
///
/// async fn comment(Path((ticket, n)): Path<(u64, u32)>) -> String {
///     format!("comment {n} of ticket {ticket}")
/// }
///
/// let app = App::new().route("/tickets/:ticket/comments/:n", route::get(comment));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Path<T>(pub T);

/// What [`Path`] can hold: one [`PathParam`], or a tuple of two or three.
pub trait FromPath: Sized + Send {
    /// Parses and resolves the route's parameters.
    fn from_path(cx: &Context) -> impl Future<Output = Result<Self, HttpError>> + Send;

    /// Declares the app state the parameters' lookups need.
    fn require(needs: &mut Needs<'_>);
}

/// The `index`th parameter, parsed as `P` (400 naming it), when the route has
/// `count` of them.
fn parse<P: PathParam>(cx: &Context, index: usize, count: usize) -> Result<P::Raw, HttpError> {
    let params = cx.head().params();
    let found = params.iter().count();
    let Some((name, text)) = params.iter().nth(index).filter(|_| found == count) else {
        return Err(HttpError::internal(format!(
            "Path<..> of {count} parameter(s) on a route with {found}"
        )));
    };
    P::parse(text).map_err(|err| param::malformed(name, err))
}

/// Resolves the `index`th parameter (404 naming it when nothing matches).
async fn resolve<P: PathParam>(cx: &Context, index: usize, raw: P::Raw) -> Result<P, HttpError> {
    P::resolve(raw, cx.app()).await?.ok_or_else(|| {
        let (name, text) = cx.head().params().iter().nth(index).unwrap_or_default();
        param::not_found(name, text)
    })
}

impl<A: PathParam> FromPath for A {
    async fn from_path(cx: &Context) -> Result<Self, HttpError> {
        let a = parse::<A>(cx, 0, 1)?;
        resolve(cx, 0, a).await
    }

    fn require(needs: &mut Needs<'_>) {
        needs.path_param::<A>();
        A::require(needs);
    }
}

/// Every parameter is parsed (400) before any is looked up (404).
impl<A: PathParam, B: PathParam> FromPath for (A, B) {
    async fn from_path(cx: &Context) -> Result<Self, HttpError> {
        let (a, b) = (parse::<A>(cx, 0, 2)?, parse::<B>(cx, 1, 2)?);
        Ok((resolve(cx, 0, a).await?, resolve(cx, 1, b).await?))
    }

    fn require(needs: &mut Needs<'_>) {
        needs.path_param::<A>();
        needs.path_param::<B>();
        A::require(needs);
        B::require(needs);
    }
}

/// Every parameter is parsed (400) before any is looked up (404).
impl<A: PathParam, B: PathParam, C: PathParam> FromPath for (A, B, C) {
    async fn from_path(cx: &Context) -> Result<Self, HttpError> {
        let (a, b, c) = (
            parse::<A>(cx, 0, 3)?,
            parse::<B>(cx, 1, 3)?,
            parse::<C>(cx, 2, 3)?,
        );
        Ok((
            resolve(cx, 0, a).await?,
            resolve(cx, 1, b).await?,
            resolve(cx, 2, c).await?,
        ))
    }

    fn require(needs: &mut Needs<'_>) {
        needs.path_param::<A>();
        needs.path_param::<B>();
        needs.path_param::<C>();
        A::require(needs);
        B::require(needs);
        C::require(needs);
    }
}

impl<T: FromPath> Extract for Path<T> {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        T::from_path(cx).await.map(Path)
    }

    fn require(needs: &mut Needs<'_>) {
        T::require(needs);
    }
}
