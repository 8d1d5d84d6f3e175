//! API tokens: random 32-byte tokens, stored as their SHA-256 in the store
//! (see [`relais_store::TokenRecord`]), checked on every `/api` route.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use relais_store::{Store, StoreError, Timestamp};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

pub use relais_store::{TOKEN_NAMESPACE, TokenRecord};

/// Prefix of every token, to recognise one in a leak scanner.
pub const TOKEN_PREFIX: &str = "rls_";

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A token with this name exists.
    #[error("a token named {name} already exists")]
    Exists {
        /// The name.
        name: String,
    },
    /// No token with this name.
    #[error("no token named {name}")]
    NotFound {
        /// The name.
        name: String,
    },
    /// The name is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    #[error("invalid token name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-'")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The system's random source failed.
    #[error("cannot generate a token: {0}")]
    Random(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token named `name` and returns it: the only time it is shown.
pub async fn create_token(store: &Store, name: &str) -> Result<String, TokenError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(TokenError::InvalidName {
            name: name.to_owned(),
        });
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| TokenError::Random(e.to_string()))?;
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(raw));
    let record = TokenRecord {
        name: name.to_owned(),
        hash: hash_token(&token),
        created_at: Timestamp::now(),
    };
    if !store.token_create(record).await? {
        return Err(TokenError::Exists {
            name: name.to_owned(),
        });
    }
    Ok(token)
}

/// Every token's record, by creation.
pub async fn list_tokens(store: &Store) -> Result<Vec<TokenRecord>, TokenError> {
    Ok(store.tokens()?)
}

/// Revokes the token named `name`.
pub async fn revoke_token(store: &Store, name: &str) -> Result<(), TokenError> {
    match store.token_revoke(name).await? {
        Some(_) => Ok(()),
        None => Err(TokenError::NotFound {
            name: name.to_owned(),
        }),
    }
}

/// The name of the token `token`, if it is a live one.
pub fn check_token(store: &Store, token: &str) -> Result<Option<String>, TokenError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    // The lookup is by hash: the comparison never touches the secret itself.
    Ok(store.token_by_hash(&hash_token(token))?.map(|r| r.name))
}

/// Middleware: refuses a request without a live `Authorization: Bearer` token.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let unauthorized =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message.to_owned());
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Err(unauthorized("missing Authorization: Bearer token"));
    };
    let Some(token) = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return Err(unauthorized(
            "the Authorization header must be 'Bearer TOKEN'",
        ));
    };
    match check_token(&state.store, token) {
        Ok(Some(_)) => Ok(next.run(request).await),
        Ok(None) => Err(unauthorized("unknown or revoked token")),
        Err(e) => Err(ApiError::internal(e)),
    }
}
