//! Handler arguments taken from the request: bodies, query strings, headers,
//! the last event id, the disconnect signal.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use justsse_http::http::HeaderMap;
use justsse_http::{HttpError, Json};
use serde::de::DeserializeOwned;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::context::Context;
use crate::state::missing;

/// A handler argument read from the request.
///
/// Implement it for your own argument types; a handler argument that is neither
/// a path parameter, a value from the route's middleware chain, nor an `Extract`
/// type does not compile.
///
/// ```
/// use justsse::{HttpError, extract::{Context, Extract}};
///
/// /// The `User-Agent` header, or an empty string.
/// struct UserAgent(String);
///
/// impl Extract for UserAgent {
///     async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
///         Ok(UserAgent(cx.head().header("user-agent").unwrap_or_default().to_owned()))
///     }
/// }
/// ```
pub trait Extract: Sized + Send {
    /// Reads the argument, or rejects the request.
    fn extract(cx: &mut Context) -> impl Future<Output = Result<Self, HttpError>> + Send;

    /// Declares the app state the argument needs, checked when the app is
    /// built (as [`State`](crate::State) does), so a missing one stops the
    /// app from starting instead of failing requests.
    fn require(needs: &mut crate::extract::Needs<'_>) {
        let _ = needs;
    }
}

/// The JSON body: 415 without `Content-Type: application/json`, 413 over the
/// body limit, 400 with serde's message when it does not parse.
impl<T: DeserializeOwned + Send> Extract for Json<T> {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        Ok(Json(cx.request().json().await?))
    }
}

/// The query string deserialized into `T`; 400 with serde's message when it does
/// not fit.
///
/// ```
/// use justsse::Query;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Page { page: Option<u32> }
///
/// fn page(Query(query): Query<Page>) -> u32 { query.page.unwrap_or(1) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send> Extract for Query<T> {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        let query = cx.head().query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|err| HttpError::bad_request(format!("invalid query string: {err}")))
    }
}

/// The request headers.
impl Extract for HeaderMap {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        Ok(cx.head().headers().clone())
    }
}

/// The id of the last event a reconnecting client saw: the `Last-Event-ID`
/// header browsers send when `EventSource` reconnects, or, for polyfills that
/// cannot set headers, the `lastEventId` query parameter. `None` on a first
/// connection.
///
/// ```
/// use justsse::LastEventId;
///
/// fn resume_after(last: &LastEventId) -> u64 {
///     last.parse::<u64>().unwrap_or(0)
/// }
/// assert_eq!(resume_after(&LastEventId(Some("41".into()))), 41);
/// assert_eq!(resume_after(&LastEventId(None)), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastEventId(pub Option<String>);

impl LastEventId {
    /// The id, if the client sent one.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The id parsed as `T`, if sent and valid.
    pub fn parse<T: std::str::FromStr>(&self) -> Option<T> {
        self.0.as_deref()?.parse().ok()
    }
}

impl Extract for LastEventId {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        let head = cx.head();
        if let Some(id) = head.header("last-event-id") {
            return Ok(LastEventId(Some(id.to_owned())));
        }
        let from_query = head.query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "lastEventId")
                .map(|(_, value)| value.into_owned())
        });
        Ok(LastEventId(from_query))
    }
}

/// A future that resolves when the response is over: the client left, the
/// stream ended, or the server shut it down. Hand it to work you start for a
/// stream so that the work stops with it.
///
/// ```
/// use justsse::Disconnected;
///
/// async fn watch(disconnected: Disconnected) {
///     tokio::spawn(async move {
///         tokio::select! {
///             () = disconnected => { /* the client is gone: clean up */ }
///             () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
///         }
///     });
/// }
/// ```
pub struct Disconnected {
    token: CancellationToken,
    wait: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl std::fmt::Debug for Disconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disconnected")
            .field("gone", &self.token.is_cancelled())
            .finish()
    }
}

impl Disconnected {
    /// Whether the response is already over.
    pub fn is_gone(&self) -> bool {
        self.token.is_cancelled()
    }
}

impl Future for Disconnected {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        self.wait.as_mut().poll(cx)
    }
}

impl Extract for Disconnected {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        let token = CancellationToken::new();
        cx.hold_until_response_ends(token.clone().drop_guard());
        Ok(Disconnected {
            wait: Box::pin(token.clone().cancelled_owned()),
            token,
        })
    }
}

/// A handler argument that is a value given to [`App::state`](crate::App::state).
///
/// The application refuses to start if a route asks for state it was not given.
///
/// ```
/// use justsse::State;
///
/// struct Settings { greeting: String }
///
/// fn greet(settings: State<Settings>) -> String {
///     settings.greeting.clone()
/// }
/// ```
#[derive(Debug)]
pub struct State<T>(Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::ops::Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> Extract for State<T> {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        cx.app().get_arc().map(State).ok_or_else(missing::<T>)
    }

    fn require(needs: &mut crate::extract::Needs<'_>) {
        needs.state::<T>();
    }
}
