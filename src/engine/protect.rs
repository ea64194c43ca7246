//! Disjoint backups for a placement: the optimal primary keeps its place when
//! it has a feasible partner; otherwise the pair with the best primary over
//! every candidate, found by a partner search, Suurballe's pair, or (when
//! bounds or the MSD spoil that pair) primaries tried in order of value.

use std::cmp::Ordering;

use super::disjoint::{RoutedPath, bans, disjoint, suurballe};
use super::igp::IgpCache;
use super::place::{Ctx, Found, Hit, Route, Value};
use super::request::Protection;
use super::search::{INF, SearchResult, Sink, Sums};

/// Paths the backup fallback enumerates at most, per data center.
const ENUM_PATHS: usize = 5_000;
/// DFS steps the backup fallback takes at most, per data center.
const ENUM_STEPS: usize = 200_000;
/// Primaries the backup fallback tries a partner for, per data center.
const PARTNER_CHECKS: usize = 200;

/// Adds a disjoint backup. An optimal primary keeps its place when it has a
/// feasible partner (every route tied with the chosen one is tried);
/// otherwise the pair with the best primary over every candidate wins.
pub(super) fn protect(
    ctx: &Ctx<'_>,
    igp: &mut IgpCache,
    chosen: Route,
    result: &SearchResult,
    ties: &[Vec<Hit>],
) -> (Route, Option<Route>, Option<String>) {
    let mut order: Vec<&Vec<Hit>> = ties.iter().filter(|t| !t.is_empty()).collect();
    order.sort_by(|a, b| a[0].value.cmp(&b[0].value));
    if let Some(partner) = partner(ctx, igp, &chosen) {
        return (chosen, Some(partner), None);
    }
    let mut tried: Vec<RoutedPath> = vec![chosen.path.clone()];
    // Every other optimal primary, before any primary gives way.
    let optimal: Vec<Found> = order
        .iter()
        .flat_map(|t| t.iter())
        .filter(|h| h.value.cmp(&chosen.value).is_eq())
        .map(|h| ctx.found_of(result, h))
        .collect();
    for f in &optimal {
        if tried.contains(&f.path) {
            continue;
        }
        tried.push(f.path.clone());
        let primary = ctx.encode(igp, f);
        if !ctx.fits(&primary) {
            continue;
        }
        if let Some(partner) = partner(ctx, igp, &primary) {
            return (primary, Some(partner), None);
        }
    }
    let mut best: Option<(Route, Route)> = None;
    for tied in order {
        if let Some((p, _)) = &best
            && tied[0].value.cmp(&p.value) != Ordering::Less
        {
            break;
        }
        let mut pair = None;
        for f in tied.iter().map(|h| ctx.found_of(result, h)) {
            if tried.contains(&f.path) {
                continue;
            }
            let primary = ctx.encode(igp, &f);
            if !ctx.fits(&primary) {
                continue;
            }
            if let Some(b) = partner(ctx, igp, &primary) {
                pair = Some((primary, b));
                break;
            }
        }
        if let Some((p, b)) = pair.or_else(|| pair_for(ctx, igp, tied[0].candidate))
            && best
                .as_ref()
                .is_none_or(|(bp, _)| ctx.better(&p, bp) == Ordering::Less)
        {
            best = Some((p, b));
        }
    }
    match best {
        Some((p, b)) => (p, Some(b), None),
        None => {
            let kind = ctx.req.protection.as_str();
            let note = format!(
                "no {kind}-disjoint backup exists for any feasible placement; the primary is unprotected"
            );
            (chosen, None, Some(note))
        }
    }
}

/// The best feasible backup of `primary`, which keeps its place (a
/// standby was chosen for it); a note when it has none.
pub(super) fn partner_of(
    ctx: &Ctx<'_>,
    igp: &mut IgpCache,
    primary: Route,
) -> (Route, Option<Route>, Option<String>) {
    let found = partner(ctx, igp, &primary);
    let note = found.is_none().then(|| {
        format!(
            "no {}-disjoint backup exists for the primary that has a standby; the primary path is unprotected",
            ctx.req.protection.as_str()
        )
    });
    (primary, found, note)
}

/// True when a route meets every requirement on its own.
fn feasible(ctx: &Ctx<'_>, r: &Route) -> bool {
    let simple = {
        let mut seen = r.path.routers.clone();
        seen.sort_unstable();
        seen.windows(2).all(|w| w[0] != w[1])
    };
    simple
        && ctx.fits(r)
        && ctx.within_bounds(&r.sums, &r.sink)
        && r.path
            .routers
            .iter()
            .all(|x| ctx.pruned.masks.router_ok[x.index()])
        && r.path
            .links
            .iter()
            .all(|l| ctx.pruned.masks.link_ok[l.index()])
}

/// The best feasible backup of `primary` to the same candidate.
fn partner(ctx: &Ctx<'_>, igp: &mut IgpCache, primary: &Route) -> Option<Route> {
    let (banned_routers, banned_links) = bans(ctx.t, ctx.req.protection, &primary.path);
    let banned = Some((banned_routers.as_slice(), banned_links.as_slice()));
    let c = primary.candidate;
    // The best disjoint labels at the candidate's sinks (not merely the best
    // labels: the primary itself may be one, when it has no link).
    let best_in = |ctx: &Ctx<'_>, igp: &mut IgpCache, result: &SearchResult| {
        let mut hits = ctx.all_hits(result, c);
        hits.sort_by(|a, b| a.value.cmp(&b.value).then(a.label.cmp(&b.label)));
        let mut best: Option<Value> = None;
        let mut routes = Vec::new();
        for h in hits {
            if best.is_some_and(|v| h.value.cmp(&v).is_gt()) {
                break;
            }
            let f = ctx.found_of(result, &h);
            if disjoint(ctx.t, ctx.req.protection, &primary.path, &f.path) {
                best = Some(h.value);
                routes.push(ctx.encode(igp, &f));
            }
        }
        routes.into_iter().min_by(|a, b| ctx.better(a, b))
    };
    let result = ctx.search(igp, None, banned);
    let found = best_in(ctx, igp, &result)?;
    if ctx.fits(&found) {
        return Some(found);
    }
    let limit = ctx.segment_limit();
    let result = ctx.search(igp, Some(limit), banned);
    best_in(ctx, igp, &result).filter(|b| ctx.fits(b))
}

/// Some feasible disjoint pair to one candidate when its best path has no
/// partner: Suurballe's least-total pair first, then (when bounds or the MSD
/// spoil it) primaries in order of value, each with its best partner.
fn pair_for(ctx: &Ctx<'_>, igp: &mut IgpCache, candidate: usize) -> Option<(Route, Route)> {
    let c = ctx.candidate(candidate);
    let split = ctx.req.protection == Protection::Node;
    let (p1, p2) = suurballe(
        ctx.t,
        &ctx.pruned.masks,
        ctx.req.objective,
        ctx.req.from,
        &c.sinks,
        split,
    )?;
    let sink_of = |p: &RoutedPath| {
        *c.sinks
            .iter()
            .find(|s| Some(&s.router) == p.routers.last())
            .expect("Suurballe paths end at a sink")
    };
    let a = ctx.encode(igp, &ctx.found(candidate, sink_of(&p1), p1));
    let b = ctx.encode(igp, &ctx.found(candidate, sink_of(&p2), p2));
    if feasible(ctx, &a)
        && feasible(ctx, &b)
        && disjoint(ctx.t, ctx.req.protection, &a.path, &b.path)
    {
        return Some(if ctx.better(&a, &b) == Ordering::Greater {
            (b, a)
        } else {
            (a, b)
        });
    }
    // A disjoint pair exists, but not that one: try primaries in order.
    let mut primaries = enumerate_paths(ctx, candidate);
    primaries.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.routers.cmp(&y.1.routers)));
    let mut checked = 0;
    for (_, path, sink) in primaries {
        let primary = ctx.encode(igp, &ctx.found(candidate, sink, path));
        if !feasible(ctx, &primary) {
            continue;
        }
        if let Some(backup) = partner(ctx, igp, &primary) {
            return Some((primary, backup));
        }
        checked += 1;
        if checked >= PARTNER_CHECKS {
            break;
        }
    }
    None
}

/// Simple paths from the headend to a candidate's sinks within the bounds,
/// depth first, at most [`ENUM_PATHS`] of them, with their value keys.
fn enumerate_paths(ctx: &Ctx<'_>, candidate: usize) -> Vec<(Value, RoutedPath, Sink)> {
    let t = ctx.t;
    let sinks = &ctx.candidate(candidate).sinks;
    let mut found = Vec::new();
    let mut on_path = vec![false; t.router_count()];
    let mut routers = vec![ctx.req.from];
    let mut links = Vec::new();
    let mut sums = vec![Sums::default()];
    let mut next = vec![0usize];
    on_path[ctx.req.from.index()] = true;
    let mut steps = 0;
    let lb = |v: &Option<Vec<u64>>, w: usize| v.as_ref().map_or(0, |v| v[w]);
    while let Some(&u) = routers.last() {
        steps += 1;
        if steps > ENUM_STEPS || found.len() >= ENUM_PATHS {
            break;
        }
        let depth = routers.len() - 1;
        let adj = ctx.graph.arcs(u);
        if next[depth] >= adj.len() {
            on_path[u.index()] = false;
            routers.pop();
            links.pop();
            sums.pop();
            next.pop();
            continue;
        }
        let a = adj[next[depth]];
        next[depth] += 1;
        let (w, l) = (a.to as usize, a.link as usize);
        if on_path[w] || !ctx.pruned.masks.router_ok[w] || !ctx.pruned.masks.link_ok[l] {
            continue;
        }
        let s = sums[depth].plus_arc(&a);
        let over = |v: u64, lower: u64, bound: Option<u64>| {
            bound.is_some_and(|max| lower == INF || v + lower > max)
        };
        if over(s.latency, lb(&ctx.lower.latency, w), ctx.bounds.latency)
            || over(s.jitter, lb(&ctx.lower.jitter, w), ctx.bounds.jitter)
            || over(s.loss, lb(&ctx.lower.loss, w), ctx.bounds.loss)
        {
            continue;
        }
        routers.push(a.router());
        links.push(a.link_ix());
        sums.push(s);
        next.push(0);
        on_path[w] = true;
        for sink in sinks.iter().filter(|x| x.router == a.router()) {
            if ctx.within_bounds(&s, sink) {
                let path = RoutedPath {
                    routers: routers.clone(),
                    links: links.clone(),
                };
                found.push((ctx.value(candidate, &s, sink), path, *sink));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}
