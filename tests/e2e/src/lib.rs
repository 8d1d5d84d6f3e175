//! End-to-end tests of the `relais` binary live in `tests/all`; build the
//! binary first (`cargo build -p relais`).
