//! Procedural macros of justsse. Use them through the `justsse` crate.
//!
//! `#[controller]` and the route attributes arrive with the controllers issue; this
//! crate is in the workspace now so that the crate graph is the final one.
