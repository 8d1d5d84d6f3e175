//! relais-workflow
pub mod catalog;
pub mod duration;
pub mod error;
pub mod expr;
pub mod ids;
pub mod model;
mod resolve;
pub mod schedule;
mod yaml;

pub use resolve::parse_workflow;
