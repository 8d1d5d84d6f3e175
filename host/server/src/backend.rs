//! What the server asks of the engine: create runs, wait for them, retry and
//! cancel them. The server never runs steps itself.
//!
//! [`StoreBackend`] does this with the store alone: runs are created and
//! queued durably, and whichever engine claims the queue executes them. The
//! engine's own handle implements [`Backend`] the same way and also wakes its
//! workers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use relais_store::{
    CreateOutcome, NewRun, RetryFrom, Run, RunGuard, RunId, Store, Timestamp, TriggerKind,
};
use serde_json::Value;

use crate::error::BackendError;
use crate::registry::Registry;

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

/// A [`Backend`] on the store alone (see the module documentation).
#[derive(Clone)]
pub struct StoreBackend {
    store: Store,
    workflows: Arc<Registry>,
    poll: Duration,
}

impl StoreBackend {
    /// A backend creating runs of `workflows` in `store`.
    pub fn new(store: Store, workflows: Arc<Registry>) -> StoreBackend {
        StoreBackend {
            store,
            workflows,
            poll: Duration::from_millis(20),
        }
    }
}

#[async_trait]
impl Backend for StoreBackend {
    async fn submit(
        &self,
        workflow_id: &str,
        trigger: TriggerKind,
        payload: Value,
        input: Value,
        guard: Option<RunGuard>,
    ) -> Result<CreateOutcome, BackendError> {
        let loaded =
            self.workflows
                .get(workflow_id)
                .ok_or_else(|| BackendError::WorkflowNotFound {
                    id: workflow_id.to_owned(),
                })?;
        if trigger == TriggerKind::Manual {
            loaded
                .workflow
                .check_input(&input)
                .map_err(|problems| BackendError::InvalidInput { problems })?;
        }
        Ok(self
            .store
            .create_run(NewRun {
                workflow_id: workflow_id.to_owned(),
                revision: loaded.revision.clone(),
                trigger,
                payload,
                input,
                created_at: Timestamp::now(),
                guard,
            })
            .await?)
    }

    async fn wait_finished(
        &self,
        run: RunId,
        timeout: Duration,
    ) -> Result<Option<Run>, BackendError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let header = self.store.run(run).await?;
            match &header {
                Some(r) if !r.status.is_finished() => {}
                _ => return Ok(header),
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(header);
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn retry(&self, run: RunId, from: RetryFrom) -> Result<Run, BackendError> {
        Ok(self.store.retry_run(run, from).await?)
    }

    async fn cancel(&self, run: RunId) -> Result<Run, BackendError> {
        Ok(self.store.cancel_run(run).await?)
    }

    async fn run_output(&self, run: RunId) -> Result<Option<Value>, BackendError> {
        last_output(&self.store, run).await
    }
}

/// The output of `run` (see [`relais_store::RunDetail::output`]); `None`:
/// no such run.
pub async fn last_output(store: &Store, run: RunId) -> Result<Option<Value>, BackendError> {
    Ok(store.run_detail(run).await?.map(|d| d.output()))
}
