//! The etcd store: the controller's state under the prefix (see
//! [`layout`](super::layout)), written by the leader only, in transactions
//! fenced on the leader key's create revision (its epoch).
//!
//! The controller's task is synchronous (it runs on a blocking thread), so
//! the store blocks on the runtime's handle for each call. A group commit is
//! one transaction when it fits etcd's defaults (at most 128 operations and
//! 1.5 MiB per request); a larger one (an event that moves hundreds of
//! policies) is split into several, the sequence and the change log going
//! last, each fenced: a crash between them leaves some of the group's
//! policy writes and none of its acknowledgements.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::client::{Etcd, EtcdError, created_at, delete, put};
use super::election::Lease;
use super::layout::{self, Layout};
use crate::proto::etcd::etcdserverpb as pb;
use crate::store::{Batch, LogRecord, Store, StoreError, Stored};

/// etcd's default limit of operations per transaction (`--max-txn-ops`).
pub const MAX_TXN_OPS: usize = 128;
/// Bytes per transaction CPN aims under: etcd's default request limit
/// (`--max-request-bytes`, 1.5 MiB) less room for the request's framing.
pub const MAX_TXN_BYTES: usize = 1_400_000;

/// The leadership a store writes under.
#[derive(Clone)]
pub struct Fence {
    /// The leader key's create revision.
    pub epoch: i64,
    /// The lease that holds the leader key: no write once its deadline
    /// passed.
    pub lease: Arc<Lease>,
}

/// State in etcd, written by the leader.
pub struct EtcdStore {
    etcd: Etcd,
    layout: Layout,
    runtime: tokio::runtime::Handle,
    fence: Fence,
    /// The revision of the last commit (or of the state loaded).
    revision: Arc<AtomicI64>,
}

impl EtcdStore {
    /// The store of the leader at `fence`, publishing the revision of each
    /// commit into `revision`. Call from within the runtime.
    pub fn new(etcd: Etcd, layout: Layout, fence: Fence, revision: Arc<AtomicI64>) -> EtcdStore {
        EtcdStore {
            etcd,
            layout,
            runtime: tokio::runtime::Handle::current(),
            fence,
            revision,
        }
    }

    /// The transactions that write `batch` and `log`, in order.
    fn transactions(
        &self,
        batch: &Batch,
        log: &[LogRecord],
    ) -> Result<Vec<Vec<pb::RequestOp>>, StoreError> {
        let mut ops = Vec::new();
        for (name, p) in &batch.policies {
            let key = self.layout.policy(name);
            ops.push(match p {
                Some(p) => put(key, json(p)?, 0),
                None => delete(key),
            });
        }
        if let Some((topology, down)) = &batch.topology {
            ops.push(put(self.layout.topology(), json(topology)?, 0));
            ops.push(put(self.layout.down(), json(down)?, 0));
        }
        ops.push(put(self.layout.sequence(), json(&batch.sequence)?, 0));
        if !log.is_empty() {
            ops.push(put(self.layout.log(), json(log)?, 0));
        }
        Ok(chunks(ops))
    }

    /// Writes one transaction under the fence.
    async fn write(&self, ops: Vec<pb::RequestOp>) -> Result<i64, StoreError> {
        let r = self
            .etcd
            .txn(pb::TxnRequest {
                compare: vec![created_at(self.layout.leader(), self.fence.epoch)],
                success: ops,
                failure: Vec::new(),
            })
            .await
            .map_err(|e| StoreError(e.to_string()))?;
        if !r.succeeded {
            self.fence.lease.lose();
            return Err(StoreError(format!(
                "fenced: this replica no longer leads (its epoch {} is not the leader key's)",
                self.fence.epoch
            )));
        }
        Ok(r.header.map_or(0, |h| h.revision))
    }
}

/// Packs operations into transactions within etcd's limits, in order.
fn chunks(ops: Vec<pb::RequestOp>) -> Vec<Vec<pb::RequestOp>> {
    let mut out: Vec<Vec<pb::RequestOp>> = Vec::new();
    let mut bytes = 0;
    for op in ops {
        let size = prost::Message::encoded_len(&op);
        match out.last_mut() {
            Some(last) if last.len() < MAX_TXN_OPS && bytes + size <= MAX_TXN_BYTES => {
                bytes += size;
                last.push(op);
            }
            _ => {
                bytes = size;
                out.push(vec![op]);
            }
        }
    }
    out
}

/// A value as written: JSON.
fn json<T: serde::Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError(e.to_string()))
}

/// The state under the prefix now, and the revision it was read at.
pub async fn load(etcd: &Etcd, layout: &Layout) -> Result<(Stored, i64), EtcdError> {
    let mut stored = Stored::default();
    let revision = etcd
        .range_prefix_pages(&layout.state(), 0, |page| {
            layout::take_into(&mut stored, layout, &page).map_err(|e| EtcdError::Refused(e.0))
        })
        .await?;
    Ok((stored, revision))
}

impl Store for EtcdStore {
    fn load(&self) -> Result<Stored, StoreError> {
        let (stored, revision) = self
            .runtime
            .block_on(load(&self.etcd, &self.layout))
            .map_err(|e| StoreError(e.to_string()))?;
        self.revision.fetch_max(revision, Ordering::SeqCst);
        Ok(stored)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.commit_logged(batch, &[])
    }

    fn replicates_log(&self) -> bool {
        true
    }

    fn commit_logged(&mut self, batch: &Batch, log: &[LogRecord]) -> Result<(), StoreError> {
        for ops in self.transactions(batch, log)? {
            if !self.fence.lease.valid() {
                return Err(StoreError(
                    "this replica's lease was not renewed in time: it no longer acts as leader"
                        .into(),
                ));
            }
            let revision = self.runtime.block_on(self.write(ops))?;
            self.revision.fetch_max(revision, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// A store that hands out state already read, once (taken, not copied: a
/// million policies are gigabytes), and otherwise is `store`: a controller
/// opens on what was read, and writes where `store` writes.
pub struct Preloaded<S> {
    stored: std::sync::Mutex<Option<Stored>>,
    store: S,
}

impl<S> Preloaded<S> {
    /// `stored` for the first load, `store` for everything else.
    pub fn new(stored: Stored, store: S) -> Preloaded<S> {
        Preloaded {
            stored: std::sync::Mutex::new(Some(stored)),
            store,
        }
    }
}

impl<S: Store> Store for Preloaded<S> {
    fn load(&self) -> Result<Stored, StoreError> {
        let taken = self.stored.lock().expect("not poisoned").take();
        taken.map_or_else(|| self.store.load(), Ok)
    }
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.store.commit(batch)
    }
    fn replicates_log(&self) -> bool {
        self.store.replicates_log()
    }
    fn commit_logged(&mut self, batch: &Batch, log: &[LogRecord]) -> Result<(), StoreError> {
        self.store.commit_logged(batch, log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_stay_within_etcds_limits() {
        let ops: Vec<_> = (0..300)
            .map(|i| put(format!("k{i}").into_bytes(), vec![0; 10_000], 0))
            .collect();
        let packed = chunks(ops);
        assert!(packed.iter().all(|t| t.len() <= MAX_TXN_OPS));
        assert!(packed.iter().all(|t| {
            t.iter().map(prost::Message::encoded_len).sum::<usize>() <= MAX_TXN_BYTES
        }));
        assert_eq!(packed.iter().map(Vec::len).sum::<usize>(), 300);
        assert_eq!(
            packed.len(),
            3,
            "139 of 10 kB fit 1.4 MB; 128 ops cap first"
        );
        let small: Vec<_> = (0..200)
            .map(|i| put(format!("k{i}").into_bytes(), vec![], 0))
            .collect();
        assert_eq!(
            chunks(small).iter().map(Vec::len).collect::<Vec<_>>(),
            [128, 72]
        );
    }
}
