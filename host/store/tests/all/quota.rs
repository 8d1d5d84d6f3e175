//! Claims within a quota: per workflow and in all, oldest first; the runs
//! past a workflow's quota stay queued and younger runs of other workflows
//! are taken instead.

use std::collections::HashMap;
use std::time::Duration;

use relais_store::{ClaimQuota, RunId, RunStatus};

use crate::support::*;

fn quota(max: usize, per_workflow: usize, workflows: &[(&str, usize)]) -> ClaimQuota {
    ClaimQuota {
        max,
        per_workflow,
        workflows: workflows
            .iter()
            .map(|(wf, n)| (wf.to_string(), *n))
            .collect::<HashMap<_, _>>(),
    }
}

async fn claim(f: &Fixture, q: &ClaimQuota) -> Vec<RunId> {
    f.store
        .claim_runs_within("w", q, Duration::from_secs(60))
        .await
        .expect("claim")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[tokio::test]
async fn a_backlog_of_one_workflow_leaves_room_for_the_others() {
    let f = fixture().await;
    let mut backlog = Vec::new();
    for i in 0..5 {
        backlog.push(create(&f.store, new_run("wf", &f.rev, at(i))).await);
    }
    let other = [
        create(&f.store, new_run("other", &f.rev, at(10))).await,
        create(&f.store, new_run("other", &f.rev, at(11))).await,
    ];

    // Two of each, oldest first, though the backlog is older.
    let taken = claim(&f, &quota(10, 2, &[])).await;
    assert_eq!(taken, [backlog[0], backlog[1], other[0], other[1]]);
    for id in &taken {
        let run = f.store.run(*id).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Running);
        assert!(run.try_started_at.is_some());
    }
    for id in &backlog[2..] {
        let run = f.store.run(*id).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Queued);
        assert_eq!(run.try_started_at, None, "its try has not started");
    }

    // A workflow with a quota of its own: none, then one.
    assert!(claim(&f, &quota(10, 10, &[("wf", 0)])).await.is_empty());
    assert_eq!(claim(&f, &quota(10, 10, &[("wf", 1)])).await, [backlog[2]]);
    // The quota in all still holds.
    assert_eq!(claim(&f, &quota(1, 10, &[])).await, [backlog[3]]);
    assert!(claim(&f, &quota(0, 10, &[])).await.is_empty());
    assert_eq!(claim_all(&f.store, "w").await, [backlog[4]]);
}
