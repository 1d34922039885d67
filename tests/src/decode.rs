//! A response body decoded as its `Content-Encoding` says (gzip, brotli,
//! zstd, deflate, or none), frame by frame: what a browser does with a compressed
//! event stream, so a test sees each event as soon as its bytes arrive.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming};
use justsse::http;

/// The decoded body of a response.
pub struct Decoded {
    body: Incoming,
    decoder: Option<Decoder>,
    wire: u64,
}

enum Decoder {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Deflate(flate2::write::ZlibDecoder<Vec<u8>>),
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
}

impl Decoded {
    /// The body of `response`, decoded by its `Content-Encoding`.
    pub fn new(response: http::Response<Incoming>) -> Self {
        let coding = response
            .headers()
            .get(http::header::CONTENT_ENCODING)
            .map(|value| value.to_str().expect("an ASCII coding").to_owned());
        let decoder = coding.map(|coding| match coding.as_str() {
            "gzip" => Decoder::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            "deflate" => Decoder::Deflate(flate2::write::ZlibDecoder::new(Vec::new())),
            "br" => Decoder::Brotli(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096))),
            "zstd" => Decoder::Zstd(Box::new(
                zstd::stream::write::Decoder::new(Vec::new()).expect("a zstd decoder"),
            )),
            other => panic!("a coding the tests cannot read: {other}"),
        });
        Self {
            body: response.into_body(),
            decoder,
            wire: 0,
        }
    }

    /// The body's bytes as they came on the wire (compressed), so far.
    pub fn wire_bytes(&self) -> u64 {
        self.wire
    }

    /// Whether the body was compressed.
    pub fn is_compressed(&self) -> bool {
        self.decoder.is_some()
    }
}

impl Decoder {
    /// What `chunk` completes of the decoded text; fails the test when the
    /// bytes are not of the coding.
    fn decode(&mut self, chunk: &[u8]) -> Bytes {
        match self {
            Decoder::Gzip(decoder) => written(decoder, chunk, flate2::write::GzDecoder::get_mut),
            Decoder::Deflate(decoder) => {
                written(decoder, chunk, flate2::write::ZlibDecoder::get_mut)
            }
            Decoder::Brotli(decoder) => {
                written(&mut **decoder, chunk, brotli::DecompressorWriter::get_mut)
            }
            Decoder::Zstd(decoder) => {
                written(&mut **decoder, chunk, zstd::stream::write::Decoder::get_mut)
            }
        }
    }
}

/// `chunk` through a decoding writer, flushed: what it wrote to its vector
/// (`out` reaches it), taken; fails the test when the bytes do not decode.
fn written<W: Write>(decoder: &mut W, chunk: &[u8], out: fn(&mut W) -> &mut Vec<u8>) -> Bytes {
    decoder.write_all(chunk).expect("the coding decodes");
    decoder.flush().expect("the decoder flushes");
    Bytes::from(std::mem::take(out(decoder)))
}

impl Body for Decoded {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.wire += data.len() as u64;
                }
                let frame = match (frame.into_data(), this.decoder.as_mut()) {
                    (Ok(data), Some(decoder)) => Frame::data(decoder.decode(&data)),
                    (Ok(data), None) => Frame::data(data),
                    (Err(frame), _) => frame,
                };
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }
}
