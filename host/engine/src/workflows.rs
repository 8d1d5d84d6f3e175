//! The workflow registry: the loaded workflows, each with the hash of its
//! stored revision, by id and by webhook path, and the files that did not
//! load. One `Arc<Workflows>` is shared by the engine, the server and the
//! cron scheduler.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use relais_store::{Store, Timestamp};
use relais_workflow::{Catalog, Workflow, WorkflowErrors, model::Trigger};

use crate::EngineError;

/// A workflow and the content hash of its stored revision.
#[derive(Debug)]
pub struct Loaded {
    /// The validated workflow (shared with the runs that execute it).
    pub workflow: Arc<Workflow>,
    /// The revision's hash (`Store::put_revision`), stamped on its runs.
    pub revision: String,
}

impl Loaded {
    /// The workflow's id.
    pub fn id(&self) -> &str {
        self.workflow.id.as_str()
    }
}

/// Loaded workflows (validated against the plugin catalog), by id and by
/// webhook path, and the problems of the files that did not load.
#[derive(Debug, Default)]
pub struct Workflows {
    by_id: BTreeMap<String, Arc<Loaded>>,
    by_hook: HashMap<String, Arc<Loaded>>,
    errors: WorkflowErrors,
}

impl Workflows {
    /// Parses every workflow file of `dir` against `catalog`, stores each
    /// source as a revision, and returns the valid ones plus every error
    /// (also kept: [`Workflows::errors`]).
    pub async fn load(
        dir: &Path,
        catalog: &Catalog,
        store: &Store,
    ) -> Result<(Workflows, WorkflowErrors), EngineError> {
        let files =
            relais_workflow::workflow_files(dir).map_err(|source| EngineError::WorkflowsDir {
                path: dir.to_path_buf(),
                source,
            })?;
        let validated = relais_workflow::validate_files(&files, catalog);
        let mut out = Workflows::from_workflows(validated.workflows, store).await?;
        out.errors = validated.errors.clone();
        Ok((out, validated.errors))
    }

    /// Stores each workflow's source as a revision and collects them
    /// (workflows parsed elsewhere, e.g. in tests). A later workflow with
    /// the same id or webhook path replaces the earlier one.
    pub async fn from_workflows(
        workflows: impl IntoIterator<Item = Workflow>,
        store: &Store,
    ) -> Result<Workflows, EngineError> {
        let mut out = Workflows::default();
        for workflow in workflows {
            let put = store
                .put_revision(
                    workflow.id.as_str(),
                    &workflow.source.text,
                    &workflow.source.path.display().to_string(),
                    Timestamp::now(),
                )
                .await?;
            out.insert(Loaded {
                workflow: Arc::new(workflow),
                revision: put.hash,
            });
        }
        Ok(out)
    }

    fn insert(&mut self, loaded: Loaded) {
        let loaded = Arc::new(loaded);
        if let Trigger::Webhook(hook) = &loaded.workflow.trigger {
            self.by_hook.insert(hook.path.clone(), loaded.clone());
        }
        self.by_id.insert(loaded.id().to_owned(), loaded);
    }

    /// The workflow with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Loaded>> {
        self.by_id.get(id)
    }

    /// The webhook workflow listening on `path` (without `/hooks/`).
    pub fn by_webhook_path(&self, path: &str) -> Option<&Arc<Loaded>> {
        self.by_hook.get(path)
    }

    /// Every workflow, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Loaded>> {
        self.by_id.values()
    }

    /// How many workflows are loaded.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no workflow is loaded.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The problems of the workflow files that did not load.
    pub fn errors(&self) -> &WorkflowErrors {
        &self.errors
    }
}
