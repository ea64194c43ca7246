//! What a lab is made of, computed from a topology (pure: no I/O): one
//! namespace per router, a host behind every router (the traffic source of
//! a headend), a host per data center behind its gateways; a veth wire per
//! link and per host attachment, with its addresses; and the IPv6 routes an
//! IGP and BGP would install.
//!
//! Addressing (the same topology always gives the same lab):
//!
//! | what | address |
//! |---|---|
//! | wire `w` (1-based: links by id, then router hosts by router id, then data center hosts by data center id and gateway) | `fd00:1ab:0:w::/64`, the first end `::1`, the second `::2` |
//! | the host behind router `r` | `::2` of its wire; the wire's /64 is the host prefix |
//! | the site behind router `r` (where policies pinned to `r` lead) | the router's `prefix` with host part `::1`, on the host |
//! | a data center's service address | the data center's prefix with host part `::1`, on the data center host |
//!
//! Routes (protocol [`LAB_PROTOCOL`](crate::netlink::routes::LAB_PROTOCOL)):
//! each router reaches every locator of its own operator along the
//! operator's IGP shortest paths (all equal-cost next hops: ECMP), every
//! host prefix along the shortest IGP path over the whole network (the
//! return path of replies; inter-operator reachability is BGP's job in a
//! real network). Only links that are up carry routes. A router reaches
//! the site behind it (its `prefix`) through its host in its main table,
//! where its own End.DT6 looks decapsulated packets up; no other router
//! has that route, so only an SR policy pinned to the router brings traffic
//! there. A gateway reaches
//! its data centers' prefixes through their hosts in table [`DC_TABLE`],
//! where End.DT6 looks decapsulated packets up: data center prefixes are in
//! no routing table traffic is forwarded by, so only an SR policy brings
//! traffic there (and a headend that is its own data center's gateway
//! does not loop its encapsulated packets back into its policy).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use crate::model::{DatacenterIx, LinkIx, RouterIx, Topology};

/// Prefix of every lab namespace's name.
pub const NETNS_PREFIX: &str = "cpn-";
/// The routing table of data center prefixes at gateways (End.DT6's).
pub const DC_TABLE: u32 = 100;

/// A namespace's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A router (`cpn-r-ID`).
    Router(String),
    /// The host behind a router (`cpn-h-ID`).
    Host(String),
    /// The servers of a data center (`cpn-d-ID`).
    Datacenter(String),
}

/// The namespace of router `id`.
pub fn router_netns(id: &str) -> String {
    format!("{NETNS_PREFIX}r-{id}")
}

/// The namespace of the host behind router `id`.
pub fn host_netns(id: &str) -> String {
    format!("{NETNS_PREFIX}h-{id}")
}

/// The namespace of data center `id`.
pub fn datacenter_netns(id: &str) -> String {
    format!("{NETNS_PREFIX}d-{id}")
}

/// One end of a wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireEnd {
    /// Its namespace.
    pub netns: String,
    /// Its interface (`wN`, the same at both ends).
    pub interface: String,
    /// Its address (in the wire's /64).
    pub addr: Ipv6Addr,
}

/// A veth wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wire {
    /// Its number (1-based).
    pub number: u16,
    /// The topology link it is, if it is one (hosts' wires are not).
    pub link: Option<String>,
    /// What the interfaces' alias says: the link id, `host`, or `dc:ID`.
    pub alias: String,
    /// The two ends (a link's `a` first; the router first for hosts).
    pub ends: [WireEnd; 2],
}

impl Wire {
    /// The wire's subnet.
    pub fn subnet(&self) -> Ipv6Network {
        Ipv6Network::new(wire_addr(self.number, 0), 64).expect("64 is valid")
    }
}

/// A route to install: in `netns`, `prefix` through `next_hops` (address,
/// interface).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRoute {
    /// Where.
    pub netns: String,
    /// To what.
    pub prefix: Ipv6Network,
    /// Through which neighbors (several: ECMP).
    pub next_hops: Vec<(Ipv6Addr, String)>,
}

/// An agent to run for a router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// The router.
    pub router: String,
    /// Its namespace.
    pub netns: String,
    /// Where it listens (the router's `mgmt`).
    pub listen: String,
    /// `LINK=INTERFACE,NEXTHOP` for each of its links.
    pub links: Vec<String>,
}

/// The whole lab.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Every namespace, with its role.
    pub namespaces: Vec<(String, Role)>,
    /// Every wire.
    pub wires: Vec<Wire>,
    /// Extra addresses: (namespace, interface, address, prefix length).
    pub addresses: Vec<(String, String, Ipv6Addr, u8)>,
    /// Default routes of hosts: (namespace, next hop, interface).
    pub defaults: Vec<(String, Ipv6Addr, String)>,
    /// An agent per router that has a `mgmt` address.
    pub agents: Vec<Agent>,
    /// Host addresses by router id.
    pub hosts: BTreeMap<String, Ipv6Addr>,
    /// Site addresses (in the router's `prefix`, on its host) by router id.
    pub sites: BTreeMap<String, Ipv6Addr>,
    /// Service addresses by data center id.
    pub datacenters: BTreeMap<String, Ipv6Addr>,
}

fn wire_addr(number: u16, host: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0x1ab, 0, number, 0, 0, 0, host)
}

/// The service address of a data center.
pub fn datacenter_addr(t: &Topology, dc: DatacenterIx) -> Ipv6Addr {
    first_host(t.datacenter(dc).prefix)
}

/// The address `::1` of a prefix.
fn first_host(prefix: Ipv6Network) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(prefix.network()) | 1)
}

/// Why a topology cannot be a lab.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// The lab of `t`.
pub fn plan(t: &Topology) -> Result<Plan, PlanError> {
    let mut routers: Vec<RouterIx> = t.router_indices().collect();
    routers.sort_by(|a, b| t.router(*a).id.cmp(&t.router(*b).id));
    let mut links: Vec<LinkIx> = t.link_indices().collect();
    links.sort_by(|a, b| t.link(*a).id.cmp(&t.link(*b).id));
    let mut dcs: Vec<DatacenterIx> = t.datacenter_indices().collect();
    dcs.sort_by(|a, b| t.datacenter(*a).id.cmp(&t.datacenter(*b).id));
    let wire_count: usize = links.len()
        + routers.len()
        + dcs
            .iter()
            .map(|d| t.datacenter(*d).attach.len())
            .sum::<usize>();
    if wire_count > usize::from(u16::MAX) {
        return Err(PlanError(format!(
            "a lab has at most {} wires, this topology needs {wire_count}",
            u16::MAX
        )));
    }
    let rid = |r: RouterIx| t.router(r).id.to_string();
    let mut p = Plan {
        namespaces: Vec::new(),
        wires: Vec::new(),
        addresses: Vec::new(),
        defaults: Vec::new(),
        agents: Vec::new(),
        hosts: BTreeMap::new(),
        sites: BTreeMap::new(),
        datacenters: BTreeMap::new(),
    };
    for &r in &routers {
        p.namespaces
            .push((router_netns(&rid(r)), Role::Router(rid(r))));
        p.namespaces.push((host_netns(&rid(r)), Role::Host(rid(r))));
    }
    for &d in &dcs {
        let id = t.datacenter(d).id.to_string();
        p.namespaces
            .push((datacenter_netns(&id), Role::Datacenter(id)));
    }
    let mut next = 0u16;
    let mut wire = |link: Option<String>, alias: String, a: String, b: String| {
        next += 1;
        let interface = format!("w{next}");
        Wire {
            number: next,
            link,
            alias,
            ends: [
                WireEnd {
                    netns: a,
                    interface: interface.clone(),
                    addr: wire_addr(next, 1),
                },
                WireEnd {
                    netns: b,
                    interface,
                    addr: wire_addr(next, 2),
                },
            ],
        }
    };
    for &l in &links {
        let (a, b) = t.link_ends(l);
        let w = wire(
            Some(t.link(l).id.to_string()),
            t.link(l).id.to_string(),
            router_netns(&rid(a)),
            router_netns(&rid(b)),
        );
        p.wires.push(w);
    }
    for &r in &routers {
        let w = wire(
            None,
            "host".into(),
            router_netns(&rid(r)),
            host_netns(&rid(r)),
        );
        p.hosts.insert(rid(r), w.ends[1].addr);
        let site = first_host(t.router(r).prefix);
        p.addresses
            .push((host_netns(&rid(r)), "lo".into(), site, 128));
        p.sites.insert(rid(r), site);
        p.defaults.push((
            w.ends[1].netns.clone(),
            w.ends[0].addr,
            w.ends[1].interface.clone(),
        ));
        p.wires.push(w);
    }
    for &d in &dcs {
        let dc = t.datacenter(d);
        let id = dc.id.to_string();
        let addr = datacenter_addr(t, d);
        p.addresses
            .push((datacenter_netns(&id), "lo".into(), addr, 128));
        p.datacenters.insert(id.clone(), addr);
        for (i, &g) in dc.attach.iter().enumerate() {
            let w = wire(
                None,
                format!("dc:{id}"),
                router_netns(&rid(g)),
                datacenter_netns(&id),
            );
            if i == 0 {
                p.defaults.push((
                    w.ends[1].netns.clone(),
                    w.ends[0].addr,
                    w.ends[1].interface.clone(),
                ));
            }
            p.wires.push(w);
        }
    }
    for &r in &routers {
        let Some(mgmt) = &t.router(r).mgmt else {
            continue;
        };
        let mut adjacencies = Vec::new();
        for w in &p.wires {
            let Some(link) = &w.link else { continue };
            for (me, other) in [(0, 1), (1, 0)] {
                if w.ends[me].netns == router_netns(&rid(r)) {
                    adjacencies.push(format!(
                        "{link}={},{}",
                        w.ends[me].interface, w.ends[other].addr
                    ));
                }
            }
        }
        p.agents.push(Agent {
            router: rid(r),
            netns: router_netns(&rid(r)),
            listen: mgmt.clone(),
            links: adjacencies,
        });
    }
    Ok(p)
}

/// Shortest IGP distances from `to` over up links, restricted to routers
/// `allowed` accepts.
fn distances(t: &Topology, to: RouterIx, allowed: &dyn Fn(RouterIx) -> bool) -> Vec<u64> {
    let mut dist = vec![u64::MAX; t.router_count()];
    let mut heap = BinaryHeap::new();
    dist[to.index()] = 0;
    heap.push(Reverse((0u64, to.index())));
    while let Some(Reverse((d, v))) = heap.pop() {
        if d > dist[v] {
            continue;
        }
        for adj in t.adjacencies(RouterIx::new(v)) {
            let link = t.link(adj.link);
            let u = t.other_end(adj.link, RouterIx::new(v));
            if !link.up || !t.router(u).up || !allowed(u) {
                continue;
            }
            let nd = d + u64::from(link.igp);
            if nd < dist[u.index()] {
                dist[u.index()] = nd;
                heap.push(Reverse((nd, u.index())));
            }
        }
    }
    dist
}

/// The routes of the lab's routers for the topology's current link states:
/// locators and node micro-SIDs inside each operator (ECMP), sites, hosts.
pub fn routes(t: &Topology, p: &Plan) -> Vec<PlannedRoute> {
    // The wire of each link, by link index.
    let wire_of: BTreeMap<String, &Wire> = p
        .wires
        .iter()
        .filter_map(|w| w.link.clone().map(|l| (l, w)))
        .collect();
    let hop = |from: RouterIx, link: LinkIx| -> (Ipv6Addr, String) {
        let w = wire_of[&t.link(link).id.to_string()];
        let me = usize::from(w.ends[0].netns != router_netns(&t.router(from).id.to_string()));
        (w.ends[1 - me].addr, w.ends[me].interface.clone())
    };
    let mut out = Vec::new();
    let routers: Vec<RouterIx> = t.router_indices().collect();
    // Locators inside each operator, ECMP.
    for &dst in &routers {
        let op = t.router(dst).operator;
        let dist = distances(t, dst, &|r| t.router(r).operator == op);
        for &src in &routers {
            if src == dst || t.router(src).operator != op || dist[src.index()] == u64::MAX {
                continue;
            }
            let mut next_hops: BTreeSet<(Ipv6Addr, String)> = BTreeSet::new();
            for adj in t.adjacencies(src) {
                let link = t.link(adj.link);
                let u = t.other_end(adj.link, src);
                if link.up
                    && t.router(u).operator == op
                    && dist[u.index()] != u64::MAX
                    && dist[u.index()] + u64::from(link.igp) == dist[src.index()]
                {
                    next_hops.insert(hop(src, adj.link));
                }
            }
            let next_hops: Vec<(Ipv6Addr, String)> = next_hops.into_iter().collect();
            // A router's node micro-SID (its uN, block + LNFL bits) is
            // routed like its locator.
            let un = t
                .usid_end(dst)
                .zip(t.csid_block(dst))
                .map(|(un, block)| block.prefix(un));
            for prefix in std::iter::once(t.router(dst).locator).chain(un) {
                out.push(PlannedRoute {
                    netns: router_netns(&t.router(src).id.to_string()),
                    prefix,
                    next_hops: next_hops.clone(),
                });
            }
        }
    }
    // Each router to the site behind it (through its host), and no one else.
    for w in &p.wires {
        if w.link.is_none()
            && let Some(id) = w.ends[1].netns.strip_prefix(&format!("{NETNS_PREFIX}h-"))
            && let Some(r) = t.router_ix(id)
        {
            out.push(PlannedRoute {
                netns: w.ends[0].netns.clone(),
                prefix: t.router(r).prefix,
                next_hops: vec![(w.ends[1].addr, w.ends[0].interface.clone())],
            });
        }
    }
    // Host prefixes over the whole network: one next hop (the first
    // neighbor by link id on a shortest path), so replies take one path.
    for &dst in &routers {
        let id = t.router(dst).id.to_string();
        let host = p.hosts[&id];
        let prefix = Ipv6Network::new(host, 64).expect("64 is valid");
        let prefix = Ipv6Network::new(prefix.network(), 64).expect("64 is valid");
        let dist = distances(t, dst, &|_| true);
        for &src in &routers {
            if src == dst || dist[src.index()] == u64::MAX {
                continue;
            }
            let best = t.adjacencies(src).iter().find(|adj| {
                let link = t.link(adj.link);
                let u = t.other_end(adj.link, src);
                link.up
                    && dist[u.index()] != u64::MAX
                    && dist[u.index()] + u64::from(link.igp) == dist[src.index()]
            });
            if let Some(adj) = best {
                out.push(PlannedRoute {
                    netns: router_netns(&t.router(src).id.to_string()),
                    prefix,
                    next_hops: vec![hop(src, adj.link)],
                });
            }
        }
    }
    out
}

/// The routes of the gateways to their data centers, in [`DC_TABLE`].
pub fn datacenter_routes(t: &Topology, p: &Plan) -> Vec<PlannedRoute> {
    let mut out = Vec::new();
    for w in &p.wires {
        if let Some(dc) = w.ends[1].netns.strip_prefix(&format!("{NETNS_PREFIX}d-"))
            && let Some(d) = t.datacenter_ix(dc)
        {
            out.push(PlannedRoute {
                netns: w.ends[0].netns.clone(),
                prefix: t.datacenter(d).prefix,
                next_hops: vec![(w.ends[1].addr, w.ends[0].interface.clone())],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::topology_file::lab;

    #[test]
    fn namespaces_wires_and_addresses() {
        let t = lab();
        let p = plan(&t).unwrap();
        // 7 routers + 7 hosts + 3 data centers.
        assert_eq!(p.namespaces.len(), 17);
        // Links of lab.yaml, 7 host wires, dc-central twice (b1, b2).
        let links = t.link_count();
        assert_eq!(p.wires.len(), links + 7 + 4);
        let first = &p.wires[0];
        assert_eq!(first.link.as_deref(), Some("a1-a2"));
        assert_eq!(first.ends[0].netns, "cpn-r-a1");
        assert_eq!(
            first.ends[1].addr,
            "fd00:1ab:0:1::2".parse::<Ipv6Addr>().unwrap()
        );
        // dc-west declares fd00:dc:3::/64 in lab.yaml.
        assert_eq!(
            p.datacenters["dc-west"],
            "fd00:dc:3::1".parse::<Ipv6Addr>().unwrap()
        );
        let a1 = p.agents.iter().find(|a| a.router == "a1").unwrap();
        assert_eq!(a1.listen, "127.0.0.1:50101");
        assert_eq!(a1.links[0], "a1-a2=w1,fd00:1ab:0:1::2");
    }

    #[test]
    fn underlay_follows_igp_with_ecmp_and_reconverges() {
        let mut t = lab();
        let p = plan(&t).unwrap();
        let a4 = t.router(t.router_ix("a4").unwrap()).locator;
        let at_a1 = |routes: &[PlannedRoute]| {
            routes
                .iter()
                .find(|r| r.netns == "cpn-r-a1" && r.prefix == a4)
                .map(|r| r.next_hops.len())
        };
        // a1-a2-a4 and a1-a3-a4 tie: two next hops.
        assert_eq!(at_a1(&routes(&t, &p)), Some(2));
        // Nothing toward another operator's locators.
        let b1 = t.router(t.router_ix("b1").unwrap()).locator;
        assert!(
            !routes(&t, &p)
                .iter()
                .any(|r| r.netns == "cpn-r-a1" && r.prefix == b1)
        );
        let l = t.link_ix("a3-a4").unwrap();
        t.link_mut(l).up = false;
        assert_eq!(at_a1(&routes(&t, &p)), Some(1));
        // Data center prefixes only at gateways, and never in the
        // forwarding routes.
        let dc = t.datacenter(t.datacenter_ix("dc-central").unwrap()).prefix;
        assert!(!routes(&t, &p).iter().any(|r| r.prefix == dc));
        let mut at: Vec<String> = datacenter_routes(&t, &p)
            .into_iter()
            .filter(|r| r.prefix == dc)
            .map(|r| r.netns)
            .collect();
        at.sort();
        assert_eq!(at, ["cpn-r-b1", "cpn-r-b2"]);
    }
}
