//! A standby follows the leader: what the leader committed (policies,
//! topology, logged changes, read back from the shared store) is taken into
//! this replica's memory as it is, with no placement decided here, nothing
//! persisted and nothing pushed. Watchers of a standby see the leader's
//! changes under the leader's sequence numbers.
//!
//! Every policy taken in is re-checked against the topology followed (when
//! it arrives, and again when the topology changes). A standby that wins
//! an election therefore takes over from the state it follows
//! ([`Controller::take_over`]): only the policies whose placement did not
//! hold here (a group the old leader left half-written) need committing
//! under the new epoch, instead of reading and re-checking everything.

use std::collections::BTreeMap;

use super::log::{ChangeLog, Logged};
use super::{Controller, ControllerError, Southbound, rebuild};
use crate::store::{Batch, LogRecord, PolicyRecord, StoreError};
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
            self.unsettled.clear();
            self.take_in(records.into_values().collect());
        } else {
            let mut written = Vec::new();
            for (name, p) in update.policies {
                self.unsettled.remove(&name);
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
            let (mut policy, kind) =
                rebuild::adopt_record(&self.engine, &mut self.topology, record);
            if let Some(kind) = kind {
                self.unsettled.insert(policy.name.clone(), kind);
            }
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

    /// A standby becomes the leader on the state it followed, writing to
    /// `store` from now on. The policies whose stored placement did not
    /// hold here are committed as they stand now (re-placed, or down with
    /// the reason), with their changes logged; every other policy holds as
    /// stored. Returns how many were committed. The caller flushes.
    pub fn take_over(&mut self, store: Box<dyn crate::store::Store>) -> Result<usize, StoreError> {
        self.set_store(store);
        self.standby = false;
        self.southbound_off = false;
        for p in self.policies.values_mut() {
            p.southbound = Southbound::default();
        }
        let unsettled: Vec<(String, super::ChangeKind)> = std::mem::take(&mut self.unsettled)
            .into_iter()
            .filter(|(name, _)| self.policies.contains_key(name))
            .collect();
        let mut batch = Batch {
            sequence: self.log.last() + unsettled.len() as u64,
            ..Default::default()
        };
        for (name, _) in &unsettled {
            batch.put(self.policies[name].record(&self.topology));
        }
        if !batch.is_empty() {
            self.persist(batch)?;
        }
        let now = super::now_ms();
        for (name, kind) in &unsettled {
            let p = self.policies.get_mut(name).expect("filtered: present");
            p.times.updated = now;
            let (headend, version) = (p.request.from.clone(), p.version);
            self.record_change(*kind, name, &headend, version);
        }
        Ok(unsettled.len())
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

    /// A leader whose commits a test reads (group commits).
    fn captured_leader() -> (Controller, Commits) {
        let mut leader = controller();
        let captured = Capture::default();
        let seen = captured.0.clone();
        leader.set_store(Box::new(captured));
        leader.defer_commits();
        (leader, seen)
    }

    /// Every commit captured so far, followed whole, in order.
    fn follow_all(standby: &mut Controller, seen: &Commits) {
        for (batch, log) in seen.lock().unwrap().drain(..) {
            standby
                .follow(Followed {
                    topology: batch.topology,
                    policies: batch.policies,
                    log,
                })
                .unwrap();
        }
    }

    #[test]
    fn a_standby_mirrors_the_leaders_policies_and_sequences() {
        let (mut leader, seen) = captured_leader();
        let mut standby = controller();
        let request = crate::document::parse_request("{from: bj-ct, to: tj-cu}").unwrap();
        leader.install("p1", request.clone()).unwrap();
        leader.install("p2", request).unwrap();
        leader.flush().unwrap();
        leader.remove("p1").unwrap();
        leader.flush().unwrap();
        follow_all(&mut standby, &seen);
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

    #[test]
    fn a_standby_takes_over_committing_only_what_the_old_leader_left_half_written() {
        let (mut leader, seen) = captured_leader();
        let mut standby = controller();
        let request = crate::document::parse_request("{from: bj-ct, to: tj-cu}").unwrap();
        leader.install("moves", request).unwrap();
        let request = crate::document::parse_request("{from: gz-ct, to: sz-ct}").unwrap();
        leader.install("stays", request).unwrap();
        leader.flush().unwrap();
        follow_all(&mut standby, &seen);

        // Every group followed whole: nothing would need committing.
        assert!(standby.unsettled.is_empty());

        // The leader cuts a link of `moves` only; its group is the new
        // topology and the moved policy, but only the topology lands (the
        // old leader died between the two transactions).
        let cut = leader.policy_json("moves").unwrap().links[0].clone();
        let stays_links = leader.policy_json("stays").unwrap().links;
        assert!(
            !stays_links.contains(&cut),
            "the test needs {cut} off `stays`"
        );
        let event = crate::document::parse_event(&format!("{{link_down: {cut}}}")).unwrap();
        leader.apply_event(&event).unwrap();
        leader.flush().unwrap();
        let (batch, _) = seen.lock().unwrap().pop().unwrap();
        assert!(batch.policies.contains_key("moves"));
        standby
            .follow(Followed {
                topology: batch.topology,
                ..Default::default()
            })
            .unwrap();
        let before = standby.last_sequence();
        // (The controller task hands followed changes to watchers after
        // every group.)
        standby.drain_changes(false);

        let taken = Capture::default();
        let written = taken.0.clone();
        standby.defer_commits();
        let committed = standby.take_over(Box::new(taken)).unwrap();
        standby.flush().unwrap();
        assert_eq!(committed, 1);
        let (batch, log) = written.lock().unwrap().pop().unwrap();
        let names: Vec<&String> = batch.policies.keys().collect();
        assert_eq!(names, ["moves"], "only the policy left half-written");
        assert_eq!(
            standby.policy_json("moves").unwrap().path,
            leader.policy_json("moves").unwrap().path,
            "re-placed as the old leader would have"
        );
        assert!(!standby.policy_json("moves").unwrap().links.contains(&cut));
        let logged: Vec<(u64, &str)> = log.iter().map(|r| (r.sequence, r.name.as_str())).collect();
        assert_eq!(logged, [(before + 1, "moves")]);
        assert_eq!(standby.last_sequence(), before + 1);
        // Writes are the leader's now: a new install commits.
        let request = crate::document::parse_request("{from: bj-ct, to: tj-cu}").unwrap();
        standby.install("new", request).unwrap();
        standby.flush().unwrap();
        assert!(
            written
                .lock()
                .unwrap()
                .iter()
                .any(|(b, _)| b.policies.contains_key("new"))
        );
    }
}
