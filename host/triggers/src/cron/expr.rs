//! From crontab text to a wall-clock matcher, with Vixie cron's semantics.
//!
//! croner (4.x) does the matching; this module decides what it is given and
//! how it is configured, because croner's defaults differ from Vixie cron in
//! two places that matter here (both pinned by tests):
//!
//! - croner counts a day field as unrestricted only when it is exactly `*`.
//!   Vixie cron counts any field that *starts* with `*` (such as `*/2`) as
//!   unrestricted, and ORs day-of-month with day-of-week only when neither
//!   does. So the parser is put in croner's AND mode whenever one of the two
//!   day fields starts with `*` (or is `?`), and left in its default OR mode
//!   otherwise.
//! - croner calls a job "fixed-time" only when its minute and hour are each
//!   one single value, so `0,30 2 * * *` would be skipped on the spring-
//!   forward day. Vixie cron calls a job a wildcard job when its minute or
//!   hour field starts with `*`, and fixed-time otherwise. The DST handling
//!   in this crate uses Vixie's rule ([`DstRule`]) and only asks croner about
//!   wall-clock times, never about instants.
//!
//! Only 5-field lines are accepted (croner's optional seconds and year
//! fields are disallowed), plus the `@` macros. Weekdays are 0–7 with 0 and 7
//! both Sunday; month and weekday names (`JAN`, `MON`) are accepted in any
//! case. croner's extensions `L` (last), `W` (nearest weekday) and `#` (nth
//! weekday) are accepted in the day fields; its `+` prefix is not, since this
//! module already decides how the day fields combine.

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::error::ScheduleError;

/// How a schedule behaves when its zone changes clocks, following Vixie cron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DstRule {
    /// Neither the minute nor the hour field starts with `*`
    /// (`30 2 * * *`, `0,30 9-17 * * 1-5`, `@daily`). A time skipped by a
    /// spring-forward change fires once, at the first instant after the
    /// change; a time repeated by an autumn change fires once, at its first
    /// occurrence.
    FixedTime,
    /// The minute or the hour field starts with `*` (`*/15 * * * *`,
    /// `0 * * * *`, `@hourly`). The job fires at every real instant whose
    /// wall-clock time matches: skipped times do not fire, repeated times
    /// fire twice.
    Wildcard,
}

/// A parsed cron expression without a time zone: what a workflow file's
/// `cron:` resolves to, checked once. [`super::Schedule::with_zone`] puts it
/// in a zone, infallibly: an expression that parsed always schedules.
///
/// ```
/// use relais_triggers::cron::{Expression, Schedule};
///
/// let weekdays = Expression::parse("0 9 * * MON-FRI")?;
/// assert_eq!(weekdays.fields(), "0 9 * * MON-FRI");
/// let paris = Schedule::with_zone(weekdays, chrono_tz::Europe::Paris);
/// assert_eq!(paris.expression(), "0 9 * * MON-FRI");
/// assert!(Expression::parse("0 0 30 2 *").is_err()); // never fires
/// # Ok::<(), relais_triggers::cron::ScheduleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Expression {
    /// The expression as written, trimmed.
    pub(super) source: String,
    /// The five fields after macro expansion, separated by single spaces.
    pub(super) fields: String,
    pub(super) matcher: Cron,
    pub(super) dst: DstRule,
}

impl Expression {
    /// Parses a 5-field crontab expression or an `@` macro, and refuses one
    /// that can never fire.
    pub fn parse(text: &str) -> Result<Expression, ScheduleError> {
        let parsed = parse(text)?;
        if !super::fires_in_cycle(&parsed) {
            return Err(ScheduleError::NeverFires {
                expr: parsed.source,
                years: super::NEVER_FIRES_HORIZON_YEARS,
            });
        }
        Ok(parsed)
    }

    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The five fields the expression stands for (macros expanded).
    pub fn fields(&self) -> &str {
        &self.fields
    }

    /// How the expression behaves across clock changes.
    pub fn dst_rule(&self) -> DstRule {
        self.dst
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Expression {}

impl std::fmt::Display for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

const FIELD_NAMES: [&str; 5] = ["minute", "hour", "day-of-month", "month", "day-of-week"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Parses a 5-field crontab expression or an `@` macro (whether it ever
/// fires is checked by [`Expression::parse`]).
fn parse(text: &str) -> Result<Expression, ScheduleError> {
    let source = text.trim();
    if source.is_empty() {
        return Err(ScheduleError::Empty);
    }
    let expanded = if source.starts_with('@') {
        expand_macro(source)?
    } else {
        source
    };

    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields[..] else {
        return Err(ScheduleError::FieldCount {
            expr: source.to_owned(),
            found: fields.len(),
        });
    };
    for (index, value) in fields.iter().enumerate() {
        check_field(index, value).map_err(|reason| ScheduleError::InvalidField {
            expr: source.to_owned(),
            field: FIELD_NAMES[index],
            value: (*value).to_owned(),
            reason,
        })?;
    }

    // Vixie cron: a day field is unrestricted when it starts with `*`.
    let unrestricted = |field: &str| field.starts_with('*') || field == "?";
    let days_and = unrestricted(dom) || unrestricted(dow);
    let dst = if minute.starts_with('*') || hour.starts_with('*') {
        DstRule::Wildcard
    } else {
        DstRule::FixedTime
    };

    let joined = fields.join(" ");
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .dom_and_dow(days_and)
        .alternative_weekdays(false)
        .sloppy_ranges(false)
        .build();
    let matcher = parser.parse(&joined).map_err(|error| {
        invalid_from_croner(&parser, source, &[minute, hour, dom, month, dow], &error)
    })?;

    Ok(Expression {
        source: source.to_owned(),
        fields: joined,
        matcher,
        dst,
    })
}

fn expand_macro(source: &str) -> Result<&'static str, ScheduleError> {
    Ok(match source.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => {
            return Err(ScheduleError::UnknownMacro {
                name: source.to_owned(),
            });
        }
    })
}

/// Checks the characters and names of one field; croner checks the ranges.
fn check_field(index: usize, value: &str) -> Result<(), String> {
    let extra: &[char] = match index {
        2 => &['?', 'L', 'W', 'l', 'w'],
        4 => &['?', '#', 'L', 'l'],
        _ => &[],
    };
    let letters_allowed = index >= 2;
    if let Some(bad) = value.chars().find(|c| {
        !(c.is_ascii_digit()
            || matches!(c, '*' | ',' | '-' | '/')
            || extra.contains(c)
            || (letters_allowed && c.is_ascii_alphabetic()))
    }) {
        return Err(format!("contains `{bad}`, which is not allowed there"));
    }
    if value.split(',').any(str::is_empty) {
        return Err("has an empty list item".to_owned());
    }
    if value.contains('?') && value != "?" {
        return Err("may use `?` only on its own".to_owned());
    }
    for word in value
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| !word.is_empty())
    {
        let word = word.to_ascii_uppercase();
        let known = match index {
            2 => matches!(word.as_str(), "L" | "W" | "LW"),
            3 => MONTHS.contains(&word.as_str()),
            4 => word == "L" || WEEKDAYS.contains(&word.as_str()),
            _ => false,
        };
        if !known {
            return Err(match index {
                3 => format!("has `{word}`, which is not a month name (JAN to DEC)"),
                4 => format!("has `{word}`, which is not a weekday name (SUN to SAT)"),
                _ => format!("has `{word}`, which is not allowed there"),
            });
        }
    }
    Ok(())
}

/// Turns croner's refusal into ours, naming the field at fault: each field
/// is tried alone, with the others set to `*`.
fn invalid_from_croner(
    parser: &CronParser,
    source: &str,
    fields: &[&str; 5],
    error: &croner::errors::CronError,
) -> ScheduleError {
    let culprit = (0..fields.len()).find_map(|index| {
        let mut alone = ["*"; 5];
        alone[index] = fields[index];
        parser
            .parse(&alone.join(" "))
            .err()
            .map(|error| (index, error))
    });
    match culprit {
        Some((index, error)) => ScheduleError::InvalidField {
            expr: source.to_owned(),
            field: FIELD_NAMES[index],
            value: fields[index].to_owned(),
            reason: format!("is not valid: {}", croner_message(&error)),
        },
        None => ScheduleError::Invalid {
            expr: source.to_owned(),
            reason: croner_message(error),
        },
    }
}

/// croner's message, lowercase first and without its trailing period.
fn croner_message(error: &croner::errors::CronError) -> String {
    let message = error.to_string();
    let message = message.trim_end_matches('.');
    // Drop croner's category prefixes: the field is already named.
    let message = [
        "Component error: ",
        "Invalid pattern: ",
        "Pattern contains illegal characters: ",
    ]
    .iter()
    .find_map(|prefix| message.strip_prefix(prefix))
    .unwrap_or(message);
    lowercase_first(message)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
