//! The tickets example's tests: its API, hardening, metrics, recovery after resync, the routes command.
//!
//! One binary for every file here: each is a module, so the suite compiles
//! and links once (`cargo test -p tickets --test integration <module>::` runs one).

mod api;
mod hardening;
mod metrics;
mod recovery;
mod routes_command;
