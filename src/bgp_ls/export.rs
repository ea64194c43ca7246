//! A topology as the network would describe it over BGP-LS: what a route
//! reflector would send for it (node, locator prefix, End SID and link NLRI
//! with their attributes) and the business data that stays in the file.
//! The replay comparison, the benchmarks and the tests feed this to CPN and
//! check that what it learns answers as the file does.
//!
//! Encoding: every router an IS-IS level-2 node (system id from its rank,
//! IPv4 router id 10.x.y.z, node name = its id, SRH Max H.Encaps MSD = its
//! MSD), its locator an IPv6 prefix with the SRv6 Locator TLV, its End SID
//! an SRv6 SID NLRI; every up link two directions with link identifiers,
//! link name = its id, metrics (RFC 8571 delay, variation, loss, utilized
//! bandwidth) and End.X SIDs; peering links as BGP (Protocol-ID 7) links
//! between the routers' BGP router ids.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{LinkKind, RouterIx, SidStructure, Topology};
use crate::topology_file::{OverridesEntry, RouterOverride, TopologyDocument};

use super::wire::attr::{
    EndXSid, EndpointBehavior, LsAttribute, Measured, SidStructure as WireStructure, Srv6Locator,
};
use super::wire::message::Message;
use super::wire::nlri::{
    LinkDescriptor, LinkNlri, Nlri, NodeDescriptor, NodeNlri, Origin, Prefix, PrefixNlri,
    Srv6SidNlri, protocol,
};
use super::wire::update::Update;

/// A topology's routes and business data.
#[derive(Clone, Debug)]
pub struct Exported {
    /// Every route: NLRI and attribute.
    pub routes: Vec<(Nlri, LsAttribute)>,
    /// The file's part: operators (with AS numbers), data centers,
    /// overrides with the routers' cities, regions and agents.
    pub business: TopologyDocument,
}

/// The AS of each operator: its `asn`, else 64512 + its rank.
fn asn(t: &Topology, r: RouterIx) -> u32 {
    let op = t.router(r).operator;
    t.operator(op).asn.unwrap_or(64512 + u32::from(op.0))
}

/// The IS-IS system id of a router.
pub fn system_id(r: RouterIx) -> Vec<u8> {
    let i = r.index() as u32 + 1;
    let b = i.to_be_bytes();
    vec![0, 0, b[0], b[1], b[2], b[3]]
}

/// The IPv4 router id (and BGP router id) of a router.
pub fn router_id(r: RouterIx) -> Ipv4Addr {
    let i = r.index() as u32 + 1;
    Ipv4Addr::from(0x0a00_0000 | (i & 0x00ff_ffff))
}

fn structure(s: SidStructure) -> WireStructure {
    WireStructure {
        block: s.block_bits,
        node: s.node_bits,
        function: s.function_bits,
        argument: s.argument_bits,
    }
}

fn igp_node(t: &Topology, r: RouterIx) -> NodeDescriptor {
    NodeDescriptor {
        asn: Some(asn(t, r)),
        igp_router_id: Some(system_id(r)),
        ..Default::default()
    }
}

fn bytes_per_second(mbps: u64) -> f32 {
    (mbps as f64 * 125_000.0) as f32
}

/// Everything `t` says, as BGP-LS routes, and its business data.
pub fn export(t: &Topology) -> Exported {
    let isis = Origin {
        protocol: protocol::ISIS_L2,
        identifier: 0,
    };
    let mut routes = Vec::new();
    for (r, router) in t.routers().filter(|(_, r)| r.up) {
        let node = igp_node(t, r);
        let s = structure(SidStructure::of_locator(router.locator));
        routes.push((
            Nlri::Node(NodeNlri {
                origin: isis,
                node: node.clone(),
                unknown: vec![],
            }),
            LsAttribute {
                node_name: Some(router.id.to_string()),
                router_id_v4: Some(router_id(r)),
                srv6_capabilities: Some(0),
                node_msd: Some(vec![(44, router.msd)]),
                ..Default::default()
            },
        ));
        routes.push((
            Nlri::Prefix(PrefixNlri {
                origin: isis,
                node: node.clone(),
                mt_id: None,
                ospf_route_type: None,
                prefix: Prefix {
                    addr: IpAddr::V6(router.locator.network()),
                    len: router.locator.prefix(),
                },
                unknown: vec![],
            }),
            LsAttribute {
                srv6_locator: Some(Srv6Locator {
                    flags: 0,
                    algorithm: 0,
                    metric: 0,
                    sub: vec![],
                }),
                ..Default::default()
            },
        ));
        routes.push((
            Nlri::Srv6Sid(Srv6SidNlri {
                origin: isis,
                node,
                mt_id: None,
                sid: t.sids().end(r),
                unknown: vec![],
            }),
            LsAttribute {
                endpoint_behavior: Some(EndpointBehavior {
                    behavior: 1,
                    flags: 0,
                    algorithm: 0,
                }),
                sid_structure: Some(s),
                ..Default::default()
            },
        ));
    }
    for (l, link) in t.links().filter(|(_, l)| l.up) {
        let (a, b) = t.link_ends(l);
        if !(t.router(a).up && t.router(b).up) {
            continue;
        }
        let peering = t.link_kind(l) == LinkKind::Peering;
        let ids = (2 * l.index() as u32 + 1, 2 * l.index() as u32 + 2);
        for (from, to, (local, remote)) in [(a, b, ids), (b, a, (ids.1, ids.0))] {
            let (origin, local_node, remote_node) = if peering {
                let bgp = |r: RouterIx| NodeDescriptor {
                    asn: Some(asn(t, r)),
                    bgp_router_id: Some(router_id(r)),
                    ..Default::default()
                };
                let o = Origin {
                    protocol: protocol::BGP,
                    identifier: 0,
                };
                (o, bgp(from), bgp(to))
            } else {
                (isis, igp_node(t, from), igp_node(t, to))
            };
            let sid = t.sids().end_x(from, l).unwrap_or(Ipv6Addr::UNSPECIFIED);
            let s = structure(SidStructure::of_locator(t.router(from).locator));
            let attr = LsAttribute {
                igp_metric: Some(link.igp.min(0x00ff_ffff)),
                te_metric: Some(link.te),
                max_bandwidth: Some(bytes_per_second(link.bandwidth_mbps)),
                utilized_bandwidth: (link.used_mbps > 0).then(|| bytes_per_second(link.used_mbps)),
                delay: Some(Measured {
                    anomalous: false,
                    value: link.latency_us.min(0x00ff_ffff) as u32,
                }),
                delay_variation: (link.jitter_us > 0).then(|| Measured {
                    anomalous: false,
                    value: link.jitter_us.min(0x00ff_ffff) as u32,
                }),
                loss: (link.loss_ppm > 0).then(|| Measured {
                    anomalous: false,
                    value: ((link.loss_ppm * 100 + 1) / 3).min(0x00ff_fffe) as u32,
                }),
                srlg: (!link.srlg.is_empty()).then(|| link.srlg.clone()),
                link_name: Some(link.id.to_string()),
                remote_router_id_v4: Some(router_id(to)),
                end_x_sids: vec![EndXSid {
                    behavior: 5,
                    flags: 0,
                    algorithm: 0,
                    weight: 0,
                    sid,
                    structure: Some(s),
                    sub: vec![],
                }],
                ..Default::default()
            };
            routes.push((
                Nlri::Link(LinkNlri {
                    origin,
                    local: local_node,
                    remote: remote_node,
                    link: LinkDescriptor {
                        ids: Some((local, remote)),
                        ..Default::default()
                    },
                }),
                attr,
            ));
        }
    }
    Exported {
        routes,
        business: business(t),
    }
}

/// The business data of `t`: everything but routers and links, with the
/// routers' cities, regions and agents as overrides.
fn business(t: &Topology) -> TopologyDocument {
    let mut doc = TopologyDocument::from_topology(t);
    for (i, op) in doc.operators.iter_mut().enumerate() {
        op.asn = Some(op.asn.unwrap_or(64512 + i as u32));
    }
    let routers = doc
        .routers
        .drain(..)
        .filter(|r| {
            r.city.is_some() || r.region.is_some() || r.mgmt.is_some() || r.prefix.is_some()
        })
        .map(|r| RouterOverride {
            id: r.id,
            city: r.city,
            region: r.region,
            mgmt: r.mgmt,
            prefix: r.prefix,
            ..Default::default()
        })
        .collect();
    doc.links.clear();
    doc.overrides = Some(OverridesEntry {
        routers,
        links: vec![],
    });
    doc
}

/// The routes as UPDATE messages (one route each, as gobgpd sends them),
/// from AS `asn` with next hop `next_hop`, then End-of-RIB.
pub fn messages(routes: &[(Nlri, LsAttribute)], asn: u32, next_hop: IpAddr) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = routes
        .iter()
        .map(|(n, a)| {
            let u = Update::announce(vec![n.clone()], Some(a.clone()), &[asn], next_hop);
            Message::Update(Box::new(u)).encode()
        })
        .collect();
    out.push(Message::Update(Box::new(Update::end_of_rib())).encode());
    out
}
