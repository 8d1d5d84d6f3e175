//! API token records: a token's name, the SHA-256 of the token (never the
//! token itself) and its creation time.
//!
//! They live in the key-value table under the reserved namespace
//! [`TOKEN_NAMESPACE`] (not a valid plugin name): one record per token under
//! `token/{hash}`, looked up on every API request, and an index of every
//! record under `index`, for listing by name. Creating and revoking a token
//! each change both in one operation of the single writer, so concurrent
//! changes never lose one another from the index.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageContext};
use crate::ops::misc::kv_key;
use crate::tables::{Tables, decode, encode};
use crate::writer::Op;
use crate::{Store, Timestamp};

/// The key-value namespace holding API token records.
pub const TOKEN_NAMESPACE: &str = "relais:api-tokens";
const INDEX_KEY: &str = "index";
const TABLE: &str = "kv (api tokens)";

/// A stored API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The name it was created with, unique.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// When it was created.
    pub created_at: Timestamp,
}

fn record_key(hash: &str) -> Vec<u8> {
    kv_key(TOKEN_NAMESPACE, &format!("token/{hash}"))
}

fn index_key() -> Vec<u8> {
    kv_key(TOKEN_NAMESPACE, INDEX_KEY)
}

fn read_index<R>(kv: &R) -> Result<Vec<TokenRecord>>
where
    R: redb::ReadableTable<&'static [u8], &'static [u8]>,
{
    match kv
        .get(index_key().as_slice())
        .during("reading the token index")?
    {
        Some(bytes) => decode(TABLE, bytes.value()),
        None => Ok(Vec::new()),
    }
}

/// Adds a token unless one has its name; returns whether it was added.
pub(crate) struct TokenCreate {
    pub record: TokenRecord,
}

impl Op for TokenCreate {
    /// The new index and record, or `None` when the name is taken.
    type Plan = Option<(Vec<u8>, Vec<u8>)>;
    type Output = bool;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let mut index = read_index(&t.kv)?;
        if index.iter().any(|r| r.name == self.record.name) {
            return Ok(None);
        }
        let record = encode("token record", &self.record)?;
        index.push(self.record.clone());
        Ok(Some((encode("token index", &index)?, record)))
    }

    fn write(&self, plan: Self::Plan, t: &mut Tables<'_>) -> Result<bool> {
        let Some((index, record)) = plan else {
            return Ok(false);
        };
        let ctx = "storing a token";
        t.kv.insert(record_key(&self.record.hash).as_slice(), record.as_slice())
            .during(ctx)?;
        t.kv.insert(index_key().as_slice(), index.as_slice())
            .during(ctx)?;
        Ok(true)
    }
}

/// Removes the token named `name`; returns its record if there was one.
pub(crate) struct TokenRevoke {
    pub name: String,
}

impl Op for TokenRevoke {
    /// The removed record and the index without it.
    type Plan = Option<(TokenRecord, Vec<u8>)>;
    type Output = Option<TokenRecord>;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let mut index = read_index(&t.kv)?;
        let Some(pos) = index.iter().position(|r| r.name == self.name) else {
            return Ok(None);
        };
        let record = index.remove(pos);
        Ok(Some((record, encode("token index", &index)?)))
    }

    fn write(&self, plan: Self::Plan, t: &mut Tables<'_>) -> Result<Option<TokenRecord>> {
        let Some((record, index)) = plan else {
            return Ok(None);
        };
        let ctx = "revoking a token";
        t.kv.remove(record_key(&record.hash).as_slice())
            .during(ctx)?;
        t.kv.insert(index_key().as_slice(), index.as_slice())
            .during(ctx)?;
        Ok(Some(record))
    }
}

impl Store {
    /// Stores a new API token record unless a token has its name; returns
    /// whether it was stored.
    pub async fn token_create(&self, record: TokenRecord) -> Result<bool> {
        self.inner.writer.submit(TokenCreate { record }).await
    }

    /// Revokes the API token named `name`; returns its record, or `None` if
    /// there is no such token.
    pub async fn token_revoke(&self, name: &str) -> Result<Option<TokenRecord>> {
        let op = TokenRevoke {
            name: name.to_owned(),
        };
        self.inner.writer.submit(op).await
    }

    /// Every API token record, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let tx = self.read_tx()?;
        let kv = Self::table(&tx, crate::tables::KV)?;
        read_index(&kv)
    }

    /// The record of the token whose SHA-256 is `hash` (hex), if it is live.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let tx = self.read_tx()?;
        let kv = Self::table(&tx, crate::tables::KV)?;
        match kv
            .get(record_key(hash).as_slice())
            .during("reading a token")?
        {
            Some(bytes) => decode(TABLE, bytes.value()).map(Some),
            None => Ok(None),
        }
    }
}
