//! Applying an event (scenario syntax) to a topology: ids resolved, values
//! checked, and what it touched reported so that only the affected policies
//! are re-optimized.

use crate::document::{EventDoc, FieldError};
use crate::model::{
    DatacenterIx, LinkIx, LinkPerformance, OperatorIx, PoolKind, RouterIx, Topology,
};

/// What an event changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Touched {
    /// Links whose state or attributes changed.
    pub links: Vec<LinkIx>,
    /// Routers that went down or came up.
    pub routers: Vec<RouterIx>,
    /// Pools whose load changed.
    pub pools: Vec<(DatacenterIx, PoolKind)>,
    /// Operators whose IGP shortest paths may have moved, and how.
    pub igp: Vec<(OperatorIx, IgpMove)>,
    /// True when capacity or connectivity may have been freed (down
    /// policies deserve another try).
    pub may_free: bool,
}

/// How an event moved an operator's IGP shortest paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IgpMove {
    /// Paths only got longer or went away (a link or router down, a dearer
    /// metric). A segment list that avoids the element still steers over
    /// exactly its path: each stretch it leaves to the IGP kept its cost and
    /// nothing got cheaper, so it is still the unique shortest path. Fewer
    /// equal-cost alternatives may let a shorter list do, no more.
    Longer,
    /// Some path may be shorter or new (a link or router up, a cheaper
    /// metric): a segment list may now steer elsewhere.
    Shorter,
}

fn link(t: &Topology, field: &str, id: &str) -> Result<LinkIx, FieldError> {
    t.link_ix(id)
        .ok_or_else(|| FieldError::new(field, format!("unknown link `{id}`")))
}

fn router(t: &Topology, field: &str, id: &str) -> Result<RouterIx, FieldError> {
    t.router_ix(id)
        .ok_or_else(|| FieldError::new(field, format!("unknown router `{id}`")))
}

/// The operator whose IGP link `l` is (none for a peering link), with how
/// going from `before` (up, IGP metric) to the link's state now moved it.
fn intra_operator(t: &Topology, l: LinkIx, before: (bool, u32)) -> Vec<(OperatorIx, IgpMove)> {
    let (a, b) = t.link_ends(l);
    let (oa, ob) = (t.router(a).operator, t.router(b).operator);
    let now = t.link(l);
    let shorter = now.up && (!before.0 || now.igp < before.1);
    let how = if shorter {
        IgpMove::Shorter
    } else {
        IgpMove::Longer
    };
    if oa == ob {
        vec![(oa, how)]
    } else {
        Vec::new()
    }
}

/// How a router going up or down moves its operator's IGP.
fn router_move(up: bool) -> IgpMove {
    if up {
        IgpMove::Shorter
    } else {
        IgpMove::Longer
    }
}

/// Checks and applies `event` to `t`. Nothing is changed on error.
pub fn apply(t: &mut Topology, event: &EventDoc) -> Result<Touched, FieldError> {
    let mut touched = Touched::default();
    match event {
        EventDoc::LinkDown(id) | EventDoc::LinkUp(id) => {
            let up = matches!(event, EventDoc::LinkUp(_));
            let l = link(t, if up { "link_up" } else { "link_down" }, id)?;
            let before = (t.link(l).up, t.link(l).igp);
            t.link_mut(l).up = up;
            touched.links.push(l);
            touched.igp = intra_operator(t, l, before);
            touched.may_free = up;
        }
        EventDoc::RouterDown(id) | EventDoc::RouterUp(id) => {
            let up = matches!(event, EventDoc::RouterUp(_));
            let r = router(t, if up { "router_up" } else { "router_down" }, id)?;
            t.set_router_up(r, up);
            touched.routers.push(r);
            touched.igp = vec![(t.router(r).operator, router_move(up))];
            touched.may_free = up;
        }
        EventDoc::SetLink(s) => {
            let l = link(t, "set_link.id", &s.id)?;
            let cur = t.link(l).clone();
            let bandwidth = s.bandwidth_mbps.unwrap_or(cur.bandwidth_mbps);
            let used = s.used_mbps.unwrap_or(cur.used_mbps);
            if s.igp == Some(0) {
                return Err(FieldError::new("set_link.igp", "0 must be >= 1"));
            }
            if bandwidth == 0 {
                return Err(FieldError::new("set_link.bandwidth_mbps", "0 must be > 0"));
            }
            if used > bandwidth {
                return Err(FieldError::new(
                    "set_link.used_mbps",
                    format!("{used} must not exceed bandwidth_mbps {bandwidth}"),
                ));
            }
            // What can move IGP shortest paths goes through `link_mut`
            // (IGP caches start again); the rest (a measured delay, say)
            // leaves them valid.
            let before = (cur.up, cur.igp);
            if s.igp.is_some() || s.up.is_some() {
                let link = t.link_mut(l);
                link.igp = s.igp.unwrap_or(link.igp);
                link.up = s.up.unwrap_or(link.up);
            }
            let performance_change = s.latency_us.is_some()
                || s.te.is_some()
                || s.jitter_us.is_some()
                || s.loss_ppm.is_some()
                || s.bandwidth_mbps.is_some();
            if performance_change {
                t.set_link_performance(
                    l,
                    LinkPerformance {
                        latency_us: s.latency_us.unwrap_or(cur.latency_us),
                        te: s.te.unwrap_or(cur.te),
                        jitter_us: s.jitter_us.unwrap_or(cur.jitter_us),
                        loss_ppm: s.loss_ppm.unwrap_or(cur.loss_ppm),
                        bandwidth_mbps: bandwidth,
                    },
                );
            }
            if s.used_mbps.is_some() {
                t.set_link_load(l, used);
            }
            if s.igp.is_some() || s.up.is_some() {
                touched.igp = intra_operator(t, l, before);
            }
            touched.links.push(l);
            touched.may_free = true;
        }
        EventDoc::SetPool(s) => {
            let dc = t.datacenter_ix(&s.datacenter).ok_or_else(|| {
                FieldError::new(
                    "set_pool.datacenter",
                    format!("unknown data center `{}`", s.datacenter),
                )
            })?;
            let Some(pool) = t.datacenter(dc).pool(s.kind).cloned() else {
                return Err(FieldError::new(
                    "set_pool.kind",
                    format!("data center `{}` has no {} pool", s.datacenter, s.kind),
                ));
            };
            let tflops = s.used_tflops.unwrap_or(pool.used_tflops);
            let memory = s.used_memory_gb.unwrap_or(pool.used_memory_gb);
            if !(tflops.is_finite() && (0.0..=pool.tflops).contains(&tflops)) {
                return Err(FieldError::new(
                    "set_pool.used_tflops",
                    format!("{tflops} must be between 0 and {}", pool.tflops),
                ));
            }
            if !(memory.is_finite() && (0.0..=pool.memory_gb).contains(&memory)) {
                return Err(FieldError::new(
                    "set_pool.used_memory_gb",
                    format!("{memory} must be between 0 and {}", pool.memory_gb),
                ));
            }
            let p = t.pool_mut(dc, s.kind).expect("checked above");
            p.used_tflops = tflops;
            p.used_memory_gb = memory;
            touched.pools.push((dc, s.kind));
            touched.may_free = true;
        }
        EventDoc::ReportPool(r) => touched = super::reports::report_pool(t, r)?,
        EventDoc::ReporterSilent(s) => touched = super::reports::reporter_silent(t, s)?,
    }
    Ok(touched)
}
