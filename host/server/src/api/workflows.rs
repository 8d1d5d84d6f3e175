//! `GET /workflows`, `GET /workflows/{id}`, `POST /workflows/{id}/runs`,
//! `GET /workflow-errors`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use relais_engine::{Loaded, Workflows};
use relais_store::{CreateOutcome, RunFilter, TriggerKind};
use relais_workflow::context::manual_trigger;
use relais_workflow::model::Trigger;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::runs::{RunView, TriggerAnswer};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// How many next fire times and last runs a workflow's detail shows.
const SHOWN: usize = 5;

/// A workflow in the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowSummary {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// `manual`, `cron` or `webhook`.
    pub trigger_kind: String,
    /// The trigger's settings.
    #[schema(value_type = Object)]
    pub trigger: Value,
    /// The content hash of the revision being served.
    pub revision: String,
}

/// A workflow with its next fire times and last runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// Step ids in order.
    pub steps: Vec<String>,
    /// The JSON Schema of manual runs' input, if any.
    #[schema(value_type = Object, nullable)]
    pub input_schema: Option<Value>,
    /// Next fire times (cron only), RFC 3339 in the schedule's zone.
    pub next_fires: Vec<String>,
    /// The most recent runs, newest first.
    pub last_runs: Vec<RunView>,
}

fn summary(w: &Loaded) -> WorkflowSummary {
    let kind = match &w.workflow.trigger {
        Trigger::Manual => "manual",
        Trigger::Cron(_) => "cron",
        Trigger::Webhook(_) => "webhook",
    };
    WorkflowSummary {
        id: w.id().to_owned(),
        description: w.workflow.description.clone(),
        trigger_kind: kind.to_owned(),
        trigger: serde_json::to_value(&w.workflow.trigger).unwrap_or(Value::Null),
        revision: w.revision.clone(),
    }
}

/// A problem of a workflow file that did not load.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowFileError {
    /// The file.
    pub path: String,
    /// 1-based line; 0 when the problem has no position.
    pub line: u32,
    /// 1-based column; 0 when the problem has no position.
    pub column: u32,
    /// The part of the workflow (e.g. `step "email"`); empty for the top level.
    pub scope: String,
    /// What is wrong.
    pub message: String,
}

/// The problems of the workflow files that did not load.
pub fn workflow_errors(workflows: &Workflows) -> Vec<WorkflowFileError> {
    workflows
        .errors()
        .iter()
        .map(|d| WorkflowFileError {
            path: d.path.display().to_string(),
            line: d.loc.line,
            column: d.loc.column,
            scope: d.scope.clone(),
            message: d.error.to_string(),
        })
        .collect()
}

/// The workflow files that did not load, with every problem found in them
/// (the other workflows are served without them).
#[utoipa::path(get, path = "/workflow-errors", tag = "workflows",
    responses(
        (status = 200, description = "The problems of the files that did not load", body = Vec<WorkflowFileError>),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
    ))]
pub(crate) async fn errors(State(state): State<AppState>) -> Json<Vec<WorkflowFileError>> {
    Json(workflow_errors(&state.workflows))
}

/// Every loaded workflow.
#[utoipa::path(get, path = "/workflows", tag = "workflows",
    responses(
        (status = 200, description = "The loaded workflows", body = Vec<WorkflowSummary>),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
    ))]
pub(crate) async fn list(State(state): State<AppState>) -> Json<Vec<WorkflowSummary>> {
    Json(state.workflows.iter().map(|w| summary(w)).collect())
}

/// One workflow, with its next fire times and its last runs.
#[utoipa::path(get, path = "/workflows/{id}", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow", body = WorkflowDetail),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
    ))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WorkflowDetail>, ApiError> {
    let w = state
        .workflows
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("workflow {id} not found")))?;
    let next_fires = match &w.workflow.trigger {
        Trigger::Cron(c) => c
            .schedule_in(state.config.default_timezone)
            .next_n(Utc::now(), SHOWN)
            .iter()
            .map(|f| f.local_rfc3339())
            .collect(),
        _ => Vec::new(),
    };
    let filter = RunFilter {
        workflow_id: Some(id.clone()),
        status: None,
    };
    let page = state.store.list_runs(&filter, None, SHOWN).await?;
    Ok(Json(WorkflowDetail {
        summary: summary(w),
        steps: w
            .workflow
            .steps
            .iter()
            .map(|s| s.id.as_str().to_owned())
            .collect(),
        input_schema: w.workflow.input.as_ref().map(|i| i.schema.clone()),
        next_fires,
        last_runs: page.runs.into_iter().map(RunView::from).collect(),
    }))
}

/// Starts a manual run with a JSON input (checked against the workflow's
/// input schema).
#[utoipa::path(post, path = "/workflows/{id}/runs", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    request_body(content = Object, description = "The run's input", content_type = "application/json"),
    responses(
        (status = 202, description = "The run is queued", body = TriggerAnswer),
        (status = 400, description = "The body is missing or not a JSON object", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 422, description = "The input does not match the schema", body = ErrorBody),
    ))]
pub(crate) async fn trigger(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TriggerAnswer>), ApiError> {
    if state.workflows.get(&id).is_none() {
        return Err(ApiError::not_found(format!("workflow {id} not found")));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the body must be the run's input as JSON (send {} for none)",
        ));
    }
    let input: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    if !input.is_object() {
        return Err(ApiError::bad_request("the input must be a JSON object"));
    }
    let outcome = state
        .backend
        .submit(
            &id,
            TriggerKind::Manual,
            manual_trigger(input.clone()),
            input,
            None,
        )
        .await?;
    match outcome {
        CreateOutcome::Created(run) | CreateOutcome::Existing(run) => {
            Ok((StatusCode::ACCEPTED, Json(TriggerAnswer::queued(run))))
        }
        CreateOutcome::SlotTooOld => Err(ApiError::internal("manual run refused as a cron slot")),
    }
}
