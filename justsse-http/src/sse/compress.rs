//! Compressing an event stream event by event, as `Accept-Encoding` asks:
//! one compressor per stream, kept across its events so each event is coded
//! against the ones before it, and flushed after every write so each event
//! reaches the client at once (a gzip or brotli stream that waited for more
//! input would hold events back). gzip and deflate from flate2, brotli from
//! brotli, zstd from zstd.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{self, HeaderValue};

/// How event streams are compressed: on by default, for every client that asks
/// (`Accept-Encoding`): zstd, gzip, brotli or deflate, as the client prefers,
/// in that order on a tie (measured on small events flushed one by one).
/// `Accept-Encoding` is read for routes known to stream (`sse`, stream routes,
/// progressive routes asked for a stream), so that other requests pay nothing
/// for it: an event stream from a plain route (a `get` handler returning
/// `Sse`) goes uncompressed.
///
/// A compressed stream keeps its compressor (its window and tables) for its
/// whole life: about 120 KiB with zstd, 175 KiB with brotli and 215 KiB with
/// gzip or deflate at the default settings, against ~13 KiB for the stream
/// itself. So at most
/// [`max_streams`](Compression::max_streams) streams (256 by default) are
/// compressed at once; the others are sent as they are.
///
/// ```
/// use justsse_http::{Compression, ServerConfig};
///
/// let config = ServerConfig::default()
///     .compression(Compression::default().level(6).window_bits(15).max_streams(1_000));
/// let off = ServerConfig::default().compression(Compression::off());
/// # let _ = (config, off);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    enabled: bool,
    level: u32,
    quality: u32,
    window_bits: u8,
    max_streams: usize,
}

impl Default for Compression {
    /// gzip and deflate at level 1, brotli at quality 3, 4 KiB windows
    /// (`window_bits(12)`), 256 streams at most.
    fn default() -> Self {
        Self {
            enabled: true,
            level: 1,
            quality: 3,
            window_bits: 12,
            max_streams: 256,
        }
    }
}

impl Compression {
    /// No compression: streams are sent as they are, whatever the client asks.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// The gzip and deflate level, 0 (store) to 9 (smallest).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// The brotli quality, 0 to 11. Above 4 brotli allocates tens of MiB per
    /// stream: the quality is kept at 4 at most.
    pub fn quality(mut self, quality: u32) -> Self {
        self.quality = quality.min(4);
        self
    }

    /// The window, `2^bits` bytes, 9 to 15 (brotli: 10 to 15): how far back
    /// an event may refer to earlier ones. Small JSON events gain little past 12.
    pub fn window_bits(mut self, bits: u8) -> Self {
        self.window_bits = bits.clamp(9, 15);
        self
    }

    /// How many streams may be compressed at once; the others are sent as
    /// they are.
    pub fn max_streams(mut self, streams: usize) -> Self {
        self.max_streams = streams;
        self
    }

    /// Whether streams are compressed at all.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}

/// How one stream goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coded {
    /// Compression is off: the answer does not depend on `Accept-Encoding`.
    Off,
    /// Compression is on, but this stream goes as it is (the client did not
    /// ask, or there was no room).
    Plain,
    /// Compressed in this coding.
    In(Encoding),
}

/// A content coding this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Brotli,
    Gzip,
    Deflate,
    Zstd,
}

impl Encoding {
    pub(crate) fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Zstd => "zstd",
        })
    }

    /// The one `Accept-Encoding` prefers: the highest `q`, then zstd, gzip,
    /// brotli, deflate on a tie; `*` stands for any of them.
    pub(crate) fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
        let mut best: Option<(u16, Encoding)> = None;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim();
                let q = parts
                    .find_map(|param| param.trim().strip_prefix("q="))
                    .map_or(1000, quality);
                let candidates: &[Encoding] = if name == "*" {
                    &[Encoding::Brotli, Encoding::Gzip, Encoding::Deflate, Encoding::Zstd]
                } else if name.eq_ignore_ascii_case("br") {
                    &[Encoding::Brotli]
                } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                    &[Encoding::Gzip]
                } else if name.eq_ignore_ascii_case("deflate") {
                    &[Encoding::Deflate]
                } else if name.eq_ignore_ascii_case("zstd") {
                    &[Encoding::Zstd]
                } else {
                    &[]
                };
                for &encoding in candidates {
                    let better = match best {
                        None => true,
                        Some((best_q, best_encoding)) => {
                            q > best_q || (q == best_q && rank(encoding) < rank(best_encoding))
                        }
                    };
                    if q > 0 && better {
                        best = Some((q, encoding));
                    }
                }
            }
        }
        best.map(|(_, encoding)| encoding)
    }
}

/// The order on a tie, by measure (bench-compression, events flushed one by
/// one, at the settings a stream's memory allows): zstd as small as gzip for
/// less CPU and memory (a price ticker at 29.8 % of its size, 1.70x the CPU of
/// an uncompressed stream, 119 KiB), gzip (29.1 %, 1.94x, 214 KiB), brotli
/// larger and dearer (36.5 %, 3.49x), deflate last (gzip's, less well known).
fn rank(encoding: Encoding) -> u8 {
    match encoding {
        Encoding::Zstd => 0,
        Encoding::Gzip => 1,
        Encoding::Brotli => 2,
        Encoding::Deflate => 3,
    }
}

/// A `q` value in thousandths; an invalid one counts as 0 (not acceptable).
fn quality(text: &str) -> u16 {
    let text = text.trim();
    match text.parse::<f32>() {
        Ok(q) if (0.0..=1.0).contains(&q) => (q * 1000.0).round() as u16,
        _ => 0,
    }
}

/// The streams compressed now, bounded by [`Compression::max_streams`].
#[derive(Debug, Default)]
pub(crate) struct CompressedStreams(Arc<AtomicUsize>);

impl CompressedStreams {
    /// A compressor for one more stream, unless `config` is off or full.
    pub(crate) fn start(&self, config: &Compression, encoding: Encoding) -> Option<Compressor> {
        if !config.enabled {
            return None;
        }
        let taken = self.0.fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
            (open < config.max_streams).then_some(open + 1)
        });
        taken.ok()?;
        let coder = match encoding {
            Encoding::Gzip => Coder::Deflate(flate2::Compress::new_gzip(
                flate2::Compression::new(config.level),
                config.window_bits,
            )),
            Encoding::Deflate => Coder::Deflate(flate2::Compress::new_with_window_bits(
                flate2::Compression::new(config.level),
                true,
                config.window_bits,
            )),
            Encoding::Brotli => Coder::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                1024,
                config.quality,
                u32::from(config.window_bits.max(10)),
            ))),
            Encoding::Zstd => {
                let level = i32::try_from(config.level.max(1)).unwrap_or(1);
                let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), level).ok()?;
                encoder.window_log(u32::from(config.window_bits.max(10))).ok()?;
                Coder::Zstd(Box::new(encoder))
            }
        };
        Some(Compressor {
            coder,
            open: self.0.clone(),
        })
    }

    /// How many streams are compressed now.
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// One stream's compressor; its place among the compressed streams is given
/// back when it drops.
pub(crate) struct Compressor {
    coder: Coder,
    open: Arc<AtomicUsize>,
}

enum Coder {
    Deflate(flate2::Compress),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Encoder<'static, Vec<u8>>>),
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.coder {
            Coder::Deflate(_) => "Compressor(deflate)",
            Coder::Brotli(_) => "Compressor(brotli)",
            Coder::Zstd(_) => "Compressor(zstd)",
        })
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Compressor {
    /// `input` compressed and flushed: the client can decode all of it from
    /// what is returned and what came before.
    pub(crate) fn compress(&mut self, input: &[u8]) -> std::io::Result<Bytes> {
        match &mut self.coder {
            Coder::Deflate(coder) => {
                let mut out = Vec::with_capacity(input.len() / 2 + 64);
                let mut consumed = 0;
                loop {
                    let before = coder.total_in();
                    coder
                        .compress_vec(&input[consumed..], &mut out, flate2::FlushCompress::Sync)
                        .map_err(std::io::Error::other)?;
                    consumed += usize::try_from(coder.total_in() - before).unwrap_or(usize::MAX);
                    // A sync flush is complete once it leaves output space unused.
                    if consumed >= input.len() && out.len() < out.capacity() {
                        return Ok(Bytes::from(out));
                    }
                    out.reserve(out.capacity().max(256));
                }
            }
            Coder::Brotli(writer) => flushed(&mut **writer, input, brotli::CompressorWriter::get_mut),
            Coder::Zstd(writer) => flushed(&mut **writer, input, zstd::stream::write::Encoder::get_mut),
        }
    }
}

/// `input` through a compressing writer, flushed: what it wrote to its
/// vector (`out` reaches it), taken.
fn flushed<W: Write>(writer: &mut W, input: &[u8], out: fn(&mut W) -> &mut Vec<u8>) -> std::io::Result<Bytes> {
    writer.write_all(input)?;
    writer.flush()?;
    Ok(Bytes::from(std::mem::take(out(writer))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accept(value: &str) -> Option<Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        Encoding::negotiate(&headers)
    }

    #[test]
    fn the_client_s_preference_decides_and_zstd_then_gzip_win_a_tie() {
        assert_eq!(accept("gzip, deflate, br, zstd"), Some(Encoding::Zstd));
        assert_eq!(accept("gzip, deflate, br"), Some(Encoding::Gzip));
        assert_eq!(accept("br"), Some(Encoding::Brotli));
        assert_eq!(accept("deflate, br"), Some(Encoding::Brotli));
        assert_eq!(accept("gzip, deflate"), Some(Encoding::Gzip));
        assert_eq!(accept("deflate"), Some(Encoding::Deflate));
        assert_eq!(accept("br;q=0.5, gzip;q=0.9"), Some(Encoding::Gzip));
        assert_eq!(accept("br;q=0, gzip;q=0"), None);
        assert_eq!(accept("identity"), None);
        assert_eq!(accept("zstd"), Some(Encoding::Zstd));
        assert_eq!(accept("zstd;q=0.5, br"), Some(Encoding::Brotli));
        assert_eq!(accept("*"), Some(Encoding::Zstd));
        assert_eq!(accept("*;q=0.1, gzip"), Some(Encoding::Gzip));
        assert_eq!(accept("gzip;q=nonsense"), None);
        assert_eq!(Encoding::negotiate(&HeaderMap::new()), None);
    }

    const EVENTS: [&str; 3] = [
        "id: 1\nevent: price\ndata: {\"symbol\":\"ACME\",\"price\":101.5}\n\n",
        "id: 2\nevent: price\ndata: {\"symbol\":\"ACME\",\"price\":101.7}\n\n",
        ": keep-alive\n\n",
    ];

    /// Each event decodes from the bytes sent so far, without waiting for more.
    #[test]
    fn every_event_decodes_as_soon_as_it_is_sent() {
        let streams = CompressedStreams::default();
        for encoding in [Encoding::Gzip, Encoding::Deflate, Encoding::Brotli, Encoding::Zstd] {
            let mut compressor = streams.start(&Compression::default(), encoding).unwrap();
            let mut wire = Vec::new();
            let mut sent = String::new();
            for event in EVENTS {
                wire.extend_from_slice(&compressor.compress(event.as_bytes()).unwrap());
                sent.push_str(event);
                let mut decoded = Vec::new();
                let read = match encoding {
                    Encoding::Gzip => flate2::read::GzDecoder::new(&wire[..]).read_to_end(&mut decoded),
                    Encoding::Deflate => flate2::read::ZlibDecoder::new(&wire[..]).read_to_end(&mut decoded),
                    Encoding::Brotli => brotli::Decompressor::new(&wire[..], 4096).read_to_end(&mut decoded),
                    Encoding::Zstd => zstd::stream::read::Decoder::new(&wire[..])
                        .and_then(|mut decoder| decoder.read_to_end(&mut decoded)),
                };
                // The stream is unfinished: the decoder may report its end as
                // unexpected, but everything sent is there.
                let _ = read;
                assert_eq!(String::from_utf8_lossy(&decoded), sent, "{encoding:?}");
            }
        }
        assert_eq!(streams.open(), 0, "each compressor gave its place back");
    }

    #[test]
    fn no_more_than_max_streams_are_compressed_at_once() {
        let streams = CompressedStreams::default();
        let config = Compression::default().max_streams(2);
        let a = streams.start(&config, Encoding::Gzip);
        let b = streams.start(&config, Encoding::Brotli);
        assert!(a.is_some() && b.is_some());
        assert!(streams.start(&config, Encoding::Gzip).is_none());
        drop(a);
        assert!(streams.start(&config, Encoding::Gzip).is_some());
        assert!(streams.start(&Compression::off(), Encoding::Gzip).is_none());
    }
}
