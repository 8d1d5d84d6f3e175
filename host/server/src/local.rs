//! The local control surface, served by `relais serve` on a Unix socket in
//! its data folder (mode 0600: the file system is the authentication, as
//! with Docker's socket). It carries the `/api/v1` routes without bearer
//! tokens, plus what only the machine's operator may do:
//!
//! - `GET /local/v1/secrets`: secret names (never values);
//! - `PUT /local/v1/secrets/{name}`: the raw body is the value, encrypted at rest;
//! - `DELETE /local/v1/secrets/{name}`;
//! - `GET|POST /local/v1/tokens`, `DELETE /local/v1/tokens/{name}`: API tokens.
//!
//! The CLI (`relais runs`, `relais secret`, `relais token`, `relais run`)
//! sends the same requests to this router in process when no server holds
//! the store, so both paths answer alike.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::{self, TokenError};
use crate::error::ApiError;
use crate::{AppState, api};

/// Largest secret value accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// The local control router: `/api/v1` without tokens, and `/local/v1`.
pub fn local_app(state: AppState) -> Router {
    let (api, _) = api::unprotected().split_for_parts();
    Router::new()
        .nest("/api/v1", api)
        .route("/local/v1/secrets", get(secrets))
        .route(
            "/local/v1/secrets/{name}",
            put(set_secret).delete(remove_secret),
        )
        .route("/local/v1/tokens", get(tokens).post(create_token))
        .route(
            "/local/v1/tokens/{name}",
            axum::routing::delete(revoke_token),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(state)
}

/// `GET /local/v1/secrets`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SecretNames {
    /// Names, sorted.
    pub secrets: Vec<String>,
}

/// The answer to a secret change.
#[derive(Debug, Serialize, Deserialize)]
pub struct SecretChange {
    /// The secret's name.
    pub name: String,
    /// `set`: whether it replaced a value; `rm`: whether it existed.
    pub existed: bool,
}

async fn secrets(State(state): State<AppState>) -> Result<Json<SecretNames>, ApiError> {
    Ok(Json(SecretNames {
        secrets: state.store.secret_names().await?,
    }))
}

async fn set_secret(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<SecretChange>, ApiError> {
    if body.len() > MAX_SECRET_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "secret {name}: {} bytes, at most {MAX_SECRET_BYTES}",
                body.len()
            ),
        ));
    }
    let value = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request(format!("secret {name}: the value is not UTF-8")))?;
    if value.is_empty() {
        return Err(ApiError::bad_request(format!(
            "secret {name}: the value is empty"
        )));
    }
    let existed = state.store.secret_set(&name, value).await?;
    state.secrets.forget(&name);
    Ok(Json(SecretChange { name, existed }))
}

async fn remove_secret(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SecretChange>, ApiError> {
    let existed = state.store.secret_remove(&name).await?;
    state.secrets.forget(&name);
    if !existed {
        return Err(ApiError::not_found(format!("no secret named {name}")));
    }
    Ok(Json(SecretChange {
        name,
        existed: true,
    }))
}

/// A token as listed: never the token itself.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenView {
    /// Its name.
    pub name: String,
    /// Creation, milliseconds since the Unix epoch.
    pub created_at: u64,
}

/// `POST /local/v1/tokens` body.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewToken {
    /// A name to list and revoke it by.
    pub name: String,
}

/// A created token: shown this once.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Its name.
    pub name: String,
    /// The bearer token.
    pub token: String,
}

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Exists { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        TokenError::NotFound { .. } => ApiError::not_found(e.to_string()),
        TokenError::InvalidName { .. } => ApiError::bad_request(e.to_string()),
        TokenError::Store(s) => s.into(),
        other => ApiError::internal(other),
    }
}

async fn tokens(State(state): State<AppState>) -> Result<Json<Vec<TokenView>>, ApiError> {
    let list = auth::list_tokens(&state.store).await.map_err(token_error)?;
    Ok(Json(
        list.into_iter()
            .map(|t| TokenView {
                name: t.name,
                created_at: t.created_at.as_millis(),
            })
            .collect(),
    ))
}

async fn create_token(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let new: NewToken = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid token body: {e}")))?;
    let token = auth::create_token(&state.store, &new.name)
        .await
        .map_err(token_error)?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            name: new.name,
            token,
        }),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth::revoke_token(&state.store, &name)
        .await
        .map_err(token_error)?;
    Ok(StatusCode::NO_CONTENT)
}
