//! API token records: created and revoked by the single writer, so
//! concurrent changes all land in the index.

use relais_store::TokenRecord;

use crate::support::*;

fn record(i: usize) -> TokenRecord {
    TokenRecord {
        name: format!("ci-{i}"),
        hash: format!("{i:064x}"),
        created_at: at(i as u64),
    }
}

#[tokio::test]
async fn concurrent_creations_and_revocations_all_land() {
    let f = fixture().await;
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move { store.token_create(record(i)).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap(), "each name is new");
    }
    let mut listed = f.store.tokens().unwrap();
    listed.sort_by_key(|r| r.created_at);
    assert_eq!(listed, (0..64).map(record).collect::<Vec<_>>());
    for i in 0..64 {
        let found = f.store.token_by_hash(&record(i).hash).unwrap();
        assert_eq!(found, Some(record(i)));
    }

    // Half revoked at once.
    let revokes: Vec<_> = (0..32)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move { store.token_revoke(&format!("ci-{i}")).await })
        })
        .collect();
    for t in revokes {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    let mut left = f.store.tokens().unwrap();
    left.sort_by_key(|r| r.created_at);
    assert_eq!(left, (32..64).map(record).collect::<Vec<_>>());
    assert_eq!(f.store.token_by_hash(&record(3).hash).unwrap(), None);
    assert_eq!(f.store.token_revoke("ci-3").await.unwrap(), None);

    // A taken name is refused and changes nothing.
    let mut again = record(40);
    again.hash = "f".repeat(64);
    assert!(!f.store.token_create(again).await.unwrap());
    assert_eq!(f.store.token_by_hash(&"f".repeat(64)).unwrap(), None);

    // Records survive reopening.
    let f = f.reopen();
    assert_eq!(f.store.tokens().unwrap().len(), 32);
}
