//! Building a valid [`Topology`] from drafts: the drafts as file formats
//! give them, the rules checked (all at once, in `checks`), then the
//! topology assembled in id order with its SIDs allocated.
//!
//! File formats (YAML, the gRPC API) convert into drafts and map the
//! [`Place`](super::Place) of each error back to a line or a field path.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;
use petgraph::graph::UnGraph;

use super::csid::MicroSid;
use super::datacenter::{Datacenter, DatacenterIx, Pool, PoolKind};
use super::geo::Coordinates;
use super::ids::{DatacenterId, LinkId, OperatorId, RouterId};
use super::liveness::{PoolHealth, Reporter};
use super::network::{DEFAULT_MSD, Link, Operator, OperatorIx, Router};
use super::prefixes::{Kind, derived_prefix};
use super::problems::BuildErrors;
use super::sid::{RouterSids, SidTable};
use super::topology::{Adjacency, LinkIx, RouterIx, Topology, next_instance};

/// A router as written, before its operator is resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterDraft {
    /// Unique id.
    pub id: RouterId,
    /// The operator's id.
    pub operator: OperatorId,
    /// SRv6 locator, length 16..=64.
    pub locator: Ipv6Network,
    /// City.
    pub city: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Maximum SID depth.
    pub msd: u8,
    /// The site prefix policies pinned to it steer; `None`: derived from
    /// the id.
    pub prefix: Option<Ipv6Network>,
    /// Agent address.
    pub mgmt: Option<String>,
    /// Latitude, degrees; given with `lon` or not at all.
    pub lat: Option<f64>,
    /// Longitude, degrees; given with `lat` or not at all.
    pub lon: Option<f64>,
    /// The End SID the network gave (learned over BGP-LS); `None`:
    /// allocated from the locator.
    pub end_sid: Option<Ipv6Addr>,
    /// Node micro-SID in the operator's NEXT-C-SID block.
    pub usid: Option<MicroSid>,
}

impl RouterDraft {
    /// A router with defaults for everything optional.
    pub fn new(id: &str, operator: &str, locator: Ipv6Network) -> Self {
        RouterDraft {
            id: id.into(),
            operator: operator.into(),
            locator,
            city: None,
            region: None,
            msd: DEFAULT_MSD,
            mgmt: None,
            lat: None,
            lon: None,
            end_sid: None,
            prefix: None,
            usid: None,
        }
    }
}

/// A link as written, before its routers are resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkDraft {
    /// Unique id.
    pub id: LinkId,
    /// One end.
    pub a: RouterId,
    /// The other end.
    pub b: RouterId,
    /// IGP metric, >= 1.
    pub igp: u32,
    /// TE metric.
    pub te: u32,
    /// One-way latency in microseconds.
    pub latency_us: u64,
    /// Capacity in Mbit/s, > 0.
    pub bandwidth_mbps: u64,
    /// Load in Mbit/s, <= capacity.
    pub used_mbps: u64,
    /// Jitter in microseconds.
    pub jitter_us: u64,
    /// Loss in parts per million.
    pub loss_ppm: u64,
    /// Shared-risk link groups.
    pub srlg: Vec<u32>,
    /// Carries traffic.
    pub up: bool,
    /// The End.X SIDs the network gave for crossing the link from end a
    /// and from end b; `None`: allocated.
    pub end_x: [Option<Ipv6Addr>; 2],
}

impl LinkDraft {
    /// A link `a-b` with te = igp, 100 Gbit/s, no load, no jitter or loss.
    pub fn new(a: &str, b: &str, igp: u32, latency_us: u64) -> Self {
        LinkDraft {
            id: LinkId::new(format!("{a}-{b}")),
            a: a.into(),
            b: b.into(),
            igp,
            te: igp,
            latency_us,
            bandwidth_mbps: 100_000,
            used_mbps: 0,
            jitter_us: 0,
            loss_ppm: 0,
            srlg: Vec::new(),
            up: true,
            end_x: [None, None],
        }
    }
}

/// A compute pool as written.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolDraft {
    /// Kind of compute.
    pub kind: PoolKind,
    /// Capacity in TFLOPS, > 0.
    pub tflops: f64,
    /// Load in TFLOPS.
    pub used_tflops: f64,
    /// Memory in GB, > 0.
    pub memory_gb: f64,
    /// Memory in use, GB.
    pub used_memory_gb: f64,
    /// Price per TFLOPS-hour.
    pub price: f64,
    /// Health, as last reported.
    pub health: PoolHealth,
    /// Queue wait, seconds, as last reported.
    pub queue_wait_s: Option<f64>,
}

/// A data center as written, before its gateways are resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct DatacenterDraft {
    /// Unique id.
    pub id: DatacenterId,
    /// Gateway router ids.
    pub attach: Vec<RouterId>,
    /// City.
    pub city: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Latitude, degrees; given with `lon` or not at all.
    pub lat: Option<f64>,
    /// Longitude, degrees; given with `lat` or not at all.
    pub lon: Option<f64>,
    /// Gateway-to-servers latency, microseconds.
    pub latency_us: u64,
    /// Storage by medium, TB.
    pub storage_tb: BTreeMap<String, f64>,
    /// Pools, at least one, one per kind.
    pub pools: Vec<PoolDraft>,
    /// The prefix behind the data center that policies steer into;
    /// `None`: derived from the id (see [`derived_prefix`]).
    pub prefix: Option<Ipv6Network>,
    /// Its reporter, once it has reported.
    pub reporter: Option<Reporter>,
}

/// Collects drafts, then checks and builds a [`Topology`].
#[derive(Clone, Debug, Default)]
pub struct TopologyBuilder {
    /// Network name.
    pub name: String,
    /// Operators, in any order.
    pub operators: Vec<Operator>,
    /// Routers, in any order.
    pub routers: Vec<RouterDraft>,
    /// Links, in any order.
    pub links: Vec<LinkDraft>,
    /// Data centers, in any order.
    pub datacenters: Vec<DatacenterDraft>,
    /// Routers may be none (a network learned over BGP-LS may be empty
    /// yet); a topology file needs at least one.
    pub routers_optional: bool,
}

impl TopologyBuilder {
    /// An empty network called `name`.
    pub fn new(name: &str) -> Self {
        TopologyBuilder {
            name: name.to_owned(),
            ..Default::default()
        }
    }

    /// Adds an operator with just an id.
    pub fn operator(&mut self, id: &str) -> &mut Self {
        self.operators.push(Operator {
            id: id.into(),
            asn: None,
            description: None,
            csid: None,
        });
        self
    }

    /// Adds a router.
    pub fn router(&mut self, router: RouterDraft) -> &mut Self {
        self.routers.push(router);
        self
    }

    /// Adds a link.
    pub fn link(&mut self, link: LinkDraft) -> &mut Self {
        self.links.push(link);
        self
    }

    /// Adds a data center.
    pub fn datacenter(&mut self, datacenter: DatacenterDraft) -> &mut Self {
        self.datacenters.push(datacenter);
        self
    }

    /// Checks every rule and builds the topology, or returns every problem.
    pub fn build(self) -> Result<Topology, BuildErrors> {
        let mut errors = Vec::new();
        super::checks::check(&self, &mut errors);
        if errors.is_empty() {
            Ok(assemble(self))
        } else {
            Err(BuildErrors(errors))
        }
    }
}

/// Checked coordinates (the checks refused any other pair).
fn coordinates(lat: Option<f64>, lon: Option<f64>) -> Option<Coordinates> {
    super::geo::coordinates(lat, lon).ok().flatten()
}

/// Builds the topology from checked drafts, in id order.
fn assemble(mut b: TopologyBuilder) -> Topology {
    b.operators.sort_by(|x, y| x.id.cmp(&y.id));
    b.routers.sort_by(|x, y| x.id.cmp(&y.id));
    b.links.sort_by(|x, y| x.id.cmp(&y.id));
    b.datacenters.sort_by(|x, y| x.id.cmp(&y.id));

    let operators_by_id: HashMap<OperatorId, OperatorIx> = b
        .operators
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.clone(), OperatorIx(i as u16)))
        .collect();

    let mut graph = UnGraph::with_capacity(b.routers.len(), b.links.len());
    let mut routers_by_id = HashMap::with_capacity(b.routers.len());
    let mut locators = Vec::with_capacity(b.routers.len());
    let mut given_end = Vec::with_capacity(b.routers.len());
    for r in b.routers {
        locators.push(r.locator);
        given_end.push(r.end_sid);
        let ix = graph.add_node(Router {
            operator: operators_by_id[&r.operator],
            id: r.id.clone(),
            locator: r.locator,
            city: r.city,
            region: r.region,
            msd: r.msd,
            mgmt: r.mgmt,
            prefix: r
                .prefix
                .unwrap_or_else(|| derived_prefix(Kind::Router, r.id.as_str())),
            coordinates: coordinates(r.lat, r.lon),
            up: true,
            usid: r.usid,
        });
        routers_by_id.insert(r.id, ix);
    }

    let mut links_by_id = HashMap::with_capacity(b.links.len());
    let mut link_ends = Vec::with_capacity(b.links.len());
    let mut given_end_x = Vec::with_capacity(b.links.len());
    let mut links_of: Vec<Vec<LinkIx>> = vec![Vec::new(); graph.node_count()];
    for l in b.links {
        let (a, z) = (routers_by_id[&l.a], routers_by_id[&l.b]);
        let mut srlg = l.srlg;
        srlg.sort_unstable();
        srlg.dedup();
        let ix = graph.add_edge(
            a,
            z,
            Link {
                id: l.id.clone(),
                igp: l.igp,
                te: l.te,
                latency_us: l.latency_us,
                bandwidth_mbps: l.bandwidth_mbps,
                used_mbps: l.used_mbps,
                reserved_mbps: 0,
                jitter_us: l.jitter_us,
                loss_ppm: l.loss_ppm,
                srlg,
                up: l.up,
            },
        );
        links_by_id.insert(l.id, ix);
        link_ends.push((a, z));
        given_end_x.push(l.end_x);
        links_of[a.index()].push(ix);
        links_of[z.index()].push(ix);
    }

    let mut datacenters = Vec::with_capacity(b.datacenters.len());
    let mut datacenters_by_id = HashMap::with_capacity(b.datacenters.len());
    let mut datacenters_at: Vec<Vec<DatacenterIx>> = vec![Vec::new(); graph.node_count()];
    for (i, dc) in b.datacenters.into_iter().enumerate() {
        let ix = DatacenterIx(i as u32);
        let mut attach: Vec<RouterIx> = dc.attach.iter().map(|r| routers_by_id[r]).collect();
        attach.sort_unstable();
        for r in &attach {
            datacenters_at[r.index()].push(ix);
        }
        let mut pools: Vec<Pool> = dc
            .pools
            .into_iter()
            .map(|p| Pool {
                kind: p.kind,
                tflops: p.tflops,
                used_tflops: p.used_tflops,
                reserved_tflops: 0.0,
                memory_gb: p.memory_gb,
                used_memory_gb: p.used_memory_gb,
                reserved_memory_gb: 0.0,
                price: p.price,
                health: p.health,
                queue_wait_s: p.queue_wait_s,
                standby: Default::default(),
            })
            .collect();
        pools.sort_by_key(|p| p.kind);
        datacenters_by_id.insert(dc.id.clone(), ix);
        datacenters.push(Datacenter {
            prefix: dc
                .prefix
                .unwrap_or_else(|| derived_prefix(Kind::Datacenter, dc.id.as_str())),
            id: dc.id,
            attach,
            city: dc.city,
            region: dc.region,
            coordinates: coordinates(dc.lat, dc.lon),
            latency_us: dc.latency_us,
            storage_tb: dc.storage_tb,
            pools,
            reporter: dc.reporter,
        });
    }

    let router_sids: Vec<RouterSids<'_>> = locators
        .iter()
        .enumerate()
        .map(|(r, &locator)| RouterSids {
            locator,
            links: &links_of[r],
            datacenters: &datacenters_at[r],
            end: given_end[r],
        })
        .collect();
    let sids = SidTable::allocate(&router_sids, &link_ends, &given_end_x);

    let mut offsets = Vec::with_capacity(graph.node_count() + 1);
    let mut adjacency = Vec::with_capacity(2 * graph.edge_count());
    offsets.push(0u32);
    for (r, links) in links_of.iter().enumerate() {
        for &link in links {
            let (a, z) = link_ends[link.index()];
            let router = if a.index() == r { z } else { a };
            adjacency.push(Adjacency { link, router });
        }
        offsets.push(adjacency.len() as u32);
    }

    Topology {
        name: b.name,
        operators: b.operators,
        graph,
        datacenters,
        operators_by_id,
        routers_by_id,
        links_by_id,
        datacenters_by_id,
        datacenters_at,
        sids,
        offsets,
        adjacency,
        instance: next_instance(),
        generation: 0,
        igp_epoch: 0,
        metrics_epoch: 0,
    }
}
