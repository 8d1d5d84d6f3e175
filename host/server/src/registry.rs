//! The loaded workflows the server routes to: by id and by webhook path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use relais_workflow::Workflow;
use relais_workflow::model::Trigger;

/// A validated workflow and the content hash of its stored revision.
#[derive(Debug)]
pub struct LoadedWorkflow {
    /// The workflow.
    pub workflow: Workflow,
    /// Its revision hash (`Store::put_revision`).
    pub revision: String,
}

impl LoadedWorkflow {
    /// The workflow's id.
    pub fn id(&self) -> &str {
        self.workflow.id.as_str()
    }
}

/// The loaded workflows, indexed.
#[derive(Debug, Default)]
pub struct Registry {
    by_id: BTreeMap<String, Arc<LoadedWorkflow>>,
    by_path: HashMap<String, Arc<LoadedWorkflow>>,
}

impl Registry {
    /// Indexes `workflows`; a later one with the same id or webhook path
    /// replaces an earlier one.
    pub fn new(workflows: impl IntoIterator<Item = Arc<LoadedWorkflow>>) -> Registry {
        let mut registry = Registry::default();
        for w in workflows {
            if let Trigger::Webhook(hook) = &w.workflow.trigger {
                registry.by_path.insert(hook.path.clone(), w.clone());
            }
            registry.by_id.insert(w.id().to_owned(), w);
        }
        registry
    }

    /// The workflow with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<LoadedWorkflow>> {
        self.by_id.get(id)
    }

    /// The webhook workflow listening on `POST /hooks/{path}`.
    pub fn by_webhook_path(&self, path: &str) -> Option<&Arc<LoadedWorkflow>> {
        self.by_path.get(path)
    }

    /// Every workflow, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedWorkflow>> {
        self.by_id.values()
    }
}
