//! `GET /runs`, `GET /runs/{id}`, `POST /runs/{id}/retry`, `POST /runs/{id}/cancel`.

use axum::Json;
use axum::extract::{Path, Query, State};
use relais_store::{
    Attempt, RetryFrom, Run, RunDetail, RunFilter, RunId, RunStatus, StepError, TriggerKind,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// Default page size of `GET /runs`.
const DEFAULT_LIMIT: usize = 50;

/// A run's header. Times are milliseconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    /// Run id.
    #[schema(value_type = String)]
    pub id: RunId,
    /// Workflow id.
    pub workflow_id: String,
    /// Status: queued, running, waiting, succeeded, failed or cancelled.
    #[schema(value_type = String)]
    pub status: RunStatus,
    /// webhook, cron or manual.
    #[schema(value_type = String)]
    pub trigger: TriggerKind,
    /// The workflow revision it executes.
    pub revision: String,
    /// Index of the next step to run.
    pub next_step: u32,
    /// Creation time.
    pub created_at: u64,
    /// First start.
    pub started_at: Option<u64>,
    /// End.
    pub finished_at: Option<u64>,
    /// Step attempts so far.
    pub attempts: u32,
    /// Why it failed.
    #[schema(value_type = Object, nullable)]
    pub error: Option<StepError>,
}

impl RunView {
    /// How long it ran, from its first start to its end, in milliseconds.
    pub fn took_ms(&self) -> Option<u64> {
        Some(self.finished_at?.saturating_sub(self.started_at?))
    }
}

impl From<Run> for RunView {
    fn from(r: Run) -> RunView {
        RunView {
            id: r.id,
            workflow_id: r.workflow_id,
            status: r.status,
            trigger: r.trigger,
            revision: r.revision,
            next_step: r.next_step,
            created_at: r.created_at.as_millis(),
            started_at: r.started_at.map(|t| t.as_millis()),
            finished_at: r.finished_at.map(|t| t.as_millis()),
            attempts: r.attempts,
            error: r.error,
        }
    }
}

/// One page of runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunList {
    /// Newest first.
    pub runs: Vec<RunView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<RunId>,
}

/// The answer to a started run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriggerAnswer {
    /// The run's id.
    #[schema(value_type = String)]
    pub run_id: RunId,
    /// Its status.
    #[schema(value_type = String)]
    pub status: RunStatus,
}

impl TriggerAnswer {
    /// A run just queued.
    pub fn queued(run_id: RunId) -> TriggerAnswer {
        TriggerAnswer {
            run_id,
            status: RunStatus::Queued,
        }
    }
}

/// A run with its payload, input and every step attempt (input, output,
/// error, logs, timings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunDetailView {
    /// The header.
    pub run: RunView,
    /// The trigger payload.
    #[schema(value_type = Object, nullable)]
    pub payload: Value,
    /// The input (null for webhook runs).
    #[schema(value_type = Object, nullable)]
    pub input: Value,
    /// Every step attempt, in order.
    #[schema(value_type = Vec<Object>)]
    pub attempts: Vec<Attempt>,
    /// The output of its last succeeded step (null if none yet).
    #[schema(value_type = Object, nullable)]
    pub output: Value,
}

impl From<RunDetail> for RunDetailView {
    fn from(detail: RunDetail) -> RunDetailView {
        RunDetailView {
            output: detail.output(),
            run: detail.run.into(),
            payload: detail.payload,
            input: detail.input,
            attempts: detail.attempts,
        }
    }
}

/// Filters and paging of `GET /runs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only runs of this workflow.
    workflow: Option<String>,
    /// Only runs in this status.
    #[param(inline, value_type = Option<String>, pattern = "^(queued|running|waiting|succeeded|failed|cancelled)$")]
    status: Option<String>,
    /// The previous page's `next_cursor` (empty: the first page).
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

fn parse_status(s: &str) -> Result<RunStatus, ApiError> {
    RunStatus::ALL
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| ApiError::bad_request(format!("unknown status {s:?}")))
}

fn parse_id(s: &str) -> Result<RunId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("run {s} not found")))
}

/// Runs, newest first, with filters and cursor paging.
#[utoipa::path(get, path = "/runs", tag = "runs", params(ListQuery),
    responses(
        (status = 200, description = "One page of runs", body = RunList),
        (status = 400, description = "Bad filter or cursor", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RunList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=relais_store::MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit}: must be 1 to {}",
            relais_store::MAX_PAGE
        )));
    }
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse::<RunId>()
                .map_err(|_| ApiError::bad_request(format!("invalid cursor {c:?}")))?,
        ),
        None => None,
    };
    let filter = RunFilter {
        workflow_id: q.workflow.filter(|w| !w.is_empty()),
        status: q.status.as_deref().map(parse_status).transpose()?,
    };
    let page = state.store.list_runs(&filter, cursor, limit).await?;
    Ok(Json(RunList {
        runs: page.runs.into_iter().map(RunView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One run with its steps, attempts, inputs, outputs, errors and logs.
#[utoipa::path(get, path = "/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = RunDetailView),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunDetailView>, ApiError> {
    let run = parse_id(&id)?;
    let detail = state
        .store
        .run_detail(run)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("run {id} not found")))?;
    Ok(Json(detail.into()))
}

/// Where a retry starts.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct RetryBody {
    /// `failed_step` (default) or `start`.
    #[schema(value_type = Option<String>, pattern = "^(failed_step|start)$")]
    from: Option<String>,
}

/// Requeues a failed or cancelled run, at the failed step or the start.
#[utoipa::path(post, path = "/runs/{id}/retry", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    request_body(content = RetryBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The requeued run", body = RunView),
        (status = 400, description = "Bad body", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run cannot be retried in its status", body = ErrorBody),
    ))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RunView>, ApiError> {
    let run = parse_id(&id)?;
    let body: RetryBody = if body.is_empty() {
        RetryBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid retry body: {e}")))?
    };
    let from = match body.from.as_deref() {
        None | Some("failed_step") => RetryFrom::FailedStep,
        Some("start") => RetryFrom::Start,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "from must be failed_step or start, not {other:?}"
            )));
        }
    };
    Ok(Json(state.backend.retry(run, from).await?.into()))
}

/// Cancels a run that has not finished.
#[utoipa::path(post, path = "/runs/{id}/cancel", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "The cancelled run", body = RunView),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has already finished", body = ErrorBody),
    ))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    let run = parse_id(&id)?;
    Ok(Json(state.backend.cancel(run).await?.into()))
}
