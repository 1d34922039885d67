//! Testing an app without a port: [`TestClient`] sends requests to an [`App`]
//! over in-memory connections served by the real runtime (HTTP/1.1 parsing,
//! layers, deadlines), so tests run in parallel without binding sockets, and
//! tokio's paused clock makes a 15-second keep-alive or a `retry` wait
//! instant. Enable the `test` feature in `[dev-dependencies]`.
//!
//! ```
//! use justsse::prelude::*;
//! use justsse::test::TestClient;
//!
//! struct Clock;
//!
//! #[controller("/clock")]
//! impl Clock {
//!     #[get("/")]
//!     async fn now(&self) -> Json<u32> {
//!         Json(12)
//!     }
//!
//!     #[sse("/ticks")]
//!     async fn ticks(&self) -> impl EventStream {
//!         stream! {
//!             for n in 1..=2 {
//!                 yield Event::named("tick").id(n).data(n.to_string());
//!             }
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), justsse::Error> {
//! let client = TestClient::new(App::new().controller(Clock))?;
//! let response = client.get("/clock").send().await;
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(response.json::<u32>().await, 12);
//!
//! let mut ticks = client.sse("/clock/ticks").send().await.events();
//! assert_eq!(ticks.next().await.expect("a tick").data, "1");
//! assert_eq!(ticks.next().await.expect("a tick").data, "2");
//! assert!(ticks.next().await.is_none(), "the stream ended");
//! # Ok(()) }
//! ```

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use justsse_http::InMemory;
use justsse_http::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::{App, Error};
use crate::client::EventReader;

/// A client of one [`App`]: over in-memory connections ([`new`](Self::new)),
/// or over TCP to the app served on a port of its own
/// ([`serve`](Self::serve)); see the [module](self).
#[derive(Debug)]
pub struct TestClient {
    server: Transport,
}

#[derive(Debug)]
enum Transport {
    InMemory(InMemory),
    Socket {
        addr: SocketAddr,
        serving: tokio::task::JoinHandle<()>,
    },
}

impl Drop for TestClient {
    fn drop(&mut self) {
        if let Transport::Socket { serving, .. } = &self.server {
            serving.abort();
        }
    }
}

impl TestClient {
    /// Builds `app` (refusing it, as serving would, when routes miss state).
    pub fn new(app: App) -> Result<Self, Error> {
        let (router, config) = app.build()?;
        Ok(Self {
            server: Transport::InMemory(InMemory::new(router, config)?),
        })
    }

    /// Serves `app` on a free port of 127.0.0.1, for tests that need a real
    /// connection (another client, a browser, socket deadlines); requests
    /// from this client then go over TCP. The server stops when the client is
    /// dropped.
    ///
    /// ```
    /// use justsse::prelude::*;
    /// use justsse::route;
    /// use justsse::test::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), justsse::Error> {
    /// async fn hello() -> &'static str { "hello" }
    ///
    /// let client = TestClient::serve(App::new().route("/", route::get(hello))).await?;
    /// let addr = client.addr().expect("a socket");
    /// assert_ne!(addr.port(), 0);
    /// assert_eq!(client.get("/").send().await.text().await, "hello");
    /// # Ok(()) }
    /// ```
    pub async fn serve(app: App) -> Result<Self, Error> {
        let (router, config) = app.build()?;
        let server = justsse_http::Server::bind("127.0.0.1:0")
            .await?
            .config(config);
        let addr = server.local_addr();
        let serving = tokio::spawn(async move {
            if let Err(err) = server.serve(router, std::future::pending()).await {
                tracing::error!(%err, "the test server stopped");
            }
        });
        Ok(Self {
            server: Transport::Socket { addr, serving },
        })
    }

    /// Where the app listens, when it was [`serve`](Self::serve)d.
    pub fn addr(&self) -> Option<SocketAddr> {
        match &self.server {
            Transport::InMemory(_) => None,
            Transport::Socket { addr, .. } => Some(*addr),
        }
    }

    /// A request with `method` to `path` (with its query string).
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            path: path.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A `GET`.
    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// A `POST`.
    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    /// A `PUT`.
    pub fn put(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PUT, path)
    }

    /// A `PATCH`.
    pub fn patch(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE`.
    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    /// A `GET` that accepts an event stream; read it with
    /// [`TestResponse::events`].
    pub fn sse(&self, path: &str) -> TestRequest<'_> {
        self.get(path).header(header::ACCEPT, "text/event-stream")
    }
}

/// A request being built; [`send`](Self::send) it.
#[derive(Debug)]
pub struct TestRequest<'a> {
    client: &'a TestClient,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl TestRequest<'_> {
    /// Adds a header. Panics on a name or value that is not valid in HTTP (a
    /// mistake in the test).
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: std::fmt::Debug,
        V: TryInto<HeaderValue>,
        V::Error: std::fmt::Debug,
    {
        let name = name.try_into().expect("a valid header name");
        let value = value.try_into().expect("a valid header value");
        self.headers.append(name, value);
        self
    }

    /// `value` as a JSON body, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.body = serde_json::to_vec(value).expect("serializable").into();
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self
    }

    /// A body as it is.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request on a new connection and waits for the response head.
    /// Panics if the server closes the connection without one.
    pub async fn send(self) -> TestResponse {
        let mut sender = match &self.client.server {
            Transport::InMemory(server) => handshake(server.connect()).await,
            Transport::Socket { addr, .. } => {
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .expect("the test server accepts");
                handshake(stream).await
            }
        };
        let mut request = justsse_http::http::Request::builder()
            .method(self.method)
            .uri(&self.path)
            .body(Full::new(self.body))
            .expect("a valid request");
        *request.headers_mut() = self.headers;
        request
            .headers_mut()
            .entry(header::HOST)
            .or_insert(HeaderValue::from_static("test"));
        let response = sender
            .send_request(request)
            .await
            .expect("the server answers");
        TestResponse { response }
    }
}

async fn handshake<I>(io: I) -> hyper::client::conn::http1::SendRequest<Full<Bytes>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .expect("the connection opens");
    tokio::spawn(conn);
    sender
}

/// A response; its body is read by [`text`](Self::text),
/// [`json`](Self::json), [`bytes`](Self::bytes) or [`events`](Self::events).
#[derive(Debug)]
pub struct TestResponse {
    response: justsse_http::http::Response<Incoming>,
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// A header's value as text, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name)?.to_str().ok()
    }

    /// The whole body.
    pub async fn bytes(self) -> Bytes {
        self.response
            .into_body()
            .collect()
            .await
            .expect("the body arrives")
            .to_bytes()
    }

    /// The whole body as text. Panics if it is not UTF-8.
    pub async fn text(self) -> String {
        String::from_utf8(self.bytes().await.to_vec()).expect("a UTF-8 body")
    }

    /// The body deserialized from JSON. Panics, with the body, if it is not
    /// a `T`.
    pub async fn json<T: DeserializeOwned>(self) -> T {
        let body = self.bytes().await;
        serde_json::from_slice(&body).unwrap_or_else(|err| {
            panic!(
                "the body is not the JSON expected ({err}): {}",
                String::from_utf8_lossy(&body)
            )
        })
    }

    /// The body as a stream of events, parsed as a browser does.
    pub fn events(self) -> EventReader {
        EventReader::new(self.response.into_body())
    }
}
