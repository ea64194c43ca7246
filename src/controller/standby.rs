//! A policy's standby data center (disaster recovery, docs/compute.md): kept
//! while it can still be the standby of the primary, sought again when it
//! cannot, and taken over when the primary's data center is lost (pool
//! down, reporter lost) or the primary path has no repair there: failover.
//! No automatic failback: a policy that failed over stays in its new data
//! center (repaired there, never moved back by re-optimization) until
//! `cpnctl policy failback` re-places it from scratch.

use super::log::ChangeKind;
use super::policy::{PolicyState, now_ms};
use super::{Controller, ControllerError};
use crate::document::resolve;
use crate::engine::{
    Destination, Engine, PathAnswer, PathRequest, Placement, Standby, StandbyAnswer,
};
use crate::model::Topology;

/// The standby of a policy whose primary is `primary` on `t` as it is now:
/// the held one re-checked, else the best now (`None` when the request asks
/// for no standby). Policies keep no explanations, so `rejected` is empty.
pub(super) fn refresh(
    engine: &Engine,
    t: &Topology,
    req: &PathRequest,
    primary: &Placement,
    held: Option<&Placement>,
) -> Option<StandbyAnswer> {
    if req.standby == Standby::None {
        return None;
    }
    let placement = match held.map(|s| engine.recheck_standby(t, req, primary, s)) {
        Some(Ok(kept)) => Some(kept),
        _ => engine
            .standby_for(t, req, primary)
            .ok()
            .and_then(|s| s.placement),
    };
    Some(StandbyAnswer {
        placement,
        rejected: Vec::new(),
    })
}

/// The request a policy runs under: as installed, but a policy that failed
/// over is no longer held to the data center its `to` pins (the one it
/// left); `failback` places it under the request as installed again.
pub(super) fn as_running(mut req: PathRequest, failed_over: bool) -> PathRequest {
    if failed_over && matches!(req.to, Some(Destination::Datacenter(_))) {
        req.to = None;
    }
    req
}

/// The standby placement of an answer, if it has one.
pub(super) fn of(a: &PathAnswer) -> Option<&Placement> {
    a.standby.as_ref().and_then(|s| s.placement.as_ref())
}

/// Why the primary's data center can no longer take the job (its pool is
/// down or its reporter lost), or `None`.
pub(super) fn lost(t: &Topology, primary: &Placement) -> Option<String> {
    let d = t.datacenter(primary.datacenter?);
    if !d.takes_jobs() {
        return Some(format!(
            "data center {} is lost: its reporter went silent past the grace period",
            d.id
        ));
    }
    let kind = primary.pool?;
    match d.pool(kind) {
        None => Some(format!("data center {} no longer has a {kind} pool", d.id)),
        Some(p) if !p.health.takes_jobs() => {
            Some(format!("the {kind} pool of data center {} is down", d.id))
        }
        Some(_) => None,
    }
}

/// The best placement in `primary`'s data center now (with a backup and a
/// standby as the request asks), when it has one: a repair in place.
pub(super) fn repair(
    engine: &Engine,
    t: &Topology,
    req: &PathRequest,
    primary: &Placement,
) -> Option<PathAnswer> {
    pinned(engine, t, req, primary)
}

/// The policy moved to its standby's data center: the best path there now,
/// with a backup and a new standby as the request asks, and a note.
pub(super) fn failover(
    engine: &Engine,
    t: &Topology,
    req: &PathRequest,
    from: &Placement,
    standby: &Placement,
    why: &str,
) -> Option<PathAnswer> {
    let mut answer = pinned(engine, t, req, standby)?;
    let id = |p: &Placement| p.datacenter.map(|d| t.datacenter(d).id.to_string());
    answer.notes.push(format!(
        "failed over from {} to its standby {}: {why}",
        id(from).unwrap_or_default(),
        id(standby).unwrap_or_default()
    ));
    Some(answer)
}

/// The engine's answer with the destination pinned to `at`'s data center.
fn pinned(engine: &Engine, t: &Topology, req: &PathRequest, at: &Placement) -> Option<PathAnswer> {
    let pinned = PathRequest {
        to: Some(Destination::Datacenter(at.datacenter?)),
        ..req.clone()
    };
    let mut answer = engine.query(t, &pinned).ok()?;
    answer.rejected = Vec::new();
    Some(answer)
}

/// True when the two answers' standbys differ (data center or path).
pub(super) fn changed(a: &PathAnswer, b: &PathAnswer) -> bool {
    let key = |x: &PathAnswer| of(x).map(|s| (s.datacenter, s.path.clone()));
    key(a) != key(b)
}

impl Controller {
    /// Fails a policy back: places it afresh (the best placement now, with
    /// a new standby), make-before-break, and forgets that it failed over.
    /// Refused when it has not failed over, and when nothing is feasible
    /// (it then stays where it is). Returns the change's sequence number.
    pub fn failback(&mut self, name: &str) -> Result<u64, ControllerError> {
        let p = self
            .policies
            .get(name)
            .ok_or_else(|| ControllerError::no_policy(name))?;
        let Some(from) = &p.failed_over_from else {
            return Err(ControllerError::FailedPrecondition(format!(
                "policy `{name}` has not failed over: there is nothing to fail back"
            )));
        };
        let PolicyState::Up { reservation, .. } = &p.state else {
            return Err(ControllerError::FailedPrecondition(format!(
                "policy `{name}` is down: it is placed afresh when the network allows, failback has nothing to move"
            )));
        };
        let mut t = self.topology.clone();
        let req = resolve(&p.request, &t)?;
        // Its own hold counts as free while it looks (make-before-break).
        reservation.release(&mut t);
        let answer = self.engine.query(&t, &req).map_err(|e| {
            let e = ControllerError::of_query(&t, e);
            ControllerError::FailedPrecondition(format!(
                "policy `{name}` cannot fail back to {from} (it stays where it is): {e}"
            ))
        })?;
        let mut new = p.clone();
        new.state = PolicyState::placed(&mut t, &req, answer);
        new.failed_over_from = None;
        new.version += 1;
        let now = now_ms();
        new.times.updated = now;
        self.commit_changes(t, vec![(new, Some(ChangeKind::Updated))], &[], false, now)?;
        Ok(self.log.last())
    }
}
