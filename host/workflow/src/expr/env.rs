//! The minijinja environment of a workflow: strict undefined, fuel,
//! recursion limit, the date helpers, and rendering with an output cap.

use std::cell::Cell;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use super::{ExprError, Form, Limits, Shape, Template, dates, nesting, shape};

/// The variable an expression's value is captured into.
const CAPTURE: &str = "__relais_value";

thread_local! {
    static NOW: Cell<Option<DateTime<Utc>>> = const { Cell::new(None) };
}

/// The time `now()` returns in the current render.
pub(super) fn now() -> DateTime<Utc> {
    NOW.with(|n| n.get()).unwrap_or_else(Utc::now)
}

struct NowGuard(Option<DateTime<Utc>>);

impl NowGuard {
    fn set(now: DateTime<Utc>) -> Self {
        Self(NOW.with(|n| n.replace(Some(now))))
    }
}

impl Drop for NowGuard {
    fn drop(&mut self) {
        NOW.with(|n| n.set(self.0));
    }
}

/// Compiles the templates of one workflow into one environment, shared by
/// all of them once [`TemplateSet::finish`] is called.
pub(crate) struct TemplateSet {
    env: Environment<'static>,
    shared: Arc<OnceLock<Environment<'static>>>,
    limits: Limits,
    next: usize,
    /// Filter and test names already probed: `(is_test, name) -> exists`.
    probed: HashMap<(bool, String), bool>,
}

impl TemplateSet {
    pub fn new(limits: Limits) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(limits.fuel));
        env.set_recursion_limit(limits.recursion);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_debug(true);
        dates::register(&mut env);
        Self {
            env,
            shared: Arc::new(OnceLock::new()),
            limits,
            next: 0,
            probed: HashMap::new(),
        }
    }

    /// The names of the environment's functions and globals (`now`, `range`, ...).
    pub fn is_global(&self, name: &str) -> bool {
        self.env.globals().any(|(n, _)| n == name)
    }

    /// Whether a filter of that name exists.
    pub fn has_filter(&mut self, name: &str) -> bool {
        self.probe(false, name)
    }

    /// Whether a test of that name exists.
    pub fn has_test(&mut self, name: &str) -> bool {
        self.probe(true, name)
    }

    fn probe(&mut self, test: bool, name: &str) -> bool {
        let key = (test, name.to_owned());
        if let Some(&known) = self.probed.get(&key) {
            return known;
        }
        let (src, unknown) = if test {
            (format!("{{{{ none is {name} }}}}"), ErrorKind::UnknownTest)
        } else {
            (format!("{{{{ none | {name} }}}}"), ErrorKind::UnknownFilter)
        };
        let exists = match self.env.render_str(&src, ()) {
            Ok(_) => true,
            Err(e) => e.kind() != unknown,
        };
        self.probed.insert(key, exists);
        exists
    }

    /// A string from a `with` value known to contain template syntax; a
    /// plain string compiles to a text template that renders to itself.
    pub fn string(&mut self, source: &str) -> Result<Template, ExprError> {
        match shape(source) {
            Shape::Single(inner) => self.compile(source, inner, Form::Expression),
            Shape::Literal | Shape::Mixed => self.compile(source, source, Form::Text),
        }
    }

    /// One expression, bare or in `{{ }}`.
    pub fn expression(&mut self, source: &str) -> Result<Template, ExprError> {
        match shape(source) {
            Shape::Single(inner) => self.compile(source, inner, Form::Expression),
            Shape::Literal
                if !source.contains("}}") && !source.contains("%}") && !source.contains("#}") =>
            {
                self.compile(source, source, Form::Expression)
            }
            _ => Err(ExprError::Syntax {
                message: "expected a single expression".to_owned(),
            }),
        }
    }

    fn compile(&mut self, source: &str, body: &str, form: Form) -> Result<Template, ExprError> {
        if body.trim().is_empty() {
            return Err(ExprError::Syntax {
                message: "empty expression".to_owned(),
            });
        }
        let name = format!("t{}", self.next);
        self.next += 1;
        let text = match form {
            Form::Expression => format!("{{% set {CAPTURE} = ({body}\n) %}}"),
            Form::Text => body.to_owned(),
        };
        if nesting::max_operators(&text) > nesting::MAX_OPERATORS {
            return Err(ExprError::Syntax {
                message: format!("a tag holds more than {} operators", nesting::MAX_OPERATORS),
            });
        }
        self.env
            .add_template_owned(name.clone(), text)
            .map_err(|e| ExprError::Syntax {
                message: engine_message(&e),
            })?;
        let mut variables: Vec<String> = self
            .env
            .get_template(&name)
            .map(|t| t.undeclared_variables(true).into_iter().collect())
            .unwrap_or_default();
        variables.sort();
        Ok(Template {
            source: source.to_owned(),
            form,
            name,
            variables,
            limits: self.limits,
            env: self.shared.clone(),
        })
    }

    /// Makes the compiled templates usable.
    pub fn finish(self) {
        // Only this set ever fills its cell, so it is empty here.
        let _ = self.shared.set(self.env);
    }
}

/// The engine's message without its trailing ` (in t3:1)`.
fn engine_message(e: &minijinja::Error) -> String {
    let mut m = e.to_string();
    if let Some(cut) = m.rfind(" (in ") {
        m.truncate(cut);
    }
    m
}

pub(super) fn render(
    env: &Environment<'static>,
    t: &Template,
    context: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, ExprError> {
    let _guard = NowGuard::set(now);
    let compiled = env.get_template(&t.name).map_err(|e| ExprError::Eval {
        message: engine_message(&e),
    })?;
    let ctx = Value::from(minijinja::value::Serde(context));
    let limit = t.limits.max_output_bytes;
    match t.form {
        Form::Text => {
            let mut out = Capped {
                buf: Vec::new(),
                limit,
            };
            compiled
                .render_captured_to(ctx, &mut out)
                .map_err(|e| map_error(&e, t))?;
            String::from_utf8(out.buf)
                .map(serde_json::Value::String)
                .map_err(|_| ExprError::Eval {
                    message: "rendered text is not UTF-8".to_owned(),
                })
        }
        Form::Expression => {
            let captured = compiled
                .render_captured(ctx)
                .map_err(|e| map_error(&e, t))?;
            let value = captured.state().lookup(CAPTURE).unwrap_or_default();
            if value.is_undefined() {
                return Err(ExprError::Undefined {
                    path: missing_path(t, context),
                });
            }
            let json = serde_json::to_value(&value).map_err(|e| ExprError::Eval {
                message: format!("value cannot be turned into JSON: {e}"),
            })?;
            let mut counter = Counter { n: 0, limit };
            if serde_json::to_writer(&mut counter, &json).is_err() {
                return Err(ExprError::OutputTooLarge { limit });
            }
            Ok(json)
        }
    }
}

fn map_error(e: &minijinja::Error, t: &Template) -> ExprError {
    match e.kind() {
        ErrorKind::UndefinedError => match e.detail() {
            Some(d) => match d.strip_suffix(" is undefined") {
                Some(path) => ExprError::Undefined {
                    path: path.trim_matches('`').to_owned(),
                },
                None => ExprError::Eval {
                    message: engine_message(e),
                },
            },
            None => ExprError::Undefined {
                path: t.source.trim().to_owned(),
            },
        },
        ErrorKind::OutOfFuel => ExprError::OutOfFuel {
            limit: t.limits.fuel,
        },
        ErrorKind::WriteFailure => ExprError::OutputTooLarge {
            limit: t.limits.max_output_bytes,
        },
        _ => {
            let message = engine_message(e);
            match undefined_note(&message) {
                Some(path) => ExprError::Undefined { path },
                None => ExprError::Eval { message },
            }
        }
    }
}

/// The path in a note such as "... (`steps.a.output.n` is undefined)": an
/// operation failed because a value it used does not exist.
fn undefined_note(message: &str) -> Option<String> {
    let end = message.rfind("` is undefined)")?;
    let start = message[..end].rfind("(`")? + 2;
    Some(message[start..end].to_owned())
}

/// The first path the template reads that the context lacks.
fn missing_path(t: &Template, context: &serde_json::Value) -> String {
    for var in &t.variables {
        let mut cur = context;
        let mut walked = Vec::new();
        for seg in var.split('.') {
            walked.push(seg);
            match cur.get(seg) {
                Some(next) => cur = next,
                None => return walked.join("."),
            }
        }
    }
    format!("`{}`", t.source.trim())
}

/// A writer that refuses to grow past `limit` bytes.
struct Capped {
    buf: Vec<u8>,
    limit: usize,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            return Err(io::Error::other("output too large"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts bytes, failing past `limit`.
struct Counter {
    n: usize,
    limit: usize,
}

impl io::Write for Counter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.n += data.len();
        if self.n > self.limit {
            return Err(io::Error::other("output too large"));
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
