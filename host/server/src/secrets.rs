//! Decrypted webhook secrets kept in memory, so verifying a delivery does
//! not read and decrypt the store each time. Changes made through this
//! process ([`crate::local`]) forget the cached value; the store file is
//! held by this process alone, so there is no other writer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use relais_store::{SecretValue, Store, StoreError};

/// The cache. Cheap to share behind an `Arc`.
#[derive(Default)]
pub struct SecretCache {
    values: RwLock<HashMap<String, Arc<SecretValue>>>,
    /// Bumped by every change, so a read that raced with one is not cached.
    generation: AtomicU64,
}

impl std::fmt::Debug for SecretCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCache").finish_non_exhaustive()
    }
}

impl SecretCache {
    /// The secret `name`: from memory, else from the store (then kept).
    /// A missing secret is not remembered.
    pub async fn get(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<Option<Arc<SecretValue>>, StoreError> {
        if let Some(v) = self
            .values
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(Some(v.clone()));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let Some(value) = store.secret_get(name).await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            values.insert(name.to_owned(), value.clone());
        }
        Ok(Some(value))
    }

    /// Forgets `name` after it changed in the store.
    pub fn forget(&self, name: &str) {
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        values.remove(name);
    }
}
