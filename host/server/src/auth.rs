//! API tokens: random 32-byte tokens, stored as their SHA-256 in the store
//! (key-value namespace [`TOKEN_NAMESPACE`]), checked on every `/api` route.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use relais_store::{Store, StoreError, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// The key-value namespace holding API tokens (not a valid plugin name).
pub const TOKEN_NAMESPACE: &str = "relais:api-tokens";
const INDEX_KEY: &str = "index";
/// Prefix of every token, to recognise one in a leak scanner.
pub const TOKEN_PREFIX: &str = "rls_";

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The name it was created with.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// When it was created.
    pub created_at: Timestamp,
}

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
    /// The index record cannot be read.
    #[error("corrupt token index: {0}")]
    Corrupt(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn token_key(hash: &str) -> String {
    format!("token/{hash}")
}

async fn read_index(store: &Store) -> Result<Vec<TokenRecord>, TokenError> {
    match store.kv_get(TOKEN_NAMESPACE, INDEX_KEY).await? {
        None => Ok(Vec::new()),
        Some(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| TokenError::Corrupt(e.to_string()))
        }
    }
}

async fn write_index(store: &Store, index: &[TokenRecord]) -> Result<(), TokenError> {
    let bytes = serde_json::to_vec(index).map_err(|e| TokenError::Corrupt(e.to_string()))?;
    store.kv_set(TOKEN_NAMESPACE, INDEX_KEY, bytes).await?;
    Ok(())
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
    let mut index = read_index(store).await?;
    if index.iter().any(|t| t.name == name) {
        return Err(TokenError::Exists {
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
    let value = serde_json::to_vec(&record).map_err(|e| TokenError::Corrupt(e.to_string()))?;
    store
        .kv_set(TOKEN_NAMESPACE, &token_key(&record.hash), value)
        .await?;
    index.push(record);
    write_index(store, &index).await?;
    Ok(token)
}

/// Every token's record, by creation.
pub async fn list_tokens(store: &Store) -> Result<Vec<TokenRecord>, TokenError> {
    read_index(store).await
}

/// Revokes the token named `name`.
pub async fn revoke_token(store: &Store, name: &str) -> Result<(), TokenError> {
    let mut index = read_index(store).await?;
    let Some(pos) = index.iter().position(|t| t.name == name) else {
        return Err(TokenError::NotFound {
            name: name.to_owned(),
        });
    };
    let record = index.remove(pos);
    store
        .kv_delete(TOKEN_NAMESPACE, &token_key(&record.hash))
        .await?;
    write_index(store, &index).await
}

/// The name of the token `token`, if it is a live one.
pub fn check_token(store: &Store, token: &str) -> Result<Option<String>, TokenError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    // The lookup is by hash: the comparison never touches the secret itself.
    match store.kv_get_now(TOKEN_NAMESPACE, &token_key(&hash_token(token)))? {
        None => Ok(None),
        Some(bytes) => {
            let record: TokenRecord =
                serde_json::from_slice(&bytes).map_err(|e| TokenError::Corrupt(e.to_string()))?;
            Ok(Some(record.name))
        }
    }
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
