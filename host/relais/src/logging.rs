//! The process's log on stderr (`[log]` in `relais.toml`): text as before,
//! or one JSON object per line. In JSON, the fields of the spans an event
//! happens in are fields of the line itself, so a step's line carries the
//! `run_id` and `workflow` of the engine's run span next to `message`.
//! `RUST_LOG`, when set, wins over `level`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// `[log]`: the format and level of the log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// `text` (the default) or `json` (one object per line).
    pub format: LogFormat,
    /// The least severe level written (`error`, `warn`, `info`, `debug`,
    /// `trace`), or a filter such as `warn,relais_engine=info` (default
    /// `warn`). `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            format: LogFormat::Text,
            level: "warn".to_owned(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// For people: `TIME LEVEL target: message fields`.
    Text,
    /// For machines: `{"timestamp", "level", "target", "message", ...fields}`.
    Json,
}

/// Whether the log is JSON: the operator's messages go through it then.
static JSON: AtomicBool = AtomicBool::new(false);

/// Installs the log for the process. `source` names the configuration in
/// errors.
pub fn init(settings: &LogSection, source: &str) -> Result<()> {
    let from_env = std::env::var_os("RUST_LOG")
        .is_some()
        .then(|| EnvFilter::try_from_default_env().ok())
        .flatten();
    let filter = match from_env {
        Some(f) => f,
        None => EnvFilter::try_new(&settings.level)
            .map_err(|e| anyhow::anyhow!("{source}: [log] level = {:?}: {e}", settings.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => {
            JSON.store(true, Ordering::Relaxed);
            builder
                .fmt_fields(JsonFields::new())
                .event_format(JsonLines)
                .init();
        }
    }
    Ok(())
}

/// A message for the operator (the server's address, its stop): on stderr
/// as is in text, an `info` line in JSON.
pub fn say(text: impl fmt::Display) {
    if JSON.load(Ordering::Relaxed) {
        tracing::info!(target: "relais", "{text}");
    } else {
        eprintln!("{text}");
    }
}

/// A warning for the operator: `warning: ...` on stderr in text, a `warn`
/// line in JSON.
pub fn warn(text: impl fmt::Display) {
    if JSON.load(Ordering::Relaxed) {
        tracing::warn!(target: "relais", "{text}");
    } else {
        eprintln!("warning: {text}");
    }
}

/// The error a command ends with: `error: ...` on stderr in text, an
/// `error` line in JSON.
pub fn error(text: impl fmt::Display) {
    if JSON.load(Ordering::Relaxed) {
        tracing::error!(target: "relais", "{text}");
    } else {
        eprintln!("error: {text}");
    }
}

/// One JSON object per event: time, level, target, the fields of its spans
/// (outermost first, inner ones overriding), then its own fields.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".to_owned(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.insert("level".to_owned(), Value::String(meta.level().to_string()));
        line.insert("target".to_owned(), Value::String(meta.target().to_owned()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields) {
                    line.extend(map);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let v = serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.0.insert(field.name().to_owned(), v);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().to_owned(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}
