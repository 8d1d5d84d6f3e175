//! The engine's errors.

use std::path::PathBuf;

use relais_store::{RunId, StoreError};
use relais_workflow::CatalogError;

/// What went wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store refused or failed an operation.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No loaded workflow has this id.
    #[error("unknown workflow {id:?}")]
    UnknownWorkflow {
        /// The id asked for.
        id: String,
    },
    /// A manual run's input does not match the workflow's input schema.
    #[error("invalid input for workflow {workflow:?}: {}", problems.join("; "))]
    InvalidInput {
        /// The workflow.
        workflow: String,
        /// Every problem, as `pointer: message`.
        problems: Vec<String>,
    },
    /// The workflows folder cannot be read.
    #[error("cannot read workflows folder {path}: {source}")]
    WorkflowsDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The plugins folder cannot be read.
    #[error("cannot read plugins folder {path}: {message}")]
    PluginsDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A plugin describes a step whose input schema does not compile.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Two plugin files are loaded under one name.
    #[error(
        "plugin name {name:?} is given to both {} and {}: rename one file, or name one of them in the configuration ([plugins.OTHER] file = \"...\")",
        first.display(),
        second.display()
    )]
    PluginNameTaken {
        /// The name.
        name: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A run names a workflow revision that cannot be used.
    #[error("run {run}: {message}")]
    Revision {
        /// The run.
        run: RunId,
        /// Why.
        message: String,
    },
}
