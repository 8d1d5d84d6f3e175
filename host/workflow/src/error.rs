//! Errors of workflow files: one [`Diagnostic`] per problem, each naming the
//! file, line and column, gathered into [`WorkflowErrors`].

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A position in a workflow file: 1-based line and column (in characters).
///
/// Line 0 means "no position" (for example a file that cannot be read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Loc {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

impl Loc {
    /// A position in the file.
    pub const fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }

    /// The position of a problem that concerns the whole file.
    pub const NONE: Loc = Loc { line: 0, column: 0 };
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What is wrong, without the place (see [`Diagnostic`] for the place).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The file cannot be read.
    #[error("cannot read the file: {message}")]
    Io {
        /// The operating system's message.
        message: String,
    },
    /// The text is not valid YAML (tab indentation, unclosed quote,
    /// duplicate key, ...).
    #[error("invalid YAML: {message}")]
    Yaml {
        /// The YAML parser's message.
        message: String,
    },
    /// Valid YAML of the wrong shape: an unknown or missing field, a value of
    /// the wrong type, an unknown choice.
    #[error("{message}")]
    Shape {
        /// What was found and what was expected.
        message: String,
    },
    /// An id (workflow, step, secret or value name) with characters that are
    /// not allowed.
    #[error("invalid {what} {value:?}: expected {expected}")]
    InvalidId {
        /// Which kind of id.
        what: &'static str,
        /// The id as written.
        value: String,
        /// The allowed form.
        expected: &'static str,
    },
    /// Two steps share an id.
    #[error("duplicate step id {id:?} (first defined on line {first_line})")]
    DuplicateStep {
        /// The repeated id.
        id: String,
        /// Where the first step with this id is.
        first_line: u32,
    },
    /// The workflow has no step that runs in sequence.
    #[error("expected at least one step that is not only a fallback")]
    NoSteps,
    /// `uses` is not of the form `PLUGIN/STEP`.
    #[error("invalid `uses` {value:?}: expected PLUGIN/STEP, e.g. email/send")]
    InvalidUses {
        /// The value as written.
        value: String,
    },
    /// `uses` names a plugin that is not loaded.
    #[error("unknown plugin {plugin:?} (known: {known})")]
    UnknownPlugin {
        /// The plugin as written.
        plugin: String,
        /// The loaded plugins, comma separated.
        known: String,
    },
    /// `uses` names a plugin that is installed but did not load.
    #[error("plugin {plugin:?} did not load: {reason}")]
    BrokenPlugin {
        /// The plugin.
        plugin: String,
        /// Why it did not load.
        reason: String,
    },
    /// `uses` names a step the plugin does not have.
    #[error("plugin {plugin:?} has no step {step:?} (known: {known})")]
    UnknownPluginStep {
        /// The plugin.
        plugin: String,
        /// The step as written.
        step: String,
        /// The plugin's steps, comma separated.
        known: String,
    },
    /// A static part of the step input violates the step's input schema.
    #[error("input {pointer}: {message}")]
    InputSchema {
        /// JSON pointer of the offending value inside `with` (`/` for the whole input).
        pointer: String,
        /// The schema validator's message.
        message: String,
    },
    /// An expression refers to a step that does not exist.
    #[error("`{path}` refers to unknown step {step:?} (known: {known})")]
    UnknownStepRef {
        /// The path as written in the expression.
        path: String,
        /// The step id.
        step: String,
        /// The steps of the workflow, comma separated.
        known: String,
    },
    /// An expression refers to a step that does not run before the one using it.
    #[error("`{path}` refers to step {step:?}, which does not run before this one")]
    StepNotBefore {
        /// The path as written in the expression.
        path: String,
        /// The step id.
        step: String,
    },
    /// An expression reads a field of `steps.ID` that does not exist.
    #[error("`{path}`: a step has no field {field:?} (expected one of: {expected})")]
    UnknownStepField {
        /// The path as written in the expression.
        path: String,
        /// The field as written.
        field: String,
        /// The fields a step has.
        expected: &'static str,
    },
    /// An expression reads a value a `set` step does not compute.
    #[error("`{path}`: step {step:?} sets no value {name:?} (it sets: {known})")]
    UnknownSetValue {
        /// The path as written in the expression.
        path: String,
        /// The `set` step.
        step: String,
        /// The value name as written.
        name: String,
        /// The names the step sets, comma separated.
        known: String,
    },
    /// An expression uses a variable that is not available where it is used.
    #[error("unknown variable `{name}` (available here: {available})")]
    UnknownVariable {
        /// The variable.
        name: String,
        /// The variables available at that place.
        available: String,
    },
    /// An expression tries to read secrets.
    #[error(
        "expressions cannot read secrets; grant them to the step with `secrets:` and the plugin receives them"
    )]
    SecretsInExpression,
    /// A template does not parse.
    #[error("template does not parse: {message}")]
    Template {
        /// The template engine's message.
        message: String,
    },
    /// An expression uses a filter or test that does not exist.
    #[error("unknown {kind} `{name}`")]
    UnknownHelper {
        /// `filter` or `test`.
        kind: &'static str,
        /// The name as written.
        name: String,
    },
    /// A field that takes one expression got text around it.
    #[error(
        "`{field}` expects a single expression such as \"{{{{ steps.check.failed }}}}\", not text"
    )]
    ExpectedExpression {
        /// The field.
        field: &'static str,
    },
    /// `on_failure` names a step that does not exist.
    #[error("`on_failure` refers to unknown step {target:?} (known: {known})")]
    UnknownFallback {
        /// The target as written.
        target: String,
        /// The steps of the workflow, comma separated.
        known: String,
    },
    /// `on_failure` steps form a cycle.
    #[error("`on_failure` cycle: {cycle}")]
    FallbackCycle {
        /// The steps of the cycle, `a -> b -> a`.
        cycle: String,
    },
    /// A duration that does not parse.
    #[error("invalid duration {value:?}: {reason}; expected e.g. 30s, 5m, 1h30m, 3d")]
    Duration {
        /// The value as written.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A cron expression the scheduler refuses: it does not parse, or it
    /// never fires.
    #[error("{0}")]
    Cron(relais_triggers::cron::ScheduleError),
    /// An unknown IANA time zone.
    #[error("unknown time zone {value:?}: expected an IANA name such as Europe/Paris or UTC")]
    Timezone {
        /// The value as written.
        value: String,
    },
    /// A trigger with none or several of `cron`, `webhook`, `manual`.
    #[error("expected exactly one of `cron`, `webhook` or `manual` in the trigger{found}")]
    TriggerKind {
        /// The kinds found (empty or `, found ...`).
        found: String,
    },
    /// A step with none or several of `uses`, `wait`, `set`.
    #[error("expected exactly one of `uses`, `wait` or `set`{found}")]
    StepKind {
        /// The kinds found (empty or `, found ...`).
        found: String,
    },
    /// A field that only makes sense together with another one.
    #[error("`{field}` {requirement}")]
    Misplaced {
        /// The field.
        field: &'static str,
        /// What it needs, e.g. "only applies to a cron trigger".
        requirement: &'static str,
    },
    /// A value out of range or otherwise refused.
    #[error("invalid `{field}`: {reason}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// What was expected.
        reason: String,
    },
    /// A webhook path with characters that are not allowed.
    #[error("invalid webhook path {value:?}: {reason}")]
    WebhookPath {
        /// The value as written.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// The workflow `input` is not a valid JSON Schema.
    #[error("`input` is not a valid JSON Schema: {message}")]
    InputSchemaInvalid {
        /// The schema compiler's message.
        message: String,
    },
    /// Two workflow files declare the same id.
    #[error("workflow id {id:?} is already used by {other}")]
    DuplicateWorkflow {
        /// The id.
        id: String,
        /// The other file, `path:line:column`.
        other: String,
    },
    /// Two workflows listen on the same webhook path.
    #[error("webhook path {path:?} is already used by workflow {other}")]
    DuplicateWebhookPath {
        /// The path.
        path: String,
        /// The other workflow and its file.
        other: String,
    },
}

/// One problem in one file: where it is, which part of the workflow it
/// concerns, and what is wrong.
///
/// Displays as `path:line:column: scope: error`, e.g.
/// `examples/dunning.yaml:14:11: step "email": unknown plugin "emial" (known: email, http)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    /// The file.
    pub path: PathBuf,
    /// Where in the file.
    pub loc: Loc,
    /// The part of the workflow, e.g. `step "email"` or `trigger`; empty for
    /// the top level.
    pub scope: String,
    /// What is wrong.
    #[serde(serialize_with = "display")]
    pub error: WorkflowError,
}

fn display<S: serde::Serializer>(e: &WorkflowError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

impl Diagnostic {
    /// A problem at `loc` of `path`.
    pub fn new(path: &Path, loc: Loc, scope: impl Into<String>, error: WorkflowError) -> Self {
        Self {
            path: path.to_path_buf(),
            loc,
            scope: scope.into(),
            error,
        }
    }
}

impl Diagnostic {
    /// The source line the problem is on, with a caret under the column, for
    /// terminals (empty when the position is unknown or outside `text`):
    ///
    /// ```text
    ///    |
    /// 14 |     uses: emial/send
    ///    |           ^
    /// ```
    pub fn snippet(&self, text: &str) -> String {
        let Some(line) = (self.loc.line as usize)
            .checked_sub(1)
            .and_then(|i| nth_line(text, i))
        else {
            return String::new();
        };
        let number = self.loc.line.to_string();
        let pad = " ".repeat(number.len());
        // Keep tabs so the caret lines up under them.
        let lead: String = line
            .chars()
            .take((self.loc.column as usize).saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{pad} |\n{number} | {line}\n{pad} | {lead}^\n")
    }
}

/// Line `n` (0-based) of `text`, counted as YAML counts them: `\n`, `\r\n`
/// and a lone `\r` each end a line.
fn nth_line(text: &str, n: usize) -> Option<&str> {
    let mut rest = text;
    for _ in 0..n {
        let end = rest.find(['\r', '\n'])?;
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
    }
    if rest.is_empty() {
        return None;
    }
    Some(&rest[..rest.find(['\r', '\n']).unwrap_or(rest.len())])
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.loc.line > 0 {
            write!(f, ":{}:{}", self.loc.line, self.loc.column)?;
        }
        if self.scope.is_empty() {
            write!(f, ": {}", self.error)
        } else {
            write!(f, ": {}: {}", self.scope, self.error)
        }
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found in one or more files, in file order then position.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkflowErrors(pub Vec<Diagnostic>);

impl WorkflowErrors {
    /// The problems.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for WorkflowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WorkflowErrors {}

impl IntoIterator for WorkflowErrors {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    pub path: &'a Path,
    pub items: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub fn new(path: &'a Path) -> Self {
        Self {
            path,
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, loc: Loc, scope: &str, error: WorkflowError) {
        self.items
            .push(Diagnostic::new(self.path, loc, scope, error));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn finish(mut self) -> WorkflowErrors {
        self.items.sort_by_key(|d| d.loc);
        self.items.dedup();
        WorkflowErrors(self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_point_at_the_column() {
        let d = Diagnostic::new(
            Path::new("x.yaml"),
            Loc::new(2, 11),
            "step \"a\"",
            WorkflowError::NoSteps,
        );
        let text = "id: x\n    uses: emial/send\n";
        assert_eq!(
            d.snippet(text),
            "  |\n2 |     uses: emial/send\n  |           ^\n"
        );
        let far = Diagnostic::new(
            Path::new("x.yaml"),
            Loc::new(9, 1),
            "",
            WorkflowError::NoSteps,
        );
        assert_eq!(far.snippet(text), "");
        let none = Diagnostic::new(Path::new("x.yaml"), Loc::NONE, "", WorkflowError::NoSteps);
        assert_eq!(none.snippet(text), "");
        assert_eq!(
            none.to_string(),
            "x.yaml: expected at least one step that is not only a fallback"
        );
    }

    #[test]
    fn snippets_count_lines_as_yaml_does() {
        // YAML ends a line at a lone CR too: the parser's line 3 is `steps: 3`.
        for text in ["id: x\r#\rsteps: 3\r", "id: x\r\n#\r\nsteps: 3\r\n"] {
            let errors = crate::parse_workflow("x.yaml", text, &crate::Catalog::new()).unwrap_err();
            let d = errors
                .iter()
                .find(|d| d.loc.line == 3)
                .expect("an error on line 3");
            assert!(d.snippet(text).contains("\n3 | steps: 3\n"), "{d}");
        }
    }
}
