//! justsse's integration tests, over real sockets and real components.
//!
//! One binary for every file here: each is a module, so the suite compiles
//! and links once (`cargo test -p justsse-tests --test integration <module>::` runs one).

mod balanced;
mod browser;
mod chain;
mod compression;
mod controller;
mod deadlines;
mod descriptors;
mod disconnect;
mod documented_commands;
mod event_source;
mod generations;
mod guards;
mod hand_chains;
mod headers;
mod hostile;
mod json;
mod layering;
mod layers;
mod limits;
mod merged_stream;
mod new_project;
mod observability;
mod openapi;
mod post_streams;
mod postgres_hub;
mod realtime;
mod redis_cluster;
mod redis_hub;
mod route_table;
mod router;
mod server;
mod shutdown;
mod slow_consumers;
mod slow_readers;
mod sse;
mod stream_limits;
mod test_client;
mod tickets_example;
mod tls;
mod typed_events;
mod typescript;
mod wrap;
