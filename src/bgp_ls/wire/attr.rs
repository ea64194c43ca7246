//! The BGP-LS attribute (path attribute 29, RFC 9552 5.3): node, link,
//! prefix and SRv6 SID attribute TLVs, RFC 8571 delay, delay variation,
//! loss and bandwidth, RFC 9514 SRv6 TLVs (1038, 1106, 1162, 1250-1252).
//!
//! A TLV the decoder does not know goes to `unknown`; a known TLV with a
//! length its type does not allow, or a second copy of a TLV that may appear
//! once, goes to `malformed`. Both are written back by [`LsAttribute::encode`]
//! and counted, never an error. Only a TLV whose length runs past the
//! attribute is an error: the whole attribute is then discarded (RFC 7606
//! "attribute discard", as RFC 9552 8.2.2 asks).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Overrun, Reader, Tlv, be_uint, exact, put_tlv, tlvs};

/// Attribute TLV codes.
pub mod code {
    /// Multi-Topology ID.
    pub const MT_ID: u16 = 263;
    /// Node MSD (RFC 8814).
    pub const NODE_MSD: u16 = 266;
    /// Link MSD (RFC 8814).
    pub const LINK_MSD: u16 = 267;
    /// Node Flag Bits.
    pub const NODE_FLAGS: u16 = 1024;
    /// Node Name.
    pub const NODE_NAME: u16 = 1026;
    /// IS-IS Area Identifier.
    pub const ISIS_AREA: u16 = 1027;
    /// IPv4 Router-ID of Local Node.
    pub const ROUTER_ID_V4: u16 = 1028;
    /// IPv6 Router-ID of Local Node.
    pub const ROUTER_ID_V6: u16 = 1029;
    /// IPv4 Router-ID of Remote Node.
    pub const REMOTE_ROUTER_ID_V4: u16 = 1030;
    /// IPv6 Router-ID of Remote Node.
    pub const REMOTE_ROUTER_ID_V6: u16 = 1031;
    /// SRv6 Capabilities (RFC 9514).
    pub const SRV6_CAPABILITIES: u16 = 1038;
    /// Administrative group.
    pub const ADMIN_GROUP: u16 = 1088;
    /// Maximum link bandwidth (bytes/s, IEEE float).
    pub const MAX_BANDWIDTH: u16 = 1089;
    /// Maximum reservable bandwidth.
    pub const MAX_RESERVABLE_BANDWIDTH: u16 = 1090;
    /// Unreserved bandwidth (8 priorities).
    pub const UNRESERVED_BANDWIDTH: u16 = 1091;
    /// TE Default Metric.
    pub const TE_METRIC: u16 = 1092;
    /// IGP Metric.
    pub const IGP_METRIC: u16 = 1095;
    /// Shared Risk Link Group.
    pub const SRLG: u16 = 1096;
    /// Link Name.
    pub const LINK_NAME: u16 = 1098;
    /// PeerNode SID (RFC 9086).
    pub const PEER_NODE_SID: u16 = 1101;
    /// PeerAdj SID (RFC 9086).
    pub const PEER_ADJ_SID: u16 = 1102;
    /// PeerSet SID (RFC 9086).
    pub const PEER_SET_SID: u16 = 1103;
    /// SRv6 End.X SID (RFC 9514).
    pub const SRV6_END_X_SID: u16 = 1106;
    /// Unidirectional Link Delay (RFC 8571).
    pub const DELAY: u16 = 1114;
    /// Min/Max Unidirectional Link Delay.
    pub const MIN_MAX_DELAY: u16 = 1115;
    /// Unidirectional Delay Variation.
    pub const DELAY_VARIATION: u16 = 1116;
    /// Unidirectional Link Loss.
    pub const LOSS: u16 = 1117;
    /// Unidirectional Residual Bandwidth.
    pub const RESIDUAL_BANDWIDTH: u16 = 1118;
    /// Unidirectional Available Bandwidth.
    pub const AVAILABLE_BANDWIDTH: u16 = 1119;
    /// Unidirectional Utilized Bandwidth.
    pub const UTILIZED_BANDWIDTH: u16 = 1120;
    /// IGP Flags.
    pub const IGP_FLAGS: u16 = 1152;
    /// Prefix Metric.
    pub const PREFIX_METRIC: u16 = 1155;
    /// SRv6 Locator (RFC 9514).
    pub const SRV6_LOCATOR: u16 = 1162;
    /// SRv6 Endpoint Behavior (RFC 9514).
    pub const SRV6_ENDPOINT_BEHAVIOR: u16 = 1250;
    /// SRv6 BGP Peer Node SID (RFC 9514).
    pub const SRV6_BGP_PEER_NODE_SID: u16 = 1251;
    /// SRv6 SID Structure (RFC 9514).
    pub const SRV6_SID_STRUCTURE: u16 = 1252;
}

/// How a SID's bits divide (1252): locator block, node, function, argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SidStructure {
    /// Locator block length, bits.
    pub block: u8,
    /// Locator node length, bits.
    pub node: u8,
    /// Function length, bits.
    pub function: u8,
    /// Argument length, bits.
    pub argument: u8,
}

impl SidStructure {
    fn decode(v: &[u8]) -> Option<SidStructure> {
        exact::<4>(v).map(|b| SidStructure {
            block: b[0],
            node: b[1],
            function: b[2],
            argument: b[3],
        })
    }

    fn bytes(&self) -> Vec<u8> {
        vec![self.block, self.node, self.function, self.argument]
    }
}

/// An SRv6 End.X SID (1106): the SID of one adjacency of the advertising
/// node (or of a BGP peer adjacency, for egress peer engineering).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndXSid {
    /// Endpoint behavior (IANA codepoint, e.g. 5 End.X, 52 uA).
    pub behavior: u16,
    /// Flags: B (backup) 0x80, S (set) 0x40, P (persistent) 0x20.
    pub flags: u8,
    /// Algorithm (0: shortest path).
    pub algorithm: u8,
    /// Weight for load balancing.
    pub weight: u8,
    /// The SID.
    pub sid: Ipv6Addr,
    /// SID Structure sub-TLV (1252), when given.
    pub structure: Option<SidStructure>,
    /// Other sub-TLVs.
    pub sub: Vec<Tlv>,
}

impl EndXSid {
    /// Backup flag.
    pub const BACKUP: u8 = 0x80;

    fn decode(v: &[u8]) -> Option<EndXSid> {
        let mut r = Reader::new(v);
        let behavior = r.u16()?;
        let flags = r.u8()?;
        let algorithm = r.u8()?;
        let weight = r.u8()?;
        r.u8()?;
        let sid = Ipv6Addr::from(r.array::<16>()?);
        let (structure, sub) = structure_and_rest(r.rest())?;
        Some(EndXSid {
            behavior,
            flags,
            algorithm,
            weight,
            sid,
            structure,
            sub,
        })
    }

    fn bytes(&self) -> Vec<u8> {
        let mut v = self.behavior.to_be_bytes().to_vec();
        v.extend_from_slice(&[self.flags, self.algorithm, self.weight, 0]);
        v.extend_from_slice(&self.sid.octets());
        write_sub(&mut v, self.structure, &self.sub);
        v
    }
}

/// Sub-TLVs: the SID structure (first copy) and the rest.
fn structure_and_rest(v: &[u8]) -> Option<(Option<SidStructure>, Vec<Tlv>)> {
    let mut structure = None;
    let mut sub = Vec::new();
    for item in tlvs(v) {
        let (k, v) = item.ok()?;
        match (k, SidStructure::decode(v)) {
            (code::SRV6_SID_STRUCTURE, Some(s)) if structure.is_none() => structure = Some(s),
            _ => sub.push(Tlv::new(k, v)),
        }
    }
    Some((structure, sub))
}

fn write_sub(out: &mut Vec<u8>, structure: Option<SidStructure>, sub: &[Tlv]) {
    if let Some(s) = structure {
        put_tlv(out, code::SRV6_SID_STRUCTURE, &s.bytes());
    }
    for t in sub {
        t.write(out);
    }
}

/// An SRv6 Locator (1162), the attribute of the locator's prefix NLRI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv6Locator {
    /// Flags (IS-IS: D 0x80).
    pub flags: u8,
    /// Algorithm (0: shortest path; 128-255 flexible algorithms).
    pub algorithm: u8,
    /// Metric.
    pub metric: u32,
    /// Sub-TLVs.
    pub sub: Vec<Tlv>,
}

/// The SRv6 Endpoint Behavior of an SRv6 SID NLRI (1250).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointBehavior {
    /// Endpoint behavior codepoint.
    pub behavior: u16,
    /// Flags.
    pub flags: u8,
    /// Algorithm.
    pub algorithm: u8,
}

/// The SRv6 BGP Peer Node SID of an SRv6 SID NLRI (1251).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerNodeSid {
    /// Flags.
    pub flags: u8,
    /// Weight.
    pub weight: u8,
    /// The peer's AS.
    pub peer_as: u32,
    /// The peer's BGP Identifier.
    pub peer_bgp_id: Ipv4Addr,
}

/// A delay, delay variation or loss (RFC 8571): the anomalous flag and a
/// 24-bit value (microseconds; for loss, units of 0.000003 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measured {
    /// The A flag: the value crossed its anomaly threshold.
    pub anomalous: bool,
    /// The 24-bit value.
    pub value: u32,
}

impl Measured {
    fn decode(v: &[u8]) -> Option<Measured> {
        exact::<4>(v).map(|b| Measured {
            anomalous: b[0] & 0x80 != 0,
            value: u32::from_be_bytes([0, b[1], b[2], b[3]]),
        })
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = (self.value & 0x00ff_ffff).to_be_bytes();
        b[0] = if self.anomalous { 0x80 } else { 0 };
        b.to_vec()
    }
}

/// Everything a BGP-LS attribute said, by TLV.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LsAttribute {
    /// Node Flag Bits (1024).
    pub node_flags: Option<u8>,
    /// Node Name (1026).
    pub node_name: Option<String>,
    /// IS-IS Area Identifiers (1027).
    pub isis_areas: Vec<Vec<u8>>,
    /// IPv4 Router-ID of the local node (1028).
    pub router_id_v4: Option<Ipv4Addr>,
    /// IPv6 Router-ID of the local node (1029).
    pub router_id_v6: Option<Ipv6Addr>,
    /// IPv4 Router-ID of the remote node (1030).
    pub remote_router_id_v4: Option<Ipv4Addr>,
    /// IPv6 Router-ID of the remote node (1031).
    pub remote_router_id_v6: Option<Ipv6Addr>,
    /// SRv6 Capabilities flags (1038).
    pub srv6_capabilities: Option<u16>,
    /// Node MSD (266): (type, value); 44 is SRH Max H.Encaps.
    pub node_msd: Option<Vec<(u8, u8)>>,
    /// Link MSD (267).
    pub link_msd: Option<Vec<(u8, u8)>>,
    /// Multi-Topology IDs (263).
    pub mt_id: Option<Vec<u16>>,
    /// Administrative group (1088).
    pub admin_group: Option<u32>,
    /// Maximum link bandwidth, bytes per second (1089).
    pub max_bandwidth: Option<f32>,
    /// Maximum reservable bandwidth, bytes per second (1090).
    pub max_reservable_bandwidth: Option<f32>,
    /// Unreserved bandwidth per priority, bytes per second (1091).
    pub unreserved_bandwidth: Option<[f32; 8]>,
    /// TE Default Metric (1092).
    pub te_metric: Option<u32>,
    /// IGP Metric (1095).
    pub igp_metric: Option<u32>,
    /// Shared risk link groups (1096).
    pub srlg: Option<Vec<u32>>,
    /// Link Name (1098).
    pub link_name: Option<String>,
    /// RFC 9086 peer SIDs (1101-1103) as received: (type, value).
    pub peer_sids: Vec<Tlv>,
    /// SRv6 End.X SIDs (1106).
    pub end_x_sids: Vec<EndXSid>,
    /// Unidirectional link delay (1114).
    pub delay: Option<Measured>,
    /// Min/max unidirectional link delay (1115).
    pub min_max_delay: Option<(Measured, u32)>,
    /// Unidirectional delay variation (1116).
    pub delay_variation: Option<Measured>,
    /// Unidirectional link loss (1117).
    pub loss: Option<Measured>,
    /// Residual bandwidth, bytes per second (1118).
    pub residual_bandwidth: Option<f32>,
    /// Available bandwidth, bytes per second (1119).
    pub available_bandwidth: Option<f32>,
    /// Utilized bandwidth, bytes per second (1120).
    pub utilized_bandwidth: Option<f32>,
    /// IGP Flags (1152).
    pub igp_flags: Option<u8>,
    /// Prefix Metric (1155).
    pub prefix_metric: Option<u32>,
    /// SRv6 Locator (1162).
    pub srv6_locator: Option<Srv6Locator>,
    /// SRv6 Endpoint Behavior (1250).
    pub endpoint_behavior: Option<EndpointBehavior>,
    /// SRv6 BGP Peer Node SID (1251).
    pub peer_node_sid: Option<PeerNodeSid>,
    /// SRv6 SID Structure (1252).
    pub sid_structure: Option<SidStructure>,
    /// Known TLVs with a length their type does not allow, or repeated.
    pub malformed: Vec<Tlv>,
    /// TLVs this decoder does not know.
    pub unknown: Vec<Tlv>,
}

/// A BGP-LS attribute whose TLVs do not fit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("BGP-LS attribute TLV {kind} runs past the attribute")]
pub struct AttrError {
    /// The TLV type.
    pub kind: u16,
}

fn f32_of(v: &[u8]) -> Option<f32> {
    exact::<4>(v).map(f32::from_be_bytes)
}

fn u32_of(v: &[u8]) -> Option<u32> {
    exact::<4>(v).map(u32::from_be_bytes)
}

fn pairs(v: &[u8]) -> Option<Vec<(u8, u8)>> {
    v.len()
        .is_multiple_of(2)
        .then(|| v.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

fn text(v: &[u8]) -> Option<String> {
    String::from_utf8(v.to_vec()).ok()
}

/// Fills `slot` from `v` when empty; false when taken or ill formed.
fn fill<T>(slot: &mut Option<T>, v: Option<T>) -> bool {
    match (slot.is_none(), v) {
        (true, Some(v)) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

impl LsAttribute {
    /// Reads the value of a BGP-LS attribute.
    pub fn decode(buf: &[u8]) -> Result<LsAttribute, AttrError> {
        let mut a = LsAttribute::default();
        for item in tlvs(buf) {
            let (k, v) = item.map_err(|Overrun { kind }| AttrError { kind })?;
            let known = a.take(k, v);
            match known {
                Some(true) => {}
                Some(false) => a.malformed.push(Tlv::new(k, v)),
                None => a.unknown.push(Tlv::new(k, v)),
            }
        }
        Ok(a)
    }

    /// Takes one TLV: `Some(true)` understood, `Some(false)` known but ill
    /// formed or repeated, `None` unknown.
    fn take(&mut self, k: u16, v: &[u8]) -> Option<bool> {
        use code::*;
        Some(match k {
            NODE_FLAGS => fill(&mut self.node_flags, exact::<1>(v).map(|b| b[0])),
            NODE_NAME => fill(&mut self.node_name, text(v)),
            ISIS_AREA => {
                let ok = (1..=13).contains(&v.len());
                if ok {
                    self.isis_areas.push(v.to_vec());
                }
                ok
            }
            ROUTER_ID_V4 => fill(&mut self.router_id_v4, exact::<4>(v).map(Ipv4Addr::from)),
            ROUTER_ID_V6 => fill(&mut self.router_id_v6, exact::<16>(v).map(Ipv6Addr::from)),
            REMOTE_ROUTER_ID_V4 => fill(
                &mut self.remote_router_id_v4,
                exact::<4>(v).map(Ipv4Addr::from),
            ),
            REMOTE_ROUTER_ID_V6 => fill(
                &mut self.remote_router_id_v6,
                exact::<16>(v).map(Ipv6Addr::from),
            ),
            SRV6_CAPABILITIES => fill(
                &mut self.srv6_capabilities,
                exact::<4>(v).map(|b| u16::from_be_bytes([b[0], b[1]])),
            ),
            NODE_MSD => fill(&mut self.node_msd, pairs(v)),
            LINK_MSD => fill(&mut self.link_msd, pairs(v)),
            MT_ID => fill(
                &mut self.mt_id,
                v.len().is_multiple_of(2).then(|| {
                    v.chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect()
                }),
            ),
            ADMIN_GROUP => fill(&mut self.admin_group, u32_of(v)),
            MAX_BANDWIDTH => fill(&mut self.max_bandwidth, f32_of(v)),
            MAX_RESERVABLE_BANDWIDTH => fill(&mut self.max_reservable_bandwidth, f32_of(v)),
            UNRESERVED_BANDWIDTH => fill(
                &mut self.unreserved_bandwidth,
                exact::<32>(v).map(|b| {
                    let mut out = [0f32; 8];
                    for (i, c) in b.chunks_exact(4).enumerate() {
                        out[i] = f32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                    }
                    out
                }),
            ),
            // Old senders write 3 bytes (RFC 9552 accepts them).
            TE_METRIC => fill(
                &mut self.te_metric,
                (3..=4).contains(&v.len()).then(|| be_uint(v)).flatten(),
            ),
            // 1 byte IS-IS narrow (low 6 bits), 2 OSPF, 3 IS-IS wide.
            IGP_METRIC => fill(
                &mut self.igp_metric,
                match v.len() {
                    1 => Some(u32::from(v[0] & 0x3f)),
                    2 | 3 => be_uint(v),
                    _ => None,
                },
            ),
            SRLG => fill(
                &mut self.srlg,
                v.len().is_multiple_of(4).then(|| {
                    v.chunks_exact(4)
                        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                }),
            ),
            LINK_NAME => fill(&mut self.link_name, text(v)),
            PEER_NODE_SID | PEER_ADJ_SID | PEER_SET_SID => {
                let ok = (7..=8).contains(&v.len());
                if ok {
                    self.peer_sids.push(Tlv::new(k, v));
                }
                ok
            }
            SRV6_END_X_SID => match EndXSid::decode(v) {
                Some(s) => {
                    self.end_x_sids.push(s);
                    true
                }
                None => false,
            },
            DELAY => fill(&mut self.delay, Measured::decode(v)),
            MIN_MAX_DELAY => fill(
                &mut self.min_max_delay,
                exact::<8>(v).and_then(|b| {
                    let min = Measured::decode(&b[..4])?;
                    Some((min, u32::from_be_bytes([0, b[5], b[6], b[7]])))
                }),
            ),
            DELAY_VARIATION => fill(&mut self.delay_variation, Measured::decode(v)),
            LOSS => fill(&mut self.loss, Measured::decode(v)),
            RESIDUAL_BANDWIDTH => fill(&mut self.residual_bandwidth, f32_of(v)),
            AVAILABLE_BANDWIDTH => fill(&mut self.available_bandwidth, f32_of(v)),
            UTILIZED_BANDWIDTH => fill(&mut self.utilized_bandwidth, f32_of(v)),
            IGP_FLAGS => fill(&mut self.igp_flags, exact::<1>(v).map(|b| b[0])),
            PREFIX_METRIC => fill(
                &mut self.prefix_metric,
                (3..=4).contains(&v.len()).then(|| be_uint(v)).flatten(),
            ),
            SRV6_LOCATOR => fill(
                &mut self.srv6_locator,
                (|| {
                    let mut r = Reader::new(v);
                    let flags = r.u8()?;
                    let algorithm = r.u8()?;
                    r.u16()?;
                    let metric = r.u32()?;
                    let sub = tlvs(r.rest())
                        .map(|t| t.ok().map(|(k, v)| Tlv::new(k, v)))
                        .collect::<Option<Vec<_>>>()?;
                    Some(Srv6Locator {
                        flags,
                        algorithm,
                        metric,
                        sub,
                    })
                })(),
            ),
            SRV6_ENDPOINT_BEHAVIOR => fill(
                &mut self.endpoint_behavior,
                exact::<4>(v).map(|b| EndpointBehavior {
                    behavior: u16::from_be_bytes([b[0], b[1]]),
                    flags: b[2],
                    algorithm: b[3],
                }),
            ),
            SRV6_BGP_PEER_NODE_SID => fill(
                &mut self.peer_node_sid,
                exact::<12>(v).map(|b| PeerNodeSid {
                    flags: b[0],
                    weight: b[1],
                    peer_as: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                    peer_bgp_id: Ipv4Addr::new(b[8], b[9], b[10], b[11]),
                }),
            ),
            SRV6_SID_STRUCTURE => fill(&mut self.sid_structure, SidStructure::decode(v)),
            _ => return None,
        })
    }

    /// The attribute's value: known TLVs in type order, then the malformed
    /// and unknown ones as received.
    pub fn encode(&self) -> Vec<u8> {
        use code::*;
        let mut out = Vec::new();
        let mut put = |k: u16, v: Option<Vec<u8>>| {
            if let Some(v) = v {
                put_tlv(&mut out, k, &v);
            }
        };
        let v4 = |a: Option<Ipv4Addr>| a.map(|a| a.octets().to_vec());
        let v6 = |a: Option<Ipv6Addr>| a.map(|a| a.octets().to_vec());
        let f = |x: Option<f32>| x.map(|x| x.to_be_bytes().to_vec());
        let w = |x: Option<u32>| x.map(|x| x.to_be_bytes().to_vec());
        let flat = |p: &Option<Vec<(u8, u8)>>| {
            p.as_ref()
                .map(|p| p.iter().flat_map(|&(a, b)| [a, b]).collect())
        };
        put(
            MT_ID,
            self.mt_id
                .as_ref()
                .map(|m| m.iter().flat_map(|x| x.to_be_bytes()).collect()),
        );
        put(NODE_MSD, flat(&self.node_msd));
        put(LINK_MSD, flat(&self.link_msd));
        put(NODE_FLAGS, self.node_flags.map(|x| vec![x]));
        put(NODE_NAME, self.node_name.clone().map(String::into_bytes));
        for area in &self.isis_areas {
            put(ISIS_AREA, Some(area.clone()));
        }
        put(ROUTER_ID_V4, v4(self.router_id_v4));
        put(ROUTER_ID_V6, v6(self.router_id_v6));
        put(REMOTE_ROUTER_ID_V4, v4(self.remote_router_id_v4));
        put(REMOTE_ROUTER_ID_V6, v6(self.remote_router_id_v6));
        put(
            SRV6_CAPABILITIES,
            self.srv6_capabilities.map(|x| {
                let mut v = x.to_be_bytes().to_vec();
                v.extend_from_slice(&[0, 0]);
                v
            }),
        );
        put(ADMIN_GROUP, w(self.admin_group));
        put(MAX_BANDWIDTH, f(self.max_bandwidth));
        put(MAX_RESERVABLE_BANDWIDTH, f(self.max_reservable_bandwidth));
        put(
            UNRESERVED_BANDWIDTH,
            self.unreserved_bandwidth
                .map(|u| u.iter().flat_map(|x| x.to_be_bytes()).collect()),
        );
        put(TE_METRIC, w(self.te_metric));
        put(
            IGP_METRIC,
            self.igp_metric
                .map(|m| m.min(0x00ff_ffff).to_be_bytes()[1..].to_vec()),
        );
        put(
            SRLG,
            self.srlg
                .as_ref()
                .map(|s| s.iter().flat_map(|x| x.to_be_bytes()).collect()),
        );
        put(LINK_NAME, self.link_name.clone().map(String::into_bytes));
        for t in &self.peer_sids {
            put(t.kind, Some(t.value.clone()));
        }
        for s in &self.end_x_sids {
            put(SRV6_END_X_SID, Some(s.bytes()));
        }
        put(DELAY, self.delay.map(|m| m.bytes()));
        put(
            MIN_MAX_DELAY,
            self.min_max_delay.map(|(min, max)| {
                let mut v = min.bytes();
                v.extend_from_slice(&(max & 0x00ff_ffff).to_be_bytes());
                v
            }),
        );
        put(DELAY_VARIATION, self.delay_variation.map(|m| m.bytes()));
        put(LOSS, self.loss.map(|m| m.bytes()));
        put(RESIDUAL_BANDWIDTH, f(self.residual_bandwidth));
        put(AVAILABLE_BANDWIDTH, f(self.available_bandwidth));
        put(UTILIZED_BANDWIDTH, f(self.utilized_bandwidth));
        put(IGP_FLAGS, self.igp_flags.map(|x| vec![x]));
        put(PREFIX_METRIC, w(self.prefix_metric));
        put(
            SRV6_LOCATOR,
            self.srv6_locator.as_ref().map(|l| {
                let mut v = vec![l.flags, l.algorithm, 0, 0];
                v.extend_from_slice(&l.metric.to_be_bytes());
                for t in &l.sub {
                    t.write(&mut v);
                }
                v
            }),
        );
        put(
            SRV6_ENDPOINT_BEHAVIOR,
            self.endpoint_behavior.map(|b| {
                let mut v = b.behavior.to_be_bytes().to_vec();
                v.extend_from_slice(&[b.flags, b.algorithm]);
                v
            }),
        );
        put(
            SRV6_BGP_PEER_NODE_SID,
            self.peer_node_sid.map(|p| {
                let mut v = vec![p.flags, p.weight, 0, 0];
                v.extend_from_slice(&p.peer_as.to_be_bytes());
                v.extend_from_slice(&p.peer_bgp_id.octets());
                v
            }),
        );
        put(SRV6_SID_STRUCTURE, self.sid_structure.map(|s| s.bytes()));
        for t in self.malformed.iter().chain(&self.unknown) {
            t.write(&mut out);
        }
        out
    }

    /// TLVs not understood (unknown or malformed), for counters.
    pub fn not_understood(&self) -> usize {
        self.unknown.len() + self.malformed.len()
    }
}
