//! Reading event streams as a browser does: the WHATWG [`Parser`]; with the
//! `client` or `test` feature the `EventReader` of a response body; with
//! `client`, `EventSource`, a client that reconnects and resumes like a
//! browser's.

#[cfg(feature = "client")]
mod event_source;
mod parser;
#[cfg(any(feature = "client", feature = "test"))]
mod reader;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use event_source::{ClientError, EventSource, EventSourceBuilder, SourceItem};
pub use parser::{MessageEvent, Parser};
#[cfg(any(feature = "client", feature = "test"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "client", feature = "test"))))]
pub use reader::EventReader;
