//! Routes built by hand, with the typed chain the macros write for
//! controllers: `sse(handler).uses(auth).guard(|u: &User| u.is_admin)`,
//! mounted with [`App::route`](crate::App::route).
//!
//! Each [`uses`](Route::uses) runs a [middleware](crate::middleware::Middleware) whose
//! value joins the chain; each [`guard`](Route::guard) borrows chain values and
//! answers 403 (or its own error) when it says no; the handler's arguments are
//! taken from the chain by type, or read from the request ([`Extract`](crate::extract::Extract)). A type
//! nothing provides is a compile error naming it, at the call that asks for it.
//!
//! ```
//! use justsse::prelude::*;
//! use justsse::route;
//!
//! #[derive(Clone)]
//! struct User { is_admin: bool }
//!
//! async fn auth(head: &RequestHead) -> Result<User, HttpError> {
//!     match head.header("authorization") {
//!         Some("Bearer admin") => Ok(User { is_admin: true }),
//!         Some(_) => Ok(User { is_admin: false }),
//!         None => Err(HttpError::unauthorized("who are you?")),
//!     }
//! }
//!
//! async fn ticks(user: User, last: LastEventId) -> impl EventStream {
//!     stream! {
//!         let from = last.parse::<u64>().unwrap_or(0);
//!         yield Event::named("hello").id(from + 1).data(format!("admin: {}", user.is_admin));
//!     }
//! }
//!
//! let app = App::new().route(
//!     "/ticks",
//!     route::sse(ticks).uses(auth).guard(|user: &User| user.is_admin),
//! );
//! assert!(app.routes().to_string().contains("/ticks"));
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use justsse_http::http::Method;
use justsse_http::{HttpError, IntoResponse, MethodRouter, Request, Response, Wrap};

use crate::chain::{Arg, Guard};
use crate::context::Context;
use crate::controller::Mount;
use crate::describe::Describer;
use crate::middleware::Middleware;
use crate::param::Needs;
use crate::stream::SseResponse;

pub use crate::controller::{RouteInfo, RouteKind, RouteTable};

/// A route under construction: what it answers, its handler, and its chain of
/// middleware and guards, run in the order written.
pub struct Route<K, H, S> {
    kind: K,
    handler: H,
    steps: S,
    uses: Vec<&'static str>,
    guards: Vec<&'static str>,
    wraps: Vec<Wrapping>,
}

type Wrapping = Box<dyn FnOnce(MethodRouter) -> MethodRouter + Send>;

impl<K: std::fmt::Debug, H, S> std::fmt::Debug for Route<K, H, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("kind", &self.kind)
            .field("handler", &std::any::type_name::<H>())
            .field("uses", &self.uses)
            .field("guards", &self.guards.len())
            .finish_non_exhaustive()
    }
}

/// A route answering one method with a plain (JSON) response.
#[derive(Debug, Clone)]
pub struct Plain(Method);

/// A route answering with an event stream: `GET` ([`sse`]), or a stream
/// that starts with a request ([`Route::stream`]).
#[derive(Debug, Clone)]
pub struct Streaming(Method);

fn route<K, H>(kind: K, handler: H) -> Route<K, H, ()> {
    Route {
        kind,
        handler,
        steps: (),
        uses: Vec::new(),
        guards: Vec::new(),
        wraps: Vec::new(),
    }
}

/// A `GET` route whose handler's value is the response (`Json`, `Html`, a
/// status, a `Result` of these...).
pub fn get<H>(handler: H) -> Route<Plain, H, ()> {
    route(Plain(Method::GET), handler)
}

/// A `POST` route; see [`get`].
pub fn post<H>(handler: H) -> Route<Plain, H, ()> {
    route(Plain(Method::POST), handler)
}

/// A `PUT` route; see [`get`].
pub fn put<H>(handler: H) -> Route<Plain, H, ()> {
    route(Plain(Method::PUT), handler)
}

/// A `PATCH` route; see [`get`].
pub fn patch<H>(handler: H) -> Route<Plain, H, ()> {
    route(Plain(Method::PATCH), handler)
}

/// A `DELETE` route; see [`get`].
pub fn delete<H>(handler: H) -> Route<Plain, H, ()> {
    route(Plain(Method::DELETE), handler)
}

/// An event-stream route (`GET` with `Accept: text/event-stream`): the handler
/// returns an [`EventStream`](crate::EventStream) or an [`Sse`](crate::Sse).
pub fn sse<H>(handler: H) -> Route<Streaming, H, ()> {
    route(Streaming(Method::GET), handler)
}

/// How a route kind answers: its methods, and the response its handler's
/// value becomes.
#[diagnostic::on_unimplemented(
    message = "this route's handler cannot return `{O}`",
    note = "a `get`/`post`/... handler returns a response (`Json<T>`, `Html`, `StatusCode`, a `Result` of these); an `sse` handler returns an `EventStream` or `Sse`"
)]
#[doc(hidden)]
pub trait Respond<O, M>: Send + Sync + 'static {
    /// The route table's kind.
    fn kind(&self) -> RouteKind;
    /// The method, as the route table shows it.
    fn method(&self) -> &'static str;
    /// The event names, when the response type tells them.
    fn events(&self) -> &'static [&'static str] {
        &[]
    }
    /// What the response type says for the OpenAPI document.
    fn describe(&self) -> Describer {
        Describer::NONE
    }
    /// The methods the route answers, all served by `handler`.
    fn methods(&self, handler: impl justsse_http::Handler) -> MethodRouter;
    /// The response.
    fn respond(value: O) -> Response;
}

impl<O: IntoResponse> Respond<O, ()> for Plain {
    fn kind(&self) -> RouteKind {
        RouteKind::plain(O::BODY)
    }

    fn method(&self) -> &'static str {
        method_name(&self.0)
    }

    fn methods(&self, handler: impl justsse_http::Handler) -> MethodRouter {
        MethodRouter::default().on(self.0.clone(), handler)
    }

    fn respond(value: O) -> Response {
        value.into_response()
    }
}

impl<O: SseResponse<M>, M: 'static> Respond<O, M> for Streaming {
    fn kind(&self) -> RouteKind {
        O::KIND
    }

    fn events(&self) -> &'static [&'static str] {
        O::EVENTS
    }

    fn describe(&self) -> Describer {
        O::DESCRIBE
    }

    fn method(&self) -> &'static str {
        method_name(&self.0)
    }

    fn methods(&self, handler: impl justsse_http::Handler) -> MethodRouter {
        match self.0 {
            Method::GET => MethodRouter::default().sse(handler),
            _ => MethodRouter::default().stream(self.0.clone(), handler),
        }
    }

    fn respond(value: O) -> Response {
        value.into_sse()
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

#[doc(hidden)]
/// What [`App::route`](crate::App::route) mounts: a [`Route`] whose handler
/// can be called with its chain and whose value fits its kind. `M` is
/// inferred.
pub trait IntoRoute<M>: Send + 'static {
    /// The route's row in the route table, at `path`.
    fn info(&self, path: &'static str) -> RouteInfo;

    /// Adds the route to `mount`, checking what it needs from the app.
    #[doc(hidden)]
    fn mount(self, info: &'static RouteInfo, mount: &mut Mount<'_>);
}

impl<K, H, S, HM, RM> IntoRoute<(HM, RM)> for Route<K, H, S>
where
    K: Respond<H::Output, RM>,
    H: RouteHandler<S::Chain, HM>,
    S: Steps,
    HM: 'static,
    RM: 'static,
{
    fn info(&self, path: &'static str) -> RouteInfo {
        // The types a `Path` extractor reads the parameters as, if it does.
        let no_state = crate::state::AppState::default();
        let mut needs = crate::param::Needs::new(&no_state);
        S::require(&mut needs);
        H::require(&mut needs);
        let mut types = needs.path_types.into_iter();
        // An invalid path has no parameters here; the router refuses it.
        let names = justsse_http::RoutePath::parse(path)
            .map(|path| path.params().to_vec())
            .unwrap_or_default();
        let params: Vec<(&'static str, &'static str)> = names
            .into_iter()
            .map(|name| {
                let name: &'static str = Box::leak(name.into_boxed_str());
                (name, types.next().unwrap_or(""))
            })
            .collect();
        // A route is described once, when the app is configured: its table
        // row lives as long as the program, like a controller's.
        RouteInfo {
            method: self.kind.method(),
            path,
            kind: self.kind.kind(),
            handler: short_name::<H>(),
            params: Box::leak(params.into_boxed_slice()),
            uses: Box::leak(self.uses.clone().into_boxed_slice()),
            guards: Box::leak(self.guards.clone().into_boxed_slice()),
            summary: "",
            events: <K as Respond<H::Output, RM>>::events(&self.kind),
            describe: <K as Respond<H::Output, RM>>::describe(&self.kind),
        }
    }

    fn mount(self, info: &'static RouteInfo, mount: &mut Mount<'_>) {
        mount.require(info, "route", |needs| {
            S::require(needs);
            H::require(needs);
        });
        let methods = self.kind.methods(Serve {
            route: Arc::new((self.steps, self.handler)),
            app: mount.app.clone(),
            marker: PhantomData::<fn() -> (K, HM, RM)>,
        });
        let methods = self
            .wraps
            .into_iter()
            .fold(methods, |methods, wrap| wrap(methods));
        mount.add(info, methods);
    }
}

/// A mounted route's request handler.
struct Serve<S, H, M> {
    route: Arc<(S, H)>,
    app: Arc<crate::state::AppState>,
    marker: PhantomData<M>,
}

impl<K, H, S, HM, RM> justsse_http::Handler for Serve<S, H, fn() -> (K, HM, RM)>
where
    K: Respond<H::Output, RM>,
    H: RouteHandler<S::Chain, HM>,
    S: Steps,
    HM: 'static,
    RM: 'static,
{
    fn call(&self, req: Request) -> justsse_http::BoxFuture<Response> {
        let route = self.route.clone();
        let mut cx = Context::new(req, self.app.clone());
        Box::pin(async move {
            let (steps, handler) = &*route;
            let chain = match steps.run(&mut cx).await {
                Ok(chain) => chain,
                Err(err) => return err.into_response(),
            };
            match handler.call(&mut cx, chain).await {
                Ok(value) => cx.finish(K::respond(value)),
                Err(err) => err.into_response(),
            }
        })
    }
}

/// The last name of a function's path: `auth` for `tickets::auth`.
fn short_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

impl<H, S> Route<Plain, H, S> {
    /// This route answers with an event stream: a stream that starts with a
    /// request, as model output and MCP start theirs with a `POST` and a JSON
    /// body. The handler returns what an [`sse`] handler returns (or a
    /// [`JsonOrStream`](crate::response::JsonOrStream) to let the request choose); the
    /// body is read and checked before the stream's headers are sent.
    ///
    /// ```
    /// use justsse::prelude::*;
    /// use justsse::route;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Prompt { words: u32 }
    ///
    /// async fn complete(Json(prompt): Json<Prompt>) -> impl EventStream {
    ///     stream! {
    ///         for n in 0..prompt.words {
    ///             yield Event::named("token").data(format!("word{n} "));
    ///         }
    ///         yield Event::new().data("[DONE]");
    ///     }
    /// }
    ///
    /// let app = App::new().route("/complete", route::post(complete).stream());
    /// let table = app.routes().to_string();
    /// assert!(table.lines().any(|row| row.split_whitespace().take(3).eq(["POST", "/complete", "sse"])));
    /// ```
    pub fn stream(self) -> Route<Streaming, H, S> {
        Route {
            kind: Streaming(self.kind.0),
            handler: self.handler,
            steps: self.steps,
            uses: self.uses,
            guards: self.guards,
            wraps: self.wraps,
        }
    }
}

impl<K, H, S: Steps> Route<K, H, S> {
    /// Runs `middleware` after the steps so far; its `Ok` value joins the
    /// chain, its error is the response.
    pub fn uses<F, M, V>(self, middleware: F) -> Route<K, H, (S, Use<F, M>)>
    where
        F: for<'a> Middleware<'a, S::Chain, M, Output = V>,
        V: Send + Sync + 'static,
        M: 'static,
    {
        let mut uses = self.uses;
        uses.push(short_name::<F>());
        Route {
            kind: self.kind,
            handler: self.handler,
            steps: (self.steps, Use(middleware, PhantomData)),
            uses,
            guards: self.guards,
            wraps: self.wraps,
        }
    }

    /// Checks `guard` after the steps so far: a closure or function of
    /// borrowed chain values (`|user: &User| user.is_admin`) returning `bool`
    /// (false is 403) or `Result<(), E>`.
    pub fn guard<G, M>(self, guard: G) -> Route<K, H, (S, Check<G, M>)>
    where
        G: Guard<S::Chain, M> + Send + Sync + 'static,
        M: 'static,
    {
        self.guard_with(guard, "forbidden")
    }

    /// [`guard`](Self::guard) whose `false` is a 403 saying `message`.
    ///
    /// ```
    /// use justsse::prelude::*;
    /// use justsse::route;
    ///
    /// #[derive(Clone)]
    /// struct User { is_admin: bool }
    ///
    /// async fn auth(head: &RequestHead) -> Result<User, HttpError> {
    ///     Ok(User { is_admin: head.headers().contains_key("x-admin") })
    /// }
    ///
    /// async fn secret(user: User) -> Json<bool> {
    ///     Json(user.is_admin)
    /// }
    ///
    /// let app = App::new().route(
    ///     "/secret",
    ///     route::get(secret).uses(auth).guard_with(|u: &User| u.is_admin, "admins only"),
    /// );
    /// ```
    pub fn guard_with<G, M>(self, guard: G, message: &'static str) -> Route<K, H, (S, Check<G, M>)>
    where
        G: Guard<S::Chain, M> + Send + Sync + 'static,
        M: 'static,
    {
        let mut guards = self.guards;
        guards.push("guard");
        Route {
            kind: self.kind,
            handler: self.handler,
            steps: (self.steps, Check(guard, message, PhantomData)),
            uses: self.uses,
            guards,
            wraps: self.wraps,
        }
    }

    /// Wraps the route in a wrapping middleware (see [`Next`](crate::middleware::Next)),
    /// outside the wraps given before.
    pub fn wrap(mut self, wrap: impl Wrap) -> Self {
        self.wraps.push(Box::new(move |methods| methods.wrap(wrap)));
        self
    }
}

#[doc(hidden)]
/// The middleware and guards of a route, as a type-level list.
pub trait Steps: Send + Sync + 'static {
    /// The chain the steps produce.
    type Chain: Send + Sync + 'static;

    /// Runs every step in order.
    fn run(&self, cx: &mut Context) -> impl Future<Output = Result<Self::Chain, HttpError>> + Send;

    /// Declares what the middleware's arguments need from the app.
    fn require(needs: &mut Needs<'_>);
}

impl Steps for () {
    type Chain = ();

    async fn run(&self, _: &mut Context) -> Result<(), HttpError> {
        Ok(())
    }

    fn require(_: &mut Needs<'_>) {}
}

#[doc(hidden)]
/// A middleware step.
pub struct Use<F, M>(F, PhantomData<fn() -> M>);

impl<S, F, M, V> Steps for (S, Use<F, M>)
where
    S: Steps,
    F: for<'a> Middleware<'a, S::Chain, M, Output = V>,
    V: Send + Sync + 'static,
    M: 'static,
{
    type Chain = (V, S::Chain);

    async fn run(&self, cx: &mut Context) -> Result<Self::Chain, HttpError> {
        let chain = self.0.run(cx).await?;
        let value = self.1.0.call(cx, &chain).await?;
        Ok((value, chain))
    }

    fn require(needs: &mut Needs<'_>) {
        S::require(needs);
        <F as Middleware<'static, S::Chain, M>>::require(needs);
    }
}

#[doc(hidden)]
/// A guard step.
pub struct Check<G, M>(G, &'static str, PhantomData<fn() -> M>);

impl<S, G, M> Steps for (S, Check<G, M>)
where
    S: Steps,
    G: Guard<S::Chain, M> + Send + Sync + 'static,
    M: 'static,
{
    type Chain = S::Chain;

    async fn run(&self, cx: &mut Context) -> Result<Self::Chain, HttpError> {
        let chain = self.0.run(cx).await?;
        self.1.0.run(&chain, self.1.1)?;
        Ok(chain)
    }

    fn require(needs: &mut Needs<'_>) {
        S::require(needs);
    }
}

#[doc(hidden)]
/// A handler of a hand-built route: an async function whose arguments (up to
/// six) come from the chain `C` by type or from the request ([`Extract`]).
/// `M` describes the arguments and is inferred.
///
/// [`Extract`]: crate::extract::Extract
pub trait RouteHandler<C, M>: Send + Sync + 'static {
    /// What the handler returns.
    type Output;

    /// Takes the arguments and calls the handler.
    fn call<'a>(
        &'a self,
        cx: &'a mut Context,
        chain: C,
    ) -> impl Future<Output = Result<Self::Output, HttpError>> + Send + 'a
    where
        C: 'a;

    /// Declares what the extracted arguments need from the app.
    fn require(needs: &mut Needs<'_>);
}

impl<F, C, Args, M> RouteHandler<C, (Args, M)> for F
where
    F: HandlerSignature<Args>,
    Args: HandlerArgs<F, C, M>,
{
    type Output = <F::Future as Future>::Output;

    fn call<'a>(
        &'a self,
        cx: &'a mut Context,
        chain: C,
    ) -> impl Future<Output = Result<Self::Output, HttpError>> + Send + 'a
    where
        C: 'a,
    {
        Args::call(self, cx, chain)
    }

    fn require(needs: &mut Needs<'_>) {
        Args::require(needs);
    }
}

#[doc(hidden)]
/// The argument types of a handler, told by its signature alone, so that
/// each is then looked for in the chain or among the extractors.
pub trait HandlerSignature<Args>: Send + Sync + 'static {
    /// What calling it returns.
    type Future: Future + Send;
}

#[doc(hidden)]
/// Calls handler `F` with its arguments `Self` taken from chain `C` or the
/// request.
pub trait HandlerArgs<F: HandlerSignature<Self>, C, M>: Sized {
    /// Takes the arguments and calls `handler`.
    fn call<'a>(
        handler: &'a F,
        cx: &'a mut Context,
        chain: C,
    ) -> impl Future<Output = Result<<F::Future as Future>::Output, HttpError>> + Send + 'a
    where
        C: 'a;

    /// Declares what the extracted arguments need from the app.
    fn require(needs: &mut Needs<'_>);
}

macro_rules! handler {
    ($($value:ident $A:ident $M:ident $P:ident $C:ident),*) => {
        impl<F, Fut, $($A),*> HandlerSignature<($($A,)*)> for F
        where
            F: Fn($($A),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send,
        {
            type Future = Fut;
        }

        impl<F, Fut, C0, $($A, $M, $C),*> HandlerArgs<F, C0, ($($M,)*)> for ($($A,)*)
        where
            F: Fn($($A),*) -> Fut + HandlerSignature<($($A,)*), Future = Fut>,
            Fut: Future + Send,
            C0: Send,
            $($A: Arg<$P, $M, Rest = $C> + Send, $C: Send,)*
        {
            #[allow(unused_variables)]
            fn call<'a>(
                handler: &'a F,
                cx: &'a mut Context,
                chain: C0,
            ) -> impl Future<Output = Result<Fut::Output, HttpError>> + Send + 'a
            where
                C0: 'a,
            {
                async move {
                    $(let ($value, chain) = <$A as Arg<$P, $M>>::get(cx, chain).await?;)*
                    Ok(handler($($value),*).await)
                }
            }

            #[allow(unused_variables)]
            fn require(needs: &mut Needs<'_>) {
                $(<$A as Arg<$P, $M>>::require(needs);)*
            }
        }
    };
}

handler!();
handler!(a1 A1 M1 C0 C1);
handler!(a1 A1 M1 C0 C1, a2 A2 M2 C1 C2);
handler!(a1 A1 M1 C0 C1, a2 A2 M2 C1 C2, a3 A3 M3 C2 C3);
handler!(a1 A1 M1 C0 C1, a2 A2 M2 C1 C2, a3 A3 M3 C2 C3, a4 A4 M4 C3 C4);
handler!(a1 A1 M1 C0 C1, a2 A2 M2 C1 C2, a3 A3 M3 C2 C3, a4 A4 M4 C3 C4, a5 A5 M5 C4 C5);
handler!(a1 A1 M1 C0 C1, a2 A2 M2 C1 C2, a3 A3 M3 C2 C3, a4 A4 M4 C3 C4, a5 A5 M5 C4 C5, a6 A6 M6 C5 C6);
