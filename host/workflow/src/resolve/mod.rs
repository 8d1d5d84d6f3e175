//! From text to a validated [`Workflow`]: parse the YAML, read each part on
//! its own (so one bad step does not hide the problems of the others),
//! resolve it, then check what spans steps (ids, `on_failure`, references).

mod input;
mod raw;
mod refs;
mod retry;
mod step;
mod trigger;

use std::path::Path;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::duration::Duration;
use crate::error::{Loc, Sink, WorkflowError, WorkflowErrors};
use crate::expr::{ExprError, Limits, Template, TemplateSet};
use crate::ids::WorkflowId;
use crate::model::{InputSchema, Source, Trigger, Workflow};
use crate::yaml::{Located, Node, NodeKind, from_node, parse_yaml};

use raw::RawWorkflow;

/// Parses and validates one workflow file's text. `path` is only used in
/// messages and kept in [`Workflow::source`]. Returns every problem found.
pub fn parse_workflow(
    path: impl AsRef<Path>,
    text: impl Into<String>,
    catalog: &Catalog,
) -> Result<Workflow, WorkflowErrors> {
    let path = path.as_ref();
    let text = text.into();
    let mut cx = Cx::new(path, catalog);
    let root = match parse_yaml(&text) {
        Ok(root) => root,
        Err(e) => {
            cx.sink
                .push(e.loc, "", WorkflowError::Yaml { message: e.message });
            return Err(cx.sink.finish());
        }
    };
    if root.kind == NodeKind::Null {
        cx.error(
            root.loc,
            "",
            WorkflowError::Shape {
                message: "the file is empty: expected a mapping with id, trigger and steps"
                    .to_owned(),
            },
        );
        return Err(cx.sink.finish());
    }
    if root.entries().is_none() {
        cx.error(
            root.loc,
            "",
            WorkflowError::Shape {
                message: format!(
                    "expected a mapping with id, trigger and steps, found {}",
                    root.kind_name()
                ),
            },
        );
        return Err(cx.sink.finish());
    }
    let raw = match from_node::<RawWorkflow>(&root) {
        Ok(raw) => Some(raw),
        Err((loc, message)) => {
            cx.error(loc, "", WorkflowError::Shape { message });
            None
        }
    };
    let Some(raw) = raw else {
        // Still look at the parts that can be read, to report their problems too.
        if let Some(t) = root.get("trigger") {
            trigger::resolve(&mut cx, Some(t));
        }
        if let Some(NodeKind::Seq(steps)) = root.get("steps").map(|s| &s.kind) {
            let _ = step::resolve_all(&mut cx, steps, root.loc);
        }
        return Err(cx.sink.finish());
    };

    let id = WorkflowId::parse(&raw.id.value)
        .map_err(|e| cx.error(raw.id.loc, "", e))
        .ok();
    let trigger = trigger::resolve(&mut cx, raw.trigger.as_ref());
    let concurrency = raw.concurrency.and_then(|c| {
        if c.value == 0 {
            cx.error(
                c.loc,
                "",
                WorkflowError::InvalidValue {
                    field: "concurrency",
                    reason: "expected at least 1".to_owned(),
                },
            );
            None
        } else {
            Some(c.value)
        }
    });
    let timeout = raw.timeout.as_ref().and_then(|t| cx.duration(t, ""));
    let input = raw.input.as_ref().and_then(|n| input_schema(&mut cx, n));
    let steps = step::resolve_all(&mut cx, &raw.steps.value, raw.steps.loc);

    let Cx {
        sink, templates, ..
    } = cx;
    templates.finish();
    match (sink.is_empty(), id, trigger, steps) {
        (true, Some(id), Some(trigger), Some(steps)) => Ok(Workflow {
            id,
            description: raw.description.unwrap_or_default(),
            trigger,
            concurrency,
            timeout,
            input,
            steps,
            source: Source {
                path: path.to_path_buf(),
                text,
            },
            id_loc: raw.id.loc,
            path_loc: path_loc(raw.trigger.as_ref()).unwrap_or(raw.id.loc),
        }),
        _ => Err(sink.finish()),
    }
}

fn path_loc(trigger: Option<&Node>) -> Option<Loc> {
    Some(trigger?.get("webhook")?.get("path")?.loc)
}

fn input_schema(cx: &mut Cx<'_>, node: &Node) -> Option<InputSchema> {
    let schema = node.to_json();
    match jsonschema::validator_for(&schema) {
        Ok(v) => Some(InputSchema {
            schema,
            validator: Arc::new(v),
        }),
        Err(e) => {
            cx.error(
                node.loc,
                "",
                WorkflowError::InputSchemaInvalid {
                    message: e.to_string(),
                },
            );
            None
        }
    }
}

/// Where a template is used, which decides what it may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// In step number `index`; `item` when `item`/`index` are available.
    Step { index: usize, item: bool },
    /// The webhook `dedupe` key: sees the request.
    Dedupe,
}

/// A compiled template and where it was written.
pub(crate) struct TemplateUse {
    pub template: Template,
    pub loc: Loc,
    pub scope: String,
    pub site: Site,
}

/// The state of one resolution.
pub(crate) struct Cx<'a> {
    pub sink: Sink<'a>,
    pub templates: TemplateSet,
    pub uses: Vec<TemplateUse>,
    pub catalog: &'a Catalog,
}

impl<'a> Cx<'a> {
    fn new(path: &'a Path, catalog: &'a Catalog) -> Self {
        Self {
            sink: Sink::new(path),
            templates: TemplateSet::new(Limits::DEFAULT),
            uses: Vec::new(),
            catalog,
        }
    }

    pub fn error(&mut self, loc: Loc, scope: &str, error: WorkflowError) {
        self.sink.push(loc, scope, error);
    }

    pub fn duration(&mut self, d: &Located<String>, scope: &str) -> Option<Duration> {
        match Duration::parse(&d.value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(
                    d.loc,
                    scope,
                    WorkflowError::Duration {
                        value: d.value.clone(),
                        reason: e.0,
                    },
                );
                None
            }
        }
    }

    /// Compiles a string holding template syntax (a `with` value, `dedupe`).
    pub fn text_template(
        &mut self,
        s: &str,
        loc: Loc,
        scope: &str,
        site: Site,
    ) -> Option<Template> {
        let r = self.templates.string(s);
        self.keep(r, loc, scope, site, None)
    }

    /// Compiles a field that takes one expression (`if`, `for_each`,
    /// `wait.until`): a string, or a boolean constant.
    pub fn expression(
        &mut self,
        node: &Node,
        field: &'static str,
        scope: &str,
        site: Site,
    ) -> Option<Template> {
        let text = match &node.kind {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Bool(b) => b.to_string(),
            _ => {
                self.error(
                    node.loc,
                    scope,
                    WorkflowError::Shape {
                        message: format!(
                            "`{field}` expects an expression such as \"{{{{ steps.check.output.ok }}}}\", found {}",
                            node.kind_name()
                        ),
                    },
                );
                return None;
            }
        };
        let r = self.templates.expression(&text);
        self.keep(r, node.loc, scope, site, Some(field))
    }

    fn keep(
        &mut self,
        r: Result<Template, ExprError>,
        loc: Loc,
        scope: &str,
        site: Site,
        field: Option<&'static str>,
    ) -> Option<Template> {
        match r {
            Ok(t) => {
                self.uses.push(TemplateUse {
                    template: t.clone(),
                    loc,
                    scope: scope.to_owned(),
                    site,
                });
                Some(t)
            }
            Err(ExprError::Syntax { message }) if message == "expected a single expression" => {
                let field = field.unwrap_or("expression");
                self.error(loc, scope, WorkflowError::ExpectedExpression { field });
                None
            }
            Err(ExprError::Syntax { message }) => {
                self.error(loc, scope, WorkflowError::Template { message });
                None
            }
            Err(e) => {
                self.error(
                    loc,
                    scope,
                    WorkflowError::Template {
                        message: e.to_string(),
                    },
                );
                None
            }
        }
    }
}

/// `Trigger` when the trigger resolved, for [`parse_workflow`].
pub(crate) type MaybeTrigger = Option<Trigger>;
