//! Disjoint backup paths: Suurballe's algorithm (Bhandari's form) for a
//! link- or node-disjoint pair to one data center through any of its
//! gateways, a checker for every protection kind, and the searches that
//! use them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::request::{Objective, Protection};
use super::search::{INF, Masks, Sink};
use crate::model::{Link, LinkIx, RouterIx, Topology};

/// A path as routers and the links between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutedPath {
    /// Routers, headend first.
    pub routers: Vec<RouterIx>,
    /// Links, `links[i]` joins `routers[i]` and `routers[i+1]`.
    pub links: Vec<LinkIx>,
}

/// True when `backup` shares nothing with `primary` that `protection` forbids.
/// Node protection allows the headend and a common endpoint; SRLG protection
/// forbids common links and common shared-risk groups. A path is never its
/// own backup.
pub fn disjoint(
    t: &Topology,
    protection: Protection,
    primary: &RoutedPath,
    backup: &RoutedPath,
) -> bool {
    if protection == Protection::None {
        return true;
    }
    // A path is no backup of itself (two link-less paths at the headend).
    if primary == backup || primary.links.iter().any(|l| backup.links.contains(l)) {
        return false;
    }
    match protection {
        Protection::None | Protection::Link => true,
        Protection::Node => {
            let head = primary.routers[0];
            let common_end = primary.routers.last() == backup.routers.last();
            let end = *primary.routers.last().expect("paths are not empty");
            backup
                .routers
                .iter()
                .all(|r| *r == head || (common_end && *r == end) || !primary.routers.contains(r))
        }
        Protection::Srlg => {
            let groups: Vec<u32> = primary
                .links
                .iter()
                .flat_map(|&l| t.link(l).srlg.iter().copied())
                .collect();
            backup
                .links
                .iter()
                .all(|&l| t.link(l).srlg.iter().all(|g| !groups.contains(g)))
        }
    }
}

/// Routers and links a backup of `primary` must not use, as masks over the
/// topology (the endpoint stays usable as an endpoint for node protection;
/// the checker refuses it as a transit).
pub fn bans(t: &Topology, protection: Protection, primary: &RoutedPath) -> (Vec<bool>, Vec<bool>) {
    let mut routers = vec![false; t.router_count()];
    let mut links = vec![false; t.link_count()];
    for &l in &primary.links {
        links[l.index()] = true;
    }
    match protection {
        Protection::Node => {
            let transit = primary.routers.len().saturating_sub(1);
            for &r in primary.routers.iter().take(transit).skip(1) {
                routers[r.index()] = true;
            }
        }
        Protection::Srlg => {
            let groups: Vec<u32> = primary
                .links
                .iter()
                .flat_map(|&l| t.link(l).srlg.iter().copied())
                .collect();
            for (ix, link) in t.links() {
                if link.srlg.iter().any(|g| groups.contains(g)) {
                    links[ix.index()] = true;
                }
            }
        }
        _ => {}
    }
    (routers, links)
}

/// The additive weight Suurballe minimizes for an objective.
fn weight(objective: Objective, l: &Link) -> u64 {
    match objective {
        Objective::Latency | Objective::Price => l.latency_us,
        Objective::Igp => u64::from(l.igp),
        Objective::Te => u64::from(l.te),
    }
}

#[derive(Clone, Copy, Debug)]
struct Arc {
    from: u32,
    to: u32,
    w: u64,
    /// The link this arc crosses, if any (split and sink arcs have none).
    link: u32,
}

const NO_LINK: u32 = u32::MAX;

/// A directed graph of arcs built from the usable part of the topology.
struct ArcGraph {
    nodes: usize,
    arcs: Vec<Arc>,
    out: Vec<Vec<u32>>,
    source: u32,
    sink: u32,
    /// Maps a graph node back to a router, or `u32::MAX`.
    router_of: Vec<u32>,
}

impl ArcGraph {
    fn add(&mut self, from: u32, to: u32, w: u64, link: u32) {
        self.out[from as usize].push(self.arcs.len() as u32);
        self.arcs.push(Arc { from, to, w, link });
    }

    /// Link mode: a node per router. Node mode: `in = r`, `out = n + r`
    /// joined by a zero arc, so a router carries one path at most; the
    /// headend starts at its out node, and gateways end at the sink from their
    /// in node.
    fn build(
        t: &Topology,
        masks: &Masks,
        objective: Objective,
        source: RouterIx,
        sinks: &[Sink],
        split: bool,
    ) -> ArcGraph {
        let n = t.router_count();
        let nodes = if split { 2 * n + 1 } else { n + 1 };
        let mut g = ArcGraph {
            nodes,
            arcs: Vec::new(),
            out: vec![Vec::new(); nodes],
            source: if split {
                (n + source.index()) as u32
            } else {
                source.index() as u32
            },
            sink: (nodes - 1) as u32,
            router_of: (0..nodes)
                .map(|i| {
                    if i < n {
                        i as u32
                    } else if split && i < 2 * n {
                        (i - n) as u32
                    } else {
                        u32::MAX
                    }
                })
                .collect(),
        };
        let out_of = |r: usize| if split { (n + r) as u32 } else { r as u32 };
        if split {
            for r in 0..n {
                if masks.router_ok[r] && r != source.index() {
                    g.add(r as u32, (n + r) as u32, 0, NO_LINK);
                }
            }
        }
        for (ix, link) in t.links() {
            if !masks.link_ok[ix.index()] {
                continue;
            }
            let (a, b) = t.link_ends(ix);
            let w = weight(objective, link);
            g.add(out_of(a.index()), b.index() as u32, w, ix.index() as u32);
            g.add(out_of(b.index()), a.index() as u32, w, ix.index() as u32);
        }
        for s in sinks {
            let w = match objective {
                Objective::Latency | Objective::Price => s.extra_latency,
                _ => 0,
            };
            // Two arcs: both paths may end at the same gateway.
            let from = if s.router == source {
                out_of(s.router.index())
            } else {
                s.router.index() as u32
            };
            g.add(from, g.sink, w, NO_LINK);
            g.add(from, g.sink, w, NO_LINK);
        }
        g
    }

    /// Dijkstra over arcs not in `removed`, with reduced weights when
    /// `potential` is given; reversed arcs (`reversed`) cost 0 and go backward.
    fn shortest(
        &self,
        removed: &[bool],
        reversed: &[bool],
        potential: Option<&[u64]>,
    ) -> (Vec<u64>, Vec<(u32, bool)>) {
        let mut dist = vec![INF; self.nodes];
        let mut pred = vec![(u32::MAX, false); self.nodes];
        let mut heap = BinaryHeap::new();
        dist[self.source as usize] = 0;
        heap.push(Reverse((0u64, self.source)));
        let reduced = |a: &Arc| -> u64 {
            match potential {
                Some(p) => a.w + p[a.from as usize] - p[a.to as usize],
                None => a.w,
            }
        };
        // Reversed arcs by their head: walking them backward leaves `to`.
        let mut back: Vec<Vec<u32>> =
            vec![Vec::new(); if potential.is_some() { self.nodes } else { 0 }];
        if potential.is_some() {
            for (i, a) in self.arcs.iter().enumerate() {
                if reversed[i] {
                    back[a.to as usize].push(i as u32);
                }
            }
        }
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u as usize] {
                continue;
            }
            for &ai in &self.out[u as usize] {
                let a = &self.arcs[ai as usize];
                if removed[ai as usize] || reversed[ai as usize] {
                    continue;
                }
                if potential.is_some_and(|p| p[a.to as usize] == INF) {
                    continue;
                }
                let nd = d + reduced(a);
                if nd < dist[a.to as usize] {
                    dist[a.to as usize] = nd;
                    pred[a.to as usize] = (ai, false);
                    heap.push(Reverse((nd, a.to)));
                }
            }
            if potential.is_some() {
                for &ai in &back[u as usize] {
                    let a = &self.arcs[ai as usize];
                    let nd = d; // reduced weight of a shortest-path arc is 0
                    if nd < dist[a.from as usize] {
                        dist[a.from as usize] = nd;
                        pred[a.from as usize] = (ai, true);
                        heap.push(Reverse((nd, a.from)));
                    }
                }
            }
        }
        (dist, pred)
    }

    /// Arcs of the path to `node` from a predecessor table.
    fn arcs_to(&self, pred: &[(u32, bool)], mut node: u32) -> Vec<(u32, bool)> {
        let mut arcs = Vec::new();
        while node != self.source {
            let (ai, backward) = pred[node as usize];
            arcs.push((ai, backward));
            let a = &self.arcs[ai as usize];
            node = if backward { a.to } else { a.from };
        }
        arcs.reverse();
        arcs
    }
}

/// Suurballe/Bhandari: the pair of disjoint paths of least total weight from
/// `source` to any of `sinks` (link-disjoint, or node-disjoint with `split`),
/// or `None` when no disjoint pair exists in the usable graph.
pub fn suurballe(
    t: &Topology,
    masks: &Masks,
    objective: Objective,
    source: RouterIx,
    sinks: &[Sink],
    split: bool,
) -> Option<(RoutedPath, RoutedPath)> {
    let g = ArcGraph::build(t, masks, objective, source, sinks, split);
    let none = vec![false; g.arcs.len()];
    let (dist, pred) = g.shortest(&none, &none, None);
    if dist[g.sink as usize] == INF {
        return None;
    }
    let first = g.arcs_to(&pred, g.sink);
    // Residual graph: the first path's arcs point backward at zero cost.
    let mut reversed = vec![false; g.arcs.len()];
    for &(ai, _) in &first {
        reversed[ai as usize] = true;
    }
    let (dist2, pred2) = g.shortest(&none, &reversed, Some(&dist));
    if dist2[g.sink as usize] == INF {
        return None;
    }
    let second = g.arcs_to(&pred2, g.sink);
    // Arcs used by exactly one of the two paths, forward: the first path's,
    // less those the second cancels, plus the second's.
    let mut used = reversed;
    for &(ai, backward) in &second {
        // A backward step cancels the first path's arc.
        used[ai as usize] = !backward;
    }
    let mut paths = Vec::new();
    for _ in 0..2 {
        let mut node = g.source;
        let mut routers = vec![source];
        let mut links = Vec::new();
        while node != g.sink {
            let ai = *g.out[node as usize].iter().find(|&&ai| used[ai as usize])?;
            used[ai as usize] = false;
            let a = g.arcs[ai as usize];
            if a.link != NO_LINK {
                links.push(LinkIx::new(a.link as usize));
                routers.push(RouterIx::new(g.router_of[a.to as usize] as usize));
            }
            node = a.to;
        }
        paths.push(RoutedPath { routers, links });
    }
    let second = paths.pop()?;
    let first = paths.pop()?;
    Some((first, second))
}
