//! The path engine: pure, synchronous, compute-aware placement. It takes a
//! `&Topology` and a [`PathRequest`] and returns a [`PathAnswer`] or a typed
//! rejection; no I/O, no clock, no async.
//!
//! - `prune`: what a request may use, which data centers are candidates
//! - `search`: exact constrained search (label-setting, Pareto, lower bounds)
//! - `labels`, `frontier`: the search's labels (dominance, ties) and the
//!   queue of those to extend (binary heap, or radix heap on large networks)
//! - `place`: joint placement over every candidate, MSD fallback, the answer
//! - `protect`, `disjoint`: backups (Suurballe/Bhandari) and the disjointness checker
//! - `standby`: a standby data center in another region or city (disaster recovery)
//! - `segments`, `igp`: minimal SRv6 segment lists over cached IGP trees
//! - `explain`: why every other data center lost

mod answer;
pub mod compress;
mod disjoint;
mod explain;
mod frontier;
pub mod graph;
pub mod igp;
mod labels;
mod place;
mod protect;
mod prune;
mod recheck;
mod request;
pub mod search;
pub mod segments;
mod standby;

use std::sync::Mutex;

pub use answer::{Metrics, NoPlacement, PathAnswer, Placement, Rejection, Segment, StandbyAnswer};
pub use disjoint::{RoutedPath, disjoint};
pub use prune::{InvalidRequest, fmt_num};
pub use recheck::Broken;
pub use request::{
    Compression, ComputeDemand, Constraints, Destination, Objective, PathRequest, Protection,
    Residency, Standby,
};

use crate::model::Topology;

/// Why a query has no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The request does not make sense for this topology (bad input).
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// Nothing is feasible; every data center says why.
    #[error(transparent)]
    NoPlacement(#[from] NoPlacement),
}

/// Bytes of IGP trees kept across queries (a tree takes two bytes per
/// router of its operator: every tree of a 100,000-router single-operator
/// network would not fit, those of a 10,000-router one do several times).
pub const IGP_CACHE_BYTES: usize = 256 << 20;

/// The engine: stateless but for its cache of IGP shortest-path trees, which
/// stays valid across queries until the topology's IGP changes. Queries on
/// one engine run one at a time (they share the cache); give each thread its
/// own engine to answer in parallel.
#[derive(Debug)]
pub struct Engine {
    igp: Mutex<igp::IgpCache>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// An engine with an empty cache.
    pub fn new() -> Self {
        Engine {
            igp: Mutex::new(igp::IgpCache::new(IGP_CACHE_BYTES)),
        }
    }

    /// Answers a path query.
    pub fn query(&self, t: &Topology, request: &PathRequest) -> Result<PathAnswer, QueryError> {
        let mut igp = self.igp.lock().unwrap_or_else(|e| e.into_inner());
        place::place(t, request, &mut igp)
    }

    /// Re-checks a placement held from an earlier answer against `t` as it is
    /// now: fresh metrics and segments when the primary (and backup) still
    /// meet the request, else the first requirement they fail.
    pub fn recheck(
        &self,
        t: &Topology,
        request: &PathRequest,
        primary: &Placement,
        backup: Option<&Placement>,
    ) -> Result<(Placement, Option<Placement>), Broken> {
        let mut igp = self.igp.lock().unwrap_or_else(|e| e.into_inner());
        recheck::recheck(t, request, &mut igp, primary, backup)
    }

    /// Re-checks a held standby for a held primary against `t` as it is
    /// now: fresh metrics and segments when it can still be the standby,
    /// else why not.
    pub fn recheck_standby(
        &self,
        t: &Topology,
        request: &PathRequest,
        primary: &Placement,
        standby: &Placement,
    ) -> Result<Placement, Broken> {
        let mut igp = self.igp.lock().unwrap_or_else(|e| e.into_inner());
        standby::recheck(t, request, &mut igp, primary, standby)
    }

    /// The best standby for a held primary (which must still hold) on `t`
    /// as it is now, with every other data center's reason.
    pub fn standby_for(
        &self,
        t: &Topology,
        request: &PathRequest,
        primary: &Placement,
    ) -> Result<StandbyAnswer, Broken> {
        let mut igp = self.igp.lock().unwrap_or_else(|e| e.into_inner());
        standby::for_held(t, request, &mut igp, primary)
    }

    /// The shortest segment list for a placement's path on `t` as it is
    /// now (its IGP may have moved since the placement was made),
    /// compressed when the placement was.
    pub fn encode(&self, t: &Topology, p: &Placement) -> compress::Encoded {
        let mut igp = self.igp.lock().unwrap_or_else(|e| e.into_inner());
        if p.containers.is_some() {
            compress::encode(t, &mut igp, &p.path, &p.links, p.datacenter)
        } else {
            compress::Encoded {
                segments: segments::encode(t, &mut igp, &p.path, &p.links, p.datacenter),
                containers: None,
            }
        }
    }

    /// How many IGP trees were computed so far (cache misses).
    pub fn igp_trees_computed(&self) -> u64 {
        self.igp.lock().unwrap_or_else(|e| e.into_inner()).computed
    }
}

#[cfg(test)]
mod tests;
