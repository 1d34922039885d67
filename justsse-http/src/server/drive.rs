//! Running one hyper connection to its end, closing it gracefully when the
//! server shuts down, and when it has been idle: an HTTP/2 connection after a
//! `GOAWAY`, an HTTP/1.1 one at once (no request head arrived in time).
//!
//! A future of its own rather than an `async fn`: every connection's task
//! holds it for the connection's whole life, and an `async fn` would keep,
//! beside the connection, its arguments, the `select!`'s copies of the waits
//! and the grace period's timer (measured: 1,320 bytes against this one's
//! connection plus about 100).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper_util::server::graceful::GracefulConnection;
use tokio::time::Sleep;

pin_project_lite::pin_project! {
    /// Ready with the connection's end. On `shutdown` the connection is asked
    /// to finish what is in flight and close (the server's grace period
    /// bounds that); on `idle`, what `on_idle` says.
    pub(crate) struct Drive<C, S, I> {
        #[pin]
        conn: C,
        #[pin]
        shutdown: S,
        #[pin]
        idle: I,
        on_idle: OnIdle,
        stage: Stage,
        // Made when an idle connection is told to close; boxed, since
        // HTTP/1.1 connections never need it.
        closing_idle: Option<Pin<Box<Sleep>>>,
    }
}

/// What ends a connection that has been idle.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnIdle {
    /// HTTP/1.1: no request head arrived within the header read timeout;
    /// closed at once (nothing is in flight).
    Close,
    /// HTTP/2: asked to close (`GOAWAY`), and closed after this grace
    /// period whatever the peer does.
    GoAway(Duration),
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Serving; `shutdown` and `idle` are watched.
    Serving,
    /// Told to close; its end is awaited.
    Closing,
}

impl<C, S, I> Drive<C, S, I> {
    pub(crate) fn new(conn: C, shutdown: S, idle: I, on_idle: OnIdle) -> Self {
        Self {
            conn,
            shutdown,
            idle,
            on_idle,
            stage: Stage::Serving,
            closing_idle: None,
        }
    }
}

impl<C, S, I> Future for Drive<C, S, I>
where
    C: GracefulConnection<Error = hyper::Error>,
    S: Future<Output = ()>,
    I: Future<Output = ()>,
{
    type Output = Result<(), hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if *this.stage == Stage::Serving {
            if let Poll::Ready(ended) = this.conn.as_mut().poll(cx) {
                return Poll::Ready(ended);
            }
            if this.shutdown.poll(cx).is_ready() {
                *this.stage = Stage::Closing;
            } else if this.idle.poll(cx).is_ready() {
                let OnIdle::GoAway(grace) = *this.on_idle else {
                    crate::observe::timeout("header");
                    tracing::debug!("no request head within the header read timeout; closing");
                    return Poll::Ready(Ok(()));
                };
                tracing::debug!("HTTP/2 connection idle; sending GOAWAY");
                *this.stage = Stage::Closing;
                *this.closing_idle = Some(Box::pin(tokio::time::sleep(grace)));
            } else {
                return Poll::Pending;
            }
            this.conn.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(ended) = this.conn.poll(cx) {
            return Poll::Ready(ended);
        }
        match this.closing_idle {
            Some(grace) => {
                ready!(grace.as_mut().poll(cx));
                Poll::Ready(Ok(()))
            }
            None => Poll::Pending,
        }
    }
}
