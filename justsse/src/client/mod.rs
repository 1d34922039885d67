//! Reading event streams as a browser does: for tests of your own controllers and
//! for Rust clients.

mod parser;

pub use parser::{MessageEvent, Parser};
