//! BGP-LS NLRI (RFC 9552 5.2; RFC 9514 6 for the SRv6 SID NLRI): node,
//! link, IPv4 / IPv6 prefix and SRv6 SID NLRI with their descriptor TLVs.
//! NLRI of other types are kept whole ([`Nlri::Unknown`]); descriptor TLVs
//! the decoder does not know are kept in `unknown` and written back.
//!
//! An NLRI is the key of a route: decoded NLRI compare, hash and order by
//! their fields, so the same route from the wire finds the same entry.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Overrun, Reader, Tlv, exact, put_tlv, tlvs};

/// NLRI type codes.
pub mod nlri_type {
    /// Node NLRI.
    pub const NODE: u16 = 1;
    /// Link NLRI.
    pub const LINK: u16 = 2;
    /// IPv4 Topology Prefix NLRI.
    pub const PREFIX_V4: u16 = 3;
    /// IPv6 Topology Prefix NLRI.
    pub const PREFIX_V6: u16 = 4;
    /// SRv6 SID NLRI (RFC 9514).
    pub const SRV6_SID: u16 = 6;
}

/// Descriptor TLV codes.
pub mod tlv {
    /// Local Node Descriptors.
    pub const LOCAL_NODE: u16 = 256;
    /// Remote Node Descriptors.
    pub const REMOTE_NODE: u16 = 257;
    /// Link Local/Remote Identifiers.
    pub const LINK_IDS: u16 = 258;
    /// IPv4 interface address.
    pub const IPV4_INTERFACE: u16 = 259;
    /// IPv4 neighbor address.
    pub const IPV4_NEIGHBOR: u16 = 260;
    /// IPv6 interface address.
    pub const IPV6_INTERFACE: u16 = 261;
    /// IPv6 neighbor address.
    pub const IPV6_NEIGHBOR: u16 = 262;
    /// Multi-Topology ID.
    pub const MT_ID: u16 = 263;
    /// OSPF Route Type.
    pub const OSPF_ROUTE_TYPE: u16 = 264;
    /// IP Reachability Information.
    pub const IP_REACHABILITY: u16 = 265;
    /// Autonomous System (node descriptor).
    pub const AS: u16 = 512;
    /// BGP-LS Identifier (node descriptor, deprecated).
    pub const BGP_LS_ID: u16 = 513;
    /// OSPF Area-ID (node descriptor).
    pub const AREA_ID: u16 = 514;
    /// IGP Router-ID (node descriptor).
    pub const IGP_ROUTER_ID: u16 = 515;
    /// BGP Router-ID (node descriptor, RFC 9086).
    pub const BGP_ROUTER_ID: u16 = 516;
    /// BGP Confederation Member (node descriptor, RFC 9086).
    pub const MEMBER_ASN: u16 = 517;
    /// SRv6 SID Information (SRv6 SID NLRI descriptor, RFC 9514).
    pub const SRV6_SID_INFO: u16 = 518;
}

/// Protocol-ID values (RFC 9552 5.2).
pub mod protocol {
    /// IS-IS Level 1.
    pub const ISIS_L1: u8 = 1;
    /// IS-IS Level 2.
    pub const ISIS_L2: u8 = 2;
    /// OSPFv2.
    pub const OSPFV2: u8 = 3;
    /// Direct.
    pub const DIRECT: u8 = 4;
    /// Static.
    pub const STATIC: u8 = 5;
    /// OSPFv3.
    pub const OSPFV3: u8 = 6;
    /// BGP (RFC 9086, egress peer engineering).
    pub const BGP: u8 = 7;
}

/// Why an NLRI could not be read: its TLVs do not fit it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NlriError {
    /// The NLRI header or a TLV runs past its container.
    #[error("NLRI type {nlri_type}: {what} runs past its end")]
    Overrun {
        /// The NLRI type.
        nlri_type: u16,
        /// What overran.
        what: String,
    },
    /// A mandatory descriptor is missing or has a bad length.
    #[error("NLRI type {nlri_type}: {what}")]
    Invalid {
        /// The NLRI type.
        nlri_type: u16,
        /// What is wrong.
        what: String,
    },
}

/// The node descriptors of an NLRI (Local or Remote Node Descriptors).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeDescriptor {
    /// Autonomous System (512).
    pub asn: Option<u32>,
    /// BGP-LS Identifier (513).
    pub bgp_ls_id: Option<u32>,
    /// OSPF Area-ID (514).
    pub area_id: Option<u32>,
    /// IGP Router-ID (515): 4 bytes OSPF, 6 IS-IS system id, 7 IS-IS
    /// pseudonode, 8 OSPF pseudonode.
    pub igp_router_id: Option<Vec<u8>>,
    /// BGP Router-ID (516).
    pub bgp_router_id: Option<Ipv4Addr>,
    /// BGP Confederation Member (517).
    pub member_asn: Option<u32>,
    /// Sub-TLVs not understood, in order.
    pub unknown: Vec<Tlv>,
}

impl NodeDescriptor {
    /// True for a LAN pseudonode (IS-IS with a non-zero pseudonode id, or
    /// an OSPF designated-router pseudonode).
    pub fn is_pseudonode(&self) -> bool {
        match self.igp_router_id.as_deref() {
            Some(v) if v.len() == 7 => v[6] != 0,
            Some(v) => v.len() == 8,
            None => false,
        }
    }

    /// The IGP router id as text: IS-IS `0000.0000.0001`, OSPF `10.0.0.1`
    /// (pseudonodes get `.psn` / `:interface` after), a BGP router id as
    /// `bgp:10.0.0.1`.
    pub fn router_id_text(&self) -> String {
        match self.igp_router_id.as_deref() {
            Some(v) if v.len() == 6 || v.len() == 7 => {
                let mut s = format!(
                    "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
                    v[0], v[1], v[2], v[3], v[4], v[5]
                );
                if v.len() == 7 {
                    s.push_str(&format!(".{:02x}", v[6]));
                }
                s
            }
            Some(v) if v.len() == 4 || v.len() == 8 => {
                let mut s = Ipv4Addr::new(v[0], v[1], v[2], v[3]).to_string();
                if v.len() == 8 {
                    s.push_str(&format!(":{}", Ipv4Addr::new(v[4], v[5], v[6], v[7])));
                }
                s
            }
            Some(v) => v.iter().map(|b| format!("{b:02x}")).collect(),
            None => match self.bgp_router_id {
                Some(id) => format!("bgp:{id}"),
                None => "unknown".to_owned(),
            },
        }
    }

    fn decode(nlri_type: u16, value: &[u8]) -> Result<NodeDescriptor, NlriError> {
        let mut d = NodeDescriptor::default();
        for item in tlvs(value) {
            let (kind, v) = item.map_err(|o| overrun(nlri_type, o, "node descriptor sub-TLV"))?;
            let u32_of = |v: &[u8]| exact::<4>(v).map(u32::from_be_bytes);
            let slot_taken = match kind {
                tlv::AS => set(&mut d.asn, u32_of(v)),
                tlv::BGP_LS_ID => set(&mut d.bgp_ls_id, u32_of(v)),
                tlv::AREA_ID => set(&mut d.area_id, u32_of(v)),
                tlv::IGP_ROUTER_ID => set(
                    &mut d.igp_router_id,
                    (4..=8).contains(&v.len()).then(|| v.to_vec()),
                ),
                tlv::BGP_ROUTER_ID => set(&mut d.bgp_router_id, u32_of(v).map(Ipv4Addr::from)),
                tlv::MEMBER_ASN => set(&mut d.member_asn, u32_of(v)),
                _ => false,
            };
            if !slot_taken {
                d.unknown.push(Tlv::new(kind, v));
            }
        }
        Ok(d)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut items: Vec<(u16, Vec<u8>)> = Vec::new();
        let mut push = |kind: u16, v: Option<Vec<u8>>| {
            if let Some(v) = v {
                items.push((kind, v));
            }
        };
        push(tlv::AS, self.asn.map(|a| a.to_be_bytes().to_vec()));
        push(
            tlv::BGP_LS_ID,
            self.bgp_ls_id.map(|a| a.to_be_bytes().to_vec()),
        );
        push(tlv::AREA_ID, self.area_id.map(|a| a.to_be_bytes().to_vec()));
        push(tlv::IGP_ROUTER_ID, self.igp_router_id.clone());
        push(
            tlv::BGP_ROUTER_ID,
            self.bgp_router_id.map(|a| a.octets().to_vec()),
        );
        push(
            tlv::MEMBER_ASN,
            self.member_asn.map(|a| a.to_be_bytes().to_vec()),
        );
        write_sorted(out, items, &self.unknown);
    }
}

/// Sets `slot` to `v` when it is empty and `v` is well formed; false (keep
/// the TLV as unknown) otherwise.
fn set<T>(slot: &mut Option<T>, v: Option<T>) -> bool {
    match (slot.is_none(), v) {
        (true, Some(v)) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

/// Known TLVs in ascending type order, then the unknown ones in the order
/// they came.
fn write_sorted(out: &mut Vec<u8>, mut known: Vec<(u16, Vec<u8>)>, unknown: &[Tlv]) {
    known.sort_by_key(|(k, _)| *k);
    for (k, v) in &known {
        put_tlv(out, *k, v);
    }
    for t in unknown {
        t.write(out);
    }
}

fn overrun(nlri_type: u16, o: Overrun, what: &str) -> NlriError {
    NlriError::Overrun {
        nlri_type,
        what: format!("{what} {}", o.kind),
    }
}

/// The link descriptors of a Link NLRI (RFC 9552 5.2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkDescriptor {
    /// Link Local/Remote Identifiers (258).
    pub ids: Option<(u32, u32)>,
    /// IPv4 interface address (259).
    pub ipv4_interface: Option<Ipv4Addr>,
    /// IPv4 neighbor address (260).
    pub ipv4_neighbor: Option<Ipv4Addr>,
    /// IPv6 interface address (261).
    pub ipv6_interface: Option<Ipv6Addr>,
    /// IPv6 neighbor address (262).
    pub ipv6_neighbor: Option<Ipv6Addr>,
    /// Multi-Topology IDs (263).
    pub mt_id: Option<Vec<u16>>,
    /// TLVs not understood.
    pub unknown: Vec<Tlv>,
}

/// An IP prefix as carried in IP Reachability Information (265). Bits past
/// the length are kept as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl Prefix {
    fn decode(v6: bool, v: &[u8]) -> Option<Prefix> {
        let (&len, bytes) = v.split_first()?;
        let max = if v6 { 128 } else { 32 };
        if len > max || bytes.len() != usize::from(len).div_ceil(8) {
            return None;
        }
        let addr = if v6 {
            let mut a = [0u8; 16];
            a[..bytes.len()].copy_from_slice(bytes);
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            let mut a = [0u8; 4];
            a[..bytes.len()].copy_from_slice(bytes);
            IpAddr::V4(Ipv4Addr::from(a))
        };
        Some(Prefix { addr, len })
    }

    fn encode(&self) -> Vec<u8> {
        let bytes = usize::from(self.len).div_ceil(8);
        let octets = match self.addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        let mut v = vec![self.len];
        v.extend_from_slice(&octets[..bytes.min(octets.len())]);
        v
    }
}

/// What every BGP-LS NLRI starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Protocol-ID: which protocol the information comes from.
    pub protocol: u8,
    /// Identifier of the routing universe (0: the default one).
    pub identifier: u64,
}

/// A Node NLRI: one router (or pseudonode).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeNlri {
    /// Protocol and universe.
    pub origin: Origin,
    /// The node.
    pub node: NodeDescriptor,
    /// Top-level TLVs not understood.
    pub unknown: Vec<Tlv>,
}

/// A Link NLRI: one direction of a link, from the local node's side.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkNlri {
    /// Protocol and universe.
    pub origin: Origin,
    /// The node that advertises this direction.
    pub local: NodeDescriptor,
    /// The node at the other end.
    pub remote: NodeDescriptor,
    /// Which link between them.
    pub link: LinkDescriptor,
}

/// A Prefix NLRI: a prefix a node advertises.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefixNlri {
    /// Protocol and universe.
    pub origin: Origin,
    /// The advertising node.
    pub node: NodeDescriptor,
    /// Multi-Topology IDs (263).
    pub mt_id: Option<Vec<u16>>,
    /// OSPF Route Type (264).
    pub ospf_route_type: Option<u8>,
    /// The prefix (265).
    pub prefix: Prefix,
    /// TLVs not understood.
    pub unknown: Vec<Tlv>,
}

/// An SRv6 SID NLRI (RFC 9514 6): one SID of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Srv6SidNlri {
    /// Protocol and universe.
    pub origin: Origin,
    /// The node that owns the SID.
    pub node: NodeDescriptor,
    /// Multi-Topology IDs (263).
    pub mt_id: Option<Vec<u16>>,
    /// The SID (518).
    pub sid: Ipv6Addr,
    /// TLVs not understood.
    pub unknown: Vec<Tlv>,
}

/// One BGP-LS NLRI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nlri {
    /// A node.
    Node(NodeNlri),
    /// A link direction.
    Link(LinkNlri),
    /// A prefix (IPv4 or IPv6 by its address).
    Prefix(PrefixNlri),
    /// An SRv6 SID.
    Srv6Sid(Srv6SidNlri),
    /// Any other NLRI type, kept whole.
    Unknown {
        /// The NLRI type.
        nlri_type: u16,
        /// Its body.
        body: Vec<u8>,
    },
}

fn mt_ids(v: &[u8]) -> Option<Vec<u16>> {
    (v.len().is_multiple_of(2) && !v.is_empty()).then(|| {
        v.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    })
}

fn mt_bytes(ids: &[u16]) -> Vec<u8> {
    ids.iter().flat_map(|i| i.to_be_bytes()).collect()
}

impl Nlri {
    /// The NLRI type code.
    pub fn nlri_type(&self) -> u16 {
        match self {
            Nlri::Node(_) => nlri_type::NODE,
            Nlri::Link(_) => nlri_type::LINK,
            Nlri::Prefix(p) if p.prefix.addr.is_ipv4() => nlri_type::PREFIX_V4,
            Nlri::Prefix(_) => nlri_type::PREFIX_V6,
            Nlri::Srv6Sid(_) => nlri_type::SRV6_SID,
            Nlri::Unknown { nlri_type, .. } => *nlri_type,
        }
    }

    /// Reads the NLRI back to back in `buf` (the NLRI field of an
    /// MP_REACH_NLRI or MP_UNREACH_NLRI).
    pub fn decode_all(buf: &[u8]) -> Result<Vec<Nlri>, NlriError> {
        let mut r = Reader::new(buf);
        let mut out = Vec::new();
        while !r.is_empty() {
            let cut = |what: &str| NlriError::Overrun {
                nlri_type: 0,
                what: what.to_owned(),
            };
            let kind = r.u16().ok_or_else(|| cut("the NLRI header"))?;
            let len = r.u16().ok_or_else(|| cut("the NLRI header"))?;
            let body = r.take(usize::from(len)).ok_or(NlriError::Overrun {
                nlri_type: kind,
                what: format!("its total length {len}"),
            })?;
            out.push(Nlri::decode(kind, body)?);
        }
        Ok(out)
    }

    /// Reads one NLRI of type `kind` from its body.
    pub fn decode(kind: u16, body: &[u8]) -> Result<Nlri, NlriError> {
        if ![
            nlri_type::NODE,
            nlri_type::LINK,
            nlri_type::PREFIX_V4,
            nlri_type::PREFIX_V6,
            nlri_type::SRV6_SID,
        ]
        .contains(&kind)
        {
            return Ok(Nlri::Unknown {
                nlri_type: kind,
                body: body.to_vec(),
            });
        }
        let mut r = Reader::new(body);
        let invalid = |what: &str| NlriError::Invalid {
            nlri_type: kind,
            what: what.to_owned(),
        };
        let protocol = r.u8().ok_or_else(|| invalid("no Protocol-ID"))?;
        let identifier = r.u64().ok_or_else(|| invalid("no Identifier"))?;
        let origin = Origin {
            protocol,
            identifier,
        };
        let mut local = None;
        let mut remote = None;
        let mut link = LinkDescriptor::default();
        let mut mt_id = None;
        let mut route_type = None;
        let mut prefix = None;
        let mut sid = None;
        let mut unknown = Vec::new();
        let v6 = kind == nlri_type::PREFIX_V6;
        for item in tlvs(r.rest()) {
            let (t, v) = item.map_err(|o| overrun(kind, o, "TLV"))?;
            let taken = match (kind, t) {
                (_, tlv::LOCAL_NODE) if local.is_none() => {
                    local = Some(NodeDescriptor::decode(kind, v)?);
                    true
                }
                (nlri_type::LINK, tlv::REMOTE_NODE) if remote.is_none() => {
                    remote = Some(NodeDescriptor::decode(kind, v)?);
                    true
                }
                (nlri_type::LINK, tlv::LINK_IDS) => set(
                    &mut link.ids,
                    exact::<8>(v).map(|b| {
                        (
                            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                            u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                        )
                    }),
                ),
                (nlri_type::LINK, tlv::IPV4_INTERFACE) => {
                    set(&mut link.ipv4_interface, exact::<4>(v).map(Ipv4Addr::from))
                }
                (nlri_type::LINK, tlv::IPV4_NEIGHBOR) => {
                    set(&mut link.ipv4_neighbor, exact::<4>(v).map(Ipv4Addr::from))
                }
                (nlri_type::LINK, tlv::IPV6_INTERFACE) => {
                    set(&mut link.ipv6_interface, exact::<16>(v).map(Ipv6Addr::from))
                }
                (nlri_type::LINK, tlv::IPV6_NEIGHBOR) => {
                    set(&mut link.ipv6_neighbor, exact::<16>(v).map(Ipv6Addr::from))
                }
                (nlri_type::LINK, tlv::MT_ID) => set(&mut link.mt_id, mt_ids(v)),
                (nlri_type::NODE, _) => false,
                (_, tlv::MT_ID) => set(&mut mt_id, mt_ids(v)),
                (nlri_type::PREFIX_V4 | nlri_type::PREFIX_V6, tlv::OSPF_ROUTE_TYPE) => {
                    set(&mut route_type, exact::<1>(v).map(|b| b[0]))
                }
                (nlri_type::PREFIX_V4 | nlri_type::PREFIX_V6, tlv::IP_REACHABILITY) => {
                    set(&mut prefix, Prefix::decode(v6, v))
                }
                (nlri_type::SRV6_SID, tlv::SRV6_SID_INFO) => {
                    set(&mut sid, exact::<16>(v).map(Ipv6Addr::from))
                }
                _ => false,
            };
            if !taken {
                if kind == nlri_type::LINK {
                    link.unknown.push(Tlv::new(t, v));
                } else {
                    unknown.push(Tlv::new(t, v));
                }
            }
        }
        let node = local.ok_or_else(|| invalid("no Local Node Descriptors (256)"))?;
        Ok(match kind {
            nlri_type::NODE => Nlri::Node(NodeNlri {
                origin,
                node,
                unknown,
            }),
            nlri_type::LINK => Nlri::Link(LinkNlri {
                origin,
                local: node,
                remote: remote.ok_or_else(|| invalid("no Remote Node Descriptors (257)"))?,
                link,
            }),
            nlri_type::SRV6_SID => Nlri::Srv6Sid(Srv6SidNlri {
                origin,
                node,
                mt_id,
                sid: sid.ok_or_else(|| invalid("no SRv6 SID Information (518)"))?,
                unknown,
            }),
            _ => Nlri::Prefix(PrefixNlri {
                origin,
                node,
                mt_id,
                ospf_route_type: route_type,
                prefix: prefix
                    .ok_or_else(|| invalid("no valid IP Reachability Information (265)"))?,
                unknown,
            }),
        })
    }

    /// Appends the NLRI (type, length, body) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        let header = |body: &mut Vec<u8>, o: &Origin| {
            body.push(o.protocol);
            body.extend_from_slice(&o.identifier.to_be_bytes());
        };
        let node_tlv = |kind: u16, d: &NodeDescriptor| {
            let mut v = Vec::new();
            d.encode(&mut v);
            (kind, v)
        };
        match self {
            Nlri::Unknown { body: b, .. } => body.extend_from_slice(b),
            Nlri::Node(n) => {
                header(&mut body, &n.origin);
                write_sorted(
                    &mut body,
                    vec![node_tlv(tlv::LOCAL_NODE, &n.node)],
                    &n.unknown,
                );
            }
            Nlri::Link(l) => {
                header(&mut body, &l.origin);
                let d = &l.link;
                let mut items = vec![
                    node_tlv(tlv::LOCAL_NODE, &l.local),
                    node_tlv(tlv::REMOTE_NODE, &l.remote),
                ];
                if let Some((a, b)) = d.ids {
                    let mut v = a.to_be_bytes().to_vec();
                    v.extend_from_slice(&b.to_be_bytes());
                    items.push((tlv::LINK_IDS, v));
                }
                let v4 = |a: Option<Ipv4Addr>| a.map(|a| a.octets().to_vec());
                let v6 = |a: Option<Ipv6Addr>| a.map(|a| a.octets().to_vec());
                for (k, v) in [
                    (tlv::IPV4_INTERFACE, v4(d.ipv4_interface)),
                    (tlv::IPV4_NEIGHBOR, v4(d.ipv4_neighbor)),
                    (tlv::IPV6_INTERFACE, v6(d.ipv6_interface)),
                    (tlv::IPV6_NEIGHBOR, v6(d.ipv6_neighbor)),
                    (tlv::MT_ID, d.mt_id.as_deref().map(mt_bytes)),
                ] {
                    if let Some(v) = v {
                        items.push((k, v));
                    }
                }
                write_sorted(&mut body, items, &d.unknown);
            }
            Nlri::Prefix(p) => {
                header(&mut body, &p.origin);
                let mut items = vec![
                    node_tlv(tlv::LOCAL_NODE, &p.node),
                    (tlv::IP_REACHABILITY, p.prefix.encode()),
                ];
                if let Some(m) = &p.mt_id {
                    items.push((tlv::MT_ID, mt_bytes(m)));
                }
                if let Some(t) = p.ospf_route_type {
                    items.push((tlv::OSPF_ROUTE_TYPE, vec![t]));
                }
                write_sorted(&mut body, items, &p.unknown);
            }
            Nlri::Srv6Sid(s) => {
                header(&mut body, &s.origin);
                let mut items = vec![
                    node_tlv(tlv::LOCAL_NODE, &s.node),
                    (tlv::SRV6_SID_INFO, s.sid.octets().to_vec()),
                ];
                if let Some(m) = &s.mt_id {
                    items.push((tlv::MT_ID, mt_bytes(m)));
                }
                write_sorted(&mut body, items, &s.unknown);
            }
        }
        put_tlv(out, self.nlri_type(), &body);
    }

    /// How many TLVs of this NLRI the decoder did not understand.
    pub fn unknown_tlvs(&self) -> usize {
        let node = |d: &NodeDescriptor| d.unknown.len();
        match self {
            Nlri::Node(n) => node(&n.node) + n.unknown.len(),
            Nlri::Link(l) => node(&l.local) + node(&l.remote) + l.link.unknown.len(),
            Nlri::Prefix(p) => node(&p.node) + p.unknown.len(),
            Nlri::Srv6Sid(s) => node(&s.node) + s.unknown.len(),
            Nlri::Unknown { .. } => 0,
        }
    }
}
