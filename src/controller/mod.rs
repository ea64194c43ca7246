//! The controller core: the single owner of mutable state. It keeps the
//! topology, the installed policies and their reservations, re-optimizes the
//! affected policies after every event, persists every change before it is
//! acknowledged, and logs every change for watchers.
//!
//! A library type with no gRPC and no async: the replay runner and tests use
//! it directly; `actor` wraps it in the one tokio task that owns it in `cpnd`.
//!
//! Re-optimization rules:
//! - a policy whose placement broke (a link or router down, a bound or the
//!   MSD no longer met, its pool too loaded) moves to the best feasible
//!   placement, or goes `down` with the reason and comes back by itself when
//!   an event or a removal frees what it needs;
//! - a policy whose placement still holds moves only when the best placement
//!   beats it on the objective by more than `Config::reopt_threshold`;
//! - moves are make-before-break in the shared-explicit sense: the new
//!   placement is computed with the policy's own reservation counted as
//!   available, so a path sharing links with the old one is not charged twice.

pub mod actor;
mod desired;
mod events;
mod follow;
pub mod freshness;
mod index;
mod log;
pub mod outbox;
mod policy;
mod rebuild;
mod reopt;
mod reports;
mod retries;
mod scope;
mod standby;
mod tidy;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Instant, SystemTime};

pub use desired::{PREFERENCE, binding_sid, color, distinguisher};
pub use events::{IgpMove, Touched};
pub use follow::Followed;
pub use log::{Change, ChangeKind, ChangeLog, Entry, Logged, ResumeError};
pub use policy::{
    Policy, PolicyState, PoolShare, Reservation, Southbound, SouthboundState, Times, now_ms,
    validate_name,
};
pub use retries::{CallKind, Outcome, Retries};
pub use scope::Scope;
pub use view::{DEFAULT_PAGE, EventOutcome, Filter, Installed, MAX_PAGE, Page, policy_json};

use crate::document::{
    ErrorJson, EventDoc, FieldError, PolicyJson, RequestDoc, error_json, rejections_json, resolve,
};
use crate::engine::{Engine, PathAnswer, QueryError};
use crate::model::Topology;
use crate::store::{Batch, Store, StoreError};
use crate::topology_file::TopologyDocument;
use index::PolicyIndex;

/// How the controller behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// A policy whose placement still holds moves only when the best
    /// placement improves its objective by more than this fraction.
    pub reopt_threshold: f64,
    /// Changes kept for watchers to resume from.
    pub change_log: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reopt_threshold: 0.10,
            change_log: 100_000,
        }
    }
}

/// Why an operation was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// Bad input: the field at fault, and why.
    #[error(transparent)]
    InvalidArgument(#[from] FieldError),
    /// No such policy.
    #[error("no {kind} named `{name}`")]
    NotFound {
        /// What was looked for ("policy").
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The name is taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// Nothing feasible: the error, and every data center's reason (ids).
    #[error("{}", .0.error)]
    NoPlacement(ErrorJson),
    /// The call does not apply to the policy as it is (failback of a
    /// policy that has not failed over).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller may not act on this policy or headend.
    #[error("{0}")]
    PermissionDenied(String),
    /// The store failed; the operation was not applied.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// This replica is a standby (etcd store): only the leader changes
    /// state. The leader's API URL, when one is known.
    #[error("{}", not_leader_message(.leader.as_deref()))]
    NotLeader {
        /// The leader's API URL.
        leader: Option<String>,
    },
}

/// What a standby answers a write.
fn not_leader_message(leader: Option<&str>) -> String {
    match leader {
        Some(url) => format!(
            "this replica is a standby: send changes to the leader at {url} (cpnctl --server URL1,URL2,... finds it)"
        ),
        None => "this replica is a standby and no leader is known now (an election is under way, or etcd has no quorum); retry shortly".to_owned(),
    }
}

impl ControllerError {
    /// The error of a path query on `t` (whose ids name the data centers).
    fn of_query(t: &Topology, e: QueryError) -> Self {
        match e {
            QueryError::Invalid(e) => {
                ControllerError::InvalidArgument(FieldError::new(e.field, e.message))
            }
            QueryError::NoPlacement(e) => ControllerError::NoPlacement(error_json(t, &e)),
        }
    }

    /// No policy named `name`.
    fn no_policy(name: &str) -> Self {
        ControllerError::NotFound {
            kind: "policy",
            name: name.to_owned(),
        }
    }
}

/// Counters for metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Events applied.
    pub events: u64,
    /// Policies re-evaluated after events, removals and replacements.
    pub reoptimizations: u64,
    /// Time spent re-evaluating them, seconds.
    pub reoptimization_seconds: f64,
    /// Re-evaluations answered from an earlier identical question of the
    /// same batch.
    pub reused_answers: u64,
}

/// How many policies are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    /// Up (placed).
    pub up: usize,
    /// Down (nothing feasible now).
    pub down: usize,
    /// Southbound: the headend holds the current version.
    pub applied: usize,
    /// Southbound: a push is under way or waits.
    pub pending: usize,
    /// Southbound: the last push was refused.
    pub failed: usize,
    /// Southbound: the controller pushes nothing.
    pub disabled: usize,
}

/// The state owner.
pub struct Controller {
    topology: Topology,
    engine: Engine,
    policies: BTreeMap<String, Policy>,
    index: PolicyIndex,
    log: ChangeLog,
    /// Changes not yet handed to watchers.
    fresh: Vec<Logged>,
    next_order: u64,
    config: Config,
    store: Box<dyn Store>,
    /// Group commit: writes wait in `pending` until [`Controller::flush`].
    deferred: bool,
    pending: Batch,
    stats: Stats,
    /// Nothing reads the outbox: policies say so instead of "pending".
    southbound_off: bool,
    /// A standby replica: the leader pushes, and policies say so.
    standby: bool,
    /// Followed policies whose placement, as the leader wrote it, did not
    /// hold here (re-placed or down), with the change they underwent: a
    /// standby that takes over commits them (see `follow.rs`).
    unsettled: BTreeMap<String, ChangeKind>,
    /// Policies a failure left with segment lists that may be longer than
    /// needed, re-encoded when idle (see `tidy.rs`).
    untidy: tidy::Untidy,
}

impl Controller {
    /// Opens the controller on a store: its stored topology and policies when
    /// it has them (every policy re-checked and re-reserved), else `initial`.
    pub fn open(
        mut store: Box<dyn Store>,
        initial: Option<Topology>,
        config: Config,
    ) -> Result<Controller, ControllerError> {
        let stored = store.load()?;
        let Some(doc) = &stored.topology else {
            let topology = initial.ok_or_else(|| {
                ControllerError::InvalidArgument(FieldError::whole(
                    "no topology: the data directory holds none yet, give one with --topology FILE",
                ))
            })?;
            let batch = Batch {
                topology: Some(topology_state(&topology)),
                sequence: stored.sequence,
                ..Default::default()
            };
            store.commit(&batch)?;
            return Ok(Controller::fresh(
                topology,
                store,
                config,
                stored.sequence,
                0,
            ));
        };
        let topology = rebuild::topology_from_store(doc, &stored.down_routers)?;
        let order = stored
            .policies
            .iter()
            .map(|p| p.order + 1)
            .max()
            .unwrap_or(0);
        let mut c = Controller::fresh(topology, store, config, stored.sequence, order);
        c.adopt(stored.policies, false)?;
        Ok(c)
    }

    fn fresh(
        topology: Topology,
        store: Box<dyn Store>,
        config: Config,
        sequence: u64,
        next_order: u64,
    ) -> Self {
        Controller {
            topology,
            engine: Engine::new(),
            policies: BTreeMap::new(),
            index: PolicyIndex::default(),
            log: ChangeLog::new(sequence, config.change_log),
            fresh: Vec::new(),
            next_order,
            config,
            store,
            deferred: false,
            pending: Batch::default(),
            stats: Stats::default(),
            southbound_off: false,
            standby: false,
            unsettled: BTreeMap::new(),
            untidy: tidy::Untidy::default(),
        }
    }

    /// Group commit: from now on, writes wait for [`Controller::flush`]
    /// instead of committing one operation at a time. The caller must flush
    /// before acknowledging any operation, and must stop (fail-stop) if the
    /// flush fails: memory is then ahead of disk, and only a restart from the
    /// store is consistent.
    pub fn defer_commits(&mut self) {
        self.deferred = true;
    }

    /// Nothing will push policies to routers: every policy's southbound
    /// status says so, now and from now on.
    pub fn disable_southbound(&mut self) {
        self.southbound_off = true;
        for p in self.policies.values_mut() {
            p.southbound = Southbound::disabled();
        }
    }

    /// The southbound status of a policy not pushed yet.
    fn unpushed(&self) -> Southbound {
        if self.standby {
            Southbound::standby()
        } else if self.southbound_off {
            Southbound::disabled()
        } else {
            Southbound::default()
        }
    }

    /// Commits what waits (group commit); a no-op when nothing does.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.store.replicates_log() {
            // Every logged change goes to the store (standbys follow the
            // log), and the stored sequence is the last one logged.
            if self.pending.is_empty() && self.fresh.is_empty() {
                return Ok(());
            }
            let mut batch = std::mem::take(&mut self.pending);
            batch.sequence = batch.sequence.max(self.log.last());
            let log: Vec<_> = self.fresh.iter().map(Logged::record).collect();
            return self.store.commit_logged(&batch, &log);
        }
        if self.pending.is_empty() && self.pending.sequence == 0 {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.store.commit(&batch)
    }

    /// Writes go to `store` from now on (a replica that takes over, or
    /// steps down); returns the previous one.
    pub fn set_store(&mut self, store: Box<dyn Store>) -> Box<dyn Store> {
        self.pending = Batch::default();
        std::mem::replace(&mut self.store, store)
    }

    /// Persists one operation's writes: now, or with the next flush.
    fn persist(&mut self, batch: Batch) -> Result<(), StoreError> {
        if self.deferred {
            self.pending.merge(batch);
            Ok(())
        } else {
            self.store.commit(&batch)
        }
    }

    /// The live topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// How many policies are in each state.
    pub fn policy_counts(&self) -> PolicyCounts {
        let mut n = PolicyCounts::default();
        for p in self.policies.values() {
            if p.is_up() {
                n.up += 1;
            } else {
                n.down += 1;
            }
            match p.southbound.state {
                SouthboundState::Applied => n.applied += 1,
                SouthboundState::Pending => n.pending += 1,
                SouthboundState::Failed => n.failed += 1,
                SouthboundState::Disabled => n.disabled += 1,
            }
        }
        n
    }

    /// One policy.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.get(name)
    }

    /// Every policy, by name.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values()
    }

    /// One policy as JSON.
    pub fn policy_json(&self, name: &str) -> Result<PolicyJson, ControllerError> {
        self.policies
            .get(name)
            .map(|p| policy_json(&self.topology, p))
            .ok_or_else(|| ControllerError::no_policy(name))
    }

    /// Every policy as JSON, by name.
    pub fn policies_json(&self) -> Vec<PolicyJson> {
        self.policies
            .values()
            .map(|p| policy_json(&self.topology, p))
            .collect()
    }

    /// Answers a path query on the live network (reservations included).
    pub fn query(&self, doc: &RequestDoc) -> Result<PathAnswer, ControllerError> {
        let req = resolve(doc, &self.topology)?;
        self.engine
            .query(&self.topology, &req)
            .map_err(|e| ControllerError::of_query(&self.topology, e))
    }

    /// Changes after `after`, for a resuming watcher, each with the policy
    /// as it stands now.
    pub fn changes_since(&self, after: u64) -> Result<Vec<Change>, ResumeError> {
        Ok(self
            .log
            .since(after)?
            .into_iter()
            .map(|l| self.deliver(l, true))
            .collect())
    }

    fn deliver(&self, l: Logged, with_policy: bool) -> Change {
        let policy = with_policy
            .then(|| {
                self.policies
                    .get(&l.name)
                    .map(|p| policy_json(&self.topology, p))
            })
            .flatten();
        Change {
            sequence: l.sequence,
            kind: l.kind,
            name: l.name,
            policy,
            operator: l.operator,
            version: l.version,
            time: l.time,
            headend: l.headend,
        }
    }

    /// The oldest change sequence number the log still keeps (the next
    /// one when it keeps none).
    pub fn oldest_sequence(&self) -> u64 {
        self.log.oldest()
    }

    /// The latest change sequence number.
    pub fn last_sequence(&self) -> u64 {
        self.log.last()
    }

    /// Changes made since the last call (the actor broadcasts them), with
    /// the policies as they stand now when `with_policies` (someone watches).
    pub fn drain_changes(&mut self, with_policies: bool) -> Vec<Change> {
        std::mem::take(&mut self.fresh)
            .into_iter()
            .map(|l| self.deliver(l, with_policies))
            .collect()
    }

    /// Installs a policy: computes, reserves, persists. Installing a name
    /// again with the same request is not an error: the policy is returned
    /// as it stands, `created` false (a retry after a lost reply).
    pub fn install(&mut self, name: &str, doc: RequestDoc) -> Result<Installed, ControllerError> {
        validate_name(name)?;
        if let Some(p) = self.policies.get(name) {
            if p.request != doc {
                return Err(ControllerError::AlreadyExists(format!(
                    "a policy named `{name}` exists with another request; remove it first"
                )));
            }
            return Ok(Installed {
                policy: policy_json(&self.topology, p),
                created: false,
                sequence: 0,
            });
        }
        let req = resolve(&doc, &self.topology)?;
        let mut answer = self
            .engine
            .query(&self.topology, &req)
            .map_err(|e| ControllerError::of_query(&self.topology, e))?;
        // The explanation goes back with this reply; the policy keeps only
        // its placement (see `policy_json`).
        let rejected = std::mem::take(&mut answer.rejected);
        let reservation = Reservation::of(&req, &answer);
        let policy = Policy {
            name: name.to_owned(),
            request: doc,
            state: PolicyState::Up {
                answer: Box::new(answer),
                reservation,
            },
            version: 1,
            order: self.next_order,
            southbound: self.unpushed(),
            times: Times::at(now_ms()),
            failed_over_from: None,
        };
        let mut batch = Batch {
            sequence: self.log.last() + 1,
            ..Default::default()
        };
        batch.put(policy.record(&self.topology));
        self.persist(batch)?;
        self.next_order += 1;
        if let PolicyState::Up { reservation, .. } = &policy.state {
            reservation.apply(&mut self.topology);
        }
        self.index.add(&self.topology, &policy);
        let mut json = policy_json(&self.topology, &policy);
        json.rejected = rejections_json(&self.topology, &rejected);
        let sequence = self.record_change(
            ChangeKind::Installed,
            name,
            &policy.request.from,
            policy.version,
        );
        self.policies.insert(name.to_owned(), policy);
        Ok(Installed {
            policy: json,
            created: true,
            sequence,
        })
    }

    /// Removes a policy and gives back its reservation; down policies that
    /// can now be placed come back. Returns the removal's sequence number.
    pub fn remove(&mut self, name: &str) -> Result<u64, ControllerError> {
        if !self.policies.contains_key(name) {
            return Err(ControllerError::no_policy(name));
        }
        let mut batch = Batch {
            sequence: self.log.last() + 1,
            ..Default::default()
        };
        batch.delete(name);
        self.persist(batch)?;
        let policy = self.policies.remove(name).expect("checked");
        if let PolicyState::Up { reservation, .. } = &policy.state {
            reservation.release(&mut self.topology);
        }
        self.index.remove(&self.topology, &policy);
        let sequence = self.record_change(
            ChangeKind::Removed,
            name,
            &policy.request.from,
            policy.version,
        );
        let waiting: Vec<String> = self.index.waiting().cloned().collect();
        if !waiting.is_empty() {
            let t = self.topology.clone();
            self.reevaluate_and_commit(t, waiting, Vec::new(), false)?;
        }
        Ok(sequence)
    }

    /// Applies an event and re-optimizes the affected policies. Returns the
    /// names of the policies that changed, and the changes' sequence
    /// numbers.
    pub fn apply_event(&mut self, event: &EventDoc) -> Result<EventOutcome, ControllerError> {
        self.apply_events(std::slice::from_ref(event))
    }

    /// Applies several events at once (all of them, or none when one is
    /// refused), then re-optimizes the policies any of them touched, once.
    /// A burst of link updates (BGP-LS) costs one re-optimization, not one
    /// per update. Returns the names of the policies that changed, and the
    /// changes' sequence numbers.
    pub fn apply_events(&mut self, events: &[EventDoc]) -> Result<EventOutcome, ControllerError> {
        let before = self.log.last();
        let mut t = self.topology.clone();
        let mut touched = Touched::default();
        for (i, event) in events.iter().enumerate() {
            let one = events::apply(&mut t, event).map_err(|e| {
                if events.len() > 1 {
                    FieldError::new(format!("events[{i}].{}", e.field), e.message.clone())
                } else {
                    e
                }
            })?;
            touched.links.extend(one.links);
            touched.routers.extend(one.routers);
            touched.pools.extend(one.pools);
            touched.igp.extend(one.igp);
            touched.may_free |= one.may_free;
        }
        let mut full = BTreeSet::new();
        for &l in &touched.links {
            full.extend(self.index.on_link(l).cloned());
        }
        for &r in &touched.routers {
            full.extend(self.index.on_router(r).cloned());
        }
        for &(dc, kind) in &touched.pools {
            full.extend(self.index.in_pool(dc, kind).cloned());
        }
        if touched.may_free {
            full.extend(self.index.waiting().cloned());
        }
        // Where an IGP path may have got shorter, segment lists may steer
        // elsewhere now: re-encoded at once. Where paths only got longer,
        // they still steer right and may only be shortened: left to `tidy`.
        touched.igp.sort_unstable();
        touched.igp.dedup();
        let shorter: BTreeSet<_> = touched
            .igp
            .iter()
            .filter(|(_, how)| *how == IgpMove::Shorter)
            .map(|&(op, _)| op)
            .collect();
        let mut reencode = BTreeSet::new();
        for &op in &shorter {
            reencode.extend(
                self.index
                    .in_operator(op)
                    .filter(|n| !full.contains(*n))
                    .cloned(),
            );
        }
        self.stats.events += events.len() as u64;
        let affected = self.reevaluate_and_commit(
            t,
            full.into_iter().collect(),
            reencode.into_iter().collect(),
            true,
        )?;
        for &(op, _) in &touched.igp {
            if !shorter.contains(&op) {
                self.untidy.mark(&self.index, op);
            }
        }
        let last = self.log.last();
        Ok(EventOutcome {
            affected,
            sequences: (last > before).then_some((before + 1, last)),
        })
    }

    /// Replaces the topology: every policy is re-resolved by ids and
    /// re-checked on the new one, and re-placed where it no longer holds.
    pub fn replace_topology(&mut self, new: Topology) -> Result<Vec<String>, ControllerError> {
        let records: Vec<_> = self
            .policies
            .values()
            .map(|p| p.record(&self.topology))
            .collect();
        let old = std::mem::replace(&mut self.topology, new);
        let old_policies = std::mem::take(&mut self.policies);
        let old_index = std::mem::take(&mut self.index);
        match self.adopt(records, true) {
            Ok(changed) => Ok(changed),
            Err(e) => {
                self.topology = old;
                self.policies = old_policies;
                self.index = old_index;
                Err(e)
            }
        }
    }

    /// Re-evaluates `full` (may move to a better placement) and `reencode`
    /// (kept unless broken) on the working topology `t`, commits the changes
    /// (and `t` when `commit_topology`), then makes them live.
    fn reevaluate_and_commit(
        &mut self,
        mut t: Topology,
        full: Vec<String>,
        reencode: Vec<String>,
        commit_topology: bool,
    ) -> Result<Vec<String>, ControllerError> {
        let started = Instant::now();
        let now = now_ms();
        let mut changed: Vec<(Policy, Option<ChangeKind>)> = Vec::new();
        // Looked at and left as they were (changed ones are stamped as
        // they are replaced).
        let mut kept: Vec<&String> = Vec::new();
        let count = full.len() + reencode.len();
        let mut memo = reopt::Memo::default();
        for (name, may_move) in full
            .iter()
            .map(|n| (n, true))
            .chain(reencode.iter().map(|n| (n, false)))
        {
            let p = &self.policies[name];
            let outcome = reopt::reevaluate(
                &self.engine,
                &mut memo,
                &mut t,
                p,
                may_move,
                self.config.reopt_threshold,
            );
            if outcome.state != p.state {
                let mut new = p.clone();
                new.state = outcome.state;
                if outcome.failed_over_from.is_some() {
                    new.failed_over_from = outcome.failed_over_from;
                }
                if outcome.kind.is_some() {
                    new.version += 1;
                    new.times.updated = now;
                }
                changed.push((new, outcome.kind));
            } else {
                kept.push(name);
            }
        }
        self.stats.reoptimizations += count as u64;
        self.stats.reused_answers += memo.hits;
        self.stats.reoptimization_seconds += started.elapsed().as_secs_f64();
        self.commit_changes(t, changed, &kept, commit_topology, now)
    }

    /// Commits re-evaluated policies (and `t` when `commit_topology`), then
    /// makes them live: the working topology, the index, the change log;
    /// `kept` were looked at and did not change. Returns the names of the
    /// policies whose change was announced.
    fn commit_changes(
        &mut self,
        t: Topology,
        changed: Vec<(Policy, Option<ChangeKind>)>,
        kept: &[&String],
        commit_topology: bool,
        now: std::time::SystemTime,
    ) -> Result<Vec<String>, ControllerError> {
        let announced = changed.iter().filter(|(_, k)| k.is_some()).count() as u64;
        let mut batch = Batch {
            topology: commit_topology.then(|| topology_state(&t)),
            sequence: self.log.last() + announced,
            ..Default::default()
        };
        for (p, _) in &changed {
            batch.put(p.record(&t));
        }
        if !batch.is_empty() {
            self.persist(batch)?;
        }
        self.topology = t;
        for &name in kept {
            if let Some(p) = self.policies.get_mut(name) {
                p.times.checked = now;
            }
        }
        let mut names = Vec::new();
        for (mut new, kind) in changed {
            new.times.checked = now;
            let (version, headend) = (new.version, new.request.from.clone());
            let slot = self
                .policies
                .get_mut(&new.name)
                .expect("re-evaluated policies exist");
            self.index.replace(&self.topology, slot, &new);
            let old = std::mem::replace(slot, new);
            if let Some(kind) = kind {
                self.record_change(kind, &old.name, &headend, version);
                names.push(old.name);
            }
        }
        Ok(names)
    }

    /// Logs a change of policy `name` (with headend `headend`, at version
    /// `version` after the change); returns its sequence number.
    fn record_change(&mut self, kind: ChangeKind, name: &str, headend: &str, version: u64) -> u64 {
        let t = &self.topology;
        let operator = t
            .router_ix(headend)
            .map(|r| t.operator(t.router(r).operator).id.clone());
        let change = self.log.push(Entry {
            kind,
            name,
            headend,
            operator,
            version,
            time: SystemTime::now(),
        });
        let sequence = change.sequence;
        self.fresh.push(change);
        sequence
    }

    /// Sets a policy's southbound status for one version (from the drivers);
    /// news about an older version is ignored. Logged as a change when it
    /// differs.
    pub fn set_southbound(&mut self, name: &str, version: u64, southbound: Southbound) {
        let Some(p) = self.policies.get_mut(name) else {
            return;
        };
        if p.version != version || p.southbound == southbound {
            return;
        }
        p.southbound = southbound;
        let headend = p.request.from.clone();
        self.record_change(ChangeKind::Southbound, name, &headend, version);
    }
}

/// The stored form of a topology state.
fn topology_state(t: &Topology) -> (TopologyDocument, Vec<String>) {
    let down = t
        .routers()
        .filter(|(_, r)| !r.up)
        .map(|(_, r)| r.id.to_string())
        .collect();
    (TopologyDocument::from_topology(t), down)
}

#[cfg(test)]
mod reports_tests;
#[cfg(test)]
mod standby_tests;
#[cfg(test)]
mod tests;
