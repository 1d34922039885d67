//! The `tracing` spans of requests and streams: a `request` span (method,
//! route as written, peer, the hub topic a stream follows) and, for an event
//! stream, a `stream` span inside it closed with its end reason. Read with a
//! layer that keeps every closed span's fields, set as this thread's
//! subscriber (the test runs on a current-thread runtime, server included).
//!
//! A binary of its own, with one test: whether a span is wanted is cached per
//! call site for the whole process, so subscribers of other tests running at
//! the same time (with other filters, or none) could make this one miss its
//! spans.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use justsse::prelude::*;
use justsse::route;
use justsse::test::TestClient;
use justsse_tests::until;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

/// A span as it closed: its name, its fields, its parent's name.
#[derive(Debug, Clone, Default)]
struct Closed {
    name: &'static str,
    fields: BTreeMap<String, String>,
    parent: Option<&'static str>,
}

/// Fields of a span, kept in its extensions until it closes.
#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<Closed>>>);

impl Spans {
    fn closed(&self, name: &str) -> Vec<Closed> {
        let all = self.0.lock().expect("the spans");
        all.iter().filter(|s| s.name == name).cloned().collect()
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, cx: LayerContext<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = cx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, cx: LayerContext<'_, S>) {
        let Some(span) = cx.span(id) else { return };
        if let Some(fields) = span.extensions_mut().get_mut::<Fields>() {
            values.record(fields);
        }
    }

    fn on_close(&self, id: Id, cx: LayerContext<'_, S>) {
        let Some(span) = cx.span(&id) else { return };
        let fields = span
            .extensions()
            .get::<Fields>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        let closed = Closed {
            name: span.name(),
            fields,
            parent: span.parent().map(|p| p.name()),
        };
        self.0.lock().expect("the spans").push(closed);
    }
}

async fn ok() -> Json<&'static str> {
    Json("ok")
}

struct Tickets {
    hub: Hub<u32>,
}

#[controller("/tickets")]
impl Tickets {
    #[sse("/:id/events")]
    async fn events(&self, id: u32) -> impl EventStream {
        let mut events = self.hub.subscribe(&id, None).await;
        stream! {
            yield Event::named("connected").data("hi");
            while let Some(event) = events.next().await {
                yield event;
            }
        }
    }
}

#[tokio::test]
async fn request_and_stream_spans_at_debug_and_none_at_info() {
    requests_and_streams_have_spans_closed_with_their_end_reason().await;
    at_info_level_no_span_is_made().await;
}

async fn requests_and_streams_have_spans_closed_with_their_end_reason() {
    let spans = Spans::default();
    let subscriber = Registry::default().with(
        spans.clone().with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target("justsse_http", tracing::Level::DEBUG),
        ),
    );
    let _tracing = tracing::subscriber::set_default(subscriber);

    let hub = Hub::new();
    let app = App::new()
        .controller(Tickets { hub: hub.clone() })
        .route("/ok", route::get(ok));
    let client = TestClient::serve(app).await.expect("serves");

    assert_eq!(client.get("/ok").send().await.status(), 200);
    until("the request span closes", || {
        !spans.closed("request").is_empty()
    })
    .await;
    let request = &spans.closed("request")[0];
    assert_eq!(request.fields["method"], "GET");
    assert_eq!(request.fields["route"], "/ok");
    assert!(
        request.fields["peer"].starts_with("127.0.0.1:"),
        "{request:?}"
    );

    let mut events = client.sse("/tickets/7/events").send().await.events();
    assert_eq!(
        events.next().await.expect("connected").event_type,
        "connected"
    );
    assert!(spans.closed("stream").is_empty(), "the stream is open");
    drop(events);
    until("the stream span closes", || {
        !spans.closed("stream").is_empty()
    })
    .await;
    let stream = &spans.closed("stream")[0];
    assert_eq!(stream.fields["reason"], "client_left");
    assert_eq!(stream.fields["events"], "1");
    assert_eq!(stream.parent, Some("request"));
    until("its request span closes", || {
        spans.closed("request").len() == 2
    })
    .await;
    let request = &spans.closed("request")[1];
    assert_eq!(request.fields["route"], "/tickets/:id/events");
    assert_eq!(request.fields["topic"], "7", "the hub names the topic");
}

async fn at_info_level_no_span_is_made() {
    // Spans are at debug level: a service logging at info pays nothing for them.
    let spans = Spans::default();
    let subscriber = Registry::default()
        .with(spans.clone())
        .with(tracing_subscriber::filter::LevelFilter::INFO);
    let _tracing = tracing::subscriber::set_default(subscriber);
    let client = TestClient::new(App::new().route("/ok", route::get(ok))).expect("builds");
    assert_eq!(client.get("/ok").send().await.status(), 200);
    assert!(
        tracing::enabled!(tracing::Level::INFO),
        "the subscriber is in place"
    );
    assert!(spans.closed("request").is_empty());
}
