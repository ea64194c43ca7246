//! The topology: routers and links in a petgraph graph, data centers beside
//! it, SIDs, and id -> index maps. Built only through [`TopologyBuilder`]
//! (see `builder.rs`), so every `Topology` is valid.
//!
//! Routers and links are stored in id order, so iterating indices iterates ids
//! in sorted order and every output built from them is deterministic.

use std::collections::HashMap;

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;

use super::datacenter::{Datacenter, DatacenterIx, Pool, PoolKind};
use super::ids::{DatacenterId, LinkId, OperatorId, RouterId};
use super::network::{Link, LinkKind, Operator, OperatorIx, Router};
use super::sid::SidTable;

/// Index of a router: a node of the graph.
pub type RouterIx = NodeIndex<u32>;
/// Index of a link: an edge of the graph.
pub type LinkIx = EdgeIndex<u32>;

/// A whole compute network. Cheap to clone for snapshots only when small;
/// share it behind an `Arc` instead.
#[derive(Clone, Debug)]
pub struct Topology {
    pub(super) name: String,
    pub(super) operators: Vec<Operator>,
    pub(super) graph: UnGraph<Router, Link, u32>,
    pub(super) datacenters: Vec<Datacenter>,
    pub(super) operators_by_id: HashMap<OperatorId, OperatorIx>,
    pub(super) routers_by_id: HashMap<RouterId, RouterIx>,
    pub(super) links_by_id: HashMap<LinkId, LinkIx>,
    pub(super) datacenters_by_id: HashMap<DatacenterId, DatacenterIx>,
    /// Per router: attached data centers, sorted by id.
    pub(super) datacenters_at: Vec<Vec<DatacenterIx>>,
    pub(super) sids: SidTable,
    /// Bumped by every mutation, so caches derived from the topology know
    /// when they are stale.
    pub(super) generation: u64,
}

impl Topology {
    /// The network's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Changes whenever the topology changes; caches compare it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The petgraph graph: routers as nodes, links as edges.
    pub fn graph(&self) -> &UnGraph<Router, Link, u32> {
        &self.graph
    }

    // --- operators ---

    /// Every operator, sorted by id.
    pub fn operators(&self) -> &[Operator] {
        &self.operators
    }

    /// One operator.
    pub fn operator(&self, ix: OperatorIx) -> &Operator {
        &self.operators[usize::from(ix.0)]
    }

    /// The index of an operator id.
    pub fn operator_ix(&self, id: &str) -> Option<OperatorIx> {
        self.operators_by_id.get(id).copied()
    }

    // --- routers ---

    /// How many routers there are.
    pub fn router_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Every router index, in id order.
    pub fn router_indices(&self) -> impl ExactSizeIterator<Item = RouterIx> + '_ {
        self.graph.node_indices()
    }

    /// Every router with its index, in id order.
    pub fn routers(&self) -> impl Iterator<Item = (RouterIx, &Router)> + '_ {
        self.graph.node_indices().map(|ix| (ix, &self.graph[ix]))
    }

    /// One router.
    pub fn router(&self, ix: RouterIx) -> &Router {
        &self.graph[ix]
    }

    /// The index of a router id.
    pub fn router_ix(&self, id: &str) -> Option<RouterIx> {
        self.routers_by_id.get(id).copied()
    }

    /// Data centers attached to a router, sorted by id.
    pub fn datacenters_at(&self, router: RouterIx) -> &[DatacenterIx] {
        &self.datacenters_at[router.index()]
    }

    /// Links of a router with the router at their other end, in no set order.
    pub fn adjacencies(&self, router: RouterIx) -> impl Iterator<Item = (LinkIx, RouterIx)> + '_ {
        self.graph.edges(router).map(move |e| {
            let other = if e.source() == router {
                e.target()
            } else {
                e.source()
            };
            (e.id(), other)
        })
    }

    // --- links ---

    /// How many links there are.
    pub fn link_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every link index, in id order.
    pub fn link_indices(&self) -> impl ExactSizeIterator<Item = LinkIx> + '_ {
        self.graph.edge_indices()
    }

    /// Every link with its index, in id order.
    pub fn links(&self) -> impl Iterator<Item = (LinkIx, &Link)> + '_ {
        self.graph.edge_indices().map(|ix| (ix, &self.graph[ix]))
    }

    /// One link.
    pub fn link(&self, ix: LinkIx) -> &Link {
        &self.graph[ix]
    }

    /// The index of a link id.
    pub fn link_ix(&self, id: &str) -> Option<LinkIx> {
        self.links_by_id.get(id).copied()
    }

    /// The two routers of a link, `(a, b)` as in the file.
    pub fn link_ends(&self, ix: LinkIx) -> (RouterIx, RouterIx) {
        self.graph
            .edge_endpoints(ix)
            .expect("link indices come from this topology")
    }

    /// The router at the other end of `link` from `router`.
    pub fn other_end(&self, link: LinkIx, router: RouterIx) -> RouterIx {
        let (a, b) = self.link_ends(link);
        if a == router { b } else { a }
    }

    /// Intra-operator or peering, from the operators of the two ends.
    pub fn link_kind(&self, ix: LinkIx) -> LinkKind {
        let (a, b) = self.link_ends(ix);
        if self.graph[a].operator == self.graph[b].operator {
            LinkKind::Intra
        } else {
            LinkKind::Peering
        }
    }

    // --- data centers ---

    /// Every data center, sorted by id.
    pub fn datacenters(&self) -> &[Datacenter] {
        &self.datacenters
    }

    /// Every data center index, in id order.
    pub fn datacenter_indices(&self) -> impl ExactSizeIterator<Item = DatacenterIx> + use<> {
        (0..self.datacenters.len() as u32).map(DatacenterIx)
    }

    /// One data center.
    pub fn datacenter(&self, ix: DatacenterIx) -> &Datacenter {
        &self.datacenters[ix.0 as usize]
    }

    /// The index of a data center id.
    pub fn datacenter_ix(&self, id: &str) -> Option<DatacenterIx> {
        self.datacenters_by_id.get(id).copied()
    }

    // --- SIDs ---

    /// Every SID, addressable both ways.
    pub fn sids(&self) -> &SidTable {
        &self.sids
    }

    // --- changes (events and reservations) ---

    /// A link, to change its state, metrics or load. Counts as a change.
    /// Its id must stay as it is (the id map is derived from it).
    pub fn link_mut(&mut self, ix: LinkIx) -> &mut Link {
        self.generation += 1;
        &mut self.graph[ix]
    }

    /// Takes a router down or brings it back. Counts as a change.
    pub fn set_router_up(&mut self, ix: RouterIx, up: bool) {
        self.generation += 1;
        self.graph[ix].up = up;
    }

    /// A pool of a data center, to change its load. Counts as a change.
    pub fn pool_mut(&mut self, dc: DatacenterIx, kind: PoolKind) -> Option<&mut Pool> {
        self.generation += 1;
        self.datacenters[dc.0 as usize].pool_mut(kind)
    }
}
