//! Broadcast with replay: topics that number their events, keep the last ones,
//! and let a reconnecting client resume after the last id it saw.

mod budget;
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod conformance;
mod memory;
mod merged;
#[cfg(feature = "postgres")]
mod postgres;
mod presence;
#[cfg(feature = "redis")]
mod redis;
mod registry;
mod slow;
mod topic;

use std::fmt::Display;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use justsse_http::{BoxError, BoxFuture, Event, EventError, HttpError};

pub use memory::MemoryConfig;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{PostgresBackend, PostgresConfig};
pub use presence::Presence;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisBackend, RedisConfig, RedisConnection, RedisServers};
pub use slow::SlowConsumer;
/// The PostgreSQL driver the hub uses, for the transactions given to
/// [`Hub::publish_in`].
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use tokio_postgres;

/// The name of the event a subscriber receives when events it should have had
/// are gone: its `Last-Event-ID` is older than the replay buffer or unknown, or it
/// read too slowly and fell behind the buffer. Its data is
/// `{"reason": "too_old" | "unknown_id" | "lagged" | "unavailable"}` and its id is that of the
/// latest event, so the client's next reconnect resumes from there. A client that
/// receives it should refetch the state it shows; live events follow.
pub const RESYNC: &str = "resync";

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The event is invalid (a name or id with a line break).
    #[error(transparent)]
    Event(#[from] EventError),
    /// The backend cannot take events now (for example, its server is down).
    #[error("the hub's backend is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The backend's configuration cannot work (for example, a Redis Cluster
    /// key prefix with a hash tag).
    #[error("the hub's configuration is invalid: {0}")]
    Config(String),
    /// The event is larger than the hub takes ([`Hub::max_event_size`]).
    #[error("the event is {size} bytes; the hub takes events of at most {max} bytes")]
    TooLarge {
        /// The event's [`size`](Event::size).
        size: usize,
        /// The hub's largest.
        max: usize,
    },
}

impl From<HubError> for HttpError {
    fn from(err: HubError) -> Self {
        match err {
            HubError::Unavailable(_) => HttpError::new(
                justsse_http::http::StatusCode::SERVICE_UNAVAILABLE,
                "event delivery is unavailable; try again",
            ),
            HubError::TooLarge { max, .. } => HttpError::new(
                justsse_http::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("the event would be larger than the {max} bytes this service publishes"),
            ),
            other => HttpError::internal(other),
        }
    }
}

/// Where a hub keeps and fans out its events. The in-memory backend is the
/// default; a distributed one keeps the same semantics: ids in publish order per
/// topic, replay after an id, [`RESYNC`] when events may have been missed.
pub trait Backend: Send + Sync + 'static {
    /// Assigns the event its id, stores it for replay, and delivers it to the
    /// topic's subscribers. Returns the event with its id.
    fn publish(&self, topic: String, event: Event) -> BoxFuture<Result<Event, HubError>>;

    /// The topic's events after `last_id` (replayed), then live ones: every
    /// event published once the future is done reaches the subscription.
    fn subscribe(&self, topic: String, last_id: Option<String>) -> BoxFuture<Subscription>;

    /// An id to resume after that misses nothing published from now on (the
    /// topic's latest id, or one before its first event). `None` (the
    /// default) when the backend cannot tell: a merged stream then follows the
    /// topic live from the moment it subscribes.
    fn position(&self, topic: String) -> BoxFuture<Option<String>> {
        let _ = topic;
        Box::pin(std::future::ready(None))
    }

    /// How many subscribers `topic` has, here and on every instance. The
    /// default counts none.
    fn subscribers(&self, topic: String) -> BoxFuture<Result<Presence, HubError>> {
        let _ = topic;
        Box::pin(std::future::ready(Ok(Presence::default())))
    }

    /// The PostgreSQL backend this is, for [`Hub::publish_in`].
    #[cfg(feature = "postgres")]
    #[doc(hidden)]
    fn postgres(&self) -> Option<&PostgresBackend> {
        None
    }
}

/// A hub of topics keyed by `K` (a ticket id, a user name...).
///
/// ```
/// use justsse::{Event, hub::Hub};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), justsse::hub::HubError> {
/// let hub: Hub<u64> = Hub::new();
/// let mut live = hub.subscribe(&7, None).await;
/// let sent = hub.publish(&7, Event::named("comment").data("hello")).await?;
/// let got = live.next().await.expect("the event");
/// assert_eq!(got.id_str(), sent.id_str());
///
/// // A client that saw `sent` and reconnects gets what came after it.
/// hub.publish(&7, Event::named("comment").data("again")).await?;
/// let mut resumed = hub.subscribe(&7, sent.id_str()).await;
/// assert_eq!(resumed.next().await.expect("replayed").data_str(), Some("again"));
/// # Ok(())
/// # }
/// ```
pub struct Hub<K = String> {
    backend: Arc<dyn Backend>,
    max_event: usize,
    /// The policy for subscribers that fall behind, unless theirs says otherwise.
    slow: Option<SlowConsumer>,
    key: PhantomData<fn(&K)>,
}

impl<K> Clone for Hub<K> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            max_event: self.max_event,
            slow: self.slow,
            key: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Hub<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl<K: Display> Default for Hub<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Display> Hub<K> {
    /// An in-memory hub keeping the last 1,024 events of each topic.
    pub fn new() -> Self {
        Self::memory(MemoryConfig::default())
    }

    /// An in-memory hub with this configuration.
    pub fn memory(config: MemoryConfig) -> Self {
        Self::with_backend(memory::Memory::new(config))
    }

    /// The same hub with keys of another type: its topics by name.
    fn keyed<T>(&self) -> Hub<T> {
        Hub {
            backend: self.backend.clone(),
            max_event: self.max_event,
            slow: self.slow,
            key: PhantomData,
        }
    }

    /// A hub on another backend.
    pub fn with_backend(backend: impl Backend) -> Self {
        Self {
            backend: Arc::new(backend),
            max_event: DEFAULT_MAX_EVENT,
            slow: None,
            key: PhantomData,
        }
    }

    /// The largest event this hub publishes, by [`Event::size`] (its name,
    /// id, data and comment; default 64 KiB, on every backend): a larger one
    /// is refused with [`HubError::TooLarge`] (`413` when a handler returns
    /// it), counted in `justsse_hub_refused_total{reason="too_large"}`.
    ///
    /// ```
    /// use justsse::{Event, hub::{Hub, HubError}};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let hub: Hub<u64> = Hub::new().max_event_size(4096);
    /// let big = Event::named("comment").data("x".repeat(5000));
    /// assert!(matches!(hub.publish(&1, big).await, Err(HubError::TooLarge { size: 5007, .. })));
    /// # }
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event = bytes;
        self
    }

    /// What every subscriber of this hub gets when it falls more than
    /// `max_lag` events behind (see [`SlowConsumer`]); a subscription's own
    /// ([`Subscription::slow_consumer`]) wins. Without one, a subscriber is
    /// resynced only once it is behind the topic's whole log.
    pub fn slow_consumer(mut self, policy: SlowConsumer) -> Self {
        self.slow = Some(policy);
        self
    }

    /// Publishes `event` on `topic`: it gets the topic's next id (any id it had
    /// is replaced) and reaches every subscriber. Returns the event as sent.
    /// An event over [`max_event_size`](Self::max_event_size) is refused.
    pub async fn publish(&self, topic: &K, event: Event) -> Result<Event, HubError> {
        self.admit(&event)?;
        self.backend.publish(topic.to_string(), event).await
    }

    /// Refuses an event over [`max_event_size`](Self::max_event_size).
    fn admit(&self, event: &Event) -> Result<(), HubError> {
        let size = event.size();
        if size > self.max_event {
            metrics::counter!("justsse_hub_refused_total", "reason" => "too_large").increment(1);
            return Err(HubError::TooLarge {
                size,
                max: self.max_event,
            });
        }
        Ok(())
    }

    /// Publishes `event` on `topic` **inside the application's transaction**
    /// `client` (a `tokio_postgres::Transaction`, or a `Client` in autocommit),
    /// on a hub whose backend is [`PostgresBackend`] (feature `postgres`):
    /// subscribers get the event if and only if the transaction commits,
    /// once, in commit order per topic. The row and its event cannot
    /// disagree: no comment without its event, no event of a comment rolled
    /// back.
    ///
    /// The returned event carries its id, valid once the transaction commits.
    /// A second transaction publishing on the same topic waits for this one
    /// to end (that is how ids follow commit order): keep transactions that
    /// publish short. Under `REPEATABLE READ` or `SERIALIZABLE`, two
    /// transactions publishing on one topic conflict as any two writers of a
    /// row do: retry the one that fails. A hub on another backend refuses
    /// with [`HubError::Config`]; a failed statement is
    /// [`HubError::Unavailable`], its source the `tokio_postgres::Error`.
    ///
    /// ```no_run
    /// use justsse::{Event, hub::{Hub, HubError, PostgresBackend, PostgresConfig}};
    ///
    /// # async fn run(db: &mut justsse::hub::tokio_postgres::Client, hub: Hub<i64>) -> Result<(), Box<dyn std::error::Error>> {
    /// let tx = db.transaction().await?;
    /// let row = tx.query_one("INSERT INTO comments (ticket, body) VALUES ($1, $2) RETURNING id", &[&7_i64, &"hello"]).await?;
    /// let id: i64 = row.get(0);
    /// hub.publish_in(&tx, &7, Event::named("comment").json(&serde_json::json!({"id": id, "body": "hello"}))?).await?;
    /// tx.commit().await?; // now, and only now, subscribers get it
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn publish_in<C>(
        &self,
        client: &C,
        topic: &K,
        event: Event,
    ) -> Result<Event, HubError>
    where
        C: tokio_postgres::GenericClient + Sync,
    {
        self.admit(&event)?;
        let Some(backend) = self.backend.postgres() else {
            return Err(HubError::Config(
                "publish_in needs a hub on PostgresBackend".to_owned(),
            ));
        };
        backend.publish_in(client, &topic.to_string(), event).await
    }

    /// The events of `topic`: those after `last_id` first (pass the client's
    /// [`LastEventId`](crate::LastEventId)), then live ones. With no id, only
    /// live events: every event published after this returns is delivered,
    /// on every backend. See [`RESYNC`] for ids the hub cannot resume from.
    pub async fn subscribe(&self, topic: &K, last_id: Option<&str>) -> Subscription {
        let topic = topic.to_string();
        // The request's span, when tracing wants it, names what it follows.
        tracing::Span::current().record("topic", topic.as_str());
        let events = self
            .backend
            .subscribe(topic, last_id.map(str::to_owned))
            .await;
        self.policed(events)
    }

    /// `events` under the hub's slow-consumer policy, if it has one.
    fn policed(&self, events: Subscription) -> Subscription {
        match self.slow {
            Some(policy) => events.slow_consumer(policy),
            None => events,
        }
    }

    /// An id to resume `topic` after that misses nothing published from now
    /// on: pass it to [`subscribe`](Self::subscribe) later to get everything
    /// since, while the hub still keeps it (the start of a generation, say).
    /// `None` when the backend cannot tell.
    ///
    /// ```
    /// use justsse::{Event, hub::Hub};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), justsse::hub::HubError> {
    /// let hub: Hub<&str> = Hub::new();
    /// let start = hub.position(&"t").await;
    /// hub.publish(&"t", Event::new().data("first")).await?;
    /// let mut from_start = hub.subscribe(&"t", start.as_deref()).await;
    /// assert_eq!(from_start.next().await.expect("replayed").data_str(), Some("first"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn position(&self, topic: &K) -> Option<String> {
        self.backend.position(topic.to_string()).await
    }

    /// Runs `events` in a task of its own, publishing each on `topic`: a
    /// generation **detached** from the request that started it. It goes on
    /// when the client leaves, and any client (on any instance sharing the
    /// backend) follows it with [`subscribe`](Self::subscribe) and its
    /// `Last-Event-ID`, getting the rest exactly once. Returns the topic's
    /// subscription from the generation's first event, for the client that
    /// started it. An error from `events` ends the generation with an
    /// `error` event (its message for an [`HttpError`] with a 4xx status, a
    /// generic one otherwise); so does a publish the backend refuses. Mark
    /// the end with a last event of your own ([`Event::done`], say) and end
    /// the subscriptions there with [`Subscription::until`].
    ///
    /// The topic is bounded like any other (its bytes, `replay` events) and
    /// freed when nobody has followed it for the hub's retention time; use a
    /// topic per generation.
    ///
    /// ```
    /// use justsse::{Event, hub::Hub};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let hub: Hub<String> = Hub::new();
    /// let words = futures_util::stream::iter(["a", "b", "[DONE]"].map(|word| {
    ///     Ok::<_, std::convert::Infallible>(Event::new().data(word))
    /// }));
    /// let topic = "generation-7".to_owned();
    /// let mut first = hub.detach(&topic, words).await.until(|e| e.data_str() == Some("[DONE]"));
    /// let a = first.next().await.expect("a");
    /// drop(first); // the client leaves; the generation goes on
    ///
    /// let mut resumed = hub.subscribe(&topic, a.id_str()).await.until(|e| e.data_str() == Some("[DONE]"));
    /// assert_eq!(resumed.next().await.expect("b").data_str(), Some("b"));
    /// assert_eq!(resumed.next().await.expect("done").data_str(), Some("[DONE]"));
    /// assert!(resumed.next().await.is_none());
    /// # }
    /// ```
    pub async fn detach<S, E>(&self, topic: &K, events: S) -> Subscription
    where
        S: Stream<Item = Result<Event, E>> + Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        let subscription = self.subscribe(topic, None).await;
        let (hub, topic) = (self.keyed::<String>(), topic.to_string());
        tokio::spawn(async move {
            let mut events = std::pin::pin!(events);
            while let Some(item) = futures_util::StreamExt::next(&mut events).await {
                let event = match item {
                    Ok(event) => event,
                    Err(err) => justsse_http::sse::error_event(err.into()),
                };
                let last = event.name() == Some("error");
                if let Err(err) = hub.publish(&topic, event).await {
                    tracing::warn!(%topic, error = %err, "a detached generation could not publish; it ends");
                    let _ = hub
                        .publish(&topic, justsse_http::sse::error_event(err.into()))
                        .await;
                    return;
                }
                if last {
                    return;
                }
            }
        });
        subscription
    }

    /// How many subscribers `topic` has: on this instance, and on every
    /// instance sharing the backend (the same on the in-memory hub; on Redis,
    /// the others' counts as they last announced them, see
    /// `RedisConfig::presence_every`, feature `redis`). A subscriber of several topics
    /// ([`subscribe_all`](Self::subscribe_all)) counts on each.
    ///
    /// ```
    /// use justsse::hub::{Hub, Presence};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), justsse::hub::HubError> {
    /// let hub: Hub<u64> = Hub::new();
    /// let viewer = hub.subscribe(&7, None).await;
    /// assert_eq!(hub.subscribers(&7).await?, Presence { here: 1, everywhere: 1 });
    /// drop(viewer);
    /// assert_eq!(hub.subscribers(&7).await?.here, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribers(&self, topic: &K) -> Result<Presence, HubError> {
        self.backend.subscribers(topic.to_string()).await
    }

    /// The events of several topics in one stream, for one `EventSource` (a
    /// dashboard of several things, a client stuck on HTTP/1.1 and its six
    /// connections). Each event's id is a cursor holding every topic's
    /// position: pass the client's [`LastEventId`](crate::LastEventId) back and
    /// each topic resumes exactly where it stopped. A topic whose events are
    /// gone gets its own [`RESYNC`], whose data names it
    /// (`{"reason": .., "topic": ".."}`), while the others resume. Events keep
    /// their names and data; say in the data which topic an event is about
    /// when the name does not. Every topic is followed by the time it
    /// returns.
    ///
    /// ```
    /// use justsse::{Event, hub::Hub};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), justsse::hub::HubError> {
    /// let hub: Hub<&str> = Hub::new();
    /// let mut both = hub.subscribe_all(&["builds", "deploys"], None).await;
    /// hub.publish(&"builds", Event::named("build").data("#7 passed")).await?;
    /// let seen = both.next().await.expect("the build");
    ///
    /// hub.publish(&"deploys", Event::named("deploy").data("v2 live")).await?;
    /// let mut resumed = hub.subscribe_all(&["builds", "deploys"], seen.id_str()).await;
    /// assert_eq!(resumed.next().await.expect("replayed").data_str(), Some("v2 live"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe_all(&self, topics: &[K], last_id: Option<&str>) -> Subscription {
        let mut topics: Vec<String> = topics.iter().map(ToString::to_string).collect();
        // A topic named twice is followed once: each one followed costs a
        // copy of every event, so duplicates would multiply the bytes sent.
        let mut seen = std::collections::HashSet::with_capacity(topics.len());
        topics.retain(|topic| seen.insert(topic.clone()));
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("topic", topics.join(",").as_str());
        }
        let events = merged::subscribe(self.backend.clone(), topics, last_id).await;
        self.policed(events)
    }
}

/// The events of one subscriber; each carries its id, so yielding it from an SSE
/// handler lets the browser resume after it.
pub struct Subscription {
    events: slow::Events,
    /// The slow-consumer policy it is read under, if any.
    police: Option<Box<slow::Police>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Subscription {
    /// Wraps a backend's stream.
    pub fn new(events: impl Stream<Item = Event> + Send + 'static) -> Self {
        Self {
            events: Box::pin(events),
            police: None,
        }
    }

    /// The next event; `None` only if the backend ends the subscription.
    pub async fn next(&mut self) -> Option<Event> {
        futures_util::StreamExt::next(self).await
    }

    /// This subscription under `policy` when it falls behind, instead of its
    /// hub's (see [`SlowConsumer`]).
    pub fn slow_consumer(mut self, policy: SlowConsumer) -> Subscription {
        self.police = Some(Box::new(slow::Police::new(policy)));
        self
    }

    /// These events up to the first for which `last` is true (included),
    /// then the end: a hub subscription is endless, a generation is not.
    /// An `error` event ends it too.
    pub fn until(self, last: impl FnMut(&Event) -> bool + Send + 'static) -> Subscription {
        // Once the last event is out, nothing is polled again: the topic
        // itself never ends.
        Subscription::new(futures_util::stream::unfold(
            Some((self, last)),
            |state| async move {
                let (mut events, mut last) = state?;
                let event = events.next().await?;
                let ended = last(&event) || event.name() == Some("error");
                Some((event, (!ended).then_some((events, last))))
            },
        ))
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = &mut *self;
        match this.police.as_mut() {
            Some(police) => police.poll_next(&mut this.events, cx),
            None => this.events.as_mut().poll_next(cx),
        }
    }
}

/// The [`RESYNC`] event, counted in `justsse_hub_resyncs_total{reason}`
/// (the `metrics` facade).
pub(crate) fn resync(latest_id: &str, reason: &'static str) -> Event {
    metrics::counter!("justsse_hub_resyncs_total", "reason" => reason).increment(1);
    let data = match reason {
        "too_old" => r#"{"reason":"too_old"}"#,
        "lagged" => r#"{"reason":"lagged"}"#,
        "unavailable" => r#"{"reason":"unavailable"}"#,
        _ => r#"{"reason":"unknown_id"}"#,
    };
    Event::named(RESYNC).id(latest_id).data(data)
}

/// How long an idle topic (no subscribers) keeps its events by default.
pub(crate) const DEFAULT_RETAIN: Duration = Duration::from_secs(600);

/// The largest event a hub takes by default, by [`Event::size`].
pub(crate) const DEFAULT_MAX_EVENT: usize = 64 * 1024;

/// The most bytes one topic's local log keeps by default.
pub(crate) const DEFAULT_TOPIC_BYTES: usize = 4 * 1024 * 1024;

/// The most bytes every local log of a hub keeps together by default.
pub(crate) const DEFAULT_TOTAL_BYTES: usize = 64 * 1024 * 1024;
