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
