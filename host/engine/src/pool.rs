//! The worker pool: the plugin calls in flight across all runs, shared
//! between workflows so that one busy workflow cannot starve the others.
//!
//! A step waits for a worker before its plugin is called. Two rules share
//! the workers:
//! - no workflow holds more than its share of them
//!   ([`crate::EngineConfig::workers_per_workflow`]): the rest stay free
//!   for the steps of other workflows, which start at once;
//! - a worker that frees goes to the waiting workflow that holds the fewest
//!   workers (on a tie, the one whose oldest step has waited longest);
//!   within a workflow, steps are served in the order they asked.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// The shared workers.
pub(crate) struct Pool {
    /// Most workers one workflow holds.
    share: usize,
    state: Mutex<State>,
}

struct State {
    free: usize,
    /// Workflows holding or waiting for workers.
    workflows: HashMap<String, Queue>,
    /// The next waiter's ticket: tickets order waiters by arrival.
    next_ticket: u64,
}

#[derive(Default)]
struct Queue {
    held: usize,
    waiting: VecDeque<(u64, oneshot::Sender<()>)>,
}

impl State {
    /// Hands free workers to waiters, by the rules above.
    fn dispatch(&mut self, share: usize) {
        while self.free > 0 {
            let pick = self
                .workflows
                .iter()
                .filter_map(|(name, q)| {
                    let (ticket, _) = q.waiting.front()?;
                    (q.held < share).then_some((q.held, *ticket, name))
                })
                .min()
                .map(|(_, _, name)| name.clone());
            let Some(name) = pick else { break };
            let Some(queue) = self.workflows.get_mut(&name) else {
                break;
            };
            let Some((_, waiter)) = queue.waiting.pop_front() else {
                break;
            };
            // A waiter that gave up has closed its end: skip it.
            if waiter.send(()).is_ok() {
                queue.held += 1;
                self.free -= 1;
            }
        }
        self.workflows
            .retain(|_, q| q.held > 0 || !q.waiting.is_empty());
    }

    fn release(&mut self, workflow: &str, share: usize) {
        if let Some(queue) = self.workflows.get_mut(workflow) {
            queue.held = queue.held.saturating_sub(1);
        }
        self.free += 1;
        self.dispatch(share);
    }
}

impl Pool {
    /// `workers` workers, at most `share` of them held by one workflow
    /// (both at least 1).
    pub(crate) fn new(workers: usize, share: usize) -> Self {
        let workers = workers.max(1);
        Self {
            share: share.clamp(1, workers),
            state: Mutex::new(State {
                free: workers,
                workflows: HashMap::new(),
                next_ticket: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a worker for a step of `workflow`. Dropping the future
    /// gives up the wait (or the worker, if it was just granted).
    pub(crate) async fn acquire(self: &Arc<Self>, workflow: &str) -> Worker {
        let waiting = {
            let mut state = self.lock();
            let (tx, rx) = oneshot::channel();
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            state
                .workflows
                .entry(workflow.to_owned())
                .or_default()
                .waiting
                .push_back((ticket, tx));
            state.dispatch(self.share);
            Waiting {
                pool: self,
                workflow,
                ticket,
                rx: Some(rx),
            }
        };
        waiting.granted().await
    }
}

/// A step waiting for a worker.
struct Waiting<'a> {
    pool: &'a Arc<Pool>,
    workflow: &'a str,
    ticket: u64,
    rx: Option<oneshot::Receiver<()>>,
}

impl Waiting<'_> {
    async fn granted(mut self) -> Worker {
        if let Some(rx) = self.rx.as_mut() {
            // The pool drops a waiter's sender only after sending to it,
            // and the pool outlives its waiters.
            let _ = rx.await;
        }
        self.rx = None;
        Worker {
            pool: self.pool.clone(),
            workflow: self.workflow.to_owned(),
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else {
            return;
        };
        let mut state = self.pool.lock();
        rx.close();
        if rx.try_recv().is_ok() {
            // Granted while giving up: hand the worker on.
            state.release(self.workflow, self.pool.share);
        } else if let Some(queue) = state.workflows.get_mut(self.workflow) {
            queue.waiting.retain(|(t, _)| *t != self.ticket);
            if queue.held == 0 && queue.waiting.is_empty() {
                state.workflows.remove(self.workflow);
            }
        }
    }
}

/// A worker held by a step of a workflow; released on drop.
pub(crate) struct Worker {
    pool: Arc<Pool>,
    workflow: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let share = self.pool.share;
        self.pool.lock().release(&self.workflow, share);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asks for a worker and lets the request run as far as it can (the
    /// tests run on one thread): the task has finished iff it was granted.
    async fn ask(pool: &Arc<Pool>, workflow: &'static str) -> tokio::task::JoinHandle<Worker> {
        let pool = pool.clone();
        let task = tokio::spawn(async move { pool.acquire(workflow).await });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        task
    }

    #[tokio::test]
    async fn a_workflow_gets_its_share_and_the_rest_stays_for_others() {
        let pool = Arc::new(Pool::new(4, 3));
        let mut held = Vec::new();
        for _ in 0..3 {
            let task = ask(&pool, "slow").await;
            assert!(task.is_finished(), "within the share");
            held.push(task.await.unwrap());
        }
        let over = ask(&pool, "slow").await;
        assert!(!over.is_finished(), "over the share");
        let other = ask(&pool, "fast").await;
        assert!(other.is_finished(), "another workflow starts at once");
        drop(held.pop());
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(over.is_finished(), "served once a worker frees");
    }

    #[tokio::test]
    async fn a_freed_worker_goes_to_the_workflow_holding_fewest() {
        let pool = Arc::new(Pool::new(2, 2));
        let a1 = ask(&pool, "a").await.await.unwrap();
        let _a2 = ask(&pool, "a").await.await.unwrap();
        // "a" asks again first, then "b": "b" holds none, so it goes first.
        let a3 = ask(&pool, "a").await;
        let b1 = ask(&pool, "b").await;
        assert!(!a3.is_finished() && !b1.is_finished());
        drop(a1);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(b1.is_finished(), "b is served first");
        assert!(!a3.is_finished());
        a3.abort();
        let _ = a3.await;
        // The abandoned wait left nothing behind.
        let state = pool.lock();
        assert_eq!(state.free, 0);
        assert!(state.workflows.values().all(|q| q.waiting.is_empty()));
    }
}
