//! End-to-end tests against the real `relais` binary (build it first:
//! `cargo build -p relais`).

mod engine;
mod server;
