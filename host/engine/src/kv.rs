//! The runtime's plugin key-value store, backed by the durable store.

use relais_runtime::{KvError, KvFuture, KvQuota, KvStore};
use relais_store::{Store, StoreError};

/// A [`KvStore`] that keeps plugin data in the [`Store`].
#[derive(Clone, Debug)]
pub struct StoreKv(pub Store);

fn kv_error(e: StoreError) -> KvError {
    match e {
        StoreError::KvQuota { .. } => KvError::Quota(e.to_string()),
        e => KvError::Backend(e.to_string()),
    }
}

impl KvStore for StoreKv {
    fn get<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move { self.0.kv_get(plugin, key).await.map_err(kv_error) })
    }

    fn set<'a>(
        &'a self,
        plugin: &'a str,
        key: &'a str,
        value: Vec<u8>,
        quota: KvQuota,
    ) -> KvFuture<'a, ()> {
        let quota = relais_store::KvQuota {
            bytes: quota.bytes,
            keys: quota.keys,
        };
        Box::pin(async move {
            self.0
                .kv_set_within(plugin, key, value, quota)
                .await
                .map_err(kv_error)
        })
    }

    fn delete<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .kv_delete(plugin, key)
                .await
                .map(|_| ())
                .map_err(kv_error)
        })
    }
}
