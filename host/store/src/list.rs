//! Listing runs: one page of a filter, newest first, with a cursor.
//!
//! Run ids sort in creation order, so every source below yields ids in the
//! same order, and a listing drawn from several sources is a merge.
//!
//! | filter | source |
//! |---|---|
//! | none | the run table |
//! | status | that status's part of the status index |
//! | workflow and `queued` or `running` | that part of the status index, keys ending with the workflow |
//! | workflow and another status | the workflow-status index |
//! | workflow | the six sources above for that workflow, merged |

use std::ops::Bound;

use redb::ReadOnlyTable;

use crate::error::{Result, StorageContext, StoreError};
use crate::ops::load_run;
use crate::tables::{
    BY_STATUS, BY_WORKFLOW_STATUS, RUNS, check_name, in_workflow_index, key, name_key,
};
use crate::{RunFilter, RunId, RunPage, RunStatus, Store};

/// Largest page [`Store::list_runs`] returns.
pub const MAX_PAGE: usize = 1000;

type Bytes = &'static [u8];

/// What follows the run id in a source's keys.
enum Rest {
    /// Nothing: the id ends the key.
    Empty,
    /// Anything (the workflow, in the status index).
    Any,
    /// Exactly these bytes (one workflow's name key).
    Exactly(Vec<u8>),
}

/// One index range: keys laid out as `prefix ‖ run id (16) ‖ rest`.
struct Source<'a, V: redb::Value + 'static> {
    table: &'a ReadOnlyTable<Bytes, V>,
    prefix: Vec<u8>,
    rest: Rest,
}

/// A page of ids, newest first, and whether more follow.
type Ids = (Vec<RunId>, bool);

impl Store {
    /// One page of runs matching `filter`, newest first. Pass the previous
    /// page's `next_cursor` to continue; `limit` is 1 to [`MAX_PAGE`].
    pub async fn list_runs(
        &self,
        filter: &RunFilter,
        cursor: Option<RunId>,
        limit: usize,
    ) -> Result<RunPage> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(StoreError::Invalid {
                what: "page size",
                reason: format!("{limit}: must be 1 to {MAX_PAGE}"),
            });
        }
        if let Some(wf) = &filter.workflow_id {
            check_name("workflow id", wf)?;
        }
        let tx = self.read_tx()?;
        let runs = Self::table(&tx, RUNS)?;
        let by_status = Self::table(&tx, BY_STATUS)?;
        let by_workflow_status = Self::table(&tx, BY_WORKFLOW_STATUS)?;
        let (ids, more) = match (&filter.workflow_id, filter.status) {
            (None, None) => Source {
                table: &runs,
                prefix: Vec::new(),
                rest: Rest::Empty,
            }
            .page(cursor, limit)?,
            (None, Some(status)) => Source {
                table: &by_status,
                prefix: vec![status.code()],
                rest: Rest::Any,
            }
            .page(cursor, limit)?,
            (Some(wf), status) => {
                let statuses = match status {
                    Some(s) => vec![s],
                    None => RunStatus::ALL.to_vec(),
                };
                let mut pages = Vec::with_capacity(statuses.len());
                for status in statuses {
                    let page = if in_workflow_index(status) {
                        Source {
                            table: &by_workflow_status,
                            prefix: key(&[&name_key(wf), &[status.code()]]),
                            rest: Rest::Empty,
                        }
                        .page(cursor, limit)?
                    } else {
                        Source {
                            table: &by_status,
                            prefix: vec![status.code()],
                            rest: Rest::Exactly(name_key(wf)),
                        }
                        .page(cursor, limit)?
                    };
                    pages.push(page);
                }
                merge(pages, limit)
            }
        };
        let runs = ids
            .iter()
            .map(|id| load_run(&runs, *id))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if more { ids.last().copied() } else { None };
        Ok(RunPage { runs, next_cursor })
    }
}

impl<V: redb::Value + 'static> Source<'_, V> {
    /// Run ids strictly older than `cursor`, newest first, at most `limit`;
    /// and whether more follow.
    fn page(&self, cursor: Option<RunId>, limit: usize) -> Result<Ids> {
        let prefix = self.prefix.as_slice();
        let cursor_key = cursor.map(|c| key(&[prefix, &c.to_bytes()]));
        let end = prefix_end(prefix);
        let upper = match (&cursor_key, &end) {
            (Some(c), _) => Bound::Excluded(c.as_slice()),
            (None, Some(e)) => Bound::Excluded(e.as_slice()),
            (None, None) => Bound::Unbounded,
        };
        let range = self
            .table
            .range::<&[u8]>((Bound::Included(prefix), upper))
            .during("listing runs")?;
        let mut ids = Vec::with_capacity(limit.min(64));
        for entry in range.rev() {
            let (k, _) = entry.during("listing runs")?;
            let k = k.value();
            let Some(id) = k.get(prefix.len()..prefix.len() + 16) else {
                continue;
            };
            let rest = &k[prefix.len() + 16..];
            let wanted = match &self.rest {
                Rest::Empty => rest.is_empty(),
                Rest::Any => true,
                Rest::Exactly(r) => rest == r.as_slice(),
            };
            if !wanted {
                continue;
            }
            if ids.len() == limit {
                return Ok((ids, true));
            }
            if let Ok(id) = <[u8; 16]>::try_from(id) {
                ids.push(RunId::from_bytes(id));
            }
        }
        Ok((ids, false))
    }
}

/// The first key after every key starting with `prefix`; `None` when no
/// key is (the empty prefix, or one of `0xff` bytes only).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The newest `limit` ids of several pages (each newest first, below the
/// same cursor), and whether more follow.
fn merge(pages: Vec<Ids>, limit: usize) -> Ids {
    let mut more = false;
    let mut ids = Vec::new();
    for (page, page_more) in pages {
        more |= page_more;
        ids.extend(page);
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    if ids.len() > limit {
        ids.truncate(limit);
        more = true;
    }
    (ids, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> RunId {
        RunId::from_bytes([n; 16])
    }

    #[test]
    fn prefix_ends_bound_exactly_the_prefixed_keys() {
        assert_eq!(prefix_end(b""), None);
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[1]), Some(vec![2]));
        assert_eq!(prefix_end(&[0, 3, 0xff]), Some(vec![0, 4]));
    }

    #[test]
    fn merged_pages_keep_the_newest_and_say_when_more_follow() {
        let pages = vec![
            (vec![id(9), id(4)], false),
            (vec![id(8), id(7)], true),
            (vec![], false),
        ];
        assert_eq!(merge(pages.clone(), 3), (vec![id(9), id(8), id(7)], true));
        assert_eq!(merge(pages.clone(), 4).0, vec![id(9), id(8), id(7), id(4)]);
        // A source with more left means the page is not the last one.
        assert!(merge(pages, 10).1);
        assert_eq!(
            merge(vec![(vec![id(2)], false), (vec![id(1)], false)], 2),
            (vec![id(2), id(1)], false)
        );
    }
}
