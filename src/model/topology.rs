//! The topology: routers and links in a petgraph graph, data centers beside
//! it, SIDs, and id -> index maps. Built only through [`TopologyBuilder`]
//! (see `builder.rs`), so every `Topology` is valid.
//!
//! Routers and links are stored in id order, so iterating indices iterates ids
//! in sorted order and every output built from them is deterministic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};

use super::datacenter::{Datacenter, DatacenterIx, Pool, PoolKind};
use super::ids::{DatacenterId, LinkId, OperatorId, RouterId};
use super::network::{Link, LinkKind, Operator, OperatorIx, Router};
use super::sid::SidTable;

/// Index of a router: a node of the graph.
pub type RouterIx = NodeIndex<u32>;
/// Index of a link: an edge of the graph.
pub type LinkIx = EdgeIndex<u32>;

/// One adjacency of a router: the link and the router at its other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adjacency {
    /// The link.
    pub link: LinkIx,
    /// The router at the other end.
    pub router: RouterIx,
}

/// Every topology built gets its own instance number; a clone keeps its
/// original's, so that caches keyed by (instance, IGP epoch) survive the
/// copy-then-change of every event batch.
static INSTANCES: AtomicU64 = AtomicU64::new(1);

pub(super) fn next_instance() -> u64 {
    INSTANCES.fetch_add(1, Ordering::Relaxed)
}

/// Generations and IGP epochs are drawn from one process-wide counter, so
/// that two clones that change apart never reach the same (instance,
/// epoch) or (instance, generation) with different contents.
static STAMPS: AtomicU64 = AtomicU64::new(1);

fn next_stamp() -> u64 {
    STAMPS.fetch_add(1, Ordering::Relaxed)
}

/// The attributes of a link that do not move IGP shortest paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkPerformance {
    /// One-way latency, microseconds.
    pub latency_us: u64,
    /// TE metric.
    pub te: u32,
    /// Jitter, microseconds.
    pub jitter_us: u64,
    /// Loss, parts per million.
    pub loss_ppm: u64,
    /// Capacity, Mbit/s.
    pub bandwidth_mbps: u64,
}

/// A whole compute network. Share it behind an `Arc`.
#[derive(Debug)]
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
    /// CSR adjacency: the adjacencies of router `r` are
    /// `adjacency[offsets[r]..offsets[r + 1]]`, sorted by link id.
    pub(super) offsets: Vec<u32>,
    pub(super) adjacency: Vec<Adjacency>,
    pub(super) instance: u64,
    /// Bumped by every change.
    pub(super) generation: u64,
    /// Bumped by changes that can move IGP shortest paths (link or router
    /// up/down, metrics); load and reservations leave it alone.
    pub(super) igp_epoch: u64,
    /// Bumped by changes to what a search reads of links and routers (the
    /// IGP's changes, and latency, TE, jitter, loss); loads leave it alone.
    pub(super) metrics_epoch: u64,
}

impl Clone for Topology {
    fn clone(&self) -> Self {
        Topology {
            name: self.name.clone(),
            operators: self.operators.clone(),
            graph: self.graph.clone(),
            datacenters: self.datacenters.clone(),
            operators_by_id: self.operators_by_id.clone(),
            routers_by_id: self.routers_by_id.clone(),
            links_by_id: self.links_by_id.clone(),
            datacenters_by_id: self.datacenters_by_id.clone(),
            datacenters_at: self.datacenters_at.clone(),
            sids: self.sids.clone(),
            offsets: self.offsets.clone(),
            adjacency: self.adjacency.clone(),
            instance: self.instance,
            generation: self.generation,
            igp_epoch: self.igp_epoch,
            metrics_epoch: self.metrics_epoch,
        }
    }
}

impl Topology {
    /// The network's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Changes whenever the topology changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Identifies the IGP state: equal keys mean equal IGP shortest paths.
    /// `(instance, igp_epoch)`; caches of IGP trees compare it.
    pub fn igp_key(&self) -> (u64, u64) {
        (self.instance, self.igp_epoch)
    }

    /// Identifies what a search reads of links and routers (metrics, up or
    /// down): `(instance, metrics epoch)`; compact search graphs compare it.
    pub fn metrics_key(&self) -> (u64, u64) {
        (self.instance, self.metrics_epoch)
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

    /// The links of a router with the router at their other end, sorted by
    /// link id (a flat array: iterate it in hot loops).
    pub fn adjacencies(&self, router: RouterIx) -> &[Adjacency] {
        let r = router.index();
        &self.adjacency[self.offsets[r] as usize..self.offsets[r + 1] as usize]
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

    /// A link, to change its state or metrics. Counts as a change that can
    /// move IGP shortest paths. Its id must stay as it is (the id map is
    /// derived from it); use [`set_link_load`](Self::set_link_load) and
    /// [`set_link_reserved`](Self::set_link_reserved) for load alone.
    pub fn link_mut(&mut self, ix: LinkIx) -> &mut Link {
        self.generation = next_stamp();
        self.igp_epoch = next_stamp();
        self.metrics_epoch = self.igp_epoch;
        &mut self.graph[ix]
    }

    /// Sets the attributes of a link that do not move IGP shortest paths
    /// (latency, TE metric, jitter, loss, capacity): caches of IGP trees
    /// stay valid, as they should when a measured delay changes.
    pub fn set_link_performance(&mut self, ix: LinkIx, p: LinkPerformance) {
        self.generation = next_stamp();
        self.metrics_epoch = next_stamp();
        let l = &mut self.graph[ix];
        l.latency_us = p.latency_us;
        l.te = p.te;
        l.jitter_us = p.jitter_us;
        l.loss_ppm = p.loss_ppm;
        l.bandwidth_mbps = p.bandwidth_mbps;
    }

    /// Sets the load of a link not managed by the controller.
    pub fn set_link_load(&mut self, ix: LinkIx, used_mbps: u64) {
        self.generation = next_stamp();
        self.graph[ix].used_mbps = used_mbps;
    }

    /// Sets the bandwidth reserved on a link by installed policies.
    pub fn set_link_reserved(&mut self, ix: LinkIx, reserved_mbps: u64) {
        self.generation = next_stamp();
        self.graph[ix].reserved_mbps = reserved_mbps;
    }

    /// Takes a router down or brings it back.
    pub fn set_router_up(&mut self, ix: RouterIx, up: bool) {
        self.generation = next_stamp();
        self.igp_epoch = next_stamp();
        self.metrics_epoch = self.igp_epoch;
        self.graph[ix].up = up;
    }

    /// A pool of a data center, to change its load or reservations.
    pub fn pool_mut(&mut self, dc: DatacenterIx, kind: PoolKind) -> Option<&mut Pool> {
        self.generation = next_stamp();
        self.datacenters[dc.0 as usize].pool_mut(kind)
    }

    /// Sets what is known of a data center's reporter.
    pub fn set_reporter(&mut self, dc: DatacenterIx, reporter: Option<super::Reporter>) {
        self.generation = next_stamp();
        self.datacenters[dc.0 as usize].reporter = reporter;
    }
}
