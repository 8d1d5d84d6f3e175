//! `GET /plugins`.

use axum::Json;
use axum::extract::State;

use crate::error::ErrorBody;
use crate::{AppState, PluginDoc};

/// The loaded plugins with their steps and schemas.
#[utoipa::path(get, path = "/plugins", tag = "plugins",
    responses(
        (status = 200, description = "The loaded plugins", body = Vec<PluginDoc>),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
    ))]
pub(crate) async fn list(State(state): State<AppState>) -> Json<Vec<PluginDoc>> {
    Json(state.plugins.as_ref().clone())
}
