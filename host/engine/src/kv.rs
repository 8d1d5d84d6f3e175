//! The runtime's plugin key-value store, backed by the durable store.

use relais_runtime::{KvFuture, KvStore};
use relais_store::Store;

/// A [`KvStore`] that keeps plugin data in the [`Store`].
#[derive(Clone, Debug)]
pub struct StoreKv(pub Store);

impl KvStore for StoreKv {
    fn get<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move { self.0.kv_get(plugin, key).await.map_err(|e| e.to_string()) })
    }

    fn set<'a>(&'a self, plugin: &'a str, key: &'a str, value: Vec<u8>) -> KvFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .kv_set(plugin, key, value)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn delete<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .kv_delete(plugin, key)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
