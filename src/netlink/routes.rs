//! IPv6 routes in the main table, tagged with a route protocol number so
//! that each owner (the agent, the lab) finds and touches only its own:
//! plain routes (one or several next hops), seg6 encapsulation (H.Encaps,
//! RFC 8986 5.1, or H.Encaps.Red, 5.2) steering a prefix into a segment
//! list, and seg6local endpoint behaviors (End, End.X, End.DT6) with packet
//! counters, End and End.X optionally with the NEXT-C-SID flavor (RFC 9800
//! micro-SIDs, a route of block + node + function bits).
//!
//! Every add replaces what the kernel holds for the same prefix and metric
//! (one route changes in one step: make-before-break at the headend).
//! SRv6 routes go at their own metric, [`SRV6_METRIC`], ahead of and apart
//! from routes others install for the same prefix at the default metric:
//! a replace never overwrites them, a removal never takes them.

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;
use rtnetlink::packet_core::{DefaultNla, NLA_F_NESTED, Nla, NlasIterator};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteLwTunnelEncap, RouteMessage, RouteProtocol, RouteScope,
    RouteSeg6IpTunnel, RouteSeg6LocalTunnel, RouteType, Seg6LocalAction, Seg6Mode,
};
use rtnetlink::{Handle, RouteMessageBuilder, RouteNextHopBuilder};
use tokio_stream::StreamExt;

use super::{NetError, NetResult};

/// Route protocol of what `cpn-router --linux` installs.
pub const AGENT_PROTOCOL: u8 = 200;
/// Route protocol of what the lab installs (the IGP's and BGP's stand-in).
pub const LAB_PROTOCOL: u8 = 201;
/// The main routing table.
pub const MAIN_TABLE: u32 = 254;
/// Metric of seg6 and seg6local routes (the kernel's default is 1024).
pub const SRV6_METRIC: u32 = 100;

// SEG6_LOCAL_COUNTERS and its nested attributes (linux/seg6_local.h); 1 is
// padding.
const SEG6_LOCAL_COUNTERS: u16 = 10;
const COUNT_PACKETS: u16 = 2;
const COUNT_BYTES: u16 = 3;
const COUNT_ERRORS: u16 = 4;
// SEG6_LOCAL_FLAVORS and its nested attributes (linux/seg6_local.h, kernel
// 6.1+): the operation bitmask (u32) has bit SEG6_LOCAL_FLV_OP_NEXT_CSID =
// 4; the block and node + function lengths are u8 attributes. rtnetlink
// 0.24 has no typed attribute for them.
const SEG6_LOCAL_FLAVORS: u16 = 11;
const FLV_OPERATION: u16 = 1;
const FLV_LCBLOCK_BITS: u16 = 2;
const FLV_LCNODE_FN_BITS: u16 = 3;
const FLV_OP_NEXT_CSID: u32 = 1 << 4;
// SEG6_IPTUN_MODE_ENCAP_RED (linux/seg6_iptunnel.h).
const MODE_ENCAP_RED: u32 = 3;

/// The NEXT-C-SID flavor of End or End.X (RFC 9800): how long the block
/// and each micro-SID are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NextCsid {
    /// Locator-Block length, bits.
    pub block_bits: u8,
    /// Locator-Node + Function length, bits.
    pub node_function_bits: u8,
}

/// A seg6local endpoint behavior.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalAction {
    /// End: the node segment.
    End,
    /// End.X: cross an adjacency to this next hop.
    EndX {
        /// The neighbor's address on the link.
        next_hop: Ipv6Addr,
    },
    /// End.DT6: decapsulate and look the inner packet up in a table.
    EndDt6 {
        /// The table.
        table: u32,
    },
}

/// What a seg6local route counted (packets it processed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets processed.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Packets dropped in processing.
    pub errors: u64,
}

/// A route read back from the kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// Traffic to `prefix` is encapsulated into `segments` (first first).
    Encap {
        /// The steered prefix.
        prefix: Ipv6Network,
        /// The segment list.
        segments: Vec<Ipv6Addr>,
        /// H.Encaps.Red rather than H.Encaps.
        reduced: bool,
    },
    /// A local SID.
    Local {
        /// The SID.
        sid: Ipv6Addr,
        /// The route's length: 128, or block + node + function bits of a
        /// micro-SID.
        prefix_len: u8,
        /// The NEXT-C-SID flavor, when the kernel holds one.
        next_csid: Option<NextCsid>,
        /// Its behavior, `None` when the kernel's is not one CPN uses.
        action: Option<LocalAction>,
        /// Its counters, when it counts.
        counters: Option<Counters>,
        /// The interface it is bound to.
        oif: Option<u32>,
    },
    /// Anything else (a plain route).
    Plain {
        /// Its destination.
        prefix: Ipv6Network,
    },
}

impl Route {
    /// The destination the kernel keys the route by.
    pub fn prefix(&self) -> Ipv6Network {
        match self {
            Route::Encap { prefix, .. } | Route::Plain { prefix } => *prefix,
            Route::Local {
                sid, prefix_len, ..
            } => Ipv6Network::new(*sid, *prefix_len).expect("a kernel route's length"),
        }
    }
}

fn protocol(p: u8) -> RouteProtocol {
    RouteProtocol::from(p)
}

fn counters_attribute() -> RouteSeg6LocalTunnel {
    // The kernel wants all three, at zero, to start counting.
    let mut value = Vec::with_capacity(36);
    for kind in [COUNT_PACKETS, COUNT_BYTES, COUNT_ERRORS] {
        value.extend_from_slice(&12u16.to_ne_bytes());
        value.extend_from_slice(&kind.to_ne_bytes());
        value.extend_from_slice(&0u64.to_ne_bytes());
    }
    RouteSeg6LocalTunnel::Other(DefaultNla::new(SEG6_LOCAL_COUNTERS | NLA_F_NESTED, value))
}

fn flavors_attribute(f: NextCsid) -> RouteSeg6LocalTunnel {
    let mut value = Vec::with_capacity(24);
    value.extend_from_slice(&8u16.to_ne_bytes());
    value.extend_from_slice(&FLV_OPERATION.to_ne_bytes());
    value.extend_from_slice(&FLV_OP_NEXT_CSID.to_ne_bytes());
    for (kind, bits) in [
        (FLV_LCBLOCK_BITS, f.block_bits),
        (FLV_LCNODE_FN_BITS, f.node_function_bits),
    ] {
        // A u8 attribute: 5 bytes, padded to 8.
        value.extend_from_slice(&5u16.to_ne_bytes());
        value.extend_from_slice(&kind.to_ne_bytes());
        value.extend_from_slice(&[bits, 0, 0, 0]);
    }
    RouteSeg6LocalTunnel::Other(DefaultNla::new(SEG6_LOCAL_FLAVORS | NLA_F_NESTED, value))
}

/// The NEXT-C-SID flavor in a dumped SEG6_LOCAL_FLAVORS attribute.
fn read_flavors(nla: &DefaultNla) -> Option<NextCsid> {
    if nla.kind() & !NLA_F_NESTED != SEG6_LOCAL_FLAVORS {
        return None;
    }
    let mut value = vec![0u8; nla.value_len()];
    nla.emit_value(&mut value);
    let (mut operation, mut block, mut node) = (0u32, None, None);
    for inner in NlasIterator::new(&value[..]) {
        let inner = inner.ok()?;
        let v = inner.value();
        match inner.kind() {
            FLV_OPERATION => operation = u32::from_ne_bytes(v.get(..4)?.try_into().ok()?),
            FLV_LCBLOCK_BITS => block = v.first().copied(),
            FLV_LCNODE_FN_BITS => node = v.first().copied(),
            _ => {}
        }
    }
    (operation & FLV_OP_NEXT_CSID != 0).then(|| NextCsid {
        // The kernel's defaults when the lengths are not given.
        block_bits: block.unwrap_or(32),
        node_function_bits: node.unwrap_or(16),
    })
}

fn read_counters(nla: &DefaultNla) -> Option<Counters> {
    if nla.kind() & !NLA_F_NESTED != SEG6_LOCAL_COUNTERS {
        return None;
    }
    let mut value = vec![0u8; nla.value_len()];
    nla.emit_value(&mut value);
    let mut c = Counters::default();
    for inner in NlasIterator::new(&value[..]) {
        let inner = inner.ok()?;
        let Some(bytes) = inner.value().get(..8) else {
            continue;
        };
        let n = u64::from_ne_bytes(bytes.try_into().ok()?);
        match inner.kind() {
            COUNT_PACKETS => c.packets = n,
            COUNT_BYTES => c.bytes = n,
            COUNT_ERRORS => c.errors = n,
            _ => {}
        }
    }
    Some(c)
}

async fn replace(h: &Handle, message: RouteMessage, what: String) -> NetResult<()> {
    h.route()
        .add(message)
        .replace()
        .execute()
        .await
        .map_err(|e| NetError::kernel(what, &e))
}

/// Installs local SID `sid` with `action`, counting, bound to interface
/// `oif` (End.X: the link's interface).
pub async fn add_local(
    h: &Handle,
    sid: Ipv6Addr,
    action: LocalAction,
    oif: u32,
    owner: u8,
) -> NetResult<()> {
    let prefix = Ipv6Network::new(sid, 128).expect("128 is valid");
    add_local_flavored(h, prefix, action, None, oif, owner).await
}

/// Installs a local SID route for `prefix` (a /128, or a micro-SID's
/// block, node and function bits) with `action` and, for End and End.X,
/// the NEXT-C-SID flavor when given; counting, bound to `oif`.
pub async fn add_local_flavored(
    h: &Handle,
    prefix: Ipv6Network,
    action: LocalAction,
    next_csid: Option<NextCsid>,
    oif: u32,
    owner: u8,
) -> NetResult<()> {
    let sid = prefix.network();
    let mut tunnel = match action {
        LocalAction::End => vec![RouteSeg6LocalTunnel::Action(Seg6LocalAction::End)],
        LocalAction::EndX { next_hop } => vec![
            RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndX),
            RouteSeg6LocalTunnel::Nh6(next_hop),
        ],
        LocalAction::EndDt6 { table } => vec![
            RouteSeg6LocalTunnel::Action(Seg6LocalAction::EndDt6),
            RouteSeg6LocalTunnel::Table(table),
        ],
    };
    tunnel.push(counters_attribute());
    if let Some(f) = next_csid {
        tunnel.push(flavors_attribute(f));
    }
    let message = RouteMessageBuilder::<Ipv6Addr>::new()
        .destination_prefix(sid, prefix.prefix())
        .output_interface(oif)
        .protocol(protocol(owner))
        .priority(SRV6_METRIC)
        .encap_seg6local(tunnel)
        .build();
    replace(
        h,
        message,
        format!("local SID {prefix} ({action:?}, {next_csid:?})"),
    )
    .await
}

/// Steers `prefix` into `segments` (H.Encaps). After encapsulation the
/// kernel routes the packet by its first segment, so `oif` is nominal.
pub async fn add_encap(
    h: &Handle,
    prefix: Ipv6Network,
    segments: &[Ipv6Addr],
    oif: u32,
    owner: u8,
) -> NetResult<()> {
    add_encap_mode(h, prefix, segments, false, oif, owner).await
}

/// Steers `prefix` into `segments`, with H.Encaps.Red when `reduced` (the
/// first segment only in the destination address: no SRH for one).
pub async fn add_encap_mode(
    h: &Handle,
    prefix: Ipv6Network,
    segments: &[Ipv6Addr],
    reduced: bool,
    oif: u32,
    owner: u8,
) -> NetResult<()> {
    let mode = if reduced {
        Seg6Mode::Other(MODE_ENCAP_RED)
    } else {
        Seg6Mode::Encap
    };
    let message = RouteMessageBuilder::<Ipv6Addr>::new()
        .destination_prefix(prefix.network(), prefix.prefix())
        .output_interface(oif)
        .protocol(protocol(owner))
        .priority(SRV6_METRIC)
        .output_seg6(mode, segments.to_vec())
        .build();
    replace(h, message, format!("encap route {prefix}")).await
}

/// Routes `prefix` in `table` through `next_hops` (address, interface):
/// one, or several with equal weight (ECMP, as an IGP installs them).
pub async fn add_plain(
    h: &Handle,
    table: u32,
    prefix: Ipv6Network,
    next_hops: &[(Ipv6Addr, u32)],
    owner: u8,
) -> NetResult<()> {
    let what = format!("route {prefix} (table {table})");
    let builder = RouteMessageBuilder::<Ipv6Addr>::new()
        .table_id(table)
        .destination_prefix(prefix.network(), prefix.prefix())
        .protocol(protocol(owner));
    let message = match next_hops {
        [] => return Err(NetError::msg(format!("{what}: no next hop"))),
        [(via, oif)] => builder.gateway(*via).output_interface(*oif).build(),
        many => {
            let mut hops = Vec::with_capacity(many.len());
            for (via, oif) in many {
                let hop = RouteNextHopBuilder::new_ipv6()
                    .interface(*oif)
                    .via((*via).into())
                    .map_err(|e| NetError::new(&what, format!("{e:?}")))?
                    .build();
                hops.push(hop);
            }
            builder.multipath(hops).build()
        }
    };
    replace(h, message, what).await
}

/// Every route of `table` installed by `owner`.
pub async fn dump(h: &Handle, table: u32, owner: u8) -> NetResult<Vec<(Route, RouteMessage)>> {
    let filter = RouteMessageBuilder::<Ipv6Addr>::new()
        .table_id(table)
        .protocol(protocol(owner))
        .scope(RouteScope::Universe)
        .kind(RouteType::Unspec)
        .build();
    let mut out = Vec::new();
    let mut routes = h.route().get(filter).execute();
    while let Some(r) = routes.next().await {
        let message = r.map_err(|e| NetError::new("list routes", e))?;
        // Strict dumps filter already; check anyway (older kernels).
        if u8::from(message.header.protocol) != owner {
            continue;
        }
        if let Some(route) = parse(&message) {
            out.push((route, message));
        }
    }
    Ok(out)
}

/// Deletes a route as dumped.
pub async fn delete(h: &Handle, message: RouteMessage) -> NetResult<()> {
    h.route()
        .del(message)
        .execute()
        .await
        .map_err(|e| NetError::kernel("delete route", &e))
}

/// Reads a dumped route.
fn parse(m: &RouteMessage) -> Option<Route> {
    let mut destination = Ipv6Addr::UNSPECIFIED;
    let mut oif = None;
    let mut segments = None;
    let mut reduced = false;
    let mut next_csid = None;
    let mut local = false;
    let mut action = None;
    let (mut next_hop, mut table) = (None, None);
    let mut counters = None;
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet6(d)) => destination = *d,
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Encap(encaps) => {
                for e in encaps {
                    match e {
                        RouteLwTunnelEncap::Seg6(RouteSeg6IpTunnel::Seg6(header)) => {
                            segments = Some(header.segments.clone());
                            reduced = u32::from(header.mode) == MODE_ENCAP_RED;
                        }
                        RouteLwTunnelEncap::Seg6Local(t) => {
                            local = true;
                            match t {
                                RouteSeg6LocalTunnel::Action(a) => action = Some(*a),
                                RouteSeg6LocalTunnel::Nh6(n) => next_hop = Some(*n),
                                RouteSeg6LocalTunnel::Table(t) => table = Some(*t),
                                RouteSeg6LocalTunnel::Other(nla) => {
                                    counters = counters.or(read_counters(nla));
                                    next_csid = next_csid.or(read_flavors(nla));
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let prefix = Ipv6Network::new(destination, m.header.destination_prefix_length).ok()?;
    Some(if local {
        let action = match (action, next_hop, table) {
            (Some(Seg6LocalAction::End), _, _) => Some(LocalAction::End),
            (Some(Seg6LocalAction::EndX), Some(next_hop), _) => {
                Some(LocalAction::EndX { next_hop })
            }
            (Some(Seg6LocalAction::EndDt6), _, Some(table)) => Some(LocalAction::EndDt6 { table }),
            _ => None,
        };
        Route::Local {
            sid: destination,
            prefix_len: m.header.destination_prefix_length,
            next_csid,
            action,
            counters,
            oif,
        }
    } else if let Some(segments) = segments {
        Route::Encap {
            prefix,
            segments,
            reduced,
        }
    } else {
        Route::Plain { prefix }
    })
}
