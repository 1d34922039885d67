//! What a `stream!` block runs: its body as one `async` block, whose `yield`s
//! hand their event to the stream polling it.
//!
//! A `yield` puts the event in this thread's slot and awaits a [`Yield`]
//! future, which returns `Pending` once, which the body returns at once; the
//! [`Generated`] stream that polled the body takes the event out of the slot
//! and returns it. The next poll of the body finishes the `Yield`. Neither
//! type is generic over the event, so type-checking a `yield` is one `await`
//! of one known future (async-stream's sender is generic over the item and
//! borrows a slot the stream owns). `?` is Rust's own: the body returns
//! `Result<(), BoxError>`, and an error is the stream's last item.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use justsse_http::{BoxError, Event};

thread_local! {
    /// The event a `yield` hands over, taken by the stream that polled it.
    static YIELDED: Cell<Option<Event>> = const { Cell::new(None) };
    /// Whether `YIELDED` holds one: read before moving an event in or out
    /// (an event is 152 bytes; a stream polled with none waiting, the usual
    /// case on entry, moves nothing).
    static HOLDS: Cell<bool> = const { Cell::new(false) };
}

fn put(event: Event) {
    YIELDED.set(Some(event));
    HOLDS.set(true);
}

fn take() -> Option<Event> {
    match HOLDS.replace(false) {
        true => YIELDED.take(),
        false => None,
    }
}

pin_project_lite::pin_project! {
    /// A `stream!` block: its body, polled for events.
    pub struct Generated<F> {
        #[pin]
        body: F,
        done: bool,
    }
}

/// The stream of a `stream!` block's body.
pub fn generated<F>(body: F) -> Generated<F>
where
    F: Future<Output = Result<(), BoxError>>,
{
    Generated { body, done: false }
}

impl<F: Future<Output = Result<(), BoxError>>> Stream for Generated<F> {
    type Item = Result<Event, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // Polled from inside another generator's body (a `yield` there may be
        // waiting in the slot): that one's event is put back afterwards.
        let outer = take();
        let polled = this.body.poll(cx);
        let yielded = take();
        if let Some(outer) = outer {
            put(outer);
        }
        match polled {
            Poll::Pending => match yielded {
                Some(event) => Poll::Ready(Some(Ok(event))),
                None => Poll::Pending,
            },
            Poll::Ready(end) => {
                *this.done = true;
                Poll::Ready(end.err().map(Err))
            }
        }
    }
}

/// The next item of a stream a `for await` loop in a `stream!` block reads.
pub fn next<S: Stream + Unpin>(stream: &mut S) -> futures_util::stream::Next<'_, S> {
    futures_util::StreamExt::next(stream)
}

/// A `yield` in a `stream!` block: pending once (the stream polling the body
/// returns the event then), then done.
#[must_use = "a yield hands its event over when awaited"]
pub struct Yield(bool);

/// The future a `yield` of `event` awaits. The event goes into the slot at
/// once, not when the future is first polled: the body's state keeps no room
/// for an event across each `yield` (the macro awaits this at once, so
/// nothing runs between the two).
pub fn yielded(event: Event) -> Yield {
    put(event);
    Yield(false)
}

impl Future for Yield {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        // No waker: the stream polling the body returns the event at once,
        // and its next poll polls this again.
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use justsse_http::{BoxError, Event, HttpError};

    /// Each item's data, or `Err(message)`; a stream that stops without
    /// ending (an event lost) fails after a second.
    async fn items(
        events: impl futures_util::Stream<Item = Result<Event, BoxError>>,
    ) -> Vec<Result<String, String>> {
        let all = events
            .map(|item| match item {
                Ok(event) => Ok(event.data_str().unwrap_or_default().to_owned()),
                Err(err) => Err(err.to_string()),
            })
            .collect();
        tokio::time::timeout(std::time::Duration::from_secs(1), all)
            .await
            .expect("the stream ends")
    }

    fn ok(data: &[&str]) -> Vec<Result<String, String>> {
        data.iter().map(|d| Ok((*d).to_owned())).collect()
    }

    #[tokio::test]
    async fn yields_in_order_then_ends() {
        let events = crate::stream! {
            for n in 0..3 {
                yield Event::new().data(n.to_string());
            }
        };
        assert_eq!(items(events).await, ok(&["0", "1", "2"]));
    }

    #[tokio::test]
    async fn for_await_reads_a_stream() {
        let numbers =
            futures_util::stream::iter([Ok::<_, BoxError>(1), Ok(2), Err("three".into())]);
        let events = crate::stream! {
            'numbers: for await n in numbers {
                let n: u32 = n?;
                if n == 0 {
                    continue 'numbers;
                }
                yield Event::new().data(n.to_string());
                if n > 5 {
                    break 'numbers;
                }
            }
        };
        assert_eq!(
            items(events).await,
            vec![
                Ok("1".to_owned()),
                Ok("2".to_owned()),
                Err("three".to_owned())
            ]
        );
    }

    #[test]
    fn a_body_keeps_no_event_across_a_yield() {
        // Every idle stream holds its body's state: a `yield` waiting to be
        // polled must not keep an event's room there (it did: 152 bytes).
        let events = crate::stream! {
            let event = Event::new().data("held");
            yield event;
            std::future::pending::<()>().await;
        };
        let size = std::mem::size_of_val(&events);
        assert!(
            size < std::mem::size_of::<Event>(),
            "{size} bytes, an event is {}",
            std::mem::size_of::<Event>()
        );
    }

    #[tokio::test]
    async fn a_bare_return_ends_the_stream() {
        let stop = true;
        let events = crate::stream! {
            yield Event::new().data("a");
            if stop {
                return;
            }
            yield Event::new().data("b");
        };
        assert_eq!(items(events).await, ok(&["a"]));
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_as_its_last_item() {
        let events = crate::stream! {
            yield Event::new().data("a");
            let n: u32 = "x".parse()?;
            yield Event::new().data(n.to_string());
        };
        let seen = items(events).await;
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0], Ok("a".to_owned()));
        assert!(
            seen[1].as_ref().is_err_and(|e| e.contains("invalid digit")),
            "{seen:?}"
        );

        let events = crate::stream! {
            Err(HttpError::not_found("no such ticket"))?;
        };
        let seen = items(events).await;
        assert!(
            matches!(&seen[..], [Err(e)] if e.ends_with("no such ticket")),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn return_in_a_closure_an_async_block_or_a_function_is_theirs() {
        let events = crate::stream! {
            fn half(n: u32) -> Option<u32> {
                if n % 2 == 1 {
                    return None;
                }
                Some(n / 2)
            }
            let skip = |n: u32| {
                if n == 0 {
                    return;
                }
                assert!(n > 0);
            };
            let nothing = async move |n: u32| {
                if n == 0 {
                    return;
                }
                assert!(n > 0);
            };
            let zero = 0;
            let also_nothing = async move {
                if zero == 0 {
                    return;
                }
                assert!(zero > 0);
            };
            skip(0);
            nothing(0).await;
            also_nothing.await;
            if let Some(n) = half(4) {
                yield Event::new().data(n.to_string());
            }
            if half(3).is_none() || n_is_even(3) {
                yield Event::new().data("odd");
            }
        };
        fn n_is_even(n: u32) -> bool {
            n % 2 == 0
        }
        assert_eq!(items(events).await, ok(&["2", "odd"]));
    }

    #[tokio::test]
    async fn a_generator_polled_inside_another_keeps_the_outer_event() {
        let events = crate::stream! {
            let mut inner = std::pin::pin!(crate::stream! {
                yield Event::new().data("inner");
            });
            // The outer `yield` waits in the slot while the inner stream is
            // polled.
            let ((), first) = futures_util::join!(
                async { yield Event::new().data("outer"); },
                inner.next(),
            );
            yield first.expect("an inner event")?;
        };
        assert_eq!(items(events).await, ok(&["outer", "inner"]));
    }
}
