//! The compact graph every search walks: for each router, its usable
//! adjacencies with the link metrics inline (one sequential read per router,
//! not a pointer chase per link). Only links that are up between routers that
//! are up appear. Built once per topology state that can change metrics or
//! up/down (the topology's IGP key) and shared by the engine's searches, its
//! IGP trees, and the benchmark floor.

use crate::model::{Link, LinkIx, RouterIx, Topology};

/// One direction of an up link, as seen from its source router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arc {
    /// The router at the other end.
    pub to: u32,
    /// The link.
    pub link: u32,
    /// Latency, microseconds.
    pub latency: u64,
    /// Jitter, microseconds.
    pub jitter: u64,
    /// Loss, ppm.
    pub loss: u64,
    /// IGP metric.
    pub igp: u32,
    /// TE metric.
    pub te: u32,
    /// True when both ends belong to the same operator.
    pub intra: bool,
}

impl Arc {
    /// The router at the other end.
    pub fn router(&self) -> RouterIx {
        RouterIx::new(self.to as usize)
    }

    /// The link.
    pub fn link_ix(&self) -> LinkIx {
        LinkIx::new(self.link as usize)
    }
}

/// Adjacency arrays of the up part of a topology.
#[derive(Debug)]
pub struct SearchGraph {
    key: (u64, u64),
    offsets: Vec<u32>,
    arcs: Vec<Arc>,
    /// Per router: its operator.
    pub operator: Vec<u16>,
    /// Per link: up, and both ends up.
    pub link_up: Vec<bool>,
    /// Per router: up.
    pub router_up: Vec<bool>,
    /// Which zero-weight arcs exist (a path can then loop back to a router
    /// with exactly the key it had there).
    pub zero: ZeroArcs,
}

/// Whether some arc weighs nothing in both parts of a search key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZeroArcs {
    /// Latency 0 and IGP 0 (keys of the latency and IGP objectives).
    pub latency_igp: bool,
    /// Latency 0 and TE 0 (the TE objective's key).
    pub latency_te: bool,
    /// Latency 0 (the price objective's key).
    pub latency: bool,
}

impl SearchGraph {
    /// Builds the graph of `t` as it is now.
    pub fn build(t: &Topology) -> SearchGraph {
        let router_up: Vec<bool> = t.routers().map(|(_, r)| r.up).collect();
        let operator: Vec<u16> = t.routers().map(|(_, r)| r.operator.0).collect();
        let link_up: Vec<bool> = t
            .links()
            .map(|(ix, l)| {
                let (a, b) = t.link_ends(ix);
                l.up && router_up[a.index()] && router_up[b.index()]
            })
            .collect();
        let mut offsets = Vec::with_capacity(t.router_count() + 1);
        let mut arcs = Vec::with_capacity(2 * t.link_count());
        offsets.push(0);
        for r in t.router_indices() {
            for adj in t.adjacencies(r) {
                if link_up[adj.link.index()] {
                    let l: &Link = t.link(adj.link);
                    arcs.push(Arc {
                        to: adj.router.index() as u32,
                        link: adj.link.index() as u32,
                        latency: l.latency_us,
                        jitter: l.jitter_us,
                        loss: l.loss_ppm,
                        igp: l.igp,
                        te: l.te,
                        intra: operator[r.index()] == operator[adj.router.index()],
                    });
                }
            }
            offsets.push(arcs.len() as u32);
        }
        let mut zero = ZeroArcs::default();
        for a in arcs.iter().filter(|a| a.latency == 0) {
            zero.latency = true;
            zero.latency_igp |= a.igp == 0;
            zero.latency_te |= a.te == 0;
        }
        SearchGraph {
            zero,
            key: t.metrics_key(),
            offsets,
            arcs,
            operator,
            link_up,
            router_up,
        }
    }

    /// The topology state this graph was built from.
    pub fn key(&self) -> (u64, u64) {
        self.key
    }

    /// The usable arcs out of a router.
    pub fn arcs(&self, r: RouterIx) -> &[Arc] {
        let i = r.index();
        &self.arcs[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// How many routers.
    pub fn router_count(&self) -> usize {
        self.offsets.len() - 1
    }
}
