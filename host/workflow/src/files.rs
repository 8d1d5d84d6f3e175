//! Reading workflow files from disk, one or many (`relais validate`), with
//! the checks that span files: unique workflow ids and webhook paths.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::error::{Diagnostic, Loc, WorkflowError, WorkflowErrors};
use crate::model::{Trigger, Workflow};
use crate::resolve::parse_workflow;

/// Reads and validates one file.
pub fn load_workflow(
    path: impl AsRef<Path>,
    catalog: &Catalog,
) -> Result<Workflow, WorkflowErrors> {
    let path = path.as_ref();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_workflow(path, text, catalog),
        Err(e) => Err(WorkflowErrors(vec![Diagnostic::new(
            path,
            Loc::NONE,
            "",
            WorkflowError::Io {
                message: e.to_string(),
            },
        )])),
    }
}

/// The `*.yaml` and `*.yml` files directly in `dir`, sorted by name.
pub fn workflow_files(dir: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The outcome of validating several files.
#[derive(Debug, Default)]
pub struct Validated {
    /// The workflows without problems, in the order given (a workflow whose
    /// id or webhook path repeats an earlier file's is left out).
    pub workflows: Vec<Workflow>,
    /// Every problem of every file, file by file.
    pub errors: WorkflowErrors,
}

/// Validates every file and returns every problem of every file, plus the
/// checks across files: a workflow id or a webhook path used twice is an
/// error in the later file.
pub fn validate_files<P: AsRef<Path>>(paths: &[P], catalog: &Catalog) -> Validated {
    let mut out = Validated::default();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut hooks: HashMap<String, String> = HashMap::new();
    for path in paths {
        let path = path.as_ref();
        match load_workflow(path, catalog) {
            Err(e) => out.errors.0.extend(e),
            Ok(w) => {
                let here = format!("{}:{}", path.display(), w.id_loc);
                let mut clash = false;
                if let Some(other) = ids.get(w.id.as_str()) {
                    out.errors.0.push(Diagnostic::new(
                        path,
                        w.id_loc,
                        "",
                        WorkflowError::DuplicateWorkflow {
                            id: w.id.to_string(),
                            other: other.clone(),
                        },
                    ));
                    clash = true;
                }
                if let Trigger::Webhook(h) = &w.trigger
                    && let Some(other) = hooks.get(&h.path)
                {
                    out.errors.0.push(Diagnostic::new(
                        path,
                        w.path_loc,
                        "trigger",
                        WorkflowError::DuplicateWebhookPath {
                            path: h.path.clone(),
                            other: other.clone(),
                        },
                    ));
                    clash = true;
                }
                if !clash {
                    ids.insert(w.id.to_string(), here.clone());
                    if let Trigger::Webhook(h) = &w.trigger {
                        hooks.insert(h.path.clone(), format!("{:?} ({here})", w.id.as_str()));
                    }
                    out.workflows.push(w);
                }
            }
        }
    }
    out
}
