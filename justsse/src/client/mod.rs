//! Reading event streams as a browser does: the WHATWG [`Parser`], and (with
//! the `client` feature) `EventSource`, a client that reconnects and
//! resumes like a browser's.

#[cfg(feature = "client")]
mod event_source;
mod parser;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use event_source::{ClientError, EventSource, EventSourceBuilder, SourceItem};
pub use parser::{MessageEvent, Parser};
