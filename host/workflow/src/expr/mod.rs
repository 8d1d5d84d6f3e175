//! Expressions: `{{ ... }}` templates in workflow strings, evaluated with
//! `minijinja` under strict rules.
//!
//! - A string that is exactly one `{{ expr }}` renders to the JSON value of
//!   the expression (number, object, list, ...); any other template renders
//!   to a string. Fields that take one expression (`if`, `for_each`,
//!   `wait.until`) accept `"{{ expr }}"` or the bare `expr`.
//! - Undefined values are errors that name the path
//!   (`steps.customer.output.emial is undefined`).
//! - Every render has a fuel budget, a recursion limit and an output cap
//!   ([`Limits`]); one tag holds at most 256 operators.
//! - Expressions see only the context they are given; secrets are never in
//!   it and no function reads them.
//!
//! Helpers available in expressions: `now()` (RFC 3339, UTC), `today(tz)`
//! (`YYYY-MM-DD`), and the filters `add_days(n)`, `add_hours(n)`,
//! `add_minutes(n)` (negative to subtract), `days_until(tz?)`,
//! `days_since(tz?)`, `format_date(format, tz?)`; dates may be `YYYY-MM-DD`,
//! RFC 3339 date-times or unix timestamps (seconds), see [`parse_instant`].
//! The standard minijinja filters (`default`, `upper`, `join`, `tojson`,
//! `length`, ...) are there too.

mod dates;
mod env;
mod nesting;

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use minijinja::Environment;

pub use dates::parse_instant;
pub(crate) use env::TemplateSet;

/// The limits every render runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Instructions one render may execute.
    pub fuel: u64,
    /// Nesting depth of the template engine.
    pub recursion: usize,
    /// Size of a rendered string, or of a value's JSON text, in bytes.
    pub max_output_bytes: usize,
}

impl Limits {
    /// The limits workflows run with: 50 000 instructions, depth 64, 1 MiB.
    pub const DEFAULT: Limits = Limits {
        fuel: 50_000,
        recursion: 64,
        max_output_bytes: 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why an expression failed to compile or render.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The template does not parse.
    #[error("template does not parse: {message}")]
    Syntax {
        /// The template engine's message.
        message: String,
    },
    /// A path that does not exist in the context.
    #[error("{path} is undefined")]
    Undefined {
        /// The path, e.g. `steps.customer.output.emial`.
        path: String,
    },
    /// The render used up its fuel (a loop too long).
    #[error("expression ran out of fuel (limit {limit} instructions)")]
    OutOfFuel {
        /// The fuel limit.
        limit: u64,
    },
    /// The output is larger than the cap.
    #[error("rendered value is larger than {limit} bytes")]
    OutputTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// A condition did not evaluate to a boolean.
    #[error("expected a boolean, got {found}")]
    NotBoolean {
        /// What it evaluated to, e.g. `string "yes"`.
        found: String,
    },
    /// A value that should be a time is not one.
    #[error(
        "invalid time {value}: expected a date (YYYY-MM-DD), an RFC 3339 date-time or a unix timestamp"
    )]
    InvalidTime {
        /// The value as JSON.
        value: String,
    },
    /// Any other evaluation error (unknown filter, bad argument, ...).
    #[error("{message}")]
    Eval {
        /// The template engine's message.
        message: String,
    },
}

/// How a template is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// One expression: renders to its JSON value.
    Expression,
    /// Text with templates inside: renders to a string.
    Text,
}

/// A compiled template. Cheap to clone; compiled once per workflow, rendered
/// many times (from any thread).
#[derive(Clone)]
pub struct Template {
    source: String,
    form: Form,
    name: String,
    variables: Vec<String>,
    limits: Limits,
    env: Arc<OnceLock<Environment<'static>>>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("source", &self.source)
            .field("form", &self.form)
            .finish()
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.form == other.form
    }
}

impl serde::Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl Template {
    /// Compiles a string as found in a `with` value: exactly one `{{ expr }}`
    /// gives an [`Form::Expression`], anything else a [`Form::Text`].
    pub fn parse(source: &str) -> Result<Template, ExprError> {
        let mut set = TemplateSet::new(Limits::DEFAULT);
        let t = set.string(source)?;
        set.finish();
        Ok(t)
    }

    /// Compiles one expression, written bare (`steps.a.failed`) or as
    /// `"{{ steps.a.failed }}"`.
    pub fn parse_expression(source: &str) -> Result<Template, ExprError> {
        let mut set = TemplateSet::new(Limits::DEFAULT);
        let t = set.expression(source)?;
        set.finish();
        Ok(t)
    }

    /// The text as written in the workflow.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How it evaluates.
    pub fn form(&self) -> Form {
        self.form
    }

    /// The context paths the template reads, e.g. `steps.customer.output.email`
    /// (a path stops where it is no longer a plain attribute chain).
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Renders against `context` at the current time.
    pub fn render(&self, context: &serde_json::Value) -> Result<serde_json::Value, ExprError> {
        self.render_at(context, Utc::now())
    }

    /// Renders against `context` with `now()` fixed to `now` (for tests and
    /// for replaying a step with the time it first ran).
    pub fn render_at(
        &self,
        context: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, ExprError> {
        let env = self.env.get().ok_or_else(|| ExprError::Eval {
            message: "template used before its workflow was compiled".to_owned(),
        })?;
        env::render(env, self, context, now)
    }

    /// Evaluates a condition: it must give `true` or `false`.
    pub fn eval_bool(&self, context: &serde_json::Value) -> Result<bool, ExprError> {
        self.eval_bool_at(context, Utc::now())
    }

    /// [`Template::eval_bool`] with `now()` fixed to `now`.
    pub fn eval_bool_at(
        &self,
        context: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool, ExprError> {
        match self.render_at(context, now)? {
            serde_json::Value::Bool(b) => Ok(b),
            other => Err(ExprError::NotBoolean {
                found: describe(&other),
            }),
        }
    }
}

/// Renders `template` against `context` (see [`Template::render`]).
pub fn render(
    template: &Template,
    context: &serde_json::Value,
) -> Result<serde_json::Value, ExprError> {
    template.render(context)
}

/// Evaluates a condition (see [`Template::eval_bool`]).
pub fn eval_bool(template: &Template, context: &serde_json::Value) -> Result<bool, ExprError> {
    template.eval_bool(context)
}

fn describe(v: &serde_json::Value) -> String {
    let text = v.to_string();
    let text = if text.len() > 40 {
        let mut cut = 40;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &text[..cut])
    } else {
        text
    };
    let kind = match v {
        serde_json::Value::Null => return "null".to_owned(),
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "object",
    };
    format!("{kind} {text}")
}

/// What a string holds, before compiling.
pub(crate) enum Shape<'a> {
    /// No template syntax: a plain string.
    Literal,
    /// Exactly `{{ inner }}`.
    Single(&'a str),
    /// Text mixed with templates.
    Mixed,
}

/// Classifies a string found in a `with` value.
pub(crate) fn shape(s: &str) -> Shape<'_> {
    if !s.contains("{{") && !s.contains("{%") && !s.contains("{#") {
        return Shape::Literal;
    }
    if let Some(inner) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
        let inner = inner.strip_prefix('-').unwrap_or(inner);
        let inner = inner.strip_suffix('-').unwrap_or(inner);
        if !inner.contains("{{")
            && !inner.contains("}}")
            && !inner.contains("{%")
            && !inner.trim().is_empty()
        {
            return Shape::Single(inner);
        }
    }
    Shape::Mixed
}

#[cfg(test)]
mod tests;
