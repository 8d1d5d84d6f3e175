//! One module per command group.

pub mod cron;
pub mod plugin;
pub mod scaffold;
pub mod serve;
pub mod token;
pub mod validate;
