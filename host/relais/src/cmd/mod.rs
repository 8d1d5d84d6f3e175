//! One module per command group, plus how commands reach a node.

pub mod control;
pub mod cron;
pub mod node;
pub mod out;
pub mod plugin;
pub mod render;
pub mod run;
pub mod runs;
pub mod scaffold;
pub mod secret;
pub mod serve;
pub mod token;
pub mod validate;
