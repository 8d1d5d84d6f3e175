//! A writer process killed with SIGKILL loses no acknowledged write.
//!
//! The test binary runs itself as the child (`crash_child`, which does
//! nothing unless `CHILD_ENV` is set). The child writes from 16 tasks in a
//! loop and prints a line after each acknowledged write; the parent kills
//! it mid-flight, reopens the database and checks every printed write.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use relais_store::{CreateOutcome, RunId};

use crate::support::*;

const CHILD_ENV: &str = "RELAIS_STORE_TEST_CRASH_DIR";
const ACKS_BEFORE_KILL: usize = 400;

/// Runs only as the child of `acknowledged_writes_survive_sigkill`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = open_in(std::path::Path::new(&dir)).store;
    let rev = store
        .put_revision("wf", SOURCE, "wf.yaml", at(0))
        .await
        .unwrap()
        .hash;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for task in 0..16u64 {
        let store = store.clone();
        let rev = rev.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < deadline {
                let key = format!("t{task}-{i}");
                let run = with_dedupe(new_run("wf", &rev, at(i)), &key, at(u64::MAX / 2));
                let id = create(&store, run).await;
                store
                    .kv_set("crash", &key, id.to_string().into_bytes())
                    .await
                    .unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {id} {key}").unwrap();
                out.flush().unwrap();
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash::crash_child", "--exact", "--nocapture"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acks = Vec::new();
    let started = Instant::now();
    while acks.len() < ACKS_BEFORE_KILL && started.elapsed() < Duration::from_secs(60) {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("ACK ") => acks.push(line),
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    assert!(
        acks.len() >= ACKS_BEFORE_KILL,
        "child made only {} writes",
        acks.len()
    );
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    // Lines printed before the kill are acknowledged too.
    for line in lines.map_while(Result::ok) {
        if line.starts_with("ACK ") {
            acks.push(line);
        }
    }

    let store = open_in(dir.path()).store;
    let rev = store
        .revision("wf", &hash(SOURCE))
        .await
        .unwrap()
        .unwrap()
        .hash;
    for line in &acks {
        let mut parts = line.split(' ').skip(1);
        let (Some(id), Some(key)) = (parts.next(), parts.next()) else {
            panic!("torn line {line:?}");
        };
        let id: RunId = id.parse().unwrap();
        assert!(store.run(id).await.unwrap().is_some(), "run {id} lost");
        let kv = store.kv_get("crash", key).await.unwrap();
        assert_eq!(kv, Some(id.to_string().into_bytes()), "kv {key} lost");
        let again = store
            .create_run(with_dedupe(
                new_run("wf", &rev, at(1)),
                key,
                at(u64::MAX / 2),
            ))
            .await
            .unwrap();
        assert_eq!(again, CreateOutcome::Existing(id), "dedupe key {key} lost");
    }
    // Every run in the store is complete and the indexes agree.
    let counts = store.count_runs(None).await.unwrap();
    assert!(counts.queued >= acks.len() as u64);
    let mut listed = 0u64;
    let mut cursor = None;
    loop {
        let filter = relais_store::RunFilter::default();
        let page = store.list_runs(&filter, cursor, 1000).await.unwrap();
        for run in &page.runs {
            assert!(store.run_detail(run.id).await.unwrap().is_some());
        }
        listed += page.runs.len() as u64;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(listed, counts.total());
    eprintln!("{} acknowledged writes checked after SIGKILL", acks.len());
}

fn hash(source: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(source.as_bytes()))
}
