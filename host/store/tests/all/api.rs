//! The interface can be used from multi-threaded async code.

use relais_store::{RunFilter, Store, Timestamp};

use crate::support::*;

fn send<T: Send>(value: T) -> T {
    value
}

#[tokio::test]
async fn store_and_its_futures_are_send() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Store>();
    let f = fixture().await;
    let s = &f.store;
    send(s.create_run(new_run("wf", &f.rev, at(1))))
        .await
        .unwrap();
    send(s.kv_set("p", "k", vec![1])).await.unwrap();
    assert_eq!(send(s.kv_get("p", "k")).await.unwrap(), Some(vec![1]));
    send(s.kv_delete("p", "k")).await.unwrap();
    send(s.list_runs(&RunFilter::default(), None, 10))
        .await
        .unwrap();
    send(s.pop_due_timers(Timestamp::now(), 10)).await.unwrap();
    send(s.secret_names()).await.unwrap();
    // A Debug print names the file, nothing else.
    let shown = format!("{s:?}");
    assert!(shown.contains("relais.redb"), "{shown}");
}

#[tokio::test]
async fn the_page_cache_is_bounded_by_the_options_and_can_be_tiny() {
    assert_eq!(
        options(std::path::Path::new("d")).cache_size,
        relais_store::DEFAULT_CACHE_SIZE
    );
    assert_eq!(relais_store::DEFAULT_CACHE_SIZE, 64 << 20);
    let dir = tempfile::tempdir().unwrap();
    let mut tiny = options(dir.path());
    tiny.cache_size = 0;
    let store = Store::open(tiny.clone()).unwrap().store;
    let rev = store
        .put_revision("wf", SOURCE, "workflows/wf.yaml", at(0))
        .await
        .unwrap()
        .hash;
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(create(&store, new_run("wf", &rev, at(i))).await);
    }
    drop(store);
    let store = Store::open(tiny).unwrap().store;
    assert_eq!(store.count_runs(None).await.unwrap().queued, 200);
    for id in ids {
        assert!(store.run(id).await.unwrap().is_some());
    }
}
