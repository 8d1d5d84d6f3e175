//! The engine as the server's [`Backend`]: the server creates, waits for,
//! retries and cancels runs through it.

use std::time::Duration;

use relais_engine::{Engine, EngineError};
use relais_server::{Backend, BackendError};
use relais_store::{CreateOutcome, RetryFrom, Run, RunGuard, RunId, TriggerKind};
use serde_json::Value;

/// [`Engine`] behind the server's [`Backend`] interface.
pub struct EngineBackend(pub Engine);

fn convert(e: EngineError) -> BackendError {
    match e {
        EngineError::UnknownWorkflow { id } => BackendError::WorkflowNotFound { id },
        EngineError::InvalidInput { problems, .. } => BackendError::InvalidInput { problems },
        EngineError::Store(s) => BackendError::Store(s),
        other => BackendError::Engine(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Backend for EngineBackend {
    async fn submit(
        &self,
        workflow_id: &str,
        trigger: TriggerKind,
        payload: Value,
        input: Value,
        guard: Option<RunGuard>,
    ) -> Result<CreateOutcome, BackendError> {
        self.0
            .submit(workflow_id, trigger, payload, input, guard)
            .await
            .map_err(convert)
    }

    async fn wait_finished(
        &self,
        run: RunId,
        timeout: Duration,
    ) -> Result<Option<Run>, BackendError> {
        self.0.wait_finished(run, timeout).await.map_err(convert)
    }

    async fn retry(&self, run: RunId, from: RetryFrom) -> Result<Run, BackendError> {
        self.0.retry(run, from).await.map_err(convert)
    }

    async fn cancel(&self, run: RunId) -> Result<Run, BackendError> {
        self.0.cancel(run).await.map_err(convert)
    }

    async fn run_output(&self, run: RunId) -> Result<Option<Value>, BackendError> {
        relais_engine::run_output(self.0.store(), run)
            .await
            .map_err(convert)
    }
}
