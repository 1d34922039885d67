//! `#[uses]` middleware: an async function whose arguments are resolved by type,
//! as a handler's are, and whose `Ok` value joins the route's chain.
//!
//! An argument is `&RequestHead`, `&U` for a value an earlier middleware of the
//! chain produced, or any [`Extract`] type (`State<T>`, `Query<T>`, a header
//! map, ...). Which one is inferred from the function's signature: borrowed
//! arguments are [`Borrowed`], owned ones are extracted, up to four in any order.
//!
//! Wrapping middleware (`#[wrap]`, [`Wrap`] with [`Next`]) sees the request and
//! the response around the rest; tower layers ([`AppLayer`]) fit around the
//! whole app.

use std::future::Future;
use std::marker::PhantomData;

use justsse_http::{HttpError, RequestHead};

use crate::chain::{Chained, Pick};
use crate::context::Context;
use crate::extractors::Extract;
use crate::param::Needs;

pub use justsse_http::{AppLayer, AppService, Next, Wrap};

/// Marks a borrowed middleware argument `&A`, found at `I`.
#[derive(Debug)]
pub struct Ref<A, I>(PhantomData<fn() -> (A, I)>);

/// Marks an owned middleware argument `A`, an [`Extract`] type.
#[derive(Debug)]
pub struct Own<A>(PhantomData<fn() -> A>);

/// Marks the request head.
#[derive(Debug)]
pub struct Head;

/// A value a middleware can borrow: the request head, or a value of the chain.
#[diagnostic::on_unimplemented(
    message = "a middleware cannot borrow `{Self}` here: no earlier middleware in this route's chain provides it",
    label = "not the request head, not returned by an earlier `#[uses(...)]`",
    note = "a middleware borrows `&RequestHead`, or `&T` where an earlier middleware of the chain returns `Result<T, _>`; take app state as `State<T>`"
)]
pub trait Borrowed<C, I>: Sync {
    /// Borrows the value.
    fn borrow<'a>(cx: &'a Context, chain: &'a C) -> &'a Self;
}

impl<C> Borrowed<C, Head> for RequestHead {
    fn borrow<'a>(cx: &'a Context, _: &'a C) -> &'a Self {
        cx.head()
    }
}

#[diagnostic::do_not_recommend]
impl<C: Pick<T, I>, T: Sync, I> Borrowed<C, Chained<I>> for T {
    fn borrow<'a>(_: &'a Context, chain: &'a C) -> &'a Self {
        chain.pick()
    }
}

/// A middleware callable on chain `C`: an async function of up to four
/// arguments (see the [module](self)) returning `Result<V, E>` with
/// `E: Into<HttpError>`. `M` describes the arguments and is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as middleware on this route",
    label = "not `async fn(args..) -> Result<T, E>` with arguments this route can give",
    note = "a middleware takes `&RequestHead`, `&T` for a `T` an earlier `#[uses(...)]` returns, or `Extract` types such as `State<T>`, and returns `Result<T, E>` where `E: Into<HttpError>`",
    note = "a middleware cannot borrow what no middleware before it on this route returns: check each `&T` argument against the `#[uses(...)]` written before it"
)]
pub trait Middleware<'a, C, M>: Send + Sync + 'static {
    /// The value the middleware adds to the chain.
    type Output: Send + 'static;

    /// Runs the middleware on the request in `cx`, after the chain so far.
    fn call(
        &'a self,
        cx: &'a mut Context,
        chain: &'a C,
    ) -> impl Future<Output = Result<Self::Output, HttpError>> + Send + 'a;

    /// Declares the app state its extracted arguments need.
    fn require(needs: &mut Needs<'_>);
}

macro_rules! arg_type {
    (ref $lt:lifetime $A:ident) => { &$lt $A };
    (own $lt:lifetime $A:ident) => { $A };
}

macro_rules! arg_extract {
    (ref $cx:ident $A:ident) => {
        ()
    };
    (own $cx:ident $A:ident) => {
        <$A as Extract>::extract($cx).await?
    };
}

macro_rules! arg_value {
    (ref $cx:ident $chain:ident $value:ident $A:ident $($I:ident)?) => {
        <$A as Borrowed<C, $($I)?>>::borrow($cx, $chain)
    };
    (own $cx:ident $chain:ident $value:ident $A:ident) => {
        $value
    };
}

macro_rules! arg_require {
    (ref $needs:ident $A:ident) => {};
    (own $needs:ident $A:ident) => {
        <$A as Extract>::require($needs);
    };
}

macro_rules! middleware {
    ($( ($kind:ident $value:ident $A:ident [$($I:ident)?] $marker:ty, $($bound:tt)+) ),+) => {
        impl<'a, C, F, Fut, V, E, $($A, $($I,)?)+> Middleware<'a, C, ($($marker,)+)> for F
        where
            C: Sync + 'a,
            F: Fn($(arg_type!($kind 'a $A)),+) -> Fut + Send + Sync + 'static,
            $($A: $($bound)+ + 'a,)+
            Fut: Future<Output = Result<V, E>> + Send + 'a,
            V: Send + 'static,
            E: Into<HttpError>,
        {
            type Output = V;

            #[allow(unused_variables, clippy::unused_unit)]
            fn call(
                &'a self,
                cx: &'a mut Context,
                chain: &'a C,
            ) -> impl Future<Output = Result<V, HttpError>> + Send + 'a {
                async move {
                    $(let $value = arg_extract!($kind cx $A);)+
                    let cx: &'a Context = cx;
                    self($(arg_value!($kind cx chain $value $A $($I)?)),+)
                        .await
                        .map_err(Into::into)
                }
            }

            #[allow(unused_variables)]
            fn require(needs: &mut Needs<'_>) {
                $(arg_require!($kind needs $A);)+
            }
        }
    };
}

macro_rules! middleware_all {
    ($($a:ident $A:ident $I:ident),+) => {
        middleware_all!(@build [] $($a $A $I),+);
    };
    (@build [$($done:tt)*] $a:ident $A:ident $I:ident $(, $ra:ident $rA:ident $rI:ident)*) => {
        middleware_all!(@build [$($done)* (ref $a $A [$I] Ref<$A, $I>, Borrowed<C, $I>)] $($ra $rA $rI),*);
        middleware_all!(@build [$($done)* (own $a $A [] Own<$A>, Extract)] $($ra $rA $rI),*);
    };
    (@build [$($done:tt)+]) => {
        middleware!($($done),+);
    };
}

/// The value a middleware returns, told by its signature alone (`Args` its
/// argument types, borrowed ones included), whether or not the route can
/// give it those arguments: two middleware are compared by it.
pub trait MiddlewareSignature<Args> {
    /// The value it adds to the chain.
    type Output;
}

macro_rules! middleware_signature {
    ($($A:ident),+) => {
        impl<F, Fut, V, E, $($A,)+> MiddlewareSignature<($($A,)+)> for F
        where
            F: Fn($($A),+) -> Fut,
            Fut: Future<Output = Result<V, E>>,
        {
            type Output = V;
        }
    };
}

middleware_signature!(A1);
middleware_signature!(A1, A2);
middleware_signature!(A1, A2, A3);
middleware_signature!(A1, A2, A3, A4);

middleware_all!(a1 A1 I1);
middleware_all!(a1 A1 I1, a2 A2 I2);
middleware_all!(a1 A1 I1, a2 A2 I2, a3 A3 I3);
middleware_all!(a1 A1 I1, a2 A2 I2, a3 A3 I3, a4 A4 I4);
