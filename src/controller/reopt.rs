//! Re-evaluating one policy after an event, a removal or a replacement:
//! keep a placement that still holds (unless the best one is better by more
//! than the threshold), move a broken one to the best feasible placement, or
//! take it down with the reason.
//!
//! Within one batch, many affected policies ask the same question (same
//! headend, same kind of job). `Memo` answers a policy B from the answer
//! computed for an earlier policy A when that is provably the answer the
//! engine would give B:
//! - A's request is B's without the amounts, and B needs at least as much;
//! - what B held before (links, pool) A held too: every resource B's
//!   release frees had room for A as well, so it was already feasible for A;
//!   everything else only lost availability since (A's new hold);
//! - so B's feasible placements are among A's, A's answer is still feasible
//!   for B (re-checked), and it is the best of them.

use std::collections::HashMap;

use super::log::ChangeKind;
use super::policy::{Policy, PolicyState};
use super::standby;
use crate::document::{RequestDoc, resolve};
use crate::engine::{Engine, Objective, PathAnswer, PathRequest, QueryError};
use crate::model::Topology;

/// The new state of one policy after re-evaluation.
pub(super) struct Outcome {
    pub state: PolicyState,
    pub kind: Option<ChangeKind>,
    /// Set when the policy failed over: the data center it left.
    pub failed_over_from: Option<String>,
}

/// What a request needs, compared componentwise.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Demand {
    tflops: f64,
    memory_gb: f64,
    mbps: u64,
}

impl Demand {
    fn of(req: &PathRequest) -> Demand {
        Demand {
            tflops: req.compute.map_or(0.0, |c| c.tflops),
            memory_gb: req.compute.map_or(0.0, |c| c.memory_gb),
            mbps: req.constraints.min_bandwidth_mbps.unwrap_or(0),
        }
    }

    fn covers(&self, other: &Demand) -> bool {
        self.tflops >= other.tflops && self.memory_gb >= other.memory_gb && self.mbps >= other.mbps
    }
}

/// What a policy held before its re-evaluation.
#[derive(Clone, Debug, PartialEq)]
struct Footprint {
    links: Vec<crate::model::LinkIx>,
    pool: Option<(crate::model::DatacenterIx, crate::model::PoolKind)>,
}

impl Footprint {
    fn of(p: &Policy) -> Footprint {
        match &p.state {
            PolicyState::Up { reservation, .. } => {
                let mut links = if reservation.mbps > 0 {
                    reservation.links.clone()
                } else {
                    Vec::new()
                };
                links.sort_unstable();
                Footprint {
                    links,
                    pool: reservation.pool.map(|s| (s.datacenter, s.kind)),
                }
            }
            PolicyState::Down { .. } => Footprint {
                links: Vec::new(),
                pool: None,
            },
        }
    }

    /// True when everything `self` held, `other` held too.
    fn within(&self, other: &Footprint) -> bool {
        self.links
            .iter()
            .all(|l| other.links.binary_search(l).is_ok())
            && (self.pool.is_none() || self.pool == other.pool)
    }
}

/// One remembered answer.
struct Known {
    demand: Demand,
    held: Footprint,
    answer: PathAnswer,
}

/// Answers of one batch, by question (the request without its amounts).
#[derive(Default)]
pub(super) struct Memo {
    answers: HashMap<String, Vec<Known>>,
    /// Answers reused (for tests and metrics).
    pub hits: u64,
}

/// For a policy whose path the event did not touch but whose operator's IGP
/// moved: only its segment list can change. `None` when it must be re-checked
/// in full (it no longer fits the MSD, or it is not up).
fn reencode(engine: &Engine, t: &Topology, p: &Policy) -> Option<Outcome> {
    let PolicyState::Up {
        answer,
        reservation,
    } = &p.state
    else {
        return None;
    };
    if cut(t, answer).is_some() {
        return None;
    }
    let msd = usize::from(t.router(answer.headend).msd);
    let mut next = (**answer).clone();
    let standby = next.standby.as_mut().and_then(|s| s.placement.as_mut());
    for placement in std::iter::once(&mut next.primary)
        .chain(next.backup.as_mut())
        .chain(standby)
    {
        let encoded = engine.encode(t, placement);
        placement.segments = encoded.segments;
        placement.containers = encoded.containers;
        if placement.sid_depth() > msd {
            return None;
        }
    }
    let kind = steering_changed(answer, &next).then_some(ChangeKind::Updated);
    Some(Outcome {
        state: PolicyState::Up {
            answer: Box::new(next),
            reservation: reservation.clone(),
        },
        kind,
        failed_over_from: None,
    })
}

/// A link or router of the placement that is down, found without the full
/// re-check (the common case after a failure).
fn cut(t: &Topology, a: &PathAnswer) -> Option<String> {
    for p in std::iter::once(&a.primary).chain(a.backup.as_ref()) {
        if let Some(&l) = p.links.iter().find(|&&l| !t.link(l).up) {
            return Some(format!("link {} is down", t.link(l).id));
        }
        if let Some(&r) = p.path.iter().find(|&&r| !t.router(r).up) {
            return Some(format!("{} is down", t.router(r).id));
        }
    }
    None
}

/// True when the remembered answer still has room for `demand`: within one
/// batch the question is the same (same masks, bounds, IGP, MSD), so only
/// capacity can have changed.
fn fits(t: &Topology, demand: &Demand, a: &PathAnswer) -> bool {
    let links_ok = std::iter::once(&a.primary)
        .chain(a.backup.as_ref())
        .flat_map(|p| p.links.iter())
        .all(|&l| t.link(l).available_mbps() >= demand.mbps);
    let pool_ok = match (a.primary.datacenter, a.primary.pool) {
        (Some(dc), Some(kind)) => t.datacenter(dc).pool(kind).is_some_and(|p| {
            p.available_tflops() >= demand.tflops && p.available_memory_gb() >= demand.memory_gb
        }),
        _ => true,
    };
    links_ok && pool_ok
}

fn question(doc: &RequestDoc) -> String {
    let mut q = doc.clone();
    if let Some(c) = &mut q.compute {
        c.tflops = 0.0;
        c.memory_gb = 0.0;
    }
    if let Some(c) = &mut q.constraints {
        c.min_bandwidth_mbps = c.min_bandwidth_mbps.map(|_| 0);
    }
    serde_json::to_string(&q).expect("request documents serialize")
}

impl Memo {
    /// The engine's best answer for `p` on `t`, from the memo when provably
    /// the same.
    pub fn best(
        &mut self,
        engine: &Engine,
        t: &Topology,
        p: &Policy,
        req: &PathRequest,
    ) -> Result<PathAnswer, QueryError> {
        if req.standby != crate::engine::Standby::None {
            // Standby holds share pools across primaries: the proof below
            // covers the primary's hold only.
            return engine.query(t, req);
        }
        let key = question(&p.request);
        let demand = Demand::of(req);
        let held = Footprint::of(p);
        if let Some(known) = self.answers.get(&key) {
            for k in known.iter().rev() {
                if demand.covers(&k.demand) && held.within(&k.held) && fits(t, &demand, &k.answer) {
                    self.hits += 1;
                    let mut answer = k.answer.clone();
                    for placement in
                        std::iter::once(&mut answer.primary).chain(answer.backup.as_mut())
                    {
                        placement.metrics.min_available_mbps = placement
                            .links
                            .iter()
                            .map(|&l| t.link(l).available_mbps())
                            .min();
                    }
                    return Ok(answer);
                }
            }
        }
        let answer = engine.query(t, req)?;
        let mut kept = answer.clone();
        kept.rejected = Vec::new();
        self.answers.entry(key).or_default().push(Known {
            demand,
            held,
            answer: kept,
        });
        Ok(answer)
    }
}

/// The primary objective value of a placement, for the re-optimization gain.
fn objective_value(objective: Objective, a: &PathAnswer) -> f64 {
    let m = &a.primary.metrics;
    match objective {
        Objective::Latency => m.latency_us as f64,
        Objective::Igp => m.igp as f64,
        Objective::Te => m.te as f64,
        Objective::Price => m.price,
    }
}

/// True when the two answers steer differently (what a headend would see).
fn steering_changed(a: &PathAnswer, b: &PathAnswer) -> bool {
    let key = |x: &PathAnswer| {
        let p = |q: &crate::engine::Placement| {
            (
                q.datacenter,
                q.path.clone(),
                q.links.clone(),
                q.segments.clone(),
            )
        };
        (p(&x.primary), x.backup.as_ref().map(p))
    };
    key(a) != key(b)
}

/// Re-evaluates one policy on the working topology `t`, moving its
/// reservation there.
pub(super) fn reevaluate(
    engine: &Engine,
    memo: &mut Memo,
    t: &mut Topology,
    p: &Policy,
    may_move: bool,
    threshold: f64,
) -> Outcome {
    if !may_move && let Some(outcome) = reencode(engine, t, p) {
        return outcome;
    }
    // No automatic failback: a policy that failed over is re-checked (its
    // standby too) and repaired where it is, never moved for a better
    // placement, until `failback`.
    let may_move = may_move && p.failed_over_from.is_none();
    let req = match resolve(&p.request, t) {
        Ok(r) => standby::as_running(r, p.failed_over_from.is_some()),
        Err(e) => {
            if let PolicyState::Up { reservation, .. } = &p.state {
                reservation.release(t);
            }
            return down_outcome(p, format!("request no longer resolves: {e}"));
        }
    };
    let placed = |t: &mut Topology, answer: PathAnswer| PolicyState::placed(t, &req, answer);
    match &p.state {
        PolicyState::Up {
            answer,
            reservation,
        } => {
            // Shared-explicit make-before-break: the policy's own hold counts
            // as available while it looks for its next placement.
            reservation.release(t);
            let checked = match cut(t, answer) {
                Some(why) => Err(crate::engine::Broken(why)),
                None => engine.recheck(t, &req, &answer.primary, answer.backup.as_ref()),
            };
            match checked {
                Ok((primary, backup)) => {
                    let standby = standby::refresh(engine, t, &req, &primary, standby::of(answer));
                    let kept = PathAnswer {
                        primary,
                        backup,
                        standby,
                        ..(**answer).clone()
                    };
                    let next = match may_move.then(|| memo.best(engine, t, p, &req)) {
                        Some(Ok(best)) => {
                            let old = objective_value(req.objective, &kept);
                            let new = objective_value(req.objective, &best);
                            // A protected policy running without its backup
                            // takes a placement that has one back.
                            let regains_backup = req.protection != crate::engine::Protection::None
                                && kept.backup.is_none()
                                && best.backup.is_some();
                            if regains_backup || (old > 0.0 && (old - new) / old > threshold) {
                                best
                            } else {
                                kept
                            }
                        }
                        _ => kept,
                    };
                    let kind = (steering_changed(answer, &next) || standby::changed(answer, &next))
                        .then_some(ChangeKind::Updated);
                    Outcome {
                        state: placed(t, next),
                        kind,
                        failed_over_from: None,
                    }
                }
                Err(why) => {
                    if let Some(outcome) = fail_over(engine, t, &req, answer, &why.0) {
                        return outcome;
                    }
                    match memo.best(engine, t, p, &req) {
                        Ok(best) => Outcome {
                            state: placed(t, best),
                            kind: Some(ChangeKind::Updated),
                            failed_over_from: None,
                        },
                        Err(QueryError::NoPlacement(e)) => {
                            down_outcome(p, format!("{why}; {}", e.message))
                        }
                        Err(QueryError::Invalid(e)) => down_outcome(p, format!("{why}; {e}")),
                    }
                }
            }
        }
        PolicyState::Down { reason } => match memo.best(engine, t, p, &req) {
            Ok(best) => Outcome {
                state: placed(t, best),
                kind: Some(ChangeKind::Restored),
                failed_over_from: None,
            },
            Err(e) => {
                let message = match e {
                    QueryError::NoPlacement(e) => e.message,
                    QueryError::Invalid(e) => e.to_string(),
                };
                let _ = reason;
                Outcome {
                    state: PolicyState::Down { reason: message },
                    kind: None,
                    failed_over_from: None,
                }
            }
        },
    }
}

fn down_outcome(p: &Policy, reason: String) -> Outcome {
    let kind = p.is_up().then_some(ChangeKind::Down);
    Outcome {
        state: PolicyState::Down { reason },
        kind,
        failed_over_from: None,
    }
}

/// For a broken primary with a standby: a repair in the primary's own data
/// center while it still takes the job, else the move to the standby's
/// (docs/compute.md, failover). `None` when neither is possible (the
/// policy is then placed afresh, or goes down).
fn fail_over(
    engine: &Engine,
    t: &mut Topology,
    req: &PathRequest,
    held: &PathAnswer,
    why: &str,
) -> Option<Outcome> {
    let to = standby::of(held)?;
    let lost = standby::lost(t, &held.primary);
    let (answer, from) = match lost
        .is_none()
        .then(|| standby::repair(engine, t, req, &held.primary))
        .flatten()
    {
        Some(repaired) => (repaired, None),
        None => {
            let why = lost.as_deref().unwrap_or(why);
            let moved = standby::failover(engine, t, req, &held.primary, to, why)?;
            let from = held
                .primary
                .datacenter
                .map(|d| t.datacenter(d).id.to_string());
            (moved, from)
        }
    };
    Some(Outcome {
        state: PolicyState::placed(t, req, answer),
        kind: Some(ChangeKind::Updated),
        failed_over_from: from,
    })
}
