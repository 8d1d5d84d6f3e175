//! Writing to the invocation's log (and so to the run's record).
//!
//! ```
//! use relais_plugin_sdk::log;
//! # fn step(customer: &str) {
//! log::info!("charging customer {customer}");
//! log::write(log::Level::Warn, "card expires this month");
//! # }
//! ```
//!
//! The host caps the volume per invocation; lines past the cap are dropped
//! (and the drop is noted once). Never log secrets.

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very fine detail.
    Trace,
    /// Detail for whoever debugs a run.
    Debug,
    /// What the step did.
    Info,
    /// Something odd that did not stop the step.
    Warn,
    /// Something that failed.
    Error,
}

impl Level {
    /// The level's name, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Appends one line to the invocation's log.
pub fn write(level: Level, message: &str) {
    crate::host::log_write(level, message);
}

#[doc(inline)]
pub use crate::{
    __log_debug as debug, __log_error as error, __log_info as info, __log_trace as trace,
    __log_warn as warn,
};

/// Writes a formatted line at `trace` level: `log::trace!("x = {x}")`.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_trace {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)+)) };
}

/// Writes a formatted line at `debug` level: `log::debug!("x = {x}")`.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_debug {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)+)) };
}

/// Writes a formatted line at `info` level: `log::info!("x = {x}")`.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_info {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)+)) };
}

/// Writes a formatted line at `warn` level: `log::warn!("x = {x}")`.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_warn {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)+)) };
}

/// Writes a formatted line at `error` level: `log::error!("x = {x}")`.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_error {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)+)) };
}
