//! Progressive enhancement: one GET route answers plain clients with JSON and
//! event-stream clients with the same value as a first event, followed by what the
//! handler sends on its [`Channel`].

use std::marker::PhantomData;

use futures_util::StreamExt;
use justsse_http::{
    Event, EventError, HttpError, IntoResponse, Json, Response, Sse, accepts_event_stream,
};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::context::Context;
use crate::extractors::Extract;

/// How many updates may wait for a slow client before `send` waits.
const CHANNEL_CAPACITY: usize = 32;

/// The updates of a progressive route (`#[get("/path", sse)]`), given to the
/// handler as `Option<Channel<T>>`: `Some` when the client asked for an event
/// stream. Each [`send`](Channel::send) becomes one event whose data is the value
/// as JSON; the stream ends when every clone of the channel is dropped.
///
/// ```
/// use justsse::progressive::Channel;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Progress { percent: u8 }
///
/// fn report(updates: Option<Channel<Progress>>) {
///     if let Some(updates) = updates {
///         tokio::spawn(async move {
///             for percent in [50, 100] {
///                 if updates.send(&Progress { percent }).await.is_err() {
///                     break; // the client left
///                 }
///             }
///         });
///     }
/// }
/// ```
pub struct Channel<T> {
    tx: mpsc::Sender<Event>,
    value: PhantomData<fn(&T)>,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            value: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

/// Why a channel send failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The client left; nothing more will be delivered.
    #[error("the client is gone")]
    Closed,
    /// The value could not be encoded.
    #[error(transparent)]
    Event(#[from] EventError),
}

impl<T: Serialize> Channel<T> {
    /// Sends `value` as the next event, waiting while the client is behind.
    pub async fn send(&self, value: &T) -> Result<(), SendError> {
        self.send_event(Event::new().json(value)?).await
    }

    /// Sends an event of your own (a name, an id...).
    pub async fn send_event(&self, event: Event) -> Result<(), SendError> {
        self.tx
            .send(event.check()?)
            .await
            .map_err(|_| SendError::Closed)
    }

    /// Whether the client is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the client is gone (its stream closed or reset, its
    /// connection lost, or the server shutting down): await it beside the work
    /// that feeds the channel, so that work stops with its client instead of at
    /// its next `send`.
    ///
    /// ```
    /// use justsse::progressive::Channel;
    /// use std::time::Duration;
    ///
    /// async fn feed(updates: Channel<u64>) {
    ///     let mut every = tokio::time::interval(Duration::from_secs(5));
    ///     for n in 0.. {
    ///         tokio::select! {
    ///             () = updates.closed() => break,
    ///             _ = every.tick() => {}
    ///         }
    ///         if updates.send(&n).await.is_err() {
    ///             break;
    ///         }
    ///     }
    /// }
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

impl<T: Send> Extract for Option<Channel<T>> {
    async fn extract(cx: &mut Context) -> Result<Self, HttpError> {
        if !accepts_event_stream(cx.head().headers()) {
            return Ok(None);
        }
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        cx.set_updates(rx);
        Ok(Some(Channel {
            tx,
            value: PhantomData,
        }))
    }
}

/// What a progressive handler returns: `Json<T>`, or a `Result` of it whose
/// error is answered with its own status, to both kinds of client.
#[diagnostic::on_unimplemented(
    message = "a progressive route (`#[get(\"..\", sse)]`) returns `Json<T>` or `Result<Json<T>, E>`, not `{Self}`"
)]
pub trait ProgressiveResponse {
    /// The value as the first event, or the error that rejects the request.
    fn first_event(self) -> Result<Event, HttpError>;
    /// The plain response.
    fn into_plain(self) -> Response;
}

impl<T: Serialize> ProgressiveResponse for Json<T> {
    fn first_event(self) -> Result<Event, HttpError> {
        Event::new().json(&self.0).map_err(HttpError::internal)
    }

    fn into_plain(self) -> Response {
        self.into_response()
    }
}

impl<T: Serialize, E: Into<HttpError>> ProgressiveResponse for Result<Json<T>, E> {
    fn first_event(self) -> Result<Event, HttpError> {
        match self {
            Ok(json) => json.first_event(),
            Err(err) => Err(err.into()),
        }
    }

    fn into_plain(self) -> Response {
        match self {
            Ok(json) => json.into_response(),
            Err(err) => err.into().into_response(),
        }
    }
}

/// The response of a progressive route.
pub(crate) fn respond(mut cx: Context, value: impl ProgressiveResponse) -> Response {
    if !accepts_event_stream(cx.head().headers()) {
        return cx.finish(value.into_plain());
    }
    let first = match value.first_event() {
        Ok(first) => first,
        Err(rejection) => return cx.finish(rejection.into_response()),
    };
    let updates = cx.take_updates();
    let events =
        futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(first) }).chain(
            futures_util::stream::unfold(updates, |updates| async move {
                let mut updates = updates?;
                let event = updates.recv().await?;
                Some((Ok(event), Some(updates)))
            }),
        );
    cx.finish(Sse::new(events).into_response())
}
