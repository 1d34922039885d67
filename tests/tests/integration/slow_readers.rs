//! Clients that stop reading: a connection whose peer reads nothing for the
//! write timeout is closed, its streams ended and what was queued for it
//! freed, over HTTP/1.1 and over HTTP/2 with the largest windows a peer can
//! advertise (the attack that once held ~440 KB per stream, for as long as
//! the client liked, while it answered pings). Clients that read are served
//! meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use justsse::runtime::{Router, sse};
use justsse::{Event, KeepAlive, Request, ServerConfig, Sse};
use justsse_tests::{DEADLINE, TestServer, events, raw_h2};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// Counts the streams alive: a guard in each stream's state.
struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `/flood` sends 16 KiB events as fast as it is read.
fn flood(alive: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/flood",
        sse(move |_: Request| {
            alive.fetch_add(1, Ordering::SeqCst);
            let guard = Alive(alive.clone());
            async move {
                let chunk = "x".repeat(16 * 1024);
                let events = async_stream::stream! {
                    let _guard = guard;
                    loop {
                        yield Ok::<_, std::convert::Infallible>(Event::new().data(chunk.clone()));
                    }
                };
                Sse::new(events)
            }
        }),
    )
}

async fn server(alive: Arc<AtomicUsize>) -> TestServer {
    let config = ServerConfig::default()
        .keep_alive(KeepAlive::off())
        .write_timeout(Duration::from_secs(1));
    TestServer::with_config(flood(alive), config).await
}

/// A socket that reads as little as it can: a small receive buffer.
async fn connect_small(addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    socket.connect(addr).await.expect("connect")
}

/// Waits until `alive` is `want`, within the deadline.
async fn until_alive(alive: &AtomicUsize, want: usize) {
    tokio::time::timeout(DEADLINE, async {
        while alive.load(Ordering::SeqCst) != want {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} streams alive, not {want}", alive.load(Ordering::SeqCst)));
}

#[tokio::test]
async fn an_http1_client_that_reads_nothing_is_closed_after_the_write_timeout() {
    let alive = Arc::new(AtomicUsize::new(0));
    let server = server(alive.clone()).await;
    let mut stalled = connect_small(server.addr).await;
    stalled
        .write_all(b"GET /flood HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n")
        .await
        .expect("request");
    until_alive(&alive, 1).await;
    // A client that reads is served all along.
    let (_, mut reader) = events(server.addr, "/flood").await;
    assert!(reader.next().await.is_some());
    until_alive(&alive, 2).await;
    // The stalled one goes, though its socket stays open; the reader stays.
    until_alive(&alive, 1).await;
    for _ in 0..100 {
        assert!(reader.next().await.is_some(), "the reading client goes on");
    }
    drop(stalled);
}

#[tokio::test]
async fn an_h2_client_with_huge_windows_that_reads_nothing_is_closed() {
    let alive = Arc::new(AtomicUsize::new(0));
    let server = server(alive.clone()).await;
    let mut stalled = connect_small(server.addr).await;
    let mut hello = raw_h2::preface_with_huge_windows();
    let streams = 20;
    for n in 0..streams {
        hello.extend(raw_h2::get_event_stream(2 * n + 1, "/flood", None));
    }
    stalled.write_all(&hello).await.expect("requests");
    until_alive(&alive, streams as usize).await;
    // Every stream ends with its connection, a second after the last write
    // that got anywhere, though the socket is still open on our side.
    until_alive(&alive, 0).await;
    drop(stalled);
}
