//! A route's path parameters, in its handler's argument order: parsed from
//! the path first (400), looked up later (404).

use std::future::{Future, ready};
use std::marker::PhantomData;

use justsse_http::HttpError;

use crate::context::Context;
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
}

/// A path parameter: its name; `K` says how it becomes a value
/// ([`Parsed`] or [`Resolved`]), `R` is its parsed form.
pub struct Param<K, R>(&'static str, PhantomData<fn() -> (K, R)>);

impl<K, R> Clone for Param<K, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, R> Copy for Param<K, R> {}

/// A primitive parameter: its parsed value, nothing to look up.
pub struct Parsed<T>(PhantomData<fn() -> T>);

/// A parameter looked up by [`PathParam::resolve`].
pub struct Resolved<T>(PhantomData<fn() -> T>);

/// Primitive path parameter `name` of type `T`.
pub fn parsed<T: Plain + 'static>(name: &'static str) -> Param<Parsed<T>, T> {
    Param(name, PhantomData)
}

/// Path parameter `name` of type `T`, looked up. Its parsed form is told
/// by `T` here, where the macro writes the parameter, so that a type that
/// cannot be one is reported here, once.
pub fn resolved<T: PathParam + 'static>(name: &'static str) -> Param<Resolved<T>, T::Raw> {
    Param(name, PhantomData)
}

/// How a parameter of kind `K` is parsed and looked up, found from its
/// parsed form `Self`.
pub trait RawOf<K>: Send + Sized + 'static {
    /// The handler's value.
    type Value: Send;

    /// Parses parameter `name`.
    fn parse(cx: &Context, name: &'static str) -> Result<Self, HttpError>;

    /// Looks it up.
    fn resolve(
        self,
        cx: &Context,
        name: &'static str,
    ) -> impl Future<Output = Result<Self::Value, HttpError>> + Send;
}

impl<T: Plain + 'static> RawOf<Parsed<T>> for T {
    type Value = T;

    fn parse(cx: &Context, name: &'static str) -> Result<T, HttpError> {
        crate::__private::parse_plain::<T>(cx, name)
    }

    fn resolve(
        self,
        _: &Context,
        _: &'static str,
    ) -> impl Future<Output = Result<T, HttpError>> + Send {
        ready(Ok(self))
    }
}

impl<R: Send + 'static, T: PathParam<Raw = R> + 'static> RawOf<Resolved<T>> for R {
    type Value = T;

    fn parse(cx: &Context, name: &'static str) -> Result<R, HttpError> {
        crate::__private::parse_param::<T>(cx, name)
    }

    fn resolve(
        self,
        cx: &Context,
        name: &'static str,
    ) -> impl Future<Output = Result<T, HttpError>> + Send {
        crate::__private::resolve_param::<T>(cx, name, self)
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
}

impl<K: 'static, R: RawOf<K>, Rest: Params> Params for (Param<K, R>, Rest) {
    type Raw = (R, Rest::Raw);
    type Values = (R::Value, Rest::Values);

    fn parse(self, cx: &Context) -> Result<Self::Raw, HttpError> {
        let raw = R::parse(cx, self.0.0)?;
        Ok((raw, self.1.parse(cx)?))
    }

    async fn resolve(self, cx: &Context, raw: Self::Raw) -> Result<Self::Values, HttpError> {
        let (raw, rest) = raw;
        let value = raw.resolve(cx, self.0.0).await?;
        Ok((value, self.1.resolve(cx, rest).await?))
    }
}

/// The parameters before they are looked up: parsed.
pub struct Unresolved<L: Params>(pub(super) L, pub(super) L::Raw);
