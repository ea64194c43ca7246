//! Taking stored state back: the topology from its stored document, and each
//! stored policy onto a topology (after a restart, or onto a replacement
//! topology), re-checked and re-reserved, re-placed where it no longer holds.

use std::collections::BTreeMap;

use super::index::PolicyIndex;
use super::log::ChangeKind;
use super::policy::{Policy, PolicyState, Southbound, Times, now_ms};
use super::{ControllerError, topology_state};
use crate::document::resolve;
use crate::engine::{Engine, Metrics, PathAnswer, PathRequest, Placement, QueryError};
use crate::model::{Topology, TopologyBuilder};
use crate::store::{Batch, PathRecord, PolicyRecord, StateRecord, StoreError};
use crate::topology_file::TopologyDocument;

/// The stored topology, with its down routers.
pub fn topology_from_store(
    doc: &TopologyDocument,
    down: &[String],
) -> Result<Topology, ControllerError> {
    let invalid =
        |e: String| ControllerError::Store(StoreError(format!("stored topology is invalid: {e}")));
    let builder: TopologyBuilder = doc.to_builder().map_err(|e| {
        invalid(
            e.into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mut t = builder.build().map_err(|e| invalid(e.to_string()))?;
    for id in down {
        let r = t
            .router_ix(id)
            .ok_or_else(|| invalid(format!("unknown down router `{id}`")))?;
        t.set_router_up(r, false);
    }
    Ok(t)
}

/// A held path by ids turned into a placement to re-check (no segments or
/// metrics yet), or the id that no longer exists.
fn skeleton(t: &Topology, req: &PathRequest, p: &PathRecord) -> Result<Placement, String> {
    let datacenter = match &p.datacenter {
        Some(id) => Some(
            t.datacenter_ix(id)
                .ok_or_else(|| format!("data center `{id}` no longer exists"))?,
        ),
        None => None,
    };
    let path = p
        .path
        .iter()
        .map(|id| {
            t.router_ix(id)
                .ok_or_else(|| format!("router `{id}` no longer exists"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let links = p
        .links
        .iter()
        .map(|id| {
            t.link_ix(id)
                .ok_or_else(|| format!("link `{id}` no longer exists"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let endpoint = *path.last().ok_or("empty stored path")?;
    Ok(Placement {
        datacenter,
        pool: req.compute.map(|c| c.kind).filter(|_| datacenter.is_some()),
        endpoint,
        path,
        links,
        segments: Vec::new(),
        containers: None,
        metrics: Metrics {
            latency_us: 0,
            igp: 0,
            te: 0,
            jitter_us: 0,
            loss_ppm: 0,
            min_available_mbps: None,
            price: 0.0,
        },
    })
}

/// A stored policy taken onto `t` (reserving there), with the change it
/// underwent, if any.
pub fn adopt_record(
    engine: &Engine,
    t: &mut Topology,
    record: PolicyRecord,
) -> (Policy, Option<ChangeKind>) {
    let was_up = matches!(record.state, StateRecord::Up { .. });
    let mut policy = Policy {
        name: record.name.clone(),
        request: record.request.clone(),
        state: PolicyState::Down {
            reason: String::new(),
        },
        version: record.version,
        order: record.order,
        southbound: Southbound::default(),
        times: Times::of_record(&record, now_ms()),
        failed_over_from: record.failed_over_from.clone(),
    };
    let down = |reason: String| {
        (
            PolicyState::Down { reason },
            was_up.then_some(ChangeKind::Down),
        )
    };
    let failed_over = record.failed_over_from.is_some();
    let (state, kind) = match resolve(&record.request, t) {
        Err(e) => down(format!("request no longer resolves: {e}")),
        Ok(req) => {
            let req = super::standby::as_running(req, failed_over);
            let mut place =
                |t: &mut Topology, answer: PathAnswer| PolicyState::placed(t, &req, answer);
            let replace =
                |t: &mut Topology,
                 why: Option<String>,
                 place: &mut dyn FnMut(&mut Topology, PathAnswer) -> PolicyState| {
                    match engine.query(t, &req) {
                        Ok(best) => {
                            let kind = if was_up {
                                ChangeKind::Updated
                            } else {
                                ChangeKind::Restored
                            };
                            (place(t, best), Some(kind))
                        }
                        Err(e) => {
                            let msg = match e {
                                QueryError::NoPlacement(e) => e.message,
                                QueryError::Invalid(e) => e.to_string(),
                            };
                            let reason = match why {
                                Some(why) => format!("{why}; {msg}"),
                                None => msg,
                            };
                            (
                                PolicyState::Down { reason },
                                was_up.then_some(ChangeKind::Down),
                            )
                        }
                    }
                };
            match &record.state {
                StateRecord::Up {
                    primary,
                    backup,
                    standby,
                } => {
                    let held_standby = standby.as_ref().and_then(|s| skeleton(t, &req, s).ok());
                    let held = skeleton(t, &req, primary).and_then(|p| {
                        let b = backup.as_ref().map(|b| skeleton(t, &req, b)).transpose()?;
                        Ok((p, b))
                    });
                    match held
                        .and_then(|(p, b)| engine.recheck(t, &req, &p, b.as_ref()).map_err(|e| e.0))
                    {
                        Ok((primary, backup)) => {
                            let standby = super::standby::refresh(
                                engine,
                                t,
                                &req,
                                &primary,
                                held_standby.as_ref(),
                            );
                            let answer = PathAnswer {
                                headend: req.from,
                                primary,
                                backup,
                                standby,
                                rejected: Vec::new(),
                                notes: record.notes.clone(),
                            };
                            (place(t, answer), None)
                        }
                        Err(why) => replace(t, Some(why), &mut place),
                    }
                }
                StateRecord::Down { .. } => replace(t, None, &mut place),
            }
        }
    };
    policy.state = state;
    if kind.is_some() {
        policy.version += 1;
    }
    (policy, kind)
}

impl super::Controller {
    /// Takes stored policy records onto the current topology (which holds no
    /// reservations yet), in install order, and commits what changed (and the
    /// topology, when `commit_topology`).
    pub(super) fn adopt(
        &mut self,
        mut records: Vec<crate::store::PolicyRecord>,
        commit_topology: bool,
    ) -> Result<Vec<String>, ControllerError> {
        records.sort_by_key(|r| r.order);
        let now = now_ms();
        let mut t = self.topology.clone();
        let mut changed = Vec::new();
        let mut policies = BTreeMap::new();
        for record in records {
            let (mut policy, kind) = adopt_record(&self.engine, &mut t, record);
            policy.southbound = self.unpushed();
            if kind.is_some() {
                policy.times.updated = now;
            }
            if let Some(kind) = kind {
                changed.push((policy.name.clone(), kind));
            }
            policies.insert(policy.name.clone(), policy);
        }
        let mut batch = Batch {
            topology: commit_topology.then(|| topology_state(&t)),
            sequence: self.log.last() + changed.len() as u64,
            ..Default::default()
        };
        for (n, _) in &changed {
            batch.put(policies[n].record(&t));
        }
        if !batch.is_empty() {
            self.persist(batch)?;
        }
        self.topology = t;
        self.index = PolicyIndex::default();
        for p in policies.values() {
            self.index.add(&self.topology, p);
        }
        self.policies = policies;
        for (name, kind) in &changed {
            let p = &self.policies[name];
            let (headend, version) = (p.request.from.clone(), p.version);
            self.record_change(*kind, name, &headend, version);
        }
        Ok(changed.into_iter().map(|(n, _)| n).collect())
    }
}
