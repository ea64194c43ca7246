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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use crate::model::{LinkIx, RouterIx, Topology};

const NONE: u32 = u32::MAX;

/// Routers of each operator, and each router's place among them.
#[derive(Debug)]
struct OperatorIndex {
    /// Per router: its index among its operator's routers.
    local: Vec<u32>,
}

impl OperatorIndex {
    fn new(t: &Topology) -> Self {
        let mut count = vec![0u32; t.operators().len()];
        let local = t
            .routers()
            .map(|(_, r)| {
                let c = &mut count[usize::from(r.operator.0)];
                *c += 1;
                *c - 1
            })
            .collect();
        OperatorIndex { local }
    }
}

/// The IGP shortest-path tree of one operator from one source router.
#[derive(Debug)]
pub struct IgpTree {
    source: RouterIx,
    operator: u16,
    index: Arc<OperatorIndex>,
    /// Per router of the operator (local index): distance, or `u64::MAX`.
    dist: Vec<u64>,
    /// Per router of the operator: the last link of one shortest path.
    pred: Vec<u32>,
    /// Per router of the operator: number of shortest paths, at most 2.
    count: Vec<u8>,
}

impl IgpTree {
    /// The source router.
    pub fn source(&self) -> RouterIx {
        self.source
    }

    fn slot(&self, t: &Topology, r: RouterIx) -> Option<usize> {
        (t.router(r).operator.0 == self.operator).then(|| self.index.local[r.index()] as usize)
    }

    /// IGP distance from the source, if `r` is reachable inside the operator.
    pub fn distance(&self, t: &Topology, r: RouterIx) -> Option<u64> {
        let d = self.dist[self.slot(t, r)?];
        (d != u64::MAX).then_some(d)
    }

    /// The last link of the shortest path to `r` when that path is unique
    /// (and `r` is not the source).
    pub fn unique_last_link(&self, t: &Topology, r: RouterIx) -> Option<LinkIx> {
        let s = self.slot(t, r)?;
        (self.count[s] == 1 && self.pred[s] != NONE).then(|| LinkIx::new(self.pred[s] as usize))
    }
}

fn compute(t: &Topology, index: Arc<OperatorIndex>, source: RouterIx) -> IgpTree {
    let operator = t.router(source).operator.0;
    let size = t
        .routers()
        .filter(|(_, r)| r.operator.0 == operator)
        .count();
    let mut tree = IgpTree {
        source,
        operator,
        index,
        dist: vec![u64::MAX; size],
        pred: vec![NONE; size],
        count: vec![0; size],
    };
    if !t.router(source).up {
        return tree;
    }
    let slot = |r: RouterIx| tree.index.local[r.index()] as usize;
    let s = slot(source);
    tree.dist[s] = 0;
    tree.count[s] = 1;
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((0u64, source.index() as u32)));
    while let Some(Reverse((d, u))) = heap.pop() {
        let u = RouterIx::new(u as usize);
        let su = slot(u);
        if d > tree.dist[su] {
            continue;
        }
        for adj in t.adjacencies(u) {
            let w = adj.router;
            let router = t.router(w);
            let link = t.link(adj.link);
            if router.operator.0 != operator || !router.up || !link.up {
                continue;
            }
            let sw = slot(w);
            let nd = d + u64::from(link.igp);
            if nd < tree.dist[sw] {
                tree.dist[sw] = nd;
                tree.pred[sw] = adj.link.index() as u32;
                tree.count[sw] = tree.count[su];
                heap.push(Reverse((nd, w.index() as u32)));
            } else if nd == tree.dist[sw] {
                tree.count[sw] = (tree.count[sw] + tree.count[su]).min(2);
            }
        }
    }
    tree
}

/// Trees by source, valid for one IGP key, least recently used dropped first.
#[derive(Debug)]
pub struct IgpCache {
    key: (u64, u64),
    instance: u64,
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
            instance: 0,
            index: None,
            trees: HashMap::new(),
            clock: 0,
            capacity: capacity.max(1),
            computed: 0,
        }
    }

    /// The tree from `source` in `t`, computed if not cached.
    pub fn tree(&mut self, t: &Topology, source: RouterIx) -> Arc<IgpTree> {
        let key = t.igp_key();
        if key != self.key {
            self.trees.clear();
            if key.0 != self.instance {
                self.index = None;
                self.instance = key.0;
            }
            self.key = key;
        }
        self.clock += 1;
        let now = self.clock;
        if let Some((tree, used)) = self.trees.get_mut(&source) {
            *used = now;
            return tree.clone();
        }
        let index = self
            .index
            .get_or_insert_with(|| Arc::new(OperatorIndex::new(t)))
            .clone();
        let tree = Arc::new(compute(t, index, source));
        self.computed += 1;
        if self.trees.len() >= self.capacity
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

    /// How many trees are cached.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// True when no tree is cached.
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }
}
