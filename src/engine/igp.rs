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

use std::collections::HashMap;
use std::sync::Arc;

use super::frontier::{BinaryFrontier, Frontier, RadixHeap};
use super::graph::SearchGraph;
use crate::model::{LinkIx, RouterIx, Topology};

/// A router's tree entry: no unique shortest path (also the source and
/// unreachable routers).
const NONE: u16 = u16::MAX;
/// A router beyond a partial tree's radius: its entry is not known.
const UNSETTLED: u16 = u16::MAX - 1;
/// The radius of a whole tree.
const WHOLE: u64 = u64::MAX;
/// Routers of a path a first partial tree covers (by IGP distance along the
/// path); a question beyond it grows the tree to at least twice its radius.
const FIRST_HOPS: usize = 8;
/// What a cached tree costs besides its entries (the struct, its `Arc`, its
/// map slot), for the cache's byte budget.
const TREE_OVERHEAD: usize = 96;

/// One direction of an up intra-operator link, as an IGP tree walks it.
#[derive(Clone, Copy, Debug)]
struct IgpArc {
    /// The router at the other end (global index).
    to: u32,
    /// That router's index among its operator's routers.
    to_local: u32,
    /// IGP metric.
    igp: u32,
    /// Where the same link, the other way, sits among the other end's
    /// arcs: what that router's tree entry records.
    back: u16,
}

/// The operators' IGPs: which routers each has, each router's place among
/// them, and their up intra-operator arcs (adjacency arrays by global
/// router index). Built once per IGP state, shared by its trees.
#[derive(Debug)]
struct IgpGraph {
    /// Per router: its operator.
    operator: Vec<u16>,
    /// Per router: its index among its operator's routers.
    local: Vec<u32>,
    /// Per operator: how many routers.
    size: Vec<u32>,
    /// Per router: where its arcs start in `arcs` (and `links`).
    offsets: Vec<u32>,
    arcs: Vec<IgpArc>,
    /// Per arc: its link.
    links: Vec<u32>,
}

impl IgpGraph {
    fn new(graph: &SearchGraph) -> Self {
        let operators = graph
            .operator
            .iter()
            .map(|&o| usize::from(o) + 1)
            .max()
            .unwrap_or(0);
        let mut size = vec![0u32; operators];
        let local: Vec<u32> = graph
            .operator
            .iter()
            .map(|&o| {
                let c = &mut size[usize::from(o)];
                *c += 1;
                *c - 1
            })
            .collect();
        let n = graph.router_count();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut arcs = Vec::new();
        let mut links = Vec::new();
        offsets.push(0);
        for r in 0..n {
            for arc in graph.arcs(RouterIx::new(r)).iter().filter(|a| a.intra) {
                arcs.push(IgpArc {
                    to: arc.to,
                    to_local: local[arc.to as usize],
                    igp: arc.igp,
                    back: NONE,
                });
                links.push(arc.link);
            }
            offsets.push(arcs.len() as u32);
        }
        // Each arc's way back: the other end's arc over the same link. An
        // entry past `UNSETTLED` cannot be recorded, so a router with that
        // many arcs (none real) reads as "no unique path" over its last
        // ones: more segments, never a wrong one.
        for r in 0..n {
            for i in offsets[r] as usize..offsets[r + 1] as usize {
                let w = arcs[i].to as usize;
                let (from, to) = (offsets[w] as usize, offsets[w + 1] as usize);
                arcs[i].back = (from..to)
                    .position(|j| links[j] == links[i] && arcs[j].to as usize == r)
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|&p| p < UNSETTLED)
                    .unwrap_or(NONE);
            }
        }
        IgpGraph {
            operator: graph.operator.clone(),
            local,
            size,
            offsets,
            arcs,
            links,
        }
    }

    fn arcs(&self, r: usize) -> &[IgpArc] {
        &self.arcs[self.offsets[r] as usize..self.offsets[r + 1] as usize]
    }
}

/// The IGP shortest-path tree of one operator from one source router.
#[derive(Debug)]
pub struct IgpTree {
    source: RouterIx,
    operator: u16,
    index: Arc<IgpGraph>,
    /// Per router of the operator (local index): when its shortest path is
    /// unique, where the last link of it sits among the router's own arcs;
    /// else `NONE` (also for the source and unreachable routers;
    /// `UNSETTLED` beyond a partial tree's radius). Two bytes per router,
    /// so that many trees fit in the cache.
    unique_pred: Vec<u16>,
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
        (p < UNSETTLED).then(|| {
            let at = self.index.offsets[r.index()] as usize + usize::from(p);
            LinkIx::new(self.index.links[at] as usize)
        })
    }

    /// What the tree costs the cache.
    fn bytes(&self) -> usize {
        TREE_OVERHEAD + 2 * self.unique_pred.len()
    }
}

/// A tree computation's working arrays, kept between computations. A whole
/// tree queues routers in the searches' radix heap (IGP metrics are at
/// least 1, so distances only grow as Dijkstra settles routers); a partial
/// one, a ball of a few hops, in a binary heap, faster on so few entries.
struct Scratch {
    paths: Paths,
    radix: RadixHeap,
    binary: BinaryFrontier,
}

/// Per router of one operator (local index): what Dijkstra has found so far.
#[derive(Default)]
struct Paths {
    dist: Vec<u64>,
    /// Number of shortest paths, saturating at 2.
    count: Vec<u8>,
    /// The last link's place among the router's own arcs (`IgpArc::back`).
    pred: Vec<u16>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            paths: Paths::default(),
            radix: RadixHeap::new(),
            binary: BinaryFrontier::default(),
        }
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

/// Dijkstra from `source` over its operator's IGP, stopped once every router
/// within `radius` is settled.
fn compute(
    index: Arc<IgpGraph>,
    scratch: &mut Scratch,
    router_up: bool,
    source: RouterIx,
    radius: u64,
) -> IgpTree {
    let operator = index.operator[source.index()];
    let Scratch {
        paths,
        radix,
        binary,
    } = scratch;
    paths.reset(index.size[usize::from(operator)] as usize);
    if router_up {
        if radius == WHOLE {
            paths.settle(&index, radix, source, radius);
        } else {
            paths.settle(&index, binary, source, radius);
        }
    }
    let unique_pred = paths
        .pred
        .iter()
        .zip(&paths.count)
        .zip(&paths.dist)
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

impl Paths {
    /// Nothing found yet for any of `size` routers.
    fn reset(&mut self, size: usize) {
        self.dist.clear();
        self.dist.resize(size, u64::MAX);
        self.count.clear();
        self.count.resize(size, 0);
        self.pred.clear();
        self.pred.resize(size, NONE);
    }

    /// The Dijkstra of [`compute`], routers queued in `queue`.
    fn settle<F: Frontier>(
        &mut self,
        index: &IgpGraph,
        queue: &mut F,
        source: RouterIx,
        radius: u64,
    ) {
        queue.clear();
        let s = index.local[source.index()] as usize;
        self.dist[s] = 0;
        self.count[s] = 1;
        let at = source.index() as u32;
        queue.push((0, 0), at, at);
        while let Some(((d, _), _, u)) = queue.pop() {
            if d > radius {
                break;
            }
            let su = index.local[u as usize] as usize;
            if d > self.dist[su] {
                continue;
            }
            for arc in index.arcs(u as usize) {
                let sw = arc.to_local as usize;
                let nd = d + u64::from(arc.igp);
                if nd < self.dist[sw] {
                    self.dist[sw] = nd;
                    self.pred[sw] = arc.back;
                    self.count[sw] = self.count[su];
                    queue.push((nd, 0), arc.to, arc.to);
                } else if nd == self.dist[sw] {
                    self.count[sw] = (self.count[sw] + self.count[su]).min(2);
                }
            }
        }
    }
}

/// The compact graph and the trees by source, valid for one IGP key; least
/// recently used trees are dropped first, to keep within a byte budget.
#[derive(Debug)]
pub struct IgpCache {
    key: (u64, u64),
    graph: Option<Arc<SearchGraph>>,
    index: Option<Arc<IgpGraph>>,
    trees: HashMap<RouterIx, (Arc<IgpTree>, u64)>,
    clock: u64,
    /// The most bytes the cached trees may take (one tree is always kept).
    budget: usize,
    /// The bytes they take now.
    bytes: usize,
    scratch: Scratch,
    /// Trees computed since the cache was made (for tests and metrics).
    pub computed: u64,
}

impl IgpCache {
    /// A cache whose trees take at most `budget` bytes (a tree takes two
    /// bytes per router of its operator, plus about a hundred).
    pub fn new(budget: usize) -> Self {
        IgpCache {
            key: (0, 0),
            graph: None,
            index: None,
            trees: HashMap::new(),
            clock: 0,
            budget,
            bytes: 0,
            scratch: Scratch::default(),
            computed: 0,
        }
    }

    /// Drops everything when `t` is not the topology state cached.
    fn sync(&mut self, t: &Topology) {
        let key = t.igp_key();
        if key != self.key {
            self.trees.clear();
            self.bytes = 0;
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
            .get_or_insert_with(|| Arc::new(IgpGraph::new(&graph)))
            .clone();
        let up = graph.router_up[source.index()];
        let tree = Arc::new(compute(index, &mut self.scratch, up, source, radius));
        self.computed += 1;
        if let Some((grown, _)) = self.trees.remove(&source) {
            self.bytes -= grown.bytes();
        }
        while self.bytes + tree.bytes() > self.budget
            && let Some(oldest) = self
                .trees
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(r, _)| *r)
        {
            let (dropped, _) = self.trees.remove(&oldest).expect("just found");
            self.bytes -= dropped.bytes();
        }
        self.bytes += tree.bytes();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Parallel links inside one operator, and a peering link out of it.
    const PARALLEL: &str = r#"
version: 1
name: parallel
operators: [{id: op}, {id: other}]
routers:
  - {id: a, operator: op, locator: "fc00:1:1::/48"}
  - {id: b, operator: op, locator: "fc00:1:2::/48"}
  - {id: c, operator: op, locator: "fc00:1:3::/48"}
  - {id: p, operator: other, locator: "fc00:2:1::/48"}
links:
  - {id: ab-slow, a: a, b: b, igp: 20, latency_us: 10, bandwidth_mbps: 1000}
  - {id: ab-fast, a: b, b: a, igp: 5, latency_us: 10, bandwidth_mbps: 1000}
  - {id: bc-1, a: b, b: c, igp: 10, latency_us: 10, bandwidth_mbps: 1000}
  - {id: bc-2, a: b, b: c, igp: 10, latency_us: 10, bandwidth_mbps: 1000}
  - {id: ap, a: a, b: p, igp: 1, latency_us: 10, bandwidth_mbps: 1000}
"#;

    fn network() -> Topology {
        crate::topology_file::parse_str(PARALLEL, "parallel").unwrap()
    }

    #[test]
    fn the_unique_last_link_is_the_cheaper_parallel_link_in_either_direction() {
        let t = network();
        let (r, l) = (|id| t.router_ix(id).unwrap(), |id| t.link_ix(id));
        let mut cache = IgpCache::new(1 << 20);
        let from_a = cache.tree(&t, r("a"));
        assert_eq!(from_a.unique_last_link(r("b")), l("ab-fast"));
        // Two equal links from b: two shortest paths to c.
        assert_eq!(from_a.unique_last_link(r("c")), None);
        // Another operator's router is not in a's IGP; a has no last link.
        assert_eq!(from_a.unique_last_link(r("p")), None);
        assert_eq!(from_a.unique_last_link(r("a")), None);
        // The same link the other way (its `a` end is b).
        assert_eq!(
            cache.tree(&t, r("b")).unique_last_link(r("a")),
            l("ab-fast")
        );
        // From c, both ways to b tie, and so does everything behind b.
        let from_c = cache.tree(&t, r("c"));
        assert_eq!(from_c.unique_last_link(r("b")), None);
        assert_eq!(from_c.unique_last_link(r("a")), None);
    }

    #[test]
    fn the_cache_keeps_within_its_budget_and_drops_the_least_recently_used() {
        let t = network();
        let r = |id| t.router_ix(id).unwrap();
        // A tree of op (three routers) takes TREE_OVERHEAD + 6 bytes: room
        // for two.
        let mut cache = IgpCache::new(2 * (TREE_OVERHEAD + 6) + 1);
        cache.tree(&t, r("a"));
        cache.tree(&t, r("b"));
        cache.tree(&t, r("a"));
        assert_eq!(cache.computed, 2);
        cache.tree(&t, r("c"));
        assert_eq!((cache.computed, cache.len()), (3, 2));
        // a was used after b: b went.
        cache.tree(&t, r("a"));
        assert_eq!(cache.computed, 3);
        cache.tree(&t, r("b"));
        assert_eq!(cache.computed, 4);
        assert!(cache.bytes <= cache.budget);
    }
}
