//! Building a valid [`Topology`] from drafts: every rule of the topology
//! spec that is about meaning (ids, references, ranges, locators), checked in
//! one place and all reported at once, each naming the item and field.
//!
//! File formats (YAML, the gRPC API) convert into drafts and map the
//! [`Place`] of each error back to a line or a field path.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ipnetwork::Ipv6Network;
use petgraph::graph::UnGraph;

use super::datacenter::{Datacenter, DatacenterIx, Pool, PoolKind};
use super::ids::{DatacenterId, LinkId, OperatorId, RouterId};
use super::network::{DEFAULT_MSD, Link, Operator, OperatorIx, Router};
use super::sid::{MAX_ADJACENCIES, MAX_DATACENTERS_PER_ROUTER, RouterSids, SidTable};
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
    /// Agent address.
    pub mgmt: Option<String>,
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
    /// Gateway-to-servers latency, microseconds.
    pub latency_us: u64,
    /// Storage by medium, TB.
    pub storage_tb: BTreeMap<String, f64>,
    /// Pools, at least one, one per kind.
    pub pools: Vec<PoolDraft>,
}

/// The list of a topology an item comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// `operators`
    Operators,
    /// `routers`
    Routers,
    /// `links`
    Links,
    /// `datacenters`
    Datacenters,
}

impl Section {
    /// The key of this list in a topology document.
    pub fn key(self) -> &'static str {
        match self {
            Section::Operators => "operators",
            Section::Routers => "routers",
            Section::Links => "links",
            Section::Datacenters => "datacenters",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Section::Operators => "operator",
            Section::Routers => "router",
            Section::Links => "link",
            Section::Datacenters => "datacenter",
        }
    }
}

/// Where a problem is: an item (by list and position as given) and a field
/// path inside it (`"operator"`, `"pools[1].tflops"`), or a whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The list.
    pub section: Section,
    /// Position in the list as given; `None` for the list itself.
    pub index: Option<usize>,
    /// The item's id, when it has one.
    pub id: Option<String>,
    /// Field path inside the item; empty for the whole item.
    pub field: String,
}

impl Place {
    /// The path of this place in a document: `routers[3].operator`.
    pub fn path(&self) -> String {
        let mut path = self.section.key().to_owned();
        if let Some(i) = self.index {
            path.push_str(&format!("[{i}]"));
        }
        if !self.field.is_empty() {
            path.push('.');
            path.push_str(&self.field);
        }
        path
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} `{}` ({})", self.section.noun(), id, self.path()),
            None => f.write_str(&self.path()),
        }
    }
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Problem {
    /// A list that needs at least one item has none.
    #[error("at least one {0} is required")]
    Empty(&'static str),
    /// An id used twice.
    #[error("duplicate id `{id}`, first used by {first}")]
    DuplicateId {
        /// The id.
        id: String,
        /// Where it was first defined.
        first: Box<Place>,
    },
    /// A reference to something that does not exist.
    #[error("unknown {kind} `{id}`")]
    Unknown {
        /// "operator", "router".
        kind: &'static str,
        /// The id referred to.
        id: String,
    },
    /// A link from a router to itself.
    #[error("link from router `{0}` to itself")]
    SelfLoop(String),
    /// A locator whose length is outside 16..=64.
    #[error("locator {0} has length /{1}, expected /16 to /64")]
    LocatorLength(Ipv6Network, u8),
    /// A locator with bits set past its length.
    #[error("locator {0} has bits set after its prefix length (did you mean {1}?)")]
    LocatorHostBits(Ipv6Network, Ipv6Network),
    /// Two routers' locators overlap.
    #[error("locator {locator} overlaps locator {other_locator} of router `{other}`")]
    LocatorOverlap {
        /// This router's locator.
        locator: Ipv6Network,
        /// The other router.
        other: String,
        /// Its locator.
        other_locator: Ipv6Network,
    },
    /// A number outside its allowed range.
    #[error("{value} {rule}")]
    OutOfRange {
        /// The value as given.
        value: String,
        /// What it must be, e.g. "must be >= 1".
        rule: String,
    },
    /// A router named twice in one data center's `attach`.
    #[error("router `{0}` attached twice")]
    DuplicateAttach(String),
    /// Two pools of the same kind in one data center.
    #[error("second `{0}` pool: a data center has at most one pool of each kind")]
    DuplicatePoolKind(PoolKind),
    /// More links than a locator's function space has End.X SIDs for.
    #[error(
        "router has {0} links, more than the {MAX_ADJACENCIES} End.X SIDs its locator can give"
    )]
    TooManyAdjacencies(usize),
    /// More data centers on one router than End.DT6 SIDs.
    #[error(
        "router has {0} data centers, more than the {MAX_DATACENTERS_PER_ROUTER} End.DT6 SIDs its locator can give"
    )]
    TooManyDatacenters(usize),
}

/// One reason a topology is refused, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct BuildError {
    /// Where.
    pub place: Place,
    /// What.
    pub problem: Problem,
}

/// Every reason a topology is refused, in the order of the input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct BuildErrors(pub Vec<BuildError>);

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
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
        check(&self, &mut errors);
        if errors.is_empty() {
            Ok(assemble(self))
        } else {
            Err(BuildErrors(errors))
        }
    }
}

fn place(section: Section, index: usize, id: &str, field: &str) -> Place {
    Place {
        section,
        index: Some(index),
        id: Some(id.to_owned()),
        field: field.to_owned(),
    }
}

fn out_of_range(value: impl fmt::Display, rule: impl Into<String>) -> Problem {
    Problem::OutOfRange {
        value: value.to_string(),
        rule: rule.into(),
    }
}

/// Every rule about meaning; pushes one error per violation.
fn check(b: &TopologyBuilder, errors: &mut Vec<BuildError>) {
    let mut err = |place: Place, problem: Problem| errors.push(BuildError { place, problem });
    for (section, empty) in [
        (Section::Operators, b.operators.is_empty()),
        (Section::Routers, b.routers.is_empty()),
    ] {
        if empty {
            let list = Place {
                section,
                index: None,
                id: None,
                field: String::new(),
            };
            err(list, Problem::Empty(section.noun()));
        }
    }

    let mut operators: HashMap<&str, Place> = HashMap::new();
    for (i, op) in b.operators.iter().enumerate() {
        let here = place(Section::Operators, i, op.id.as_str(), "id");
        if let Some(first) = operators.get(op.id.as_str()) {
            let first = Box::new(first.clone());
            err(
                here,
                Problem::DuplicateId {
                    id: op.id.to_string(),
                    first,
                },
            );
        } else {
            operators.insert(op.id.as_str(), here);
        }
    }

    // Routers and data centers share one id namespace.
    let mut nodes: HashMap<&str, Place> = HashMap::new();
    let mut router_ids: HashMap<&str, usize> = HashMap::new();
    for (i, r) in b.routers.iter().enumerate() {
        let id = r.id.as_str();
        let here = place(Section::Routers, i, id, "id");
        if let Some(first) = nodes.get(id) {
            let first = Box::new(first.clone());
            err(
                here,
                Problem::DuplicateId {
                    id: id.to_owned(),
                    first,
                },
            );
        } else {
            nodes.insert(id, here);
            router_ids.insert(id, i);
        }
        if !operators.contains_key(r.operator.as_str()) {
            let problem = Problem::Unknown {
                kind: "operator",
                id: r.operator.to_string(),
            };
            err(place(Section::Routers, i, id, "operator"), problem);
        }
        let len = r.locator.prefix();
        if !(16..=64).contains(&len) {
            err(
                place(Section::Routers, i, id, "locator"),
                Problem::LocatorLength(r.locator, len),
            );
        } else if r.locator.ip() != r.locator.network() {
            let fixed = Ipv6Network::new(r.locator.network(), len).expect("same length");
            err(
                place(Section::Routers, i, id, "locator"),
                Problem::LocatorHostBits(r.locator, fixed),
            );
        }
    }
    for (i, j) in overlapping_locators(&b.routers) {
        let (r, other) = (&b.routers[i], &b.routers[j]);
        let problem = Problem::LocatorOverlap {
            locator: r.locator,
            other: other.id.to_string(),
            other_locator: other.locator,
        };
        err(
            place(Section::Routers, i, r.id.as_str(), "locator"),
            problem,
        );
    }

    let mut links: HashMap<&str, Place> = HashMap::new();
    let mut degree = vec![0usize; b.routers.len()];
    for (i, l) in b.links.iter().enumerate() {
        let id = l.id.as_str();
        let here = |field: &str| place(Section::Links, i, id, field);
        if let Some(first) = links.get(id) {
            let first = Box::new(first.clone());
            err(
                here("id"),
                Problem::DuplicateId {
                    id: id.to_owned(),
                    first,
                },
            );
        } else {
            links.insert(id, here("id"));
        }
        for (field, end) in [("a", &l.a), ("b", &l.b)] {
            match router_ids.get(end.as_str()) {
                Some(&r) => degree[r] += 1,
                None => err(
                    here(field),
                    Problem::Unknown {
                        kind: "router",
                        id: end.to_string(),
                    },
                ),
            }
        }
        if l.a == l.b {
            err(here("b"), Problem::SelfLoop(l.a.to_string()));
        }
        if l.igp < 1 {
            err(here("igp"), out_of_range(l.igp, "must be >= 1"));
        }
        if l.bandwidth_mbps == 0 {
            err(here("bandwidth_mbps"), out_of_range(0, "must be > 0"));
        }
        if l.used_mbps > l.bandwidth_mbps {
            let rule = format!("must not exceed bandwidth_mbps {}", l.bandwidth_mbps);
            err(here("used_mbps"), out_of_range(l.used_mbps, rule));
        }
    }
    for (r, &d) in degree.iter().enumerate() {
        if d > MAX_ADJACENCIES {
            let id = b.routers[r].id.as_str();
            err(
                place(Section::Routers, r, id, ""),
                Problem::TooManyAdjacencies(d),
            );
        }
    }

    let mut dcs_per_router = vec![0usize; b.routers.len()];
    for (i, dc) in b.datacenters.iter().enumerate() {
        let id = dc.id.as_str();
        let here = |field: &str| place(Section::Datacenters, i, id, field);
        if let Some(first) = nodes.get(id) {
            let first = Box::new(first.clone());
            err(
                here("id"),
                Problem::DuplicateId {
                    id: id.to_owned(),
                    first,
                },
            );
        } else {
            nodes.insert(id, here("id"));
        }
        if dc.attach.is_empty() {
            err(here("attach"), Problem::Empty("attach router"));
        }
        for (k, r) in dc.attach.iter().enumerate() {
            let field = format!("attach[{k}]");
            if dc.attach[..k].contains(r) {
                err(here(&field), Problem::DuplicateAttach(r.to_string()));
            } else if let Some(&ri) = router_ids.get(r.as_str()) {
                dcs_per_router[ri] += 1;
            } else {
                err(
                    here(&field),
                    Problem::Unknown {
                        kind: "router",
                        id: r.to_string(),
                    },
                );
            }
        }
        for (medium, tb) in &dc.storage_tb {
            if !(tb.is_finite() && *tb >= 0.0) {
                err(
                    here(&format!("storage_tb.{medium}")),
                    out_of_range(tb, "must be >= 0"),
                );
            }
        }
        if dc.pools.is_empty() {
            err(here("pools"), Problem::Empty("pool"));
        }
        for (k, pool) in dc.pools.iter().enumerate() {
            let field = |name: &str| here(&format!("pools[{k}].{name}"));
            if dc.pools[..k].iter().any(|p| p.kind == pool.kind) {
                err(field("kind"), Problem::DuplicatePoolKind(pool.kind));
            }
            for (name, capacity, used) in [
                ("tflops", pool.tflops, pool.used_tflops),
                ("memory_gb", pool.memory_gb, pool.used_memory_gb),
            ] {
                if !(capacity.is_finite() && capacity > 0.0) {
                    err(field(name), out_of_range(capacity, "must be > 0"));
                }
                if !(used.is_finite() && used >= 0.0) {
                    err(
                        field(&format!("used_{name}")),
                        out_of_range(used, "must be >= 0"),
                    );
                } else if used > capacity {
                    let rule = format!("must not exceed {name} {capacity}");
                    err(field(&format!("used_{name}")), out_of_range(used, rule));
                }
            }
            if !(pool.price.is_finite() && pool.price >= 0.0) {
                err(field("price"), out_of_range(pool.price, "must be >= 0"));
            }
        }
    }
    for (r, &n) in dcs_per_router.iter().enumerate() {
        if n > MAX_DATACENTERS_PER_ROUTER {
            let id = b.routers[r].id.as_str();
            err(
                place(Section::Routers, r, id, ""),
                Problem::TooManyDatacenters(n),
            );
        }
    }
}

/// Pairs `(later, earlier)` of router positions whose locators overlap; each
/// overlapping router is reported once, against the earliest router in the
/// input it collides with. Locators already refused for their form are skipped.
fn overlapping_locators(routers: &[RouterDraft]) -> Vec<(usize, usize)> {
    let range = |n: &Ipv6Network| {
        let start = u128::from(n.network());
        let size = u128::MAX >> n.prefix();
        (start, start | size)
    };
    let well_formed = |n: &Ipv6Network| (16..=64).contains(&n.prefix()) && n.ip() == n.network();
    let mut order: Vec<usize> = (0..routers.len())
        .filter(|&i| well_formed(&routers[i].locator))
        .collect();
    order.sort_by_key(|&i| (range(&routers[i].locator).0, i));
    let mut found = Vec::new();
    // The router whose range reaches furthest so far.
    let mut reach: Option<(u128, usize)> = None;
    for i in order {
        let (start, end) = range(&routers[i].locator);
        match reach {
            Some((far, j)) if start <= far => {
                let (later, earlier) = if i > j { (i, j) } else { (j, i) };
                found.push((later, earlier));
                if end > far {
                    reach = Some((end, i));
                }
            }
            _ => reach = Some((end, i)),
        }
    }
    found.sort_unstable();
    found.dedup_by_key(|p| p.0);
    found
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
    for r in b.routers {
        locators.push(r.locator);
        let ix = graph.add_node(Router {
            operator: operators_by_id[&r.operator],
            id: r.id.clone(),
            locator: r.locator,
            city: r.city,
            region: r.region,
            msd: r.msd,
            mgmt: r.mgmt,
            up: true,
        });
        routers_by_id.insert(r.id, ix);
    }

    let mut links_by_id = HashMap::with_capacity(b.links.len());
    let mut link_ends = Vec::with_capacity(b.links.len());
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
            })
            .collect();
        pools.sort_by_key(|p| p.kind);
        datacenters_by_id.insert(dc.id.clone(), ix);
        datacenters.push(Datacenter {
            id: dc.id,
            attach,
            city: dc.city,
            region: dc.region,
            latency_us: dc.latency_us,
            storage_tb: dc.storage_tb,
            pools,
        });
    }

    let router_sids: Vec<RouterSids<'_>> = locators
        .iter()
        .enumerate()
        .map(|(r, &locator)| RouterSids {
            locator,
            links: &links_of[r],
            datacenters: &datacenters_at[r],
        })
        .collect();
    let sids = SidTable::allocate(&router_sids, &link_ends);

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
    }
}
