//! Integration tests of the store, one binary (see each module).

mod api;
mod crash;
mod dedupe;
mod fail;
mod group_commit;
mod keys;
mod kv;
mod listing;
mod quota;
mod retention;
mod runs;
mod secrets;
mod steps;
mod support;
mod timers;
mod tokens;
mod upgrade;
