//! What the server asks of the engine: create runs, wait for them, retry and
//! cancel them. The server never runs steps itself.
//!
//! The one implementation is the engine's handle ([`Engine`]): every run,
//! whether from a webhook, the scheduler or the API, is created by
//! [`Engine::submit`], durably queued, and executed by whichever engine
//! claims the queue (an engine that was not started leaves it queued).

use std::time::Duration;

use async_trait::async_trait;
use relais_engine::{Engine, EngineError};
use relais_store::{CreateOutcome, RetryFrom, Run, RunGuard, RunId, TriggerKind};
use serde_json::Value;

use crate::error::BackendError;

/// The engine, as the server uses it.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Durably creates and queues a run, optionally guarded. Checks that the
    /// workflow exists, and the input of manual runs against its schema.
    async fn submit(
        &self,
        workflow_id: &str,
        trigger: TriggerKind,
        payload: Value,
        input: Value,
        guard: Option<RunGuard>,
    ) -> Result<CreateOutcome, BackendError>;

    /// Waits until the run finished or `timeout` passed; its header either way.
    async fn wait_finished(
        &self,
        run: RunId,
        timeout: Duration,
    ) -> Result<Option<Run>, BackendError>;

    /// Requeues a finished run.
    async fn retry(&self, run: RunId, from: RetryFrom) -> Result<Run, BackendError>;

    /// Cancels a run.
    async fn cancel(&self, run: RunId) -> Result<Run, BackendError>;

    /// The output of a finished run: its last step output, or null.
    async fn run_output(&self, run: RunId) -> Result<Option<Value>, BackendError>;
}

impl From<EngineError> for BackendError {
    fn from(e: EngineError) -> BackendError {
        match e {
            EngineError::UnknownWorkflow { id } => BackendError::WorkflowNotFound { id },
            EngineError::InvalidInput { problems, .. } => BackendError::InvalidInput { problems },
            EngineError::Store(s) => BackendError::Store(s),
            other => BackendError::Engine(other.to_string()),
        }
    }
}

#[async_trait]
impl Backend for Engine {
    async fn submit(
        &self,
        workflow_id: &str,
        trigger: TriggerKind,
        payload: Value,
        input: Value,
        guard: Option<RunGuard>,
    ) -> Result<CreateOutcome, BackendError> {
        Ok(Engine::submit(self, workflow_id, trigger, payload, input, guard).await?)
    }

    async fn wait_finished(
        &self,
        run: RunId,
        timeout: Duration,
    ) -> Result<Option<Run>, BackendError> {
        Ok(Engine::wait_finished(self, run, timeout).await?)
    }

    async fn retry(&self, run: RunId, from: RetryFrom) -> Result<Run, BackendError> {
        Ok(Engine::retry(self, run, from).await?)
    }

    async fn cancel(&self, run: RunId) -> Result<Run, BackendError> {
        Ok(Engine::cancel(self, run).await?)
    }

    async fn run_output(&self, run: RunId) -> Result<Option<Value>, BackendError> {
        Ok(relais_engine::run_output(self.store(), run).await?)
    }
}
