//! The error a schedule is refused with.

use thiserror::Error;

/// Why a cron schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    /// The expression is empty or blank.
    #[error("empty cron expression")]
    Empty,
    /// An `@` macro that is not one of the supported ones.
    #[error(
        "unknown cron macro `{name}`: expected @yearly, @annually, @monthly, @weekly, @daily, \
         @midnight or @hourly"
    )]
    UnknownMacro {
        /// The macro as written.
        name: String,
    },
    /// Not five fields.
    #[error(
        "cron expression `{expr}` has {found} fields, expected 5 \
         (minute hour day-of-month month day-of-week)"
    )]
    FieldCount {
        /// The expression as written.
        expr: String,
        /// How many whitespace-separated fields it has.
        found: usize,
    },
    /// One field is not valid.
    #[error("cron expression `{expr}`: {field} field `{value}` {reason}")]
    InvalidField {
        /// The expression as written.
        expr: String,
        /// `minute`, `hour`, `day-of-month`, `month` or `day-of-week`.
        field: &'static str,
        /// The field as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The expression is refused as a whole.
    #[error("cron expression `{expr}` is not valid: {reason}")]
    Invalid {
        /// The expression as written.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The expression can never fire.
    #[error(
        "cron expression `{expr}` never fires: no date matches in a full {years}-year \
         calendar cycle (searched from 2000-01-01); check the day of month against the month"
    )]
    NeverFires {
        /// The expression as written.
        expr: String,
        /// The horizon searched, in years.
        years: u32,
    },
    /// A catch-up policy name that is not `none`, `latest` or `all`.
    #[error("unknown catch-up policy `{name}`: expected none, latest or all")]
    UnknownCatchUpPolicy {
        /// The name as written.
        name: String,
    },
    /// The time zone is not an IANA name known to the bundled database.
    #[error("unknown time zone `{name}`: expected an IANA name such as Europe/Paris or UTC")]
    UnknownTimeZone {
        /// The name as written.
        name: String,
    },
}
