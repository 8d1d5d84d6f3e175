//! `/api/v1`: workflows, runs, plugins. Every route needs a bearer token
//! (see [`crate::auth`]), except the OpenAPI document itself.

mod plugins;
mod runs;
mod workflows;

use axum::Json;
use axum::middleware;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::require_token;

pub use runs::{RunDetailView, RunList, RunView, TriggerAnswer};
pub use workflows::{WorkflowDetail, WorkflowFileError, WorkflowSummary, workflow_errors};

#[derive(OpenApi)]
#[openapi(
    info(title = "Relais API", version = "1", description = "Workflows, runs and plugins of a Relais server."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::ErrorBody, crate::ErrorDetail))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    router_parts().split_for_parts().1
}

fn router_parts() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(workflows::list))
        .routes(routes!(workflows::get_one))
        .routes(routes!(workflows::trigger))
        .routes(routes!(workflows::errors))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get_one))
        .routes(routes!(runs::retry))
        .routes(routes!(runs::cancel))
        .routes(routes!(plugins::list))
}

/// The `/api/v1` routes without token checks, for the local control socket
/// (see [`crate::local`]).
pub(crate) fn unprotected() -> OpenApiRouter<AppState> {
    router_parts()
}

/// The `/api/v1` router (routes relative to `/api/v1`) and its document.
pub fn router(state: AppState) -> OpenApiRouter<AppState> {
    let doc = openapi();
    let protected = router_parts().layer(middleware::from_fn_with_state(state, require_token));
    protected.route("/openapi.json", get(move || async move { Json(doc) }))
}
