//! Durable state: the live topology, every policy and the change sequence,
//! written in one transaction per controller operation, before the API
//! answers. `RedbStore` keeps it in an embedded database under `--data-dir`;
//! `MemoryStore` keeps it in memory (replays, tests). The etcd store, shared
//! by several replicas, is in `ha::store` (it needs gRPC and tokio).
//!
//! Records hold ids, not indices, so they outlive any one topology instance.
//! Reservations are not stored: they follow from each policy's request and
//! placement, and are rebuilt on restore.

mod memory;
mod redb_store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::document::RequestDoc;
use crate::topology_file::TopologyDocument;

pub use memory::{MemoryStore, ReadOnly};
pub use redb_store::RedbStore;

/// A path held by a policy, by ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRecord {
    /// The data center, or none for a router destination.
    pub datacenter: Option<String>,
    /// Routers from the headend.
    pub path: Vec<String>,
    /// Links between them.
    pub links: Vec<String>,
}

/// A policy's state as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum StateRecord {
    /// Placed.
    Up {
        /// The primary path.
        primary: PathRecord,
        /// The backup path, when protected.
        backup: Option<PathRecord>,
        /// The standby data center's path, when the request asks for a
        /// standby and one exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        standby: Option<PathRecord>,
    },
    /// No feasible placement.
    Down {
        /// Why.
        reason: String,
    },
}

/// One policy as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// Unique name.
    pub name: String,
    /// The request, as given (ids).
    pub request: RequestDoc,
    /// Up with its paths, or down with the reason.
    #[serde(flatten)]
    pub state: StateRecord,
    /// Notes of the last placement.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Bumped on every change of placement or segments.
    pub version: u64,
    /// Install order (restore re-reserves in this order).
    pub order: u64,
    /// When it was installed, ms since the Unix epoch (absent in records
    /// written before times were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_unix_ms: Option<u64>,
    /// When its state or placement last changed, ms since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_unix_ms: Option<u64>,
    /// The data center it failed over from, while it runs on its former
    /// standby's (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_over_from: Option<String>,
}

/// Everything a store holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    /// The live topology, in the file format; `None` before the first commit.
    pub topology: Option<TopologyDocument>,
    /// Routers that are down (not part of the file format).
    pub down_routers: Vec<String>,
    /// Every policy.
    pub policies: Vec<PolicyRecord>,
    /// The last change sequence number handed out.
    pub sequence: u64,
}

/// One operation's writes, committed atomically.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// A new topology state (with the routers that are down).
    pub topology: Option<(TopologyDocument, Vec<String>)>,
    /// Policies written, by name: `Some` created or changed, `None` removed.
    /// One entry per name, so that folding batches costs only the later one.
    pub policies: BTreeMap<String, Option<PolicyRecord>>,
    /// The last change sequence number after this batch.
    pub sequence: u64,
}

impl Batch {
    /// Writes a policy (created or changed).
    pub fn put(&mut self, record: PolicyRecord) {
        self.policies.insert(record.name.clone(), Some(record));
    }

    /// Removes a policy.
    pub fn delete(&mut self, name: &str) {
        self.policies.insert(name.to_owned(), None);
    }

    /// Folds a later batch into this one: the later topology and writes win.
    pub fn merge(&mut self, later: Batch) {
        if later.topology.is_some() {
            self.topology = later.topology;
        }
        if self.policies.is_empty() {
            self.policies = later.policies;
        } else {
            self.policies.extend(later.policies);
        }
        self.sequence = self.sequence.max(later.sequence);
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.topology.is_none() && self.policies.is_empty()
    }
}

/// One logged change as replicated to standbys (etcd store): what a
/// watcher of another replica needs to resume at the same sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Its sequence number.
    pub sequence: u64,
    /// What happened (`installed`, `updated`, ...).
    pub kind: String,
    /// The policy.
    pub name: String,
    /// The operator of its headend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The policy's version at the change.
    pub version: u64,
    /// When, ms since the Unix epoch.
    pub time_unix_ms: u64,
    /// The policy's headend router id.
    pub headend: String,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

/// Where the controller's state lives between runs.
pub trait Store: Send {
    /// Everything stored so far.
    fn load(&self) -> Result<Stored, StoreError>;
    /// Writes one operation's changes atomically and durably.
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError>;
    /// True when the store replicates the change log (etcd: standbys serve
    /// watchers from it), so that every logged change, southbound ones
    /// included, is committed with [`commit_logged`](Store::commit_logged).
    fn replicates_log(&self) -> bool {
        false
    }
    /// Writes a batch with the changes logged since the last commit; only
    /// stores that [replicate the log](Store::replicates_log) keep them.
    fn commit_logged(&mut self, batch: &Batch, _log: &[LogRecord]) -> Result<(), StoreError> {
        self.commit(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, version: u64) -> PolicyRecord {
        PolicyRecord {
            name: name.into(),
            request: crate::document::parse_request("{from: a, to: b}").unwrap(),
            state: StateRecord::Down {
                reason: "test".into(),
            },
            notes: vec![],
            version,
            order: 0,
            created_unix_ms: None,
            updated_unix_ms: None,
            failed_over_from: None,
        }
    }

    #[test]
    fn later_writes_win_when_batches_merge() {
        let mut a = Batch {
            sequence: 3,
            ..Default::default()
        };
        a.put(record("p", 1));
        a.put(record("q", 1));
        a.delete("r");
        let mut b = Batch {
            sequence: 5,
            ..Default::default()
        };
        b.put(record("r", 2));
        b.put(record("p", 2));
        b.delete("q");
        a.merge(b);
        let writes: Vec<(&str, Option<u64>)> = a
            .policies
            .iter()
            .map(|(n, p)| (n.as_str(), p.as_ref().map(|p| p.version)))
            .collect();
        assert_eq!(writes, [("p", Some(2)), ("q", None), ("r", Some(2))]);
        assert_eq!(a.sequence, 5);
    }
}
