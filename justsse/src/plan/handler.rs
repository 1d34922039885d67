//! The end of a route: its handler, called with the arguments the plan
//! read, and how the handler's value becomes the response.

use std::future::{Future, Ready, ready};
use std::sync::Arc;

use futures_util::Stream;
use justsse_http::{BoxError, Event, Response};

use crate::__private::StreamOptions;
use crate::context::Context;
use crate::progressive::ProgressiveResponse;
use crate::stream::SseResponse;

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

    /// A copy for one request (a function).
    fn copy(&self) -> Self;
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

/// How the handler's value becomes the response.
pub trait Finish<R, M>: Send + Sync {
    /// Makes it.
    fn finish(self, cx: Context, value: R) -> Response;

    /// A copy for one request.
    fn copy(&self) -> Self;
}

/// A JSON (plain) route.
pub struct Respond;

impl<R: justsse_http::IntoResponse> Finish<R, ()> for Respond {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::respond(cx, value)
    }

    fn copy(&self) -> Self {
        Respond
    }
}

/// A stream route's options, as a function (no size in the route's future).
pub trait Options: Fn() -> StreamOptions + Copy + Send + Sync {}

impl<O: Fn() -> StreamOptions + Copy + Send + Sync> Options for O {}

/// A stream route (not a generator) with its options.
pub struct Streams<O>(pub O);

impl<R: SseResponse<M>, M, O: Options> Finish<R, M> for Streams<O> {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::sse(cx, value, (self.0)())
    }

    fn copy(&self) -> Self {
        Streams(self.0)
    }
}

/// A progressive route with its options.
pub struct Progressive<O>(pub O);

impl<R: ProgressiveResponse, O: Options> Finish<R, ()> for Progressive<O> {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::progressive(cx, value, (self.0)())
    }

    fn copy(&self) -> Self {
        Progressive(self.0)
    }
}

/// What a generator handler's body returns: a stream of events that owns
/// what it uses.
pub trait Events: Stream<Item = Result<Event, BoxError>> + Send + 'static {}

impl<S: Stream<Item = Result<Event, BoxError>> + Send + 'static> Events for S {}

/// A generator route with its options.
pub struct Generates<O>(pub O);

impl<R: Events, O: Options> Finish<R, ()> for Generates<O> {
    fn finish(self, cx: Context, value: R) -> Response {
        crate::__private::generator(cx, value, (self.0)())
    }

    fn copy(&self) -> Self {
        Generates(self.0)
    }
}

/// `(((), A1), A2)` from `A1, A2`: the arguments as the plan leaves them.
macro_rules! nest {
    (@acc [$($acc:tt)*]) => { $($acc)* };
    (@acc [$($acc:tt)*] $head:ident $(, $rest:ident)*) => { nest!(@acc [($($acc)*, $head)] $($rest),*) };
    ($($all:ident),*) => { nest!(@acc [()] $($all),*) };
}

macro_rules! handler_arity {
    ($($A:ident $a:ident),*) => {
        impl<'s, S, F, Fut, $($A,)*> Handler<'s, S, nest!($($A),*)> for Method<F>
        where
            S: Sync + 's,
            F: Fn(&'s S, $($A),*) -> Fut + Copy + Send + Sync + 'static,
            Fut: Future + Send + 's,
        {
            type Output = Fut::Output;
            type Future = Fut;

            fn call(&self, controller: &'s Arc<S>, args: nest!($($A),*)) -> Fut {
                let nest!($($a),*) = args;
                (self.0)(&**controller, $($a),*)
            }

            fn copy(&self) -> Self {
                Method(self.0)
            }
        }

        impl<'s, S, F, Fut, $($A,)*> Handler<'s, S, nest!($($A),*)> for Function<F>
        where
            S: 's,
            F: Fn($($A),*) -> Fut + Copy + Send + Sync + 'static,
            Fut: Future + Send + 's,
        {
            type Output = Fut::Output;
            type Future = Fut;

            fn call(&self, _: &'s Arc<S>, args: nest!($($A),*)) -> Fut {
                let nest!($($a),*) = args;
                (self.0)($($a),*)
            }

            fn copy(&self) -> Self {
                Function(self.0)
            }
        }

        impl<'s, S, F, R, $($A,)*> Handler<'s, S, nest!($($A),*)> for Generator<F>
        where
            S: Send + Sync + 's,
            F: Fn(Arc<S>, $($A),*) -> R + Copy + Send + Sync + 'static,
            R: Send + 's,
        {
            type Output = R;
            type Future = Ready<R>;

            fn call(&self, controller: &'s Arc<S>, args: nest!($($A),*)) -> Ready<R> {
                let nest!($($a),*) = args;
                ready((self.0)(Arc::clone(controller), $($a),*))
            }

            fn copy(&self) -> Self {
                Generator(self.0)
            }
        }

        impl<'s, S, F, Fut, $($A,)*> Handler<'s, S, nest!($($A),*)> for AsyncGenerator<F>
        where
            S: Send + Sync + 's,
            F: Fn(Arc<S>, $($A),*) -> Fut + Copy + Send + Sync + 'static,
            Fut: Future + Send + 's,
        {
            type Output = Fut::Output;
            type Future = Fut;

            fn call(&self, controller: &'s Arc<S>, args: nest!($($A),*)) -> Fut {
                let nest!($($a),*) = args;
                (self.0)(Arc::clone(controller), $($a),*)
            }

            fn copy(&self) -> Self {
                AsyncGenerator(self.0)
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
