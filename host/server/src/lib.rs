//! The Relais server: how the outside world starts runs and sees them.
//!
//! - `POST /hooks/{path}`: webhooks, verified per workflow (Stripe, GitHub,
//!   HMAC-SHA256, token), deduplicated, answered 202 with the run id once the
//!   event is durably stored (or with the run's output for `respond: sync`);
//! - `/api/v1/...`: workflows, runs (list, detail, retry, cancel), manual
//!   runs, plugins; bearer-token auth ([`auth`]); an OpenAPI document at
//!   `/api/v1/openapi.json`;
//! - `/healthz`, `/readyz`, `/metrics` (Prometheus);
//! - [`local::local_app`]: the same API without tokens plus secrets and
//!   tokens, for the operator's local control socket;
//! - [`retention::run`]: removes old finished runs and expired dedupe keys;
//! - [`cron::Scheduler`]: fires cron workflows in their zone, once per slot,
//!   with catch-up after a downtime.
//!
//! The server creates runs only through a [`Backend`] (the engine's
//! [`relais_engine::Engine::submit`], the one submit path) and reads them
//! from the [`Store`]; it never runs steps. The loaded workflows are the
//! engine's registry ([`Workflows`]), one `Arc` shared by the engine, the
//! routes and the scheduler.
//!
//! ```no_run
//! # async fn demo(state: relais_server::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, relais_server::app(state)).await
//! # }
//! ```

pub mod api;
pub mod auth;
mod backend;
pub mod cron;
mod error;
mod hooks;
pub mod local;
pub mod metrics;
pub mod retention;
mod secrets;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_store::Store;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use backend::Backend;
pub use error::{ApiError, BackendError, ErrorBody, ErrorDetail};
pub use secrets::SecretCache;

/// The default largest webhook body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted webhook body, in bytes.
    pub body_limit: usize,
    /// The zone of cron workflows without `timezone:`.
    pub default_timezone: chrono_tz::Tz,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            body_limit: DEFAULT_BODY_LIMIT,
            default_timezone: chrono_tz::UTC,
        }
    }
}

/// A plugin as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PluginDoc {
    /// Name used in workflows (`uses: NAME/STEP`).
    pub name: String,
    /// Version.
    pub version: String,
    /// One sentence for humans.
    pub description: String,
    /// Its steps.
    pub steps: Vec<PluginStepDoc>,
}

/// A plugin step as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PluginStepDoc {
    /// Step name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its input.
    #[schema(value_type = Object)]
    pub input_schema: serde_json::Value,
    /// JSON Schema of its output.
    #[schema(value_type = Object)]
    pub output_schema: serde_json::Value,
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The store: runs are read here.
    pub store: Store,
    /// The engine: runs are created, retried and cancelled here.
    pub backend: Arc<dyn Backend>,
    /// The loaded workflows: the engine's registry.
    pub workflows: Arc<Workflows>,
    /// The loaded plugins.
    pub plugins: Arc<Vec<PluginDoc>>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Renders `/metrics`; `None`: no recorder installed, `/metrics` is 404.
    pub metrics: Option<PrometheusHandle>,
    /// Whether `/readyz` answers 200 (set once started, cleared on shutdown).
    pub ready: Arc<AtomicBool>,
    /// Decrypted webhook secrets.
    pub secrets: Arc<SecretCache>,
}

impl AppState {
    /// A state whose backend is an engine over `workflows` that is not
    /// started (runs stay queued for whichever engine claims them), with no
    /// plugins and default settings.
    pub fn new(store: Store, workflows: Arc<Workflows>) -> AppState {
        let engine = Engine::new(
            store.clone(),
            workflows.clone(),
            Arc::new(Plugins::default()),
            EngineConfig::default(),
        );
        AppState {
            backend: Arc::new(engine),
            store,
            workflows,
            plugins: Arc::new(Vec::new()),
            config: Arc::new(ServerConfig::default()),
            metrics: None,
            ready: Arc::new(AtomicBool::new(true)),
            secrets: Arc::default(),
        }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (api, _) = api::router(state.clone()).split_for_parts();
    Router::new()
        .nest("/api/v1", api)
        .merge(hooks::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(state)
}

/// What `/readyz` answers once ready.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: &'static str,
    /// How many workflows are loaded.
    pub workflows: usize,
    /// The problems of the workflow files that did not load (the server is
    /// ready without them).
    pub workflow_errors: Vec<api::WorkflowFileError>,
}

async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<Readiness>, ApiError> {
    if state.ready.load(Ordering::Relaxed) {
        Ok(axum::Json(Readiness {
            status: "ready",
            workflows: state.workflows.len(),
            workflow_errors: api::workflow_errors(&state.workflows),
        }))
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the server is starting or shutting down",
        ))
    }
}
