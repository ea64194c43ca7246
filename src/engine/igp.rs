//! IGP shortest-path trees, one per (operator, source router), with the
//! number of shortest paths to each router (saturating at 2), so that "is this
//! stretch of path the unique IGP shortest path" is a walk up the tree.
//!
//! A tree covers the routers of the source's operator over intra-operator
//! links that are up, between routers that are up: what that operator's IGP
//! computes. Request constraints play no part: they do not change where the
//! network forwards a packet.
//!
//! Trees are cached per source across queries and dropped when the topology's
//! IGP key changes (a link or router went up or down, a metric moved).
//!
//! Encoding a path asks only how far the IGP from one router follows it,
//! which is usually a small ball around that router; such questions get a
//! partial tree, complete up to an IGP radius, grown (by computing it again,
//! farther) when a later question needs more. A partial tree's routers within
//! its radius have exactly the entries of the whole tree: Dijkstra stopped
//! after the last distance within the radius has made exactly the pops, and
//! so the relaxations, the whole run makes up to there.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use super::graph::SearchGraph;
use crate::model::{LinkIx, RouterIx, Topology};

const NONE: u32 = u32::MAX;
/// A router beyond a partial tree's radius: its entry is not known.
const UNSETTLED: u32 = u32::MAX - 1;
/// The radius of a whole tree.
const WHOLE: u64 = u64::MAX;
/// Routers of a path a first partial tree covers (by IGP distance along the
/// path); a question beyond it grows the tree to at least twice its radius.
const FIRST_HOPS: usize = 8;

/// Routers of each operator, and each router's place among them.
#[derive(Debug)]
struct OperatorIndex {
    /// Per router: its operator.
    operator: Vec<u16>,
    /// Per router: its index among its operator's routers.
    local: Vec<u32>,
    /// Per operator: how many routers.
    size: Vec<u32>,
}

impl OperatorIndex {
    fn new(graph: &SearchGraph) -> Self {
        let operators = graph
            .operator
            .iter()
            .map(|&o| usize::from(o) + 1)
            .max()
            .unwrap_or(0);
        let mut size = vec![0u32; operators];
        let local = graph
            .operator
            .iter()
            .map(|&o| {
                let c = &mut size[usize::from(o)];
                *c += 1;
                *c - 1
            })
            .collect();
        OperatorIndex {
            operator: graph.operator.clone(),
            local,
            size,
        }
    }
}

/// The IGP shortest-path tree of one operator from one source router.
#[derive(Debug)]
pub struct IgpTree {
    source: RouterIx,
    operator: u16,
    index: Arc<OperatorIndex>,
    /// Per router of the operator (local index): the last link of its
    /// shortest path when that path is unique, else `NONE` (also for the
    /// source and unreachable routers; `UNSETTLED` beyond a partial tree's
    /// radius). Four bytes per router, so that many trees fit in the cache.
    unique_pred: Vec<u32>,
    /// Every router at most this IGP distance from the source has its final
    /// entry; `WHOLE` for a whole tree.
    radius: u64,
}

impl IgpTree {
    /// The source router.
    pub fn source(&self) -> RouterIx {
        self.source
    }

    fn slot(&self, r: RouterIx) -> Option<usize> {
        (self.index.operator[r.index()] == self.operator)
            .then(|| self.index.local[r.index()] as usize)
    }

    /// The last link of the shortest path to `r` when that path is unique
    /// (and `r` is not the source).
    pub fn unique_last_link(&self, r: RouterIx) -> Option<LinkIx> {
        let p = self.unique_pred[self.slot(r)?];
        (p != NONE && p != UNSETTLED).then(|| LinkIx::new(p as usize))
    }
}

/// Dijkstra from `source` over its operator's IGP, stopped once every router
/// within `radius` is settled.
fn compute(
    graph: &SearchGraph,
    index: Arc<OperatorIndex>,
    source: RouterIx,
    radius: u64,
) -> IgpTree {
    let operator = index.operator[source.index()];
    let size = index.size[usize::from(operator)] as usize;
    let mut dist = vec![u64::MAX; size];
    let mut pred = vec![NONE; size];
    // Number of shortest paths, saturating at 2.
    let mut count = vec![0u8; size];
    if graph.router_up[source.index()] {
        let local = &index.local;
        let s = local[source.index()] as usize;
        dist[s] = 0;
        count[s] = 1;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((0u64, source.index() as u32)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > radius {
                break;
            }
            let su = local[u as usize] as usize;
            if d > dist[su] {
                continue;
            }
            // Arcs of the graph are up, between up routers; `intra` keeps the
            // operator's own IGP.
            for arc in graph.arcs(RouterIx::new(u as usize)) {
                if !arc.intra {
                    continue;
                }
                let sw = local[arc.to as usize] as usize;
                let nd = d + u64::from(arc.igp);
                if nd < dist[sw] {
                    dist[sw] = nd;
                    pred[sw] = arc.link;
                    count[sw] = count[su];
                    heap.push(Reverse((nd, arc.to)));
                } else if nd == dist[sw] {
                    count[sw] = (count[sw] + count[su]).min(2);
                }
            }
        }
    }
    let unique_pred = pred
        .iter()
        .zip(&count)
        .zip(&dist)
        .map(|((&p, &c), &d)| match () {
            _ if radius != WHOLE && d > radius => UNSETTLED,
            _ if c == 1 => p,
            _ => NONE,
        })
        .collect();
    IgpTree {
        source,
        operator,
        index,
        unique_pred,
        radius,
    }
}

/// The compact graph and the trees by source, valid for one IGP key; least
/// recently used trees are dropped first.
#[derive(Debug)]
pub struct IgpCache {
    key: (u64, u64),
    graph: Option<Arc<SearchGraph>>,
    index: Option<Arc<OperatorIndex>>,
    trees: HashMap<RouterIx, (Arc<IgpTree>, u64)>,
    clock: u64,
    capacity: usize,
    /// Trees computed since the cache was made (for tests and metrics).
    pub computed: u64,
}

impl IgpCache {
    /// A cache holding at most `capacity` trees.
    pub fn new(capacity: usize) -> Self {
        IgpCache {
            key: (0, 0),
            graph: None,
            index: None,
            trees: HashMap::new(),
            clock: 0,
            capacity: capacity.max(1),
            computed: 0,
        }
    }

    /// Drops everything when `t` is not the topology state cached.
    fn sync(&mut self, t: &Topology) {
        let key = t.igp_key();
        if key != self.key {
            self.trees.clear();
            self.graph = None;
            self.index = None;
            self.key = key;
        }
        // Latency and the like moved, the IGP did not: a new search graph,
        // the same trees.
        if self
            .graph
            .as_ref()
            .is_some_and(|g| g.key() != t.metrics_key())
        {
            self.graph = None;
        }
    }

    /// The compact graph of `t`, built if not cached.
    pub fn graph(&mut self, t: &Topology) -> Arc<SearchGraph> {
        self.sync(t);
        self.graph
            .get_or_insert_with(|| Arc::new(SearchGraph::build(t)))
            .clone()
    }

    /// The whole tree from `source` in `t`, computed if not cached.
    pub fn tree(&mut self, t: &Topology, source: RouterIx) -> Arc<IgpTree> {
        self.tree_within(t, source, WHOLE)
    }

    /// A tree from `source` in `t` complete at least up to `radius`,
    /// computed (or grown) if the cached one does not reach that far.
    fn tree_within(&mut self, t: &Topology, source: RouterIx, radius: u64) -> Arc<IgpTree> {
        let graph = self.graph(t);
        self.clock += 1;
        let now = self.clock;
        if let Some((tree, used)) = self.trees.get_mut(&source)
            && tree.radius >= radius
        {
            *used = now;
            return tree.clone();
        }
        let index = self
            .index
            .get_or_insert_with(|| Arc::new(OperatorIndex::new(&graph)))
            .clone();
        let tree = Arc::new(compute(&graph, index, source, radius));
        self.computed += 1;
        if !self.trees.contains_key(&source)
            && self.trees.len() >= self.capacity
            && let Some(oldest) = self
                .trees
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(r, _)| *r)
        {
            self.trees.remove(&oldest);
        }
        self.trees.insert(source, (tree.clone(), now));
        tree
    }

    /// How far `End` from `path[i]` can reach: the largest `j >= i` such
    /// that `path[i..=j]` is the unique IGP shortest path from `path[i]`
    /// (with `links[j]` joining `path[j]` and `path[j+1]`). Asks a partial
    /// tree, grown while the path stays unique beyond its radius.
    pub fn reach(&mut self, t: &Topology, path: &[RouterIx], links: &[LinkIx], i: usize) -> usize {
        if i + 1 >= path.len() {
            return i;
        }
        let along =
            |j: usize| -> u64 { links[i..j].iter().map(|&l| u64::from(t.link(l).igp)).sum() };
        let mut radius = along((i + FIRST_HOPS).min(path.len() - 1));
        loop {
            let tree = self.tree_within(t, path[i], radius);
            let mut reach = i;
            let mut distance = 0u64;
            let mut beyond = None;
            for j in i + 1..path.len() {
                distance += u64::from(t.link(links[j - 1]).igp);
                if tree.slot(path[j]).is_none() {
                    break;
                }
                if distance > tree.radius {
                    beyond = Some(distance);
                    break;
                }
                if tree.unique_last_link(path[j]) != Some(links[j - 1]) {
                    break;
                }
                reach = j;
            }
            match beyond {
                None => return reach,
                Some(d) => radius = d.max(tree.radius.saturating_mul(2)),
            }
        }
    }

    /// How many trees are cached.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// True when no tree is cached.
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }
}
