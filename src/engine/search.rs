//! Exact constrained path search: label-setting with Pareto dominance over
//! the bounded resources, lower-bound pruning from reverse Dijkstra, and an
//! optional segment-aware mode that counts SRv6 segments as it goes (used
//! when the best path does not fit the headend's MSD).
//!
//! Labels are processed in increasing (objective, first tie-break) order, so
//! the first labels to settle at a router are the best ones; the search runs
//! to exhaustion so that every sink (every data center gateway) gets its own
//! best label: one search answers for all candidate data centers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::{Arc, SearchGraph};
use super::igp::IgpCache;
use super::request::Objective;
use crate::model::{Link, LinkIx, RouterIx, Topology};

use super::frontier::{BinaryFrontier, Frontier, RadixHeap, radix_for};
pub use super::labels::Label;
use super::labels::{Dims, KeyOnly, NONE, try_insert, whole_entries};

/// Unreachable in a distance table.
pub const INF: u64 = u64::MAX;
/// Labels one search may create before it gives up (memory bound).
pub const MAX_LABELS: usize = 4_000_000;

/// Which routers and links a request may use.
#[derive(Clone, Debug)]
pub struct Masks {
    /// Per router.
    pub router_ok: Vec<bool>,
    /// Per link.
    pub link_ok: Vec<bool>,
}

/// Sums of link attributes along a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// Latency, microseconds.
    pub latency: u64,
    /// IGP metric.
    pub igp: u64,
    /// TE metric.
    pub te: u64,
    /// Jitter, microseconds.
    pub jitter: u64,
    /// Loss, ppm.
    pub loss: u64,
    /// Links.
    pub hops: u32,
}

impl Sums {
    /// These sums plus one arc of the search graph.
    pub fn plus_arc(&self, a: &Arc) -> Sums {
        Sums {
            latency: self.latency + a.latency,
            igp: self.igp + u64::from(a.igp),
            te: self.te + u64::from(a.te),
            jitter: self.jitter + a.jitter,
            loss: self.loss + a.loss,
            hops: self.hops + 1,
        }
    }

    /// These sums plus one link.
    pub fn plus(&self, l: &Link) -> Sums {
        Sums {
            latency: self.latency + l.latency_us,
            igp: self.igp + u64::from(l.igp),
            te: self.te + u64::from(l.te),
            jitter: self.jitter + l.jitter_us,
            loss: self.loss + l.loss_ppm,
            hops: self.hops + 1,
        }
    }
}

/// The order of paths for an objective, with `extra` latency at the end (a
/// data center's): (objective, first tie-break). For `price` the path part is
/// ordered by latency; the price itself is per data center.
pub fn path_key(objective: Objective, s: &Sums, extra_latency: u64) -> (u64, u64) {
    let latency = s.latency + extra_latency;
    match objective {
        Objective::Latency => (latency, s.igp),
        Objective::Igp => (s.igp, latency),
        Objective::Te => (s.te, latency),
        Objective::Price => (latency, 0),
    }
}

/// Path bounds; latency includes the sink's extra latency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Max latency.
    pub latency: Option<u64>,
    /// Max jitter.
    pub jitter: Option<u64>,
    /// Max loss.
    pub loss: Option<u64>,
}

/// Where a path may end: a router, with extra latency after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sink {
    /// The last router.
    pub router: RouterIx,
    /// Latency added after the router (a data center's).
    pub extra_latency: u64,
}

/// Lower bounds to the sinks, per bounded resource; `None` = not computed.
#[derive(Clone, Debug, Default)]
pub struct LowerBounds {
    /// Latency to the nearest sink, including its extra latency.
    pub latency: Option<Vec<u64>>,
    /// Jitter to the nearest sink.
    pub jitter: Option<Vec<u64>>,
    /// Loss to the nearest sink.
    pub loss: Option<Vec<u64>>,
}

/// Segment-aware search: paths must be encodable within `msd` segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentLimit {
    /// The headend's maximum SID depth (the final End.DT6 counts).
    pub msd: u8,
    /// With compression: the units of one SRH entry, a common multiple of
    /// every block's micro-SIDs per container (a micro-SID of a block with
    /// `k` per container costs `entry / k`, a full SID or a started
    /// container a whole entry). The search then counts entries exactly,
    /// across blocks too. `None`: full SIDs only, one unit each.
    pub entry_units: Option<u16>,
}

impl SegmentLimit {
    /// Units of one SRH entry.
    pub(super) fn entry(&self) -> u16 {
        self.entry_units.unwrap_or(1)
    }

    /// The most units a path may use.
    fn budget(&self) -> u16 {
        u16::from(self.msd) * self.entry()
    }

    /// `(units, open block)` after one more micro-SID of router `r`'s
    /// block; `None` when `r` takes none (or compression is off).
    fn micro(&self, t: &Topology, r: RouterIx, segs: u16, block: u16) -> Option<(u16, u16)> {
        let entry = self.entry_units?;
        let k = t.csid_block(r)?.per_container() as u16;
        let own = t.router(r).operator.0 + 1;
        let cost = (entry / k).max(1);
        Some(if own == block && !segs.is_multiple_of(entry) {
            (segs + cost, own)
        } else {
            (whole_entries(segs, entry) + cost, own)
        })
    }

    /// `(units, open block)` after one full SID.
    fn full(&self, segs: u16) -> (u16, u16) {
        (whole_entries(segs, self.entry()) + self.entry(), 0)
    }

    /// Units of a path ending at `label` (at `sink`) with its End.DT6: a
    /// uDT6 (after a uN when a stretch is open) or a full SID.
    pub(super) fn with_tail(&self, t: &Topology, label: &Label, sink: RouterIx) -> u16 {
        let (segs, block) = (label.segs, label.block);
        let micro = if label.pending {
            self.micro(t, sink, segs, block)
                .and_then(|(s, b)| self.micro(t, sink, s, b))
        } else {
            self.micro(t, sink, segs, block)
        };
        micro.unwrap_or_else(|| self.full(segs)).0
    }

    /// True when a path ending at `label` (at `sink`) fits the MSD.
    pub fn completes(&self, t: &Topology, label: &Label, sink: RouterIx) -> bool {
        self.with_tail(t, label, sink) <= self.budget()
    }
}

/// One search's inputs.
pub struct SearchInput<'a> {
    /// The topology.
    pub t: &'a Topology,
    /// Its compact graph.
    pub graph: &'a SearchGraph,
    /// Usable routers and links.
    pub masks: &'a Masks,
    /// Order of paths.
    pub objective: Objective,
    /// Bounds.
    pub bounds: Bounds,
    /// Lower bounds for pruning.
    pub lower: &'a LowerBounds,
    /// Start router.
    pub source: RouterIx,
    /// Sums already spent before the start router (a path prefix).
    pub start: Sums,
    /// Routers this search must not enter (besides the masks).
    pub banned_routers: &'a [bool],
    /// Links this search must not cross (besides the masks).
    pub banned_links: &'a [bool],
    /// Count segments (slower; for the MSD fallback).
    pub segments: Option<SegmentLimit>,
    /// The routers where paths may end. When labels compare by key alone,
    /// the search stops once all of them are settled (and no tie remains).
    pub sinks: &'a [RouterIx],
}

/// Every label of a finished search.
pub struct SearchResult {
    /// All labels (dead ones included).
    pub labels: Vec<Label>,
    head: Vec<u32>,
    /// True when the search stopped at [`MAX_LABELS`].
    pub truncated: bool,
    /// The segment limit it searched under, if any.
    pub limit: Option<SegmentLimit>,
}

/// Runs one search. `igp` is used only in segment mode.
pub fn search(input: &SearchInput<'_>, igp: &mut IgpCache) -> SearchResult {
    if radix_for(input.t.router_count()) {
        search_on(input, igp, RadixHeap::new())
    } else {
        search_on(input, igp, BinaryFrontier::default())
    }
}

/// [`search`] with labels queued in `heap` (empty).
fn search_on<F: Frontier>(
    input: &SearchInput<'_>,
    igp: &mut IgpCache,
    mut heap: F,
) -> SearchResult {
    let t = input.t;
    let n = t.router_count();
    let key_is_latency = matches!(input.objective, Objective::Latency | Objective::Price);
    let dims = Dims {
        latency: input.bounds.latency.is_some() && !key_is_latency,
        jitter: input.bounds.jitter.is_some(),
        loss: input.bounds.loss.is_some(),
        segments: input.segments.is_some(),
        entry: input.segments.map_or(1, |l| l.entry()),
        loops: input.segments.is_none()
            && match input.objective {
                Objective::Latency | Objective::Igp => input.graph.zero.latency_igp,
                Objective::Te => input.graph.zero.latency_te,
                Objective::Price => input.graph.zero.latency,
            },
    };
    let key = |l: &Label| path_key(input.objective, &l.sums, 0);
    let mut labels: Vec<Label> = Vec::with_capacity(n.min(1 << 16));
    let mut head = vec![NONE; n];
    // Labels compared by key alone need no dominance walk (see `KeyOnly`).
    let mut key_only = dims.key_only().then(|| KeyOnly::new(n));
    let mut truncated = false;

    let start = Label {
        node: input.source.index() as u32,
        pred: NONE,
        link: NONE,
        sums: input.start,
        next_at_node: NONE,
        alive: true,
        anchor: input.source.index() as u32,
        segs: 0,
        pending: false,
        block: 0,
    };
    match &mut key_only {
        Some(k) => {
            k.admit(&mut labels, &mut head, false, key(&start), start);
        }
        None => {
            labels.push(start);
            head[input.source.index()] = 0;
        }
    }
    heap.push(key(&start), 0, start.node);

    let within = |s: &Sums, w: usize| -> bool {
        let check = |value: u64, bound: Option<u64>, lower: &Option<Vec<u64>>| match bound {
            None => true,
            Some(max) => {
                let lb = lower.as_ref().map_or(0, |v| v[w]);
                lb != INF && value + lb <= max
            }
        };
        check(s.latency, input.bounds.latency, &input.lower.latency)
            && check(s.jitter, input.bounds.jitter, &input.lower.jitter)
            && check(s.loss, input.bounds.loss, &input.lower.loss)
    };

    // Early stop (key-only): sinks not yet settled, and the worst key a
    // settled sink had.
    let mut is_sink = vec![false; if key_only.is_some() { n } else { 0 }];
    let mut unsettled = 0usize;
    if key_only.is_some() {
        for s in input.sinks {
            if !is_sink[s.index()] {
                is_sink[s.index()] = true;
                unsettled += 1;
            }
        }
    }
    let mut last_sink_key = (0u64, 0u64);
    while let Some((popped_key, idx, node)) = heap.pop() {
        if let Some(k) = &key_only {
            if !k.current(node as usize, popped_key) {
                continue;
            }
            if unsettled == 0 && popped_key > last_sink_key {
                break;
            }
            let u = node as usize;
            if is_sink[u] {
                is_sink[u] = false;
                unsettled -= 1;
                last_sink_key = popped_key;
            }
        }
        let label = labels[idx as usize];
        if !label.alive {
            continue;
        }
        let u = RouterIx::new(label.node as usize);
        for arc in input.graph.arcs(u) {
            let (w, l) = (arc.to as usize, arc.link as usize);
            if !input.masks.link_ok[l]
                || !input.masks.router_ok[w]
                || input.banned_links[l]
                || input.banned_routers[w]
            {
                continue;
            }
            let sums = label.sums.plus_arc(arc);
            if let Some(k) = &key_only
                && k.beaten(w, path_key(input.objective, &sums, 0))
            {
                continue;
            }
            if !within(&sums, w) {
                continue;
            }
            let candidate = Label {
                node: w as u32,
                pred: idx,
                link: l as u32,
                sums,
                next_at_node: NONE,
                alive: true,
                anchor: w as u32,
                segs: label.segs,
                pending: false,
                block: label.block,
            };
            let mut q = Queue {
                labels: &mut labels,
                head: &mut head,
                heap: &mut heap,
                dims: &dims,
                key: &key,
                key_only: key_only.as_mut(),
            };
            match input.segments {
                None => q.push(candidate),
                Some(limit) => {
                    relax_counting_segments(&mut q, t, igp, &label, arc, candidate, limit)
                }
            }
            if labels.len() >= MAX_LABELS {
                truncated = true;
                heap.clear();
                break;
            }
        }
    }
    SearchResult {
        labels,
        head,
        truncated,
        limit: input.segments,
    }
}

/// The labels of a search, and the heap of those still to extend.
struct Queue<'q, F> {
    labels: &'q mut Vec<Label>,
    head: &'q mut [u32],
    heap: &'q mut F,
    dims: &'q Dims,
    key: &'q dyn Fn(&Label) -> (u64, u64),
    key_only: Option<&'q mut KeyOnly>,
}

impl<F: Frontier> Queue<'_, F> {
    /// Adds `candidate` unless a label at its router dominates it, and
    /// queues it.
    fn push(&mut self, candidate: Label) {
        let k = (self.key)(&candidate);
        let added = match &mut self.key_only {
            Some(best) => best.admit(self.labels, self.head, self.dims.loops, k, candidate),
            None => try_insert(self.labels, self.head, self.dims, self.key, candidate),
        };
        if added {
            let idx = (self.labels.len() - 1) as u32;
            self.heap.push(k, idx, candidate.node);
        }
    }
}

/// Segment mode: extends `label` over `arc` in the ways a segment list can
/// carry it (the IGP continuing the open stretch, or an End.X closing it),
/// within the MSD; simple paths only (`try_insert` refuses the others).
fn relax_counting_segments<F: Frontier>(
    q: &mut Queue<'_, F>,
    t: &Topology,
    igp: &mut IgpCache,
    label: &Label,
    arc: &Arc,
    mut candidate: Label,
    limit: SegmentLimit,
) {
    let budget = limit.budget();
    // Every path ends with an End.DT6 (of its data center or its router):
    // at least one unit.
    let tail = 1;
    // Keep the stretch from the anchor going when the IGP takes it over this
    // link uniquely; closing it later costs one segment (an End, or the
    // final End.DT6).
    let anchor = RouterIx::new(label.anchor as usize);
    if label.segs < budget
        && igp.tree(t, anchor).unique_last_link(arc.router()) == Some(arc.link_ix())
    {
        candidate.anchor = label.anchor;
        candidate.pending = true;
        q.push(candidate);
    }
    let u = RouterIx::new(label.node as usize);
    let un = limit.micro(t, u, label.segs, label.block);
    // With compression a uN here (one micro-SID) may restart the stretch
    // from this router, where a full End.X would cost a whole entry.
    // (Uncompressed, the End.X below is never worse.)
    if let Some((segs, block)) = un
        && label.pending
        && segs < budget
        && igp.tree(t, u).unique_last_link(arc.router()) == Some(arc.link_ix())
    {
        candidate.anchor = label.node;
        candidate.pending = true;
        (candidate.segs, candidate.block) = (segs, block);
        q.push(candidate);
    }
    // End.X at the label's router over this link: one segment; with
    // compression the local uA, after a uN to get here when a stretch is
    // open (a micro-SID never costs more than a full SID).
    let ua = if label.pending {
        un.and_then(|(s, b)| limit.micro(t, u, s, b))
    } else {
        un
    };
    candidate.anchor = candidate.node;
    candidate.pending = false;
    (candidate.segs, candidate.block) = ua.unwrap_or_else(|| limit.full(label.segs));
    if candidate.segs + tail <= budget {
        q.push(candidate);
    }
}

impl SearchResult {
    /// Labels at a router (alive ones: the Pareto set), in no set order.
    pub fn at(&self, r: RouterIx) -> impl Iterator<Item = u32> + '_ {
        let mut i = self.head[r.index()];
        std::iter::from_fn(move || {
            while i != NONE {
                let cur = i;
                let l = &self.labels[cur as usize];
                i = l.next_at_node;
                if l.alive {
                    return Some(cur);
                }
            }
            None
        })
    }

    /// The routers and links of a label's path, from the start.
    pub fn path(&self, mut idx: u32) -> (Vec<RouterIx>, Vec<LinkIx>) {
        let mut routers = Vec::new();
        let mut links = Vec::new();
        while idx != NONE {
            let l = &self.labels[idx as usize];
            routers.push(RouterIx::new(l.node as usize));
            if l.link != NONE {
                links.push(LinkIx::new(l.link as usize));
            }
            idx = l.pred;
        }
        routers.reverse();
        links.reverse();
        (routers, links)
    }
}

/// Dijkstra from several sources at once over usable routers and links, with
/// a per-arc weight; `init` gives each source's starting distance.
pub fn dijkstra(
    graph: &SearchGraph,
    masks: &Masks,
    init: &[(RouterIx, u64)],
    weight: impl Fn(&Arc) -> u64,
) -> Vec<u64> {
    let mut dist = vec![INF; graph.router_count()];
    let mut heap = BinaryHeap::new();
    for &(r, d) in init {
        if masks.router_ok[r.index()] && d < dist[r.index()] {
            dist[r.index()] = d;
            heap.push(Reverse((d, r.index() as u32)));
        }
    }
    while let Some(Reverse((d, u))) = heap.pop() {
        if d > dist[u as usize] {
            continue;
        }
        for arc in graph.arcs(RouterIx::new(u as usize)) {
            let (w, l) = (arc.to as usize, arc.link as usize);
            if !masks.link_ok[l] || !masks.router_ok[w] {
                continue;
            }
            let nd = d + weight(arc);
            if nd < dist[w] {
                dist[w] = nd;
                heap.push(Reverse((nd, w as u32)));
            }
        }
    }
    dist
}
