//! One module per command group.

pub mod cron;
pub mod engine;
pub mod plugin;
pub mod scaffold;
pub mod serve;
pub mod token;
pub mod validate;
