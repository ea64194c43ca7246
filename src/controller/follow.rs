//! A standby follows the leader: what the leader committed (policies,
//! topology, logged changes, read back from the shared store) is taken into
//! this replica's memory as it is, with no placement decided here, nothing
//! persisted and nothing pushed. Watchers of a standby see the leader's
//! changes under the leader's sequence numbers.

use std::collections::BTreeMap;

use super::log::{ChangeLog, Logged};
use super::{Controller, ControllerError, Southbound, rebuild};
use crate::store::{LogRecord, PolicyRecord};
use crate::topology_file::TopologyDocument;

/// What the leader committed since the last update, read back from the
/// store: later writes of the same key win.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Followed {
    /// A new topology state (with the routers that are down).
    pub topology: Option<(TopologyDocument, Vec<String>)>,
    /// Policies by name: `Some` written, `None` removed.
    pub policies: BTreeMap<String, Option<PolicyRecord>>,
    /// The changes the leader logged, in sequence order.
    pub log: Vec<LogRecord>,
}

impl Followed {
    /// True when there is nothing to take in.
    pub fn is_empty(&self) -> bool {
        self.topology.is_none() && self.policies.is_empty() && self.log.is_empty()
    }
}

impl Controller {
    /// Takes in what the leader committed. Policies keep the placement the
    /// leader chose (re-reserved here); a new topology re-reserves them all.
    pub fn follow(&mut self, update: Followed) -> Result<(), ControllerError> {
        if let Some((doc, down)) = &update.topology {
            let mut records: BTreeMap<String, PolicyRecord> = self
                .policies
                .values()
                .map(|p| (p.name.clone(), p.record(&self.topology)))
                .collect();
            for (name, p) in update.policies {
                match p {
                    Some(p) => records.insert(name, p),
                    None => records.remove(&name),
                };
            }
            self.topology = rebuild::topology_from_store(doc, down)?;
            self.policies.clear();
            self.index = Default::default();
            self.take_in(records.into_values().collect());
        } else {
            let mut written = Vec::new();
            for (name, p) in update.policies {
                if let Some(old) = self.policies.remove(&name) {
                    if let super::PolicyState::Up { reservation, .. } = &old.state {
                        reservation.release(&mut self.topology);
                    }
                    self.index.remove(&self.topology, &old);
                }
                written.extend(p);
            }
            self.take_in(written);
        }
        for r in &update.log {
            if let Some(l) = Logged::of_record(r) {
                self.log.push_logged(l.clone());
                self.fresh.push(l);
            }
        }
        for r in &update.log {
            self.next_order = self.next_order.max(
                self.policies
                    .get(&r.name)
                    .map_or(0, |p| p.order.saturating_add(1)),
            );
        }
        Ok(())
    }

    /// Adopts records onto the live topology, in install order, without
    /// persisting or logging (the leader did both).
    fn take_in(&mut self, mut records: Vec<PolicyRecord>) {
        records.sort_by_key(|r| r.order);
        for record in records {
            let (mut policy, _) = rebuild::adopt_record(&self.engine, &mut self.topology, record);
            policy.southbound = self.unpushed();
            self.next_order = self.next_order.max(policy.order + 1);
            self.index.add(&self.topology, &policy);
            self.policies.insert(policy.name.clone(), policy);
        }
    }

    /// A standby replica pushes nothing: the leader does, and every
    /// policy's southbound status says so, now and from now on.
    pub fn follow_southbound(&mut self) {
        self.southbound_off = true;
        self.standby = true;
        for p in self.policies.values_mut() {
            p.southbound = Southbound::standby();
        }
    }

    /// Keeps the change log of `older` (the state this one replaces) when
    /// this one continues where it ends, so that watchers resume without a
    /// gap across a reload or a takeover.
    pub fn carry_log(&mut self, older: &mut Controller) {
        let log = std::mem::replace(&mut older.log, ChangeLog::new(0, 1));
        self.log.carry(log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::{ChangeKind, Config};
    use crate::store::{MemoryStore, Store};

    fn controller() -> Controller {
        let t = crate::topology_file::parse_str(
            include_str!("../../topologies/china-east-west.yaml"),
            "china-east-west.yaml",
        )
        .unwrap();
        Controller::open(Box::new(MemoryStore::default()), Some(t), Config::default()).unwrap()
    }

    /// Batches committed, with their logs.
    type Commits = std::sync::Arc<std::sync::Mutex<Vec<(crate::store::Batch, Vec<LogRecord>)>>>;

    /// A store that hands its batches and logs to a test.
    #[derive(Default)]
    struct Capture(Commits);

    impl Store for Capture {
        fn load(&self) -> Result<crate::store::Stored, crate::store::StoreError> {
            Ok(Default::default())
        }
        fn commit(&mut self, _: &crate::store::Batch) -> Result<(), crate::store::StoreError> {
            Ok(())
        }
        fn replicates_log(&self) -> bool {
            true
        }
        fn commit_logged(
            &mut self,
            batch: &crate::store::Batch,
            log: &[LogRecord],
        ) -> Result<(), crate::store::StoreError> {
            self.0.lock().unwrap().push((batch.clone(), log.to_vec()));
            Ok(())
        }
    }

    #[test]
    fn a_standby_mirrors_the_leaders_policies_and_sequences() {
        let mut leader = controller();
        let captured = Capture::default();
        let seen = captured.0.clone();
        leader.set_store(Box::new(captured));
        leader.defer_commits();
        let mut standby = controller();
        let request = crate::document::parse_request("{from: bj-ct, to: tj-cu}").unwrap();
        leader.install("p1", request.clone()).unwrap();
        leader.install("p2", request).unwrap();
        leader.flush().unwrap();
        leader.remove("p1").unwrap();
        leader.flush().unwrap();
        for (batch, log) in seen.lock().unwrap().drain(..) {
            standby
                .follow(Followed {
                    topology: batch.topology,
                    policies: batch.policies,
                    log,
                })
                .unwrap();
        }
        let names: Vec<&str> = standby.policies().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["p2"]);
        assert_eq!(standby.last_sequence(), leader.last_sequence());
        let kinds: Vec<(u64, ChangeKind)> = standby
            .changes_since(0)
            .unwrap()
            .into_iter()
            .map(|c| (c.sequence, c.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, ChangeKind::Installed),
                (2, ChangeKind::Installed),
                (3, ChangeKind::Removed)
            ]
        );
        assert_eq!(
            standby.policy_json("p2").unwrap().path,
            leader.policy_json("p2").unwrap().path
        );
    }
}
