//! Integration tests of relais-workflow (one binary).

mod common;
mod expressions;
mod files;
mod ui;
