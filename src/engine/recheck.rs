//! Re-checking a placement the controller already holds: does it still meet
//! its request on the topology as it is now? If so, with fresh metrics and a
//! fresh segment list (the IGP may have moved); if not, the first requirement
//! it fails, in words.

use super::answer::Placement;
use super::disjoint::{RoutedPath, disjoint};
use super::igp::IgpCache;
use super::place::{Ctx, Route, placement};
use super::prune::{self, Slot};
use super::request::{Destination, PathRequest};
use crate::model::Topology;

/// Why a held placement no longer meets its request, in words (the
/// first requirement it fails); the policy goes down or moves with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Broken(pub String);

impl From<String> for Broken {
    fn from(why: String) -> Self {
        Broken(why)
    }
}

/// A held primary (and backup) re-checked: fresh placements, or why not.
pub(super) fn recheck(
    t: &Topology,
    req: &PathRequest,
    igp: &mut IgpCache,
    primary: &Placement,
    backup: Option<&Placement>,
) -> Result<(Placement, Option<Placement>), Broken> {
    prune::validate(t, req).map_err(|e| Broken(e.to_string()))?;
    if let Some(why) = prune::router_refusal(t, req, req.from) {
        return Err(Broken(format!("headend {why}")));
    }
    let graph = igp.graph(t);
    let pruned = prune::prune(t, &graph, req);
    let ctx = Ctx::new(t, graph, req, pruned);
    let p = route(&ctx, igp, primary)?;
    let b = match backup {
        None => None,
        Some(b) => {
            let b = route(&ctx, igp, b).map_err(|e| Broken(format!("backup: {e}")))?;
            if !disjoint(t, req.protection, &p.path, &b.path) {
                return Err(Broken("backup no longer disjoint from the primary".into()));
            }
            Some(b)
        }
    };
    Ok((placement(&ctx, &p), b.map(|b| placement(&ctx, &b))))
}

/// A held placement as a route of `ctx`, re-encoded, or why it no longer
/// holds.
pub(super) fn route(ctx: &Ctx<'_>, igp: &mut IgpCache, p: &Placement) -> Result<Route, Broken> {
    let t = ctx.t;
    let candidate = match (p.datacenter, ctx.req.to) {
        (Some(dc), _) => match ctx.pruned.slots[dc.0 as usize] {
            Slot::Candidate(i) => i,
            Slot::Rejected(r) => {
                return Err(Broken(format!(
                    "{}: {}",
                    t.datacenter(dc).id,
                    ctx.pruned.rejected[r].1
                )));
            }
        },
        (None, Some(Destination::Router(r))) => {
            if let Some(why) = prune::router_refusal(t, ctx.req, r) {
                return Err(why.into());
            }
            0
        }
        (None, _) => return Err(Broken("the placement has no destination".into())),
    };
    let sink =
        *ctx.candidate(candidate)
            .sinks
            .iter()
            .find(|s| s.router == p.endpoint)
            .ok_or_else(|| {
                let why = prune::router_refusal(t, ctx.req, p.endpoint);
                Broken(why.unwrap_or_else(|| {
                    format!("{} is no longer a gateway", t.router(p.endpoint).id)
                }))
            })?;
    for &r in &p.path {
        if let Some(why) = prune::router_refusal(t, ctx.req, r) {
            return Err(why.into());
        }
    }
    for (i, &l) in p.links.iter().enumerate() {
        let link = t.link(l);
        let (a, b) = t.link_ends(l);
        if (a, b) != (p.path[i], p.path[i + 1]) && (b, a) != (p.path[i], p.path[i + 1]) {
            return Err(format!("link {} does not join its path", link.id).into());
        }
        if !ctx.pruned.masks.link_ok[l.index()] {
            let min = ctx.req.constraints.min_bandwidth_mbps.unwrap_or(0);
            return Err(Broken(if !link.up {
                format!("link {} is down", link.id)
            } else if ctx.req.constraints.avoid_links.contains(&l) {
                format!("link {} is avoided", link.id)
            } else {
                format!(
                    "link {} has {} Mbit/s available, {min} needed",
                    link.id,
                    link.available_mbps()
                )
            }));
        }
    }
    let path = RoutedPath {
        routers: p.path.clone(),
        links: p.links.clone(),
    };
    let found = ctx.found(candidate, sink, path);
    let over = |what: &str, value: u64, bound: Option<u64>| {
        bound
            .filter(|&max| value > max)
            .map(|max| format!("{what} {value} exceeds max_{what} {max}"))
    };
    let latency = found.sums.latency + sink.extra_latency;
    if let Some(e) = over("latency_us", latency, ctx.bounds.latency)
        .or_else(|| over("jitter_us", found.sums.jitter, ctx.bounds.jitter))
        .or_else(|| over("loss_ppm", found.sums.loss, ctx.bounds.loss))
    {
        return Err(Broken(e));
    }
    let r = ctx.encode(igp, &found);
    if !ctx.fits(&r) {
        return Err(Broken(format!(
            "the path now needs {} segments, more than the msd {}",
            r.depth(),
            ctx.msd
        )));
    }
    Ok(r)
}
