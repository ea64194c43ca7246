//! Joint placement: one search from the headend covers every candidate data
//! center; the best (data center, pool, path) wins by the objective and its
//! tie-breaks; the path is encoded within the headend's MSD (or the best path
//! that fits is taken); a disjoint backup is added when asked for.

use std::cmp::Ordering;

use super::QueryError;
use super::answer::{Metrics, NoPlacement, PathAnswer, Placement, Segment};
use super::disjoint::{RoutedPath, bans, disjoint, suurballe};
use super::explain::{self, Reasons};
use super::igp::IgpCache;
use super::prune::{self, Candidate, Pruned};
use super::request::{Destination, Objective, PathRequest, Protection};
use super::search::{
    self, Bounds, INF, LowerBounds, SearchInput, SearchResult, SegmentLimit, Sink, Sums, path_key,
};
use super::segments::encode;
use crate::model::{RouterIx, Topology};

/// Paths the backup fallback enumerates at most, per data center.
const ENUM_PATHS: usize = 5_000;
/// DFS steps the backup fallback takes at most, per data center.
const ENUM_STEPS: usize = 200_000;
/// Primaries the backup fallback tries a partner for, per data center.
const PARTNER_CHECKS: usize = 200;

/// How good a placement is: price first for the price objective, then the
/// path key (objective, first tie-break).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Value {
    pub price: f64,
    pub key: (u64, u64),
}

impl Value {
    pub fn cmp(&self, other: &Value) -> Ordering {
        self.price
            .total_cmp(&other.price)
            .then(self.key.cmp(&other.key))
    }
}

/// One fully evaluated path to a candidate.
#[derive(Clone, Debug)]
pub(super) struct Route {
    pub candidate: usize,
    pub sink: Sink,
    pub path: RoutedPath,
    pub sums: Sums,
    pub value: Value,
    pub segments: Vec<Segment>,
}

/// Everything a query needs, computed once.
pub(super) struct Ctx<'a> {
    pub t: &'a Topology,
    pub req: &'a PathRequest,
    pub pruned: Pruned,
    pub bounds: Bounds,
    pub lower: LowerBounds,
    pub msd: u8,
    no_routers: Vec<bool>,
    no_links: Vec<bool>,
}

impl<'a> Ctx<'a> {
    fn new(t: &'a Topology, req: &'a PathRequest, pruned: Pruned) -> Self {
        let bounds = Bounds {
            latency: req.constraints.max_latency_us,
            jitter: req.constraints.max_jitter_us,
            loss: req.constraints.max_loss_ppm,
        };
        let sinks: Vec<(RouterIx, u64)> = pruned
            .candidates
            .iter()
            .flat_map(|c| c.sinks.iter().map(|s| (s.router, s.extra_latency)))
            .collect();
        let zero: Vec<(RouterIx, u64)> = sinks.iter().map(|&(r, _)| (r, 0)).collect();
        let key_is_latency = matches!(req.objective, Objective::Latency | Objective::Price);
        let lower = LowerBounds {
            // When latency is the key, dominance already orders it; the bound
            // is checked at the sinks.
            latency: (bounds.latency.is_some() && !key_is_latency)
                .then(|| search::dijkstra(t, &pruned.masks, &sinks, |l| l.latency_us)),
            jitter: bounds
                .jitter
                .is_some()
                .then(|| search::dijkstra(t, &pruned.masks, &zero, |l| l.jitter_us)),
            loss: bounds
                .loss
                .is_some()
                .then(|| search::dijkstra(t, &pruned.masks, &zero, |l| l.loss_ppm)),
        };
        Ctx {
            t,
            req,
            pruned,
            bounds,
            lower,
            msd: t.router(req.from).msd,
            no_routers: vec![false; t.router_count()],
            no_links: vec![false; t.link_count()],
        }
    }

    fn candidate(&self, i: usize) -> &Candidate {
        &self.pruned.candidates[i]
    }

    fn ends_in_datacenter(&self) -> bool {
        !matches!(self.req.to, Some(Destination::Router(_)))
    }

    /// One search from the headend over every candidate's sinks.
    fn search(
        &self,
        igp: &mut IgpCache,
        segments: Option<SegmentLimit>,
        banned: Option<(&[bool], &[bool])>,
    ) -> SearchResult {
        let (banned_routers, banned_links) = banned.unwrap_or((&self.no_routers, &self.no_links));
        search::search(
            &SearchInput {
                t: self.t,
                masks: &self.pruned.masks,
                objective: self.req.objective,
                bounds: self.bounds,
                lower: &self.lower,
                source: self.req.from,
                start: Sums::default(),
                banned_routers,
                banned_links,
                segments,
            },
            igp,
        )
    }

    /// True when a path's sums meet every bound at a sink.
    fn within_bounds(&self, sums: &Sums, sink: &Sink) -> bool {
        let ok = |v: u64, b: Option<u64>| b.is_none_or(|max| v <= max);
        ok(sums.latency + sink.extra_latency, self.bounds.latency)
            && ok(sums.jitter, self.bounds.jitter)
            && ok(sums.loss, self.bounds.loss)
    }

    fn value(&self, candidate: usize, sums: &Sums, sink: &Sink) -> Value {
        Value {
            price: if self.req.objective == Objective::Price {
                self.candidate(candidate).price
            } else {
                0.0
            },
            key: path_key(self.req.objective, sums, sink.extra_latency),
        }
    }

    /// The best labels of a search for one candidate (ties included), with
    /// the sink each ends at.
    fn best_labels(&self, result: &SearchResult, candidate: usize) -> Vec<(u32, Sink)> {
        let mut best: Vec<(u32, Sink)> = Vec::new();
        let mut best_value: Option<Value> = None;
        for sink in &self.candidate(candidate).sinks {
            for idx in result.at(sink.router) {
                let label = &result.labels[idx as usize];
                if !self.within_bounds(&label.sums, sink) {
                    continue;
                }
                let v = self.value(candidate, &label.sums, sink);
                match best_value.map(|b| v.cmp(&b)) {
                    None | Some(Ordering::Less) => {
                        best_value = Some(v);
                        best = vec![(idx, *sink)];
                    }
                    Some(Ordering::Equal) => best.push((idx, *sink)),
                    Some(Ordering::Greater) => {}
                }
            }
        }
        best
    }

    /// Evaluates a path to a candidate: sums, value, segments.
    fn route(&self, igp: &mut IgpCache, candidate: usize, sink: Sink, path: RoutedPath) -> Route {
        let mut sums = Sums::default();
        for &l in &path.links {
            sums = sums.plus(self.t.link(l));
        }
        let segments = encode(
            self.t,
            igp,
            &path.routers,
            &path.links,
            self.candidate(candidate).datacenter,
        );
        Route {
            candidate,
            sink,
            value: self.value(candidate, &sums, &sink),
            sums,
            path,
            segments,
        }
    }

    /// The order of routes: value, then fewer segments, then data center id,
    /// then router ids along the path.
    fn better(&self, a: &Route, b: &Route) -> Ordering {
        let dc = |r: &Route| {
            self.candidate(r.candidate)
                .datacenter
                .map(|d| self.t.datacenter(d).id.clone())
        };
        a.value
            .cmp(&b.value)
            .then(a.segments.len().cmp(&b.segments.len()))
            .then_with(|| dc(a).cmp(&dc(b)))
            .then_with(|| a.path.routers.cmp(&b.path.routers))
    }

    fn fits(&self, r: &Route) -> bool {
        r.segments.len() <= usize::from(self.msd)
    }

    /// Per candidate, its best routes from one search: every route tied on
    /// value, best first (by segments, then ids).
    fn best_routes(&self, igp: &mut IgpCache, result: &SearchResult) -> Vec<Vec<Route>> {
        (0..self.pruned.candidates.len())
            .map(|c| {
                let mut tied: Vec<Route> = self
                    .best_labels(result, c)
                    .into_iter()
                    .map(|(idx, sink)| {
                        let (routers, links) = result.path(idx);
                        self.route(igp, c, sink, RoutedPath { routers, links })
                    })
                    .collect();
                tied.sort_by(|a, b| self.better(a, b));
                tied
            })
            .collect()
    }
}

/// The best route of each candidate, if it has one.
fn firsts(ties: &[Vec<Route>]) -> Vec<Option<Route>> {
    ties.iter().map(|t| t.first().cloned()).collect()
}

/// Answers one query.
pub(super) fn place(
    t: &Topology,
    req: &PathRequest,
    igp: &mut IgpCache,
) -> Result<PathAnswer, QueryError> {
    prune::validate(t, req)?;
    let pruned = prune::prune(t, req);
    if let Some(why) = prune::router_refusal(t, req, req.from) {
        let message = format!("no feasible placement: headend {why}");
        let rejected = explain::all_static(t, &pruned, &format!("headend {why}"));
        return Err(NoPlacement { message, rejected }.into());
    }
    let ctx = Ctx::new(t, req, pruned);
    let result = ctx.search(igp, None, None);
    let unlimited = ctx.best_routes(igp, &result);
    let unlimited_best = firsts(&unlimited);
    let mut notes = Vec::new();

    let Some(best) = unlimited_best
        .iter()
        .flatten()
        .min_by(|a, b| ctx.better(a, b))
        .cloned()
    else {
        let reasons = Reasons::new(&ctx, &unlimited_best, result.truncated);
        return Err(explain::no_placement(&ctx, &reasons).into());
    };

    // Within the MSD: the best path overall if it fits, else the best that fits.
    let (mut chosen, ties, truncated) = if ctx.fits(&best) {
        (best, unlimited, result.truncated)
    } else {
        let limit = SegmentLimit {
            msd: ctx.msd,
            datacenter: ctx.ends_in_datacenter(),
        };
        let within = ctx.search(igp, Some(limit), None);
        let fitting: Vec<Vec<Route>> = ctx
            .best_routes(igp, &within)
            .into_iter()
            .map(|tied| tied.into_iter().filter(|r| ctx.fits(r)).collect())
            .collect();
        let Some(r) = fitting
            .iter()
            .flatten()
            .min_by(|a, b| ctx.better(a, b))
            .cloned()
        else {
            let best = firsts(&fitting);
            let reasons = Reasons::new(&ctx, &best, within.truncated).msd_exceeded(&unlimited_best);
            return Err(explain::no_placement(&ctx, &reasons).into());
        };
        notes.push(format!(
            "the best path needs {} segments, more than the msd {} of headend {}; this is the best path that fits",
            best.segments.len(),
            ctx.msd,
            t.router(req.from).id
        ));
        (r, fitting, within.truncated)
    };
    let routes = firsts(&ties);

    let mut backup = None;
    if req.protection != Protection::None {
        let (primary, found, note) = protect(&ctx, igp, chosen, &ties);
        chosen = primary;
        backup = found;
        notes.extend(note);
    }

    let reasons = Reasons::new(&ctx, &routes, truncated).msd_exceeded(&unlimited_best);
    let rejected = explain::rejections(&ctx, &reasons, Some(&chosen));
    Ok(PathAnswer {
        headend: req.from,
        primary: placement(&ctx, &chosen),
        backup: backup.map(|b| placement(&ctx, &b)),
        rejected,
        notes,
    })
}

/// The answer's form of a route.
fn placement(ctx: &Ctx<'_>, r: &Route) -> Placement {
    let t = ctx.t;
    let c = ctx.candidate(r.candidate);
    Placement {
        datacenter: c.datacenter,
        pool: ctx
            .req
            .compute
            .map(|d| d.kind)
            .filter(|_| c.datacenter.is_some()),
        endpoint: *r.path.routers.last().expect("paths are not empty"),
        path: r.path.routers.clone(),
        links: r.path.links.clone(),
        segments: r.segments.clone(),
        metrics: Metrics {
            latency_us: r.sums.latency + r.sink.extra_latency,
            igp: r.sums.igp,
            te: r.sums.te,
            jitter_us: r.sums.jitter,
            loss_ppm: r.sums.loss,
            min_available_mbps: r
                .path
                .links
                .iter()
                .map(|&l| t.link(l).available_mbps())
                .min(),
            price: c.price,
        },
    }
}

/// Adds a disjoint backup. An optimal primary keeps its place when it has a
/// feasible partner (every route tied with the chosen one is tried);
/// otherwise the pair with the best primary over every candidate wins.
fn protect(
    ctx: &Ctx<'_>,
    igp: &mut IgpCache,
    chosen: Route,
    ties: &[Vec<Route>],
) -> (Route, Option<Route>, Option<String>) {
    let mut order: Vec<&Vec<Route>> = ties.iter().filter(|t| !t.is_empty()).collect();
    order.sort_by(|a, b| ctx.better(&a[0], &b[0]));
    let optimal = std::iter::once(&chosen).chain(
        order
            .iter()
            .flat_map(|t| t.iter())
            .filter(|r| r.value.cmp(&chosen.value).is_eq()),
    );
    let mut tried = Vec::new();
    for primary in optimal {
        if tried.contains(&&primary.path) {
            continue;
        }
        if let Some(partner) = partner(ctx, igp, primary) {
            return (primary.clone(), Some(partner), None);
        }
        tried.push(&primary.path);
    }
    let mut best: Option<(Route, Route)> = None;
    for tied in order {
        if let Some((p, _)) = &best
            && tied[0].value.cmp(&p.value) != Ordering::Less
        {
            break;
        }
        let mut pair = None;
        for primary in tied.iter().filter(|r| !tried.contains(&&r.path)) {
            if let Some(b) = partner(ctx, igp, primary) {
                pair = Some((primary.clone(), b));
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
    let best_in = |ctx: &Ctx<'_>, igp: &mut IgpCache, result: &SearchResult| {
        ctx.best_labels(result, c)
            .into_iter()
            .map(|(idx, sink)| {
                let (routers, links) = result.path(idx);
                ctx.route(igp, c, sink, RoutedPath { routers, links })
            })
            .filter(|b| disjoint(ctx.t, ctx.req.protection, &primary.path, &b.path))
            .min_by(|a, b| ctx.better(a, b))
    };
    let result = ctx.search(igp, None, banned);
    let found = best_in(ctx, igp, &result)?;
    if ctx.fits(&found) {
        return Some(found);
    }
    let limit = SegmentLimit {
        msd: ctx.msd,
        datacenter: ctx.ends_in_datacenter(),
    };
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
    let a = ctx.route(igp, candidate, sink_of(&p1), p1);
    let b = ctx.route(igp, candidate, sink_of(&p2), p2);
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
        let primary = ctx.route(igp, candidate, sink, path);
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
        let adj = t.adjacencies(u);
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
        let (w, l) = (a.router.index(), a.link.index());
        if on_path[w] || !ctx.pruned.masks.router_ok[w] || !ctx.pruned.masks.link_ok[l] {
            continue;
        }
        let s = sums[depth].plus(t.link(a.link));
        let over = |v: u64, lower: u64, bound: Option<u64>| {
            bound.is_some_and(|max| lower == INF || v + lower > max)
        };
        if over(s.latency, lb(&ctx.lower.latency, w), ctx.bounds.latency)
            || over(s.jitter, lb(&ctx.lower.jitter, w), ctx.bounds.jitter)
            || over(s.loss, lb(&ctx.lower.loss, w), ctx.bounds.loss)
        {
            continue;
        }
        routers.push(a.router);
        links.push(a.link);
        sums.push(s);
        next.push(0);
        on_path[w] = true;
        for sink in sinks.iter().filter(|x| x.router == a.router) {
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
