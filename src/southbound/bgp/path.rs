//! An SR policy as a BGP SR Policy route in GoBGP's API terms, both ways
//! (pure: no I/O). The route (RFC 9830, RFC 9256):
//!
//! - NLRI: distinguisher, color, endpoint (SAFI 73, AFI 2);
//! - ORIGIN IGP and a next hop (GoBGP needs both to originate);
//! - a route target extended community in IPv4-address format naming the
//!   headend by its BGP Identifier (RFC 9830 4.2.1);
//! - a large community `ASN:0x43504e:version` (`0x43504e` is "CPN"): marks the
//!   route as CPN's and carries the policy's version, so that reconciliation
//!   can tell a stale route from a current one;
//! - the tunnel encapsulation attribute with one SR Policy TLV (type 15):
//!   preference, binding SID, and one segment list of SRv6 (type B)
//!   segments, each with its endpoint behavior and SID structure.
//!
//! GoBGP 3.10 sends an `SRv6BindingSID` with the last two bytes of the SID
//! zeroed and its flags dropped, so the binding SID goes as an `SRBindingSID`
//! of 16 bytes, which it encodes correctly (sub-TLV 13 with an SRv6 SID, as
//! RFC 9830 2.4.2 allows). Its other traps are avoided too: the NLRI length
//! is given in bits, every segment carries its flags, an empty binding SID is
//! left out, and no Candidate Path Name is sent (a 3.10 receiver crashes on
//! it).

use std::net::{Ipv4Addr, Ipv6Addr};

use prost::Message;
use prost_types::Any;

use crate::proto::gobgp as api;
use crate::proto::v1 as pb;

/// Tunnel type of an SR Policy in the tunnel encapsulation attribute.
pub const SR_POLICY_TUNNEL: u32 = 15;
/// Local data 1 of CPN's large community: "CPN" in ASCII.
pub const CPN_TAG: u32 = 0x0043_504e;
/// Route target sub type of an IPv4-address-specific extended community.
const ROUTE_TARGET: u32 = 0x02;
/// NLRI length of an IPv6 SR Policy, in bits (distinguisher, color, endpoint).
const NLRI_BITS: u32 = 32 + 32 + 128;

/// The family of IPv6 SR Policy routes.
pub fn family() -> api::Family {
    api::Family {
        afi: api::family::Afi::Ip6.into(),
        safi: api::family::Safi::SrPolicy.into(),
    }
}

/// What identifies an SR Policy route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nlri {
    /// Unique per policy (see `desired::distinguisher`).
    pub distinguisher: u32,
    /// The intent (see `desired::color`).
    pub color: u32,
    /// Where the policy leads.
    pub endpoint: Ipv6Addr,
}

impl Nlri {
    /// The NLRI of a policy.
    pub fn of(p: &pb::SrPolicy) -> Result<Nlri, String> {
        let endpoint = p.endpoint.parse().map_err(|_| {
            format!(
                "policy {}: endpoint `{}` is not an IPv6 address",
                p.name, p.endpoint
            )
        })?;
        Ok(Nlri {
            distinguisher: p.distinguisher,
            color: p.color,
            endpoint,
        })
    }

    /// A name for a route CPN holds but no longer knows the policy of:
    /// `bgp:DISTINGUISHER:COLOR:ENDPOINT`, parsed back by [`Nlri::from_name`].
    pub fn name(&self) -> String {
        format!(
            "bgp:{}:{}:{}",
            self.distinguisher, self.color, self.endpoint
        )
    }

    /// The NLRI a [`Nlri::name`] stands for.
    pub fn from_name(name: &str) -> Option<Nlri> {
        let mut parts = name.strip_prefix("bgp:")?.splitn(3, ':');
        Some(Nlri {
            distinguisher: parts.next()?.parse().ok()?,
            color: parts.next()?.parse().ok()?,
            endpoint: parts.next()?.parse().ok()?,
        })
    }

    fn to_any(self) -> Any {
        any(
            "SRPolicyNLRI",
            &api::SrPolicyNlri {
                length: NLRI_BITS,
                distinguisher: self.distinguisher,
                color: self.color,
                endpoint: self.endpoint.octets().to_vec(),
            },
        )
    }
}

fn any(name: &str, m: &impl Message) -> Any {
    Any {
        type_url: format!("type.googleapis.com/apipb.{name}"),
        value: m.encode_to_vec(),
    }
}

/// The message inside `a` if it is of type `name`.
fn unpack<M: Message + Default>(a: &Any, name: &str) -> Option<M> {
    let type_name = a.type_url.rsplit('/').next()?;
    if type_name != format!("apipb.{name}") {
        return None;
    }
    M::decode(a.value.as_slice()).ok()
}

fn v6(bytes: &[u8]) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(bytes).ok().map(Ipv6Addr::from)
}

/// The route announcing `p` to the headend of BGP Identifier `headend`, from
/// the speaker of AS `asn`, with `next_hop`. Fails on what cannot be encoded
/// (a malformed SID, a version past 32 bits).
pub fn encode(
    p: &pb::SrPolicy,
    headend: Ipv4Addr,
    asn: u32,
    next_hop: &str,
) -> Result<api::Path, String> {
    let nlri = Nlri::of(p)?;
    let version = u32::try_from(p.version)
        .map_err(|_| format!("policy {}: version {} exceeds 32 bits", p.name, p.version))?;
    let mut segments = Vec::with_capacity(p.segments.len());
    for s in &p.segments {
        let sid: Ipv6Addr = s.sid.parse().map_err(|_| {
            format!(
                "policy {}: segment `{}` is not an IPv6 address",
                p.name, s.sid
            )
        })?;
        // The behavior travels in the SRv6 Endpoint Behavior and SID
        // Structure; the B-flag says it is there.
        let behavior = s.structure.map(|st| api::SRv6EndPointBehavior {
            behavior: s.behavior,
            block_len: st.locator_block_bits,
            node_len: st.locator_node_bits,
            func_len: st.function_bits,
            arg_len: st.argument_bits,
        });
        segments.push(any(
            "SegmentTypeB",
            &api::SegmentTypeB {
                flags: Some(api::SegmentFlags {
                    b_flag: behavior.is_some(),
                    ..Default::default()
                }),
                sid: sid.octets().to_vec(),
                endpoint_behavior_structure: behavior,
            },
        ));
    }
    let mut sub_tlvs = vec![any(
        "TunnelEncapSubTLVSRPreference",
        &api::TunnelEncapSubTlvsrPreference {
            flags: 0,
            preference: p.preference,
        },
    )];
    if !p.binding_sid.is_empty() {
        let bsid: Ipv6Addr = p.binding_sid.parse().map_err(|_| {
            format!(
                "policy {}: binding SID `{}` is not an IPv6 address",
                p.name, p.binding_sid
            )
        })?;
        let sid = api::SrBindingSid {
            s_flag: false,
            i_flag: false,
            sid: bsid.octets().to_vec(),
        };
        sub_tlvs.push(any(
            "TunnelEncapSubTLVSRBindingSID",
            &api::TunnelEncapSubTlvsrBindingSid {
                bsid: Some(any("SRBindingSID", &sid)),
            },
        ));
    }
    sub_tlvs.push(any(
        "TunnelEncapSubTLVSRSegmentList",
        &api::TunnelEncapSubTlvsrSegmentList {
            weight: Some(api::SrWeight {
                flags: 0,
                weight: 1,
            }),
            segments,
        },
    ));
    let pattrs = vec![
        any("OriginAttribute", &api::OriginAttribute { origin: 0 }),
        any(
            "NextHopAttribute",
            &api::NextHopAttribute {
                next_hop: next_hop.to_owned(),
            },
        ),
        any(
            "ExtendedCommunitiesAttribute",
            &api::ExtendedCommunitiesAttribute {
                communities: vec![any(
                    "IPv4AddressSpecificExtended",
                    &api::IPv4AddressSpecificExtended {
                        is_transitive: true,
                        sub_type: ROUTE_TARGET,
                        address: headend.to_string(),
                        local_admin: 0,
                    },
                )],
            },
        ),
        any(
            "LargeCommunitiesAttribute",
            &api::LargeCommunitiesAttribute {
                communities: vec![api::LargeCommunity {
                    global_admin: asn,
                    local_data1: CPN_TAG,
                    local_data2: version,
                }],
            },
        ),
        any(
            "TunnelEncapAttribute",
            &api::TunnelEncapAttribute {
                tlvs: vec![api::TunnelEncapTlv {
                    r#type: SR_POLICY_TUNNEL,
                    tlvs: sub_tlvs,
                }],
            },
        ),
    ];
    Ok(api::Path {
        nlri: Some(nlri.to_any()),
        pattrs,
        family: Some(family()),
        ..Default::default()
    })
}

/// The withdrawal of the route of `nlri`.
pub fn withdrawal(nlri: Nlri) -> api::Path {
    api::Path {
        nlri: Some(nlri.to_any()),
        is_withdraw: true,
        family: Some(family()),
        ..Default::default()
    }
}

/// An SR Policy route as read back from a speaker.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Its NLRI.
    pub nlri: Nlri,
    /// The BGP Identifiers its route targets name.
    pub route_targets: Vec<Ipv4Addr>,
    /// The version of CPN's large community of AS `asn`, if it has one.
    pub version: Option<u64>,
    /// The policy it carries (no name: routes carry none; no destination:
    /// the headend steers by color and endpoint).
    pub policy: pb::SrPolicy,
    /// Originated by this speaker (not learned from a peer).
    pub local: bool,
}

/// Reads an SR Policy route; `None` if it is not one. `asn` is the
/// speaker's, whose large community marks CPN's routes.
pub fn decode(path: &api::Path, asn: u32) -> Option<Route> {
    let n: api::SrPolicyNlri = unpack(path.nlri.as_ref()?, "SRPolicyNLRI")?;
    let nlri = Nlri {
        distinguisher: n.distinguisher,
        color: n.color,
        endpoint: v6(&n.endpoint)?,
    };
    let mut route = Route {
        nlri,
        route_targets: Vec::new(),
        version: None,
        policy: pb::SrPolicy {
            color: nlri.color,
            endpoint: nlri.endpoint.to_string(),
            distinguisher: nlri.distinguisher,
            ..Default::default()
        },
        // GoBGP fills the neighbor of learned paths only.
        local: matches!(path.neighbor_ip.as_str(), "" | "<nil>"),
    };
    for attr in &path.pattrs {
        if let Some(ext) =
            unpack::<api::ExtendedCommunitiesAttribute>(attr, "ExtendedCommunitiesAttribute")
        {
            for c in &ext.communities {
                if let Some(rt) =
                    unpack::<api::IPv4AddressSpecificExtended>(c, "IPv4AddressSpecificExtended")
                    && rt.sub_type == ROUTE_TARGET
                    && rt.is_transitive
                    && let Ok(id) = rt.address.parse()
                {
                    route.route_targets.push(id);
                }
            }
        } else if let Some(large) =
            unpack::<api::LargeCommunitiesAttribute>(attr, "LargeCommunitiesAttribute")
        {
            route.version = large
                .communities
                .iter()
                .find(|c| c.global_admin == asn && c.local_data1 == CPN_TAG)
                .map(|c| u64::from(c.local_data2));
        } else if let Some(encap) =
            unpack::<api::TunnelEncapAttribute>(attr, "TunnelEncapAttribute")
        {
            for tlv in encap.tlvs.iter().filter(|t| t.r#type == SR_POLICY_TUNNEL) {
                read_sr_policy_tlv(tlv, &mut route.policy);
            }
        }
    }
    Some(route)
}

/// Preference, binding SID and the first segment list of an SR Policy TLV.
fn read_sr_policy_tlv(tlv: &api::TunnelEncapTlv, p: &mut pb::SrPolicy) {
    for sub in &tlv.tlvs {
        if let Some(pref) =
            unpack::<api::TunnelEncapSubTlvsrPreference>(sub, "TunnelEncapSubTLVSRPreference")
        {
            p.preference = pref.preference;
        } else if let Some(b) =
            unpack::<api::TunnelEncapSubTlvsrBindingSid>(sub, "TunnelEncapSubTLVSRBindingSID")
        {
            let sid = b.bsid.as_ref().and_then(|a| {
                unpack::<api::SrBindingSid>(a, "SRBindingSID")
                    .map(|s| s.sid)
                    .or_else(|| unpack::<api::SRv6BindingSid>(a, "SRv6BindingSID").map(|s| s.sid))
            });
            if let Some(sid) = sid.as_deref().and_then(v6) {
                p.binding_sid = sid.to_string();
            }
        } else if let Some(list) =
            unpack::<api::TunnelEncapSubTlvsrSegmentList>(sub, "TunnelEncapSubTLVSRSegmentList")
            && p.segments.is_empty()
        {
            for s in &list.segments {
                let Some(b) = unpack::<api::SegmentTypeB>(s, "SegmentTypeB") else {
                    continue;
                };
                let Some(sid) = v6(&b.sid) else { continue };
                let ebs = b.endpoint_behavior_structure.unwrap_or_default();
                p.segments.push(pb::PolicySegment {
                    sid: sid.to_string(),
                    behavior: ebs.behavior,
                    structure: b.endpoint_behavior_structure.map(|e| pb::SidStructure {
                        locator_block_bits: e.block_len,
                        locator_node_bits: e.node_len,
                        function_bits: e.func_len,
                        argument_bits: e.arg_len,
                    }),
                });
            }
            // RFC 9830 has no encapsulation field: a NEXT-C-SID container
            // is told by its structure (the micro-SIDs after the active one
            // are its argument), and CPN reduces every compressed list.
            if p.segments.iter().any(|s| {
                s.structure
                    .as_ref()
                    .is_some_and(|st| st.argument_bits > 0 && st.locator_node_bits > 0)
            }) {
                p.encapsulation = pb::Encapsulation::HEncapsRed.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> pb::SrPolicy {
        let structure = Some(pb::SidStructure {
            locator_block_bits: 48,
            locator_node_bits: 0,
            function_bits: 16,
            argument_bits: 0,
        });
        pb::SrPolicy {
            name: "job".into(),
            color: 401,
            endpoint: "fc00:b:1::".into(),
            destination: "fd00:dc:2::/64".into(),
            segments: vec![
                pb::PolicySegment {
                    sid: "fc00:a:1:e002::".into(),
                    behavior: 5,
                    structure,
                },
                pb::PolicySegment {
                    sid: "fc00:b:1:d000::".into(),
                    behavior: 18,
                    structure,
                },
            ],
            binding_sid: "fc00:a:1:1::".into(),
            preference: 100,
            version: 7,
            distinguisher: 42,
            encapsulation: 0,
        }
    }

    #[test]
    fn the_route_carries_what_rfc_9830_asks_and_avoids_gobgp_traps() {
        let path = encode(&policy(), "10.0.0.11".parse().unwrap(), 65000, "::").unwrap();
        let nlri: api::SrPolicyNlri = unpack(path.nlri.as_ref().unwrap(), "SRPolicyNLRI").unwrap();
        assert_eq!(nlri.length, 192, "bits, not bytes");
        assert_eq!((nlri.distinguisher, nlri.color), (42, 401));
        assert_eq!(
            nlri.endpoint,
            "fc00:b:1::".parse::<Ipv6Addr>().unwrap().octets()
        );
        let family = path.family.unwrap();
        assert_eq!((family.afi, family.safi), (2, 73));
        let names: Vec<&str> = path.pattrs.iter().map(|a| a.type_url.as_str()).collect();
        assert!(names.contains(&"type.googleapis.com/apipb.OriginAttribute"));
        // The binding SID goes as an SRBindingSID of 16 bytes, never SRv6BindingSID.
        let encap: api::TunnelEncapAttribute = path
            .pattrs
            .iter()
            .find_map(|a| unpack(a, "TunnelEncapAttribute"))
            .unwrap();
        assert_eq!(encap.tlvs[0].r#type, 15);
        let subs: Vec<&str> = encap.tlvs[0]
            .tlvs
            .iter()
            .map(|a| a.type_url.rsplit('.').next().unwrap())
            .collect();
        assert_eq!(
            subs,
            [
                "TunnelEncapSubTLVSRPreference",
                "TunnelEncapSubTLVSRBindingSID",
                "TunnelEncapSubTLVSRSegmentList"
            ]
        );
        let b: api::TunnelEncapSubTlvsrBindingSid =
            unpack(&encap.tlvs[0].tlvs[1], "TunnelEncapSubTLVSRBindingSID").unwrap();
        let bsid = b.bsid.unwrap();
        assert!(bsid.type_url.ends_with("apipb.SRBindingSID"));
        assert_eq!(
            api::SrBindingSid::decode(bsid.value.as_slice())
                .unwrap()
                .sid
                .len(),
            16
        );
        let list: api::TunnelEncapSubTlvsrSegmentList =
            unpack(&encap.tlvs[0].tlvs[2], "TunnelEncapSubTLVSRSegmentList").unwrap();
        for s in &list.segments {
            let b: api::SegmentTypeB = unpack(s, "SegmentTypeB").unwrap();
            assert!(
                b.flags.unwrap().b_flag,
                "flags always present; B set with the structure"
            );
        }
        // The route target: transitive, sub type 2, the headend's BGP Identifier.
        let ext: api::ExtendedCommunitiesAttribute = path
            .pattrs
            .iter()
            .find_map(|a| unpack(a, "ExtendedCommunitiesAttribute"))
            .unwrap();
        let rt: api::IPv4AddressSpecificExtended =
            unpack(&ext.communities[0], "IPv4AddressSpecificExtended").unwrap();
        assert!(rt.is_transitive);
        assert_eq!((rt.sub_type, rt.address.as_str()), (2, "10.0.0.11"));
    }

    #[test]
    fn a_route_reads_back_as_the_policy() {
        let p = policy();
        let path = encode(&p, "10.0.0.11".parse().unwrap(), 65000, "::").unwrap();
        let route = decode(&path, 65000).unwrap();
        assert!(route.local);
        assert_eq!(route.version, Some(7));
        assert_eq!(
            route.route_targets,
            ["10.0.0.11".parse::<Ipv4Addr>().unwrap()]
        );
        let expected = pb::SrPolicy {
            name: String::new(),
            destination: String::new(),
            version: 0,
            ..p
        };
        assert_eq!(route.policy, expected);
        // Another AS's large community is not CPN's.
        assert_eq!(decode(&path, 65001).unwrap().version, None);
    }

    #[test]
    fn no_binding_sid_no_sub_tlv_and_names_of_unknown_routes_parse_back() {
        let p = pb::SrPolicy {
            binding_sid: String::new(),
            ..policy()
        };
        let path = encode(&p, "10.0.0.11".parse().unwrap(), 65000, "::").unwrap();
        let encap: api::TunnelEncapAttribute = path
            .pattrs
            .iter()
            .find_map(|a| unpack(a, "TunnelEncapAttribute"))
            .unwrap();
        assert_eq!(encap.tlvs[0].tlvs.len(), 2);
        let nlri = Nlri::of(&p).unwrap();
        assert_eq!(nlri.name(), "bgp:42:401:fc00:b:1::");
        assert_eq!(Nlri::from_name(&nlri.name()), Some(nlri));
        assert_eq!(Nlri::from_name("job"), None);
        let too_new = pb::SrPolicy {
            version: 1 << 40,
            ..policy()
        };
        assert!(encode(&too_new, "10.0.0.11".parse().unwrap(), 65000, "::").is_err());
    }

    #[test]
    fn a_compressed_policy_carries_each_container_with_its_structure() {
        // RFC 9800 F3216: 32-bit block, the active micro-SID as node, the
        // micro-SIDs after it as argument.
        let f3216 = Some(pb::SidStructure {
            locator_block_bits: 32,
            locator_node_bits: 16,
            function_bits: 0,
            argument_bits: 80,
        });
        let p = pb::SrPolicy {
            segments: vec![
                pb::PolicySegment {
                    sid: "fc00:0:200:e002:e002:e002:e002:e002".into(),
                    behavior: 1,
                    structure: f3216,
                },
                pb::PolicySegment {
                    sid: "fc00:0:f000::".into(),
                    behavior: 18,
                    structure: f3216,
                },
            ],
            encapsulation: pb::Encapsulation::HEncapsRed.into(),
            ..policy()
        };
        let path = encode(&p, "10.0.0.11".parse().unwrap(), 65000, "::").unwrap();
        let route = decode(&path, 65000).unwrap();
        assert_eq!(route.policy.segments, p.segments);
        assert_eq!(
            route.policy.encapsulation,
            i32::from(pb::Encapsulation::HEncapsRed),
            "read back as compressed"
        );
        // A plain policy reads back plain.
        let plain = decode(
            &encode(&policy(), "10.0.0.11".parse().unwrap(), 65000, "::").unwrap(),
            65000,
        )
        .unwrap();
        assert_eq!(plain.policy.encapsulation, 0);
    }
}
