//! Whole requests through the tickets example, as bytes on an in-memory
//! connection: any method, path, headers and body get a documented status
//! (or, for bytes that are not HTTP, a closed connection), never a panic and
//! never a 500. Timers run on tokio's paused clock, so a request that stops
//! half-way meets its deadline at once.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use justsse_http::{InMemory, ServerConfig};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Arbitrary, Debug)]
enum Input {
    /// A request assembled from its parts.
    Parts {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        accept_stream: bool,
    },
    /// Any bytes at all.
    Raw(Vec<u8>),
}

const DOCUMENTED: [u16; 17] = [
    200, 201, 204, 308, 400, 401, 403, 404, 405, 408, 413, 415, 429, 431, 501, 503, 505,
];

fn bytes(input: &Input) -> Vec<u8> {
    match input {
        Input::Raw(bytes) => bytes.clone(),
        Input::Parts { method, path, headers, body, accept_stream } => {
            let mut out = format!("{method} {path} HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n");
            if *accept_stream {
                out.push_str("accept: text/event-stream\r\n");
            }
            for (name, value) in headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
            let mut out = out.into_bytes();
            out.extend_from_slice(body);
            out
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime")
    })
}

fuzz_target!(|input: Input| {
    let request = bytes(&input);
    runtime().block_on(async {
        let router = tickets::app().into_router().expect("the app builds");
        let server = InMemory::new(router, ServerConfig::default()).expect("serves");
        let mut pipe = server.connect();
        // The server may answer and close before reading it all.
        let _ = pipe.write_all(&request).await;
        let _ = pipe.shutdown().await;
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(120), async {
            // The response head only: an event stream goes on for ever.
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match pipe.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        assert!(read.is_ok(), "no answer and no close within two minutes: {input:?}");
        if request.starts_with(b"PRI * HTTP/2.0") || head.is_empty() {
            return; // HTTP/2 frames, or closed without an answer.
        }
        let status: u16 = std::str::from_utf8(&head[..head.len().min(12)])
            .ok()
            // HTTP/1.0 requests are answered in HTTP/1.0.
            .and_then(|line| line.strip_prefix("HTTP/1.1 ").or_else(|| line.strip_prefix("HTTP/1.0 ")))
            .and_then(|code| code.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP/1.x answer: {:?}", String::from_utf8_lossy(&head)));
        assert!(
            DOCUMENTED.contains(&status),
            "undocumented status {status} for {input:?}:\n{}",
            String::from_utf8_lossy(&head)
        );
    });
});
