//! End-to-end tests against the real `relais` binary (build it first:
//! `cargo build -p relais`, or point `RELAIS_BIN` at it).

mod cli;
mod config;
mod crash;
mod cron;
mod docs;
mod plugin_cli;
mod server;
mod support;
