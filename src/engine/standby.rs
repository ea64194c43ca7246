//! Disaster recovery: a standby data center for a placement, in another
//! region (or city) than the primary's, reached by a path that shares with
//! the primary path what the request's protection forbids (and, for node
//! protection, not the primary's gateway either: a lost site may take it
//! down). The primary is the best one that has a standby (tried in order of
//! value); the standby is the best for that primary, by the same objective
//! and tie-breaks. When no primary has one, the best primary stands alone
//! and a note says why.

use super::answer::{Placement, Rejection, StandbyAnswer};
use super::disjoint::{RoutedPath, bans};
use super::explain::{self, Reasons};
use super::igp::IgpCache;
use super::place::{self, Ctx, Hit, Route, best_values, placement};
use super::prune::{self, Slot};
use super::recheck::{self, Broken};
use super::request::{PathRequest, Protection};
use super::search::SearchResult;
use crate::model::{DatacenterIx, Topology};

/// The primary, its standby (if any) and why every other data center is
/// not the standby.
pub(super) struct Outcome {
    pub primary: Route,
    pub standby: Option<Placement>,
    pub rejected: Vec<Rejection>,
    pub note: Vec<String>,
}

/// Chooses the primary and its standby; `chosen` is the best primary
/// overall and `ties` every candidate's best labels of its search.
pub(super) fn place(
    ctx: &Ctx<'_>,
    igp: &mut IgpCache,
    chosen: Route,
    result: &SearchResult,
    ties: &[Vec<Hit>],
) -> Outcome {
    let first = for_primary(ctx, igp, &chosen);
    if first.standby.is_some() {
        return first.with(chosen);
    }
    for primary in other_primaries(ctx, igp, &chosen, result, ties) {
        let found = for_primary(ctx, igp, &primary);
        if found.standby.is_some() {
            let mut outcome = found.with(primary);
            let dc = |r: &Route| dc_id(ctx, r);
            outcome.note.insert(
                0,
                format!(
                    "{} is better but has no standby in another {}; the best primary with one is {}",
                    dc(&chosen),
                    ctx.req.standby.as_str(),
                    dc(&outcome.primary)
                ),
            );
            return outcome;
        }
    }
    let mut outcome = first.with(chosen);
    outcome.note.push(format!(
        "no data center can be the standby (another {}, a path {}) of any feasible primary; the job has no standby",
        ctx.req.standby.as_str(),
        match ctx.req.protection {
            Protection::None => "of its own".to_owned(),
            p => format!("{}-disjoint from the primary's", p.as_str()),
        }
    ));
    outcome
}

/// The standby of one primary, before the primary is known to keep it.
struct ForPrimary {
    standby: Option<Placement>,
    rejected: Vec<Rejection>,
    note: Vec<String>,
}

impl ForPrimary {
    fn with(self, primary: Route) -> Outcome {
        Outcome {
            primary,
            standby: self.standby,
            rejected: self.rejected,
            note: self.note,
        }
    }
}

fn dc_of(ctx: &Ctx<'_>, r: &Route) -> DatacenterIx {
    ctx.candidate(r.candidate)
        .datacenter
        .expect("a standby request has compute: every candidate is a data center")
}

fn dc_id(ctx: &Ctx<'_>, r: &Route) -> String {
    ctx.t.datacenter(dc_of(ctx, r)).id.to_string()
}

/// The best standby of `primary`, and every other data center's reason.
fn for_primary(ctx: &Ctx<'_>, igp: &mut IgpCache, primary: &Route) -> ForPrimary {
    let t = ctx.t;
    let primary_dc = dc_of(ctx, primary);
    let pruned = prune::standby(t, ctx.req, ctx.pruned.masks.clone(), primary_dc);
    let sctx = Ctx::new(t, ctx.graph.clone(), ctx.req, pruned);
    let (banned_routers, banned_links) = standby_bans(t, ctx.req.protection, &primary.path);
    let banned = (ctx.req.protection != Protection::None)
        .then_some((banned_routers.as_slice(), banned_links.as_slice()));
    let (standby, reasons, chosen, note) = match place::best(&sctx, igp, banned) {
        Ok(best) => {
            let note = best.over_msd.map(|needed| {
                format!(
                    "the best standby path needs {needed} segments, more than the msd {}; this is the best standby path that fits",
                    sctx.msd
                )
            });
            let reasons = Reasons::new(&sctx, best_values(&best.ties), best.result.truncated);
            (Some(best.route), reasons, true, note)
        }
        Err(nothing) => (None, nothing.reasons(&sctx), false, None),
    };
    let mut rejected = explain::rejections(&sctx, &reasons, standby.as_ref().filter(|_| chosen));
    rejected.retain(|r| r.datacenter != primary_dc);
    if ctx.req.protection != Protection::None {
        for r in rejected.iter_mut().filter(|r| !r.feasible) {
            if matches!(
                sctx.pruned.slots[r.datacenter.0 as usize],
                Slot::Candidate(_)
            ) {
                r.reason = format!(
                    "no path {}-disjoint from the primary's: {}",
                    ctx.req.protection.as_str(),
                    r.reason
                );
            }
        }
    }
    ForPrimary {
        standby: standby.map(|r| placement(&sctx, &r)),
        rejected,
        note: note.into_iter().collect(),
    }
}

/// What a standby path may not use: what a backup may not, and for node
/// protection the primary's last router too (unless it is the headend).
fn standby_bans(
    t: &Topology,
    protection: Protection,
    primary: &RoutedPath,
) -> (Vec<bool>, Vec<bool>) {
    let (mut routers, links) = bans(t, protection, primary);
    if protection == Protection::Node && primary.routers.len() > 1 {
        let last = primary.routers.last().expect("paths are not empty");
        routers[last.index()] = true;
    }
    (routers, links)
}

/// Every other candidate's best route (its best labels of `result`
/// encoded, or of a search within the MSD when none of those fits), best
/// first.
fn other_primaries(
    ctx: &Ctx<'_>,
    igp: &mut IgpCache,
    chosen: &Route,
    result: &SearchResult,
    ties: &[Vec<Hit>],
) -> Vec<Route> {
    // A candidate's hits are tied on value: `choose` encodes them all and
    // keeps the best that fits.
    let fitting = |igp: &mut IgpCache, result: &SearchResult, hits: &Vec<Hit>| {
        ctx.choose(igp, result, std::slice::from_ref(hits), true)
    };
    let mut routes = Vec::new();
    let mut within: Option<(SearchResult, Vec<Vec<Hit>>)> = None;
    for (c, hits) in ties.iter().enumerate() {
        if c == chosen.candidate || hits.is_empty() {
            continue;
        }
        let mut best = fitting(igp, result, hits);
        if best.is_none() {
            if within.is_none() {
                let limited = ctx.search(igp, Some(ctx.segment_limit()), None);
                let hits = ctx.hits(&limited);
                within = Some((limited, hits));
            }
            let (limited, limited_ties) = within.as_ref().expect("just searched");
            best = fitting(igp, limited, &limited_ties[c]);
        }
        routes.extend(best);
    }
    routes.sort_by(|a, b| ctx.better(a, b));
    routes
}

/// The context of a request's primary search, for held placements.
fn held_ctx<'a>(
    t: &'a Topology,
    req: &'a PathRequest,
    igp: &mut IgpCache,
) -> Result<Ctx<'a>, Broken> {
    prune::validate(t, req).map_err(|e| Broken(e.to_string()))?;
    let graph = igp.graph(t);
    let pruned = prune::prune(t, &graph, req);
    Ok(Ctx::new(t, graph, req, pruned))
}

/// A held standby re-checked for a held primary on `t` as it is now: fresh
/// metrics and segments, or why it can no longer be the standby.
pub(super) fn recheck(
    t: &Topology,
    req: &PathRequest,
    igp: &mut IgpCache,
    primary: &Placement,
    standby: &Placement,
) -> Result<Placement, Broken> {
    let ctx = held_ctx(t, req, igp)?;
    let primary_dc = primary
        .datacenter
        .ok_or_else(|| Broken("the primary has no data center".into()))?;
    let pruned = prune::standby(t, req, ctx.pruned.masks.clone(), primary_dc);
    let sctx = Ctx::new(t, ctx.graph.clone(), req, pruned);
    let route = recheck::route(&sctx, igp, standby).map_err(|e| Broken(format!("standby: {e}")))?;
    let primary_path = RoutedPath {
        routers: primary.path.clone(),
        links: primary.links.clone(),
    };
    if req.protection != Protection::None {
        let (routers, links) = standby_bans(t, req.protection, &primary_path);
        if route.path.routers.iter().any(|r| routers[r.index()])
            || route.path.links.iter().any(|l| links[l.index()])
        {
            return Err(Broken(format!(
                "standby: its path is no longer {}-disjoint from the primary's",
                req.protection.as_str()
            )));
        }
    }
    Ok(placement(&sctx, &route))
}

/// The best standby for a held primary on `t` as it is now (the primary
/// itself must still hold).
pub(super) fn for_held(
    t: &Topology,
    req: &PathRequest,
    igp: &mut IgpCache,
    primary: &Placement,
) -> Result<StandbyAnswer, Broken> {
    let ctx = held_ctx(t, req, igp)?;
    let route = recheck::route(&ctx, igp, primary)?;
    let found = for_primary(&ctx, igp, &route);
    Ok(StandbyAnswer {
        placement: found.standby,
        rejected: found.rejected,
    })
}
