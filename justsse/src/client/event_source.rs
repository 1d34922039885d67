//! A reconnecting event-stream client, following the WHATWG `EventSource`
//! rules: `Last-Event-ID` on reconnect, the server's `retry:`, no reconnect
//! after `204` or a response that is not an event stream.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use justsse_http::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{EventReader, MessageEvent};

/// What an [`EventSource`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    /// A connection opened (the first, or a reconnection).
    Open,
    /// An event.
    Message(MessageEvent),
    /// The server's `resync` ([`RESYNC`](crate::hub::RESYNC)): events were
    /// missed; refetch the state, then follow the stream.
    Resync(MessageEvent),
}

/// Why a connection failed. After [`Fatal`](ClientError::is_fatal) errors the
/// source has stopped; after the others it reconnects by itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `http://` or `https://` with a host.
    #[error("not an http(s) URL with a host: {0}")]
    Url(String),
    /// No connection within the connect timeout, or no byte within the read
    /// timeout.
    #[error("timed out {0}")]
    Timeout(&'static str),
    /// The connection failed or broke.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// HTTP failed on the connection.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// The server answered a status it may answer differently later (429,
    /// 500, 502, 503, 504): retried with backoff.
    #[error("the server answered {0}; retrying")]
    Unavailable(StatusCode),
    /// The server answered a status other than `200` (`204` ends the source
    /// without an error: [`EventSource::next`] returns `None`), or something
    /// that is not an event stream: the source stops, as a browser's does.
    #[error("the server answered {status} ({content_type}); stopped")]
    Refused {
        /// The status.
        status: StatusCode,
        /// The content type, if any.
        content_type: String,
    },
    /// `https://` without the `tls` feature.
    #[error("https needs justsse's `tls` feature")]
    NoTls,
}

impl ClientError {
    /// Whether the source has stopped for good.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Url(_) | Self::Refused { .. } | Self::NoTls)
    }
}

/// How to reach the stream.
#[derive(Debug, Clone)]
struct Target {
    uri: Uri,
    /// The first request's method and body: `GET` and none, or a stream
    /// that starts with a request (`POST` and a JSON body).
    method: Method,
    body: Bytes,
    /// Where reconnects go instead, with `GET` and `Last-Event-ID`; `None`:
    /// the first request again.
    resume: Option<Uri>,
    https: bool,
    host: String,
    port: u16,
    headers: HeaderMap,
    connect_timeout: Duration,
    read_timeout: Duration,
    max_backoff: Duration,
    #[cfg(feature = "tls")]
    tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
}

/// A client of one event stream that reconnects the way browsers do: after
/// the stream ends or the connection breaks it waits the server's `retry:`
/// (3 s until the server says), with jitter, and reconnects sending the last
/// event id it saw, so a server that resumes (as the hub does) loses and
/// repeats nothing. Repeated failures back off exponentially up to a maximum
/// (30 s by default). It ends on `204` (`next` returns `None`: the server's
/// way to say there is nothing more), and stops with an error on a response
/// that is not an event stream and on statuses other than 429, 500, 502, 503
/// and 504.
///
/// ```no_run
/// use justsse::client::{EventSource, SourceItem};
///
/// # async fn run() -> Result<(), justsse::client::ClientError> {
/// let mut source = EventSource::builder("http://127.0.0.1:3000/tickets/1/events")
///     .header("authorization", "Bearer admin-token")
///     .build()?;
/// while let Some(item) = source.next().await {
///     match item {
///         Ok(SourceItem::Message(event)) => println!("{}: {}", event.event_type, event.data),
///         Ok(SourceItem::Resync(_)) => { /* refetch the state */ }
///         Ok(SourceItem::Open) => {}
///         Err(err) if err.is_fatal() => return Err(err),
///         Err(err) => eprintln!("reconnecting: {err}"),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EventSource {
    target: Target,
    /// The events of the current connection; the last event id and the
    /// server's `retry:` carry over from one connection to the next.
    reader: EventReader<Incoming>,
    /// What to wait before the next connection attempt.
    wait: Option<Duration>,
    failures: u32,
    stopped: bool,
}

/// Configures an [`EventSource`].
#[derive(Debug)]
pub struct EventSourceBuilder {
    url: String,
    method: Method,
    body: Bytes,
    resume: Option<String>,
    headers: HeaderMap,
    invalid: Option<String>,
    connect_timeout: Duration,
    read_timeout: Duration,
    max_backoff: Duration,
    #[cfg(feature = "tls")]
    tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl EventSource {
    /// A source of the stream at `url`, configured by the builder.
    pub fn builder(url: impl Into<String>) -> EventSourceBuilder {
        EventSourceBuilder {
            url: url.into(),
            method: Method::GET,
            body: Bytes::new(),
            resume: None,
            headers: HeaderMap::new(),
            invalid: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_backoff: Duration::from_secs(30),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The id of the last event received, sent as `Last-Event-ID` on reconnect.
    pub fn last_event_id(&self) -> &str {
        self.reader.last_event_id()
    }

    /// The next item; `None` once the source has stopped.
    pub async fn next(&mut self) -> Option<Result<SourceItem, ClientError>> {
        loop {
            if let Some(event) = self.reader.pop() {
                return Some(Ok(if event.event_type == crate::hub::RESYNC {
                    SourceItem::Resync(event)
                } else {
                    SourceItem::Message(event)
                }));
            }
            if self.stopped {
                return None;
            }
            if !self.reader.is_reading() {
                if let Some(wait) = self.wait.take() {
                    tokio::time::sleep(wait).await;
                }
                let last_event_id = self.reader.last_event_id().to_owned();
                match self.target.connect(&last_event_id).await {
                    Ok(body) => {
                        self.reader.resume(body);
                        self.failures = 0;
                        return Some(Ok(SourceItem::Open));
                    }
                    // `204`: the server says there is nothing more, as a
                    // browser's `EventSource` takes it; the source ends.
                    Err(ClientError::Refused { status, .. })
                        if status == StatusCode::NO_CONTENT =>
                    {
                        self.stopped = true;
                        return None;
                    }
                    Err(err) => {
                        if err.is_fatal() {
                            self.stopped = true;
                        } else {
                            self.failures += 1;
                            self.wait = Some(self.backoff());
                        }
                        return Some(Err(err));
                    }
                }
            }
            let read_timeout = self.target.read_timeout;
            match tokio::time::timeout(read_timeout, self.reader.chunk()).await {
                Ok(Some(Ok(_))) => {}
                Ok(None) => {
                    // The stream ended: reconnect after the server's delay.
                    self.wait = Some(self.backoff());
                }
                Ok(Some(Err(err))) => {
                    self.failures += 1;
                    self.wait = Some(self.backoff());
                    return Some(Err(ClientError::Http(err)));
                }
                Err(_) => {
                    self.reader.end();
                    self.failures += 1;
                    self.wait = Some(self.backoff());
                    return Some(Err(ClientError::Timeout("waiting for the stream")));
                }
            }
        }
    }

    /// The reconnection delay: the server's `retry:` (or 3 s), doubled for
    /// each failure in a row up to the maximum, with up to a quarter of
    /// jitter so that many clients do not come back at once.
    fn backoff(&self) -> Duration {
        let base = self.reader.retry().unwrap_or(Duration::from_secs(3));
        let doubled = base.saturating_mul(1 << self.failures.saturating_sub(1).min(16));
        let delay = if self.failures > 0 {
            doubled.min(self.target.max_backoff.max(base))
        } else {
            base
        };
        delay + delay.mul_f64(jitter() * 0.25)
    }
}

/// A number in 0..1, different for each call (no randomness crate needed for
/// spreading reconnects).
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ seed;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

impl EventSourceBuilder {
    /// Starts the stream with a `POST` of `body` as JSON (`content-type:
    /// application/json`), as model output and MCP streams start: the server
    /// answers the POST with the stream. Reconnects send the same request
    /// with `Last-Event-ID`, unless [`resume_at`](Self::resume_at) names where
    /// the stream is resumed.
    ///
    /// ```no_run
    /// use justsse::client::{EventSource, SourceItem};
    ///
    /// # async fn run() -> Result<(), justsse::client::ClientError> {
    /// let body = serde_json::json!({"model": "fake", "stream": true});
    /// let mut source = EventSource::builder("http://127.0.0.1:3000/v1/chat/completions")
    ///     .header("authorization", "Bearer sk-local")
    ///     .post_json(&body)
    ///     .build()?;
    /// while let Some(Ok(item)) = source.next().await {
    ///     if let SourceItem::Message(event) = item {
    ///         if event.data == "[DONE]" {
    ///             break;
    ///         }
    ///         println!("{}", event.data);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn post_json<T: serde::Serialize + ?Sized>(self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(json) => self
                .header("content-type", "application/json")
                .request(Method::POST, json),
            Err(err) => Self {
                invalid: Some(format!("the body does not serialize: {err}")),
                ..self
            },
        }
    }

    /// Starts the stream with `method` and `body` (set its `content-type`
    /// with [`header`](Self::header)).
    pub fn request(mut self, method: Method, body: impl Into<Bytes>) -> Self {
        self.method = method;
        self.body = body.into();
        self
    }

    /// Reconnects with a `GET` of `path_and_query` on the same server (and
    /// `Last-Event-ID`) instead of sending the first request again: where a
    /// generation started by a `POST` is resumed.
    pub fn resume_at(mut self, path_and_query: &str) -> Self {
        self.resume = Some(path_and_query.to_owned());
        self
    }

    /// Sends `name: value` with every connection (authentication, say).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => self.invalid = Some(format!("invalid header {name:?}")),
        }
        self
    }

    /// How long a connection may take to open (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long the stream may stay silent before the connection is taken
    /// for dead and replaced (default 60 s; keep-alive comments count).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The longest wait between reconnection attempts after failures
    /// (default 30 s).
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// The TLS configuration for `https://` (its ALPN is set to `h2` and
    /// `http/1.1`: HTTP/2 when the server speaks it). Without one, `https://`
    /// trusts the Mozilla root certificates of the `webpki-roots` crate.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, config: std::sync::Arc<tokio_rustls::rustls::ClientConfig>) -> Self {
        let mut config = std::sync::Arc::unwrap_or_clone(config);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        self.tls = Some(std::sync::Arc::new(config));
        self
    }

    /// The source; it connects on its first [`next`](EventSource::next).
    pub fn build(self) -> Result<EventSource, ClientError> {
        if let Some(invalid) = self.invalid {
            return Err(ClientError::Url(invalid));
        }
        let uri: Uri = self
            .url
            .parse()
            .map_err(|_| ClientError::Url(self.url.clone()))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(ClientError::Url(self.url)),
        };
        let host = uri
            .host()
            .ok_or_else(|| ClientError::Url(self.url.clone()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let resume = match &self.resume {
            Some(path) => {
                let mut parts = uri.clone().into_parts();
                parts.path_and_query =
                    Some(path.parse().map_err(|_| ClientError::Url(path.clone()))?);
                Some(Uri::from_parts(parts).map_err(|_| ClientError::Url(path.clone()))?)
            }
            None => None,
        };
        Ok(EventSource {
            target: Target {
                uri,
                method: self.method,
                body: self.body,
                resume,
                https,
                host,
                port,
                headers: self.headers,
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                max_backoff: self.max_backoff,
                #[cfg(feature = "tls")]
                tls: self.tls,
            },
            reader: EventReader::default(),
            wait: None,
            failures: 0,
            stopped: false,
        })
    }
}

/// A sender on one new connection: HTTP/2 when TLS agreed on it.
enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Target {
    /// Opens a connection and asks for the stream after `last_event_id`.
    async fn connect(&self, last_event_id: &str) -> Result<Incoming, ClientError> {
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| ClientError::Timeout("connecting"))??;
        let _ = tcp.set_nodelay(true);
        let mut sender = if self.https {
            self.tls_sender(tcp).await?
        } else {
            Sender::Http1(http1(tcp).await?)
        };
        // A reconnect goes where the stream resumes, when it has such a place.
        let (method, uri, body) = match &self.resume {
            Some(resume) if !last_event_id.is_empty() => (Method::GET, resume, Bytes::new()),
            _ => (self.method.clone(), &self.uri, self.body.clone()),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri.clone())
            .body(Full::new(body))
            .map_err(|err| ClientError::Url(err.to_string()))?;
        let headers = request.headers_mut();
        headers.clone_from(&self.headers);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Some(value) = Some(last_event_id)
            .filter(|id| !id.is_empty())
            .and_then(|id| HeaderValue::try_from(id).ok())
        {
            headers.insert("last-event-id", value);
        }
        let response = tokio::time::timeout(self.read_timeout, async {
            match &mut sender {
                Sender::Http1(sender) => {
                    if let Ok(host) = HeaderValue::try_from(self.authority()) {
                        request.headers_mut().insert(header::HOST, host);
                    }
                    *request.uri_mut() = path_of(request.uri());
                    sender.send_request(request).await
                }
                Sender::Http2(sender) => sender.send_request(request).await,
            }
        })
        .await
        .map_err(|_| ClientError::Timeout("waiting for the response"))??;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if status == StatusCode::OK && content_type.starts_with("text/event-stream") {
            return Ok(response.into_body());
        }
        if matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504) {
            return Err(ClientError::Unavailable(status));
        }
        Err(ClientError::Refused {
            status,
            content_type,
        })
    }

    fn authority(&self) -> String {
        self.uri
            .authority()
            .map_or_else(|| self.host.clone(), |a| a.as_str().to_owned())
    }

    #[cfg(feature = "tls")]
    async fn tls_sender(&self, tcp: TcpStream) -> Result<Sender, ClientError> {
        use tokio_rustls::rustls::pki_types::ServerName;
        let config = self.tls.clone().unwrap_or_else(default_tls);
        let name = ServerName::try_from(self.host.clone())
            .map_err(|_| ClientError::Url(self.host.clone()))?;
        let tls = tokio::time::timeout(
            self.connect_timeout,
            tokio_rustls::TlsConnector::from(config).connect(name, tcp),
        )
        .await
        .map_err(|_| ClientError::Timeout("in the TLS handshake"))??;
        if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
            let (sender, conn) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                TokioIo::new(tls),
            )
            .await?;
            tokio::spawn(conn);
            Ok(Sender::Http2(sender))
        } else {
            Ok(Sender::Http1(http1(tls).await?))
        }
    }

    #[cfg(not(feature = "tls"))]
    async fn tls_sender(&self, _: TcpStream) -> Result<Sender, ClientError> {
        Err(ClientError::NoTls)
    }
}

/// The configuration `https://` uses when the builder was given none: the
/// Mozilla roots, ALPN `h2` then `http/1.1`; built once per process.
#[cfg(feature = "tls")]
fn default_tls() -> std::sync::Arc<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};
    static CONFIG: std::sync::OnceLock<std::sync::Arc<ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let mut config =
                ClientConfig::builder_with_provider(std::sync::Arc::new(ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default protocol versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            std::sync::Arc::new(config)
        })
        .clone()
}

/// The origin-form of `uri` (its path and query), as HTTP/1.1 sends it.
fn path_of(uri: &Uri) -> Uri {
    uri.path_and_query().map_or_else(
        || Uri::from_static("/"),
        |p| p.as_str().parse().unwrap_or_else(|_| Uri::from_static("/")),
    )
}

async fn http1<I>(
    io: I,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, ClientError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(conn);
    Ok(sender)
}
