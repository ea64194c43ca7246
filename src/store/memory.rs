//! A store in memory: for replays, tests, and `cpnd` without `--data-dir`;
//! and the empty store of a standby replica.

use std::collections::BTreeMap;

use super::{Batch, PolicyRecord, Store, StoreError, Stored};
use crate::topology_file::TopologyDocument;

/// The store of a standby replica: it holds nothing (the state is in etcd,
/// written by the leader) and refuses writes.
#[derive(Debug, Default)]
pub struct ReadOnly;

impl Store for ReadOnly {
    fn load(&self) -> Result<Stored, StoreError> {
        Ok(Stored::default())
    }

    fn commit(&mut self, _: &Batch) -> Result<(), StoreError> {
        Err(StoreError(
            "this replica is a standby: it writes nothing".into(),
        ))
    }
}

/// Keeps everything in memory; nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    topology: Option<(TopologyDocument, Vec<String>)>,
    policies: BTreeMap<String, PolicyRecord>,
    sequence: u64,
    /// Commits so far (tests count them).
    pub commits: u64,
}

impl Store for MemoryStore {
    fn load(&self) -> Result<Stored, StoreError> {
        Ok(Stored {
            topology: self.topology.as_ref().map(|(t, _)| t.clone()),
            down_routers: self
                .topology
                .as_ref()
                .map(|(_, d)| d.clone())
                .unwrap_or_default(),
            policies: self.policies.values().cloned().collect(),
            sequence: self.sequence,
        })
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if let Some(t) = &batch.topology {
            self.topology = Some(t.clone());
        }
        for (name, p) in &batch.policies {
            match p {
                Some(p) => self.policies.insert(name.clone(), p.clone()),
                None => self.policies.remove(name),
            };
        }
        self.sequence = batch.sequence;
        self.commits += 1;
        Ok(())
    }
}
