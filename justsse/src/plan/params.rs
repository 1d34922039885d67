//! A route's path parameters, in its handler's argument order: parsed from
//! the path first (400), looked up later (404).

use std::future::{Future, ready};
use std::marker::PhantomData;

use justsse_http::HttpError;

use crate::context::Context;
use crate::controller::{Mount, RouteInfo};
use crate::param::{PathParam, Plain};

/// The path parameters a handler takes: `()`, or `(Param, Rest)`.
pub trait Params: Copy + Send + Sync + 'static {
    /// Their parsed texts.
    type Raw: Send;
    /// Their values, in the same order: `(V, Rest::Values)`.
    type Values: Send;

    /// Parses each: 400 naming the first malformed one.
    fn parse(self, cx: &Context) -> Result<Self::Raw, HttpError>;

    /// Resolves each: 404 naming the first one nothing matches.
    fn resolve(
        self,
        cx: &Context,
        raw: Self::Raw,
    ) -> impl Future<Output = Result<Self::Values, HttpError>> + Send;

    /// Checks that the app has what each needs, for route `info`.
    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo);
}

/// A path parameter, the one at `AT` in the route's path (so that the
/// route's future carries no name); `K` says how it becomes a value
/// (`Parsed` or `Resolved`), `R` is its parsed form.
pub struct Param<K, R, const AT: usize>(PhantomData<fn() -> (K, R)>);

impl<K, R, const AT: usize> Clone for Param<K, R, AT> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, R, const AT: usize> Copy for Param<K, R, AT> {}

/// A primitive parameter: its parsed value, nothing to look up.
pub struct Parsed<T>(PhantomData<fn() -> T>);

/// A parameter looked up by `PathParam::resolve`.
pub struct Resolved<T>(PhantomData<fn() -> T>);

/// Primitive path parameter `AT` of type `T`.
pub fn parsed<T: Plain + 'static, const AT: usize>() -> Param<Parsed<T>, T, AT> {
    Param(PhantomData)
}

/// Path parameter `AT` of type `T`, looked up. Its parsed form is told by
/// `T` here, where the macro writes the parameter, so that a type that
/// cannot be one is reported here, once.
pub fn resolved<T: PathParam + 'static, const AT: usize>() -> Param<Resolved<T>, T::Raw, AT> {
    Param(PhantomData)
}

/// The name and text of the path parameter at `at`.
fn param_at(cx: &Context, at: usize) -> Result<(&str, &str), HttpError> {
    cx.head()
        .params()
        .iter()
        .nth(at)
        .ok_or_else(|| HttpError::bad_request(format!("missing path parameter {at}")))
}

/// Parses the path parameter at `at`: 400 naming it when malformed.
fn parse_at<P: PathParam>(cx: &Context, at: usize) -> Result<P::Raw, HttpError> {
    let (name, raw) = param_at(cx, at)?;
    P::parse(raw).map_err(|err| crate::param::malformed(name, err))
}

/// How a parameter of kind `K` is parsed and looked up, found from its
/// parsed form `Self`.
pub trait RawOf<K>: Send + Sized + 'static {
    /// The handler's value.
    type Value: Send;

    /// Parses the parameter at `at`.
    fn parse(cx: &Context, at: usize) -> Result<Self, HttpError>;

    /// Looks it up.
    fn resolve(
        self,
        cx: &Context,
        at: usize,
    ) -> impl Future<Output = Result<Self::Value, HttpError>> + Send;

    /// Checks that the app has what the parameter at `at` needs, for route
    /// `info`.
    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo, at: usize) {
        let _ = (mount, info, at);
    }
}

impl<T: Plain + 'static> RawOf<Parsed<T>> for T {
    type Value = T;

    fn parse(cx: &Context, at: usize) -> Result<T, HttpError> {
        parse_at::<T>(cx, at)
    }

    fn resolve(self, _: &Context, _: usize) -> impl Future<Output = Result<T, HttpError>> + Send {
        ready(Ok(self))
    }
}

impl<R: Send + 'static, T: PathParam<Raw = R> + 'static> RawOf<Resolved<T>> for R {
    type Value = T;

    fn parse(cx: &Context, at: usize) -> Result<R, HttpError> {
        parse_at::<T>(cx, at)
    }

    async fn resolve(self, cx: &Context, at: usize) -> Result<T, HttpError> {
        match T::resolve(self, cx.app()).await? {
            Some(value) => Ok(value),
            None => {
                let (name, raw) = param_at(cx, at)?;
                Err(crate::param::not_found(name, raw))
            }
        }
    }

    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo, at: usize) {
        let name = info.params().get(at).map_or("", |(name, _)| name);
        mount.require(info, &format!("path parameter `{name}`"), T::require);
    }
}

impl Params for () {
    type Raw = ();
    type Values = ();

    fn parse(self, _: &Context) -> Result<(), HttpError> {
        Ok(())
    }

    fn resolve(self, _: &Context, _: ()) -> impl Future<Output = Result<(), HttpError>> + Send {
        ready(Ok(()))
    }

    fn require(_: &mut Mount<'_>, _: &'static RouteInfo) {}
}

impl<K: 'static, R: RawOf<K>, const AT: usize, Rest: Params> Params for (Param<K, R, AT>, Rest) {
    type Raw = (R, Rest::Raw);
    type Values = (R::Value, Rest::Values);

    fn parse(self, cx: &Context) -> Result<Self::Raw, HttpError> {
        let raw = R::parse(cx, AT)?;
        Ok((raw, self.1.parse(cx)?))
    }

    async fn resolve(self, cx: &Context, raw: Self::Raw) -> Result<Self::Values, HttpError> {
        let (raw, rest) = raw;
        let value = raw.resolve(cx, AT).await?;
        Ok((value, self.1.resolve(cx, rest).await?))
    }

    fn require(mount: &mut Mount<'_>, info: &'static RouteInfo) {
        R::require(mount, info, AT);
        Rest::require(mount, info);
    }
}

/// The parameters before they are looked up: parsed.
pub struct Unresolved<L: Params>(pub(super) L, pub(super) L::Raw);
