//! Joint placement: one search from the headend covers every candidate data
//! center; the best (data center, pool, path) wins by the objective and its
//! tie-breaks; the path is encoded within the headend's MSD (or the best path
//! that fits is taken); a disjoint backup is added when asked for.

use std::cmp::Ordering;

use super::QueryError;
use super::answer::{Metrics, NoPlacement, PathAnswer, Placement, Segment, StandbyAnswer};
use super::compress;
use super::disjoint::RoutedPath;
use super::explain::{self, Reasons};
use super::graph::SearchGraph;
use super::igp::IgpCache;
use super::protect;
use super::prune::{self, Candidate, Pruned};
use super::request::{Compression, Objective, PathRequest, Protection, Standby};
use super::search::{
    self, Bounds, LowerBounds, SearchInput, SearchResult, SegmentLimit, Sink, Sums, path_key,
};
use super::segments::encode;
use super::standby;
use crate::model::{RouterIx, Topology};

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

/// A best label of a search at one candidate's sink; its path is built only
/// when needed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hit {
    pub candidate: usize,
    pub sink: Sink,
    pub label: u32,
    pub value: Value,
}

/// A path to a candidate with its sums and value, not yet encoded.
#[derive(Clone, Debug)]
pub(super) struct Found {
    pub candidate: usize,
    pub sink: Sink,
    pub path: RoutedPath,
    pub sums: Sums,
    pub value: Value,
}

/// A path to a candidate, encoded as segments.
#[derive(Clone, Debug)]
pub(super) struct Route {
    pub candidate: usize,
    pub sink: Sink,
    pub path: RoutedPath,
    pub sums: Sums,
    pub value: Value,
    pub segments: Vec<Segment>,
    pub containers: Option<Vec<std::net::Ipv6Addr>>,
}

impl Route {
    /// SRH entries the headend pushes (what its MSD counts).
    pub fn depth(&self) -> usize {
        self.containers
            .as_ref()
            .map_or(self.segments.len(), Vec::len)
    }
}

/// Everything a query needs, computed once.
pub(super) struct Ctx<'a> {
    pub t: &'a Topology,
    pub graph: std::sync::Arc<SearchGraph>,
    pub req: &'a PathRequest,
    pub pruned: Pruned,
    pub bounds: Bounds,
    pub lower: LowerBounds,
    pub msd: u8,
    /// Encode with micro-SIDs (the request allows it and the headend's
    /// operator has a NEXT-C-SID block).
    pub compress: bool,
    /// Every candidate's sink routers.
    sink_routers: Vec<RouterIx>,
    no_routers: Vec<bool>,
    no_links: Vec<bool>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        t: &'a Topology,
        graph: std::sync::Arc<SearchGraph>,
        req: &'a PathRequest,
        pruned: Pruned,
    ) -> Self {
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
                .then(|| search::dijkstra(&graph, &pruned.masks, &sinks, |a| a.latency)),
            jitter: bounds
                .jitter
                .is_some()
                .then(|| search::dijkstra(&graph, &pruned.masks, &zero, |a| a.jitter)),
            loss: bounds
                .loss
                .is_some()
                .then(|| search::dijkstra(&graph, &pruned.masks, &zero, |a| a.loss)),
        };
        Ctx {
            t,
            graph,
            req,
            pruned,
            bounds,
            lower,
            msd: t.router(req.from).msd,
            compress: req.compression != Compression::Off && t.csid_block(req.from).is_some(),
            sink_routers: sinks.iter().map(|&(r, _)| r).collect(),
            no_routers: vec![false; t.router_count()],
            no_links: vec![false; t.link_count()],
        }
    }

    /// The limit of a segment-aware search for this headend.
    pub(super) fn segment_limit(&self) -> SegmentLimit {
        SegmentLimit {
            msd: self.msd,
            entry_units: self.compress.then(|| {
                // A common multiple of every block's micro-SIDs per
                // container; with too many formats for 16 bits, the
                // headend's (other blocks' micro-SIDs then count
                // optimistically, and the encoding has the final word).
                let lcm = self
                    .t
                    .operators()
                    .iter()
                    .filter_map(|o| o.csid.map(|c| c.per_container() as u32))
                    .fold(1u32, |l, k| l / gcd(l, k) * k);
                if lcm * u32::from(self.msd.max(1)) <= u32::from(u16::MAX) {
                    lcm as u16
                } else {
                    self.t
                        .csid_block(self.req.from)
                        .map_or(1, |b| b.per_container() as u16)
                }
            }),
        }
    }

    pub(super) fn candidate(&self, i: usize) -> &Candidate {
        &self.pruned.candidates[i]
    }

    /// One search from the headend over every candidate's sinks.
    pub(super) fn search(
        &self,
        igp: &mut IgpCache,
        segments: Option<SegmentLimit>,
        banned: Option<(&[bool], &[bool])>,
    ) -> SearchResult {
        let (banned_routers, banned_links) = banned.unwrap_or((&self.no_routers, &self.no_links));
        search::search(
            &SearchInput {
                t: self.t,
                graph: &self.graph,
                masks: &self.pruned.masks,
                objective: self.req.objective,
                bounds: self.bounds,
                lower: &self.lower,
                source: self.req.from,
                start: Sums::default(),
                banned_routers,
                banned_links,
                segments,
                sinks: &self.sink_routers,
            },
            igp,
        )
    }

    /// True when a path's sums meet every bound at a sink.
    pub(super) fn within_bounds(&self, sums: &Sums, sink: &Sink) -> bool {
        let ok = |v: u64, b: Option<u64>| b.is_none_or(|max| v <= max);
        ok(sums.latency + sink.extra_latency, self.bounds.latency)
            && ok(sums.jitter, self.bounds.jitter)
            && ok(sums.loss, self.bounds.loss)
    }

    pub(super) fn value(&self, candidate: usize, sums: &Sums, sink: &Sink) -> Value {
        Value {
            price: if self.req.objective == Objective::Price {
                self.candidate(candidate).price
            } else {
                0.0
            },
            key: path_key(self.req.objective, sums, sink.extra_latency),
        }
    }

    /// Every label of a search at one candidate's sinks that meets the
    /// bounds there, in label order.
    pub(super) fn all_hits(&self, result: &SearchResult, candidate: usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        for sink in &self.candidate(candidate).sinks {
            for label in result.at(sink.router) {
                let l = &result.labels[label as usize];
                let sums = &l.sums;
                let fits = result
                    .limit
                    .is_none_or(|limit| limit.completes(self.t, l, sink.router));
                if fits && self.within_bounds(sums, sink) {
                    let value = self.value(candidate, sums, sink);
                    hits.push(Hit {
                        candidate,
                        sink: *sink,
                        label,
                        value,
                    });
                }
            }
        }
        hits.sort_by_key(|h| h.label);
        hits
    }

    /// The best labels of a search for one candidate: every one tied on value.
    pub(super) fn best_labels(&self, result: &SearchResult, candidate: usize) -> Vec<Hit> {
        let hits = self.all_hits(result, candidate);
        let Some(best) = hits.iter().map(|h| h.value).min_by(|a, b| a.cmp(b)) else {
            return hits;
        };
        hits.into_iter()
            .filter(|h| h.value.cmp(&best).is_eq())
            .collect()
    }

    /// The path of a hit.
    pub(super) fn found_of(&self, result: &SearchResult, hit: &Hit) -> Found {
        let (routers, links) = result.path(hit.label);
        Found {
            candidate: hit.candidate,
            sink: hit.sink,
            path: RoutedPath { routers, links },
            sums: result.labels[hit.label as usize].sums,
            value: hit.value,
        }
    }

    /// A path to a candidate with its sums and value.
    pub fn found(&self, candidate: usize, sink: Sink, path: RoutedPath) -> Found {
        let mut sums = Sums::default();
        for &l in &path.links {
            sums = sums.plus(self.t.link(l));
        }
        Found {
            candidate,
            sink,
            value: self.value(candidate, &sums, &sink),
            sums,
            path,
        }
    }

    /// Encodes a found path as segments.
    pub fn encode(&self, igp: &mut IgpCache, f: &Found) -> Route {
        let dc = self.candidate(f.candidate).datacenter;
        let (routers, links) = (&f.path.routers, &f.path.links);
        let encoded = if self.compress {
            compress::encode(self.t, igp, routers, links, dc)
        } else {
            compress::Encoded {
                segments: encode(self.t, igp, routers, links, dc),
                containers: None,
            }
        };
        Route {
            candidate: f.candidate,
            sink: f.sink,
            path: f.path.clone(),
            sums: f.sums,
            value: f.value,
            segments: encoded.segments,
            containers: encoded.containers,
        }
    }

    /// The order of routes: value, then fewer segments, then data center id,
    /// then router ids along the path.
    pub(super) fn better(&self, a: &Route, b: &Route) -> Ordering {
        let dc = |r: &Route| {
            self.candidate(r.candidate)
                .datacenter
                .map(|d| self.t.datacenter(d).id.clone())
        };
        a.value
            .cmp(&b.value)
            .then(a.depth().cmp(&b.depth()))
            .then_with(|| dc(a).cmp(&dc(b)))
            .then_with(|| a.path.routers.cmp(&b.path.routers))
    }

    pub(super) fn fits(&self, r: &Route) -> bool {
        r.depth() <= usize::from(self.msd)
    }

    /// Per candidate, its best labels from one search.
    pub fn hits(&self, result: &SearchResult) -> Vec<Vec<Hit>> {
        (0..self.pruned.candidates.len())
            .map(|c| self.best_labels(result, c))
            .collect()
    }

    /// The best route over every candidate: best value, then (encoding only
    /// the paths tied on value) fewer segments, then ids.
    pub fn choose(
        &self,
        igp: &mut IgpCache,
        result: &SearchResult,
        ties: &[Vec<Hit>],
        only_fitting: bool,
    ) -> Option<Route> {
        let best = ties
            .iter()
            .flatten()
            .map(|h| h.value)
            .min_by(|a, b| a.cmp(b))?;
        ties.iter()
            .flatten()
            .filter(|h| h.value.cmp(&best).is_eq())
            .map(|h| self.encode(igp, &self.found_of(result, h)))
            .filter(|r| !only_fitting || self.fits(r))
            .min_by(|a, b| self.better(a, b))
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The best value of each candidate, if it has a path.
pub(super) fn best_values(ties: &[Vec<Hit>]) -> Vec<Option<Value>> {
    ties.iter().map(|t| t.first().map(|h| h.value)).collect()
}

/// The best route of a search from the headend (with `banned` routers and
/// links kept out): the best path overall when it fits the MSD, else the
/// best that fits.
pub(super) struct Best {
    /// The route.
    pub route: Route,
    /// Per candidate, its best labels in the search the route came from.
    pub ties: Vec<Vec<Hit>>,
    /// That search.
    pub result: SearchResult,
    /// The segments the best path overall needs, when it does not fit.
    pub over_msd: Option<usize>,
}

/// Why no route was found: what explains every candidate.
pub(super) struct Nothing {
    values: Vec<Option<Value>>,
    truncated: bool,
    /// Per candidate, the segments its best path needs, when paths exist
    /// but none fits the MSD.
    needed: Option<Vec<Option<usize>>>,
}

impl Nothing {
    /// The candidates' reasons.
    pub fn reasons<'c, 'a>(self, ctx: &'c Ctx<'a>) -> Reasons<'c, 'a> {
        let reasons = Reasons::new(ctx, self.values, self.truncated);
        match self.needed {
            Some(needed) => reasons.msd_exceeded(needed),
            None => reasons,
        }
    }
}

/// See [`Best`].
pub(super) fn best(
    ctx: &Ctx<'_>,
    igp: &mut IgpCache,
    banned: Option<(&[bool], &[bool])>,
) -> Result<Best, Nothing> {
    let result = ctx.search(igp, None, banned);
    let unlimited = ctx.hits(&result);
    let Some(best) = ctx.choose(igp, &result, &unlimited, false) else {
        return Err(Nothing {
            values: best_values(&unlimited),
            truncated: result.truncated,
            needed: None,
        });
    };
    if ctx.fits(&best) {
        return Ok(Best {
            route: best,
            ties: unlimited,
            result,
            over_msd: None,
        });
    }
    let within = ctx.search(igp, Some(ctx.segment_limit()), banned);
    let fitting = ctx.hits(&within);
    match ctx.choose(igp, &within, &fitting, true) {
        Some(route) => Ok(Best {
            route,
            ties: fitting,
            result: within,
            over_msd: Some(best.depth()),
        }),
        None => Err(Nothing {
            needed: Some(
                unlimited
                    .iter()
                    .map(|t| {
                        t.first()
                            .map(|h| ctx.encode(igp, &ctx.found_of(&result, h)).depth())
                    })
                    .collect(),
            ),
            values: best_values(&fitting),
            truncated: within.truncated,
        }),
    }
}

/// Answers one query.
pub(super) fn place(
    t: &Topology,
    req: &PathRequest,
    igp: &mut IgpCache,
) -> Result<PathAnswer, QueryError> {
    prune::validate(t, req)?;
    let graph = igp.graph(t);
    let pruned = prune::prune(t, &graph, req);
    if let Some(why) = prune::router_refusal(t, req, req.from) {
        let message = format!("no feasible placement: headend {why}");
        let rejected = explain::all_static(t, &pruned, &format!("headend {why}"));
        return Err(NoPlacement { message, rejected }.into());
    }
    let ctx = Ctx::new(t, graph, req, pruned);
    let found = match best(&ctx, igp, None) {
        Ok(found) => found,
        Err(nothing) => return Err(explain::no_placement(&ctx, &nothing.reasons(&ctx)).into()),
    };
    let mut notes = Vec::new();
    if let Some(needed) = found.over_msd {
        notes.push(format!(
            "the best path needs {needed} segments, more than the msd {} of headend {}; this is the best path that fits",
            ctx.msd,
            t.router(req.from).id
        ));
    }
    let Best {
        route: mut chosen,
        ties,
        result: used,
        ..
    } = found;

    // A standby first (the primary is the best one that has a standby),
    // then the backup of that primary.
    let mut standby = None;
    if req.standby != Standby::None {
        let outcome = standby::place(&ctx, igp, chosen, &used, &ties);
        chosen = outcome.primary;
        notes.extend(outcome.note);
        standby = Some(StandbyAnswer {
            placement: outcome.standby,
            rejected: outcome.rejected,
        });
    }
    let mut backup = None;
    if req.protection != Protection::None {
        let (primary, found, note) = if standby.is_some() {
            protect::partner_of(&ctx, igp, chosen)
        } else {
            protect::protect(&ctx, igp, chosen, &used, &ties)
        };
        chosen = primary;
        backup = found;
        notes.extend(note);
    }

    let reasons = Reasons::new(&ctx, best_values(&ties), used.truncated);
    let rejected = explain::rejections(&ctx, &reasons, Some(&chosen));
    Ok(PathAnswer {
        headend: req.from,
        primary: placement(&ctx, &chosen),
        backup: backup.map(|b| placement(&ctx, &b)),
        standby,
        rejected,
        notes,
    })
}

/// The answer's form of a route.
pub(super) fn placement(ctx: &Ctx<'_>, r: &Route) -> Placement {
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
        containers: r.containers.clone(),
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
