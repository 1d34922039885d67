//! The hub's tests: the conformance suite, properties, and the encoder's round trip.
//!
//! One binary for every file here: each is a module, so the suite compiles
//! and links once (`cargo test -p justsse --test integration <module>::` runs one).

mod conformance;
mod hub;
mod roundtrip;
