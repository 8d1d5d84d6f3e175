//! Plugin key-value data: namespaces and limits.

use relais_store::{KvQuota, MAX_KV_KEY, MAX_KV_VALUE, StoreError};

use crate::support::*;

#[tokio::test]
async fn values_are_private_to_their_plugin_and_survive_reopening() {
    let f = fixture().await;
    f.store
        .kv_set("stripe", "cursor", b"evt_1".to_vec())
        .await
        .unwrap();
    f.store
        .kv_set("cpanel", "cursor", b"other".to_vec())
        .await
        .unwrap();
    assert_eq!(
        f.store.kv_get("stripe", "cursor").await.unwrap(),
        Some(b"evt_1".to_vec())
    );
    assert_eq!(
        f.store.kv_get("cpanel", "cursor").await.unwrap(),
        Some(b"other".to_vec())
    );
    // A plugin whose name is a prefix of another's sees nothing of it.
    assert_eq!(f.store.kv_get("strip", "ecursor").await.unwrap(), None);
    f.store
        .kv_set("stripe", "cursor", Vec::new())
        .await
        .unwrap();
    let f = f.reopen();
    assert_eq!(
        f.store.kv_get("stripe", "cursor").await.unwrap(),
        Some(Vec::new())
    );
    assert!(f.store.kv_delete("stripe", "cursor").await.unwrap());
    assert!(!f.store.kv_delete("stripe", "cursor").await.unwrap());
    assert_eq!(f.store.kv_get("stripe", "cursor").await.unwrap(), None);
    assert_eq!(
        f.store.kv_get("cpanel", "cursor").await.unwrap(),
        Some(b"other".to_vec())
    );
}

#[tokio::test]
async fn keys_and_values_are_limited_on_both_sides() {
    let f = fixture().await;
    let longest = "k".repeat(MAX_KV_KEY);
    f.store.kv_set("p", &longest, vec![1]).await.unwrap();
    assert_eq!(f.store.kv_get("p", &longest).await.unwrap(), Some(vec![1]));
    let too_long = "k".repeat(MAX_KV_KEY + 1);
    let err = f.store.kv_set("p", &too_long, vec![1]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::KvKey {
                len: 513,
                max: 512,
                ..
            }
        ),
        "{err}"
    );
    assert!(f.store.kv_get("p", &too_long).await.is_err());
    assert!(f.store.kv_delete("p", &too_long).await.is_err());
    // A multi-byte key is measured in bytes.
    let wide = "é".repeat(257);
    assert!(matches!(
        f.store.kv_set("p", &wide, vec![]).await,
        Err(StoreError::KvKey { len: 514, .. })
    ));
    assert!(matches!(
        f.store.kv_set("p", "", vec![]).await,
        Err(StoreError::KvKey { len: 0, .. })
    ));

    let biggest = vec![7u8; MAX_KV_VALUE];
    f.store.kv_set("p", "big", biggest.clone()).await.unwrap();
    assert_eq!(f.store.kv_get("p", "big").await.unwrap(), Some(biggest));
    let err = f
        .store
        .kv_set("p", "big", vec![7u8; MAX_KV_VALUE + 1])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::KvValue { len, max, .. } if len == max + 1),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "kv value for key \"big\" of plugin p is {} bytes: the limit is {}",
            MAX_KV_VALUE + 1,
            MAX_KV_VALUE
        )
    );
    // The refused write left the old value.
    assert_eq!(
        f.store.kv_get("p", "big").await.unwrap().map(|v| v.len()),
        Some(MAX_KV_VALUE)
    );
    assert!(matches!(
        f.store.kv_set("", "k", vec![]).await,
        Err(StoreError::Invalid { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_work_from_a_plain_thread() {
    let f = fixture().await;
    let store = f.store.clone();
    tokio::task::spawn_blocking(move || {
        store.kv_set_blocking("p", "k", b"v".to_vec()).unwrap();
        assert_eq!(store.kv_get_now("p", "k").unwrap(), Some(b"v".to_vec()));
        assert!(store.kv_delete_blocking("p", "k").unwrap());
        assert!(store.kv_set_blocking("p", "", vec![]).is_err());
    })
    .await
    .unwrap();
    assert_eq!(f.store.kv_get("p", "k").await.unwrap(), None);
}

#[tokio::test]
async fn a_plugin_is_held_to_its_quota_of_keys_and_bytes() {
    let f = fixture().await;
    let quota = KvQuota {
        bytes: 100,
        keys: 3,
    };
    for k in ["a", "b", "c"] {
        f.store
            .kv_set_within("p", k, vec![0; 9], quota)
            .await
            .unwrap();
    }
    let err = f
        .store
        .kv_set_within("p", "d", vec![0; 1], quota)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::KvQuota {
                what: "keys",
                would: 4,
                max: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "kv quota of plugin p exceeded: it would keep 4 keys, the quota is 3"
    );
    assert_eq!(f.store.kv_get("p", "d").await.unwrap(), None);
    // Another plugin has its own quota.
    f.store
        .kv_set_within("q", "d", vec![0; 1], quota)
        .await
        .unwrap();
    // Rewriting a key counts its new size only: 3 keys, 1 + 75 + 20 bytes.
    f.store
        .kv_set_within("p", "a", vec![0; 75], quota)
        .await
        .unwrap();
    let err = f
        .store
        .kv_set_within("p", "b", vec![0; 90], quota)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::KvQuota {
                what: "bytes",
                would: 177,
                max: 100,
                ..
            }
        ),
        "{err}"
    );
    // Deleting makes room, and the count survives reopening.
    assert!(f.store.kv_delete("p", "a").await.unwrap());
    let f = f.reopen();
    f.store
        .kv_set_within("p", "e", vec![0; 70], quota)
        .await
        .unwrap();
    assert!(
        f.store
            .kv_set_within("p", "f", vec![0; 1], quota)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn writes_without_a_quota_count_against_it() {
    let f = fixture().await;
    for i in 0..5 {
        f.store
            .kv_set("p", &format!("k{i}"), vec![0; 10])
            .await
            .unwrap();
    }
    let quota = KvQuota {
        bytes: 1 << 20,
        keys: 5,
    };
    let err = f
        .store
        .kv_set_within("p", "k5", vec![0; 10], quota)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::KvQuota { would: 6, .. }), "{err}");
    // A write that does not grow the data passes even at the quota.
    f.store
        .kv_set_within("p", "k0", vec![0; 5], quota)
        .await
        .unwrap();
}
