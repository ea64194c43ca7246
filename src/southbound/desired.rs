//! What the routers should hold, in the southbound protocol's terms: each
//! router's local SIDs, and each up policy as an SR policy at its headend
//! (color, endpoint, steered prefix, segment list, binding SID, version).

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use crate::controller::Policy;
use crate::engine::{Objective, Protection};
use crate::model::{DatacenterIx, RouterIx, SidFunction, Topology, sid_in_locator};
use crate::proto::v1 as pb;

/// Candidate path preference CPN gives its policies.
pub const PREFERENCE: u32 = 100;

/// The prefix behind a data center that policies steer into (traffic to it
/// is encapsulated at the headend): `fd00:dc:N::/64`, N = 1 + the data
/// center's rank by id. Outside every locator, so the IGP never carries it.
pub fn datacenter_prefix(dc: DatacenterIx) -> Ipv6Network {
    let addr = Ipv6Addr::new(0xfd00, 0x00dc, (dc.0 + 1) as u16, 0, 0, 0, 0, 0);
    Ipv6Network::new(addr, 64).expect("64 is a valid length")
}

/// The color of a request class (RFC 9256 intent): the objective in the
/// hundreds, the protection in the units. latency/none = 100, price/link = 401.
pub fn color(objective: Objective, protection: Protection) -> u32 {
    let o = match objective {
        Objective::Latency => 1,
        Objective::Igp => 2,
        Objective::Te => 3,
        Objective::Price => 4,
    };
    let p = match protection {
        Protection::None => 0,
        Protection::Link => 1,
        Protection::Node => 2,
        Protection::Srlg => 3,
    };
    o * 100 + p
}

/// A policy's binding SID at its headend: function `0x0001 + order mod
/// 0xcfff` of the headend's locator (below the End.DT6 and End.X ranges).
pub fn binding_sid(t: &Topology, headend: RouterIx, order: u64) -> Ipv6Addr {
    let function = 1 + (order % 0xcfff) as u16;
    sid_in_locator(t.router(headend).locator, function)
}

/// A policy's distinguisher (RFC 9830 2.1): unique while fewer than 2^32 - 1
/// policies are installed after it, never 0, fixed for the policy's life
/// (its NLRI stays the same when its path moves, so a reroute replaces the
/// route instead of withdrawing it).
pub fn distinguisher(order: u64) -> u32 {
    (order % u64::from(u32::MAX)) as u32 + 1
}

/// The SR policy of an up policy, or `None` when it is down (its headend
/// should hold nothing) or no longer resolves.
pub fn policy(t: &Topology, p: &Policy) -> Option<pb::SrPolicy> {
    let answer = p.answer()?;
    let primary = &answer.primary;
    let headend = answer.headend;
    let destination = match primary.datacenter {
        Some(dc) => datacenter_prefix(dc),
        None => Ipv6Network::new(t.sids().end(primary.endpoint), 128).expect("128 is valid"),
    };
    let objective = p.request.objective.unwrap_or_default();
    let protection = p.request.protection.unwrap_or_default();
    Some(pb::SrPolicy {
        name: p.name.clone(),
        color: color(objective, protection),
        endpoint: t.sids().end(primary.endpoint).to_string(),
        destination: destination.to_string(),
        segments: primary
            .segments
            .iter()
            .map(|s| pb::PolicySegment {
                sid: s.sid.to_string(),
                behavior: crate::api::convert::behavior(s.behavior).into(),
                structure: t.sids().lookup(s.sid).map(|sid| {
                    let locator = t.router(sid.router).locator;
                    sid_structure(locator)
                }),
            })
            .collect(),
        binding_sid: binding_sid(t, headend, p.order).to_string(),
        preference: PREFERENCE,
        version: p.version,
        distinguisher: distinguisher(p.order),
    })
}

/// The structure of a SID of `locator`: the locator (as the block), the
/// 16-bit function, no argument.
pub fn sid_structure(locator: Ipv6Network) -> pb::SidStructure {
    pb::SidStructure {
        locator_block_bits: u32::from(locator.prefix()),
        locator_node_bits: 0,
        function_bits: 16,
        argument_bits: 0,
    }
}

/// A router's local SIDs and facts.
pub fn router(t: &Topology, r: RouterIx) -> pb::ProvisionSidsRequest {
    let router = t.router(r);
    pb::ProvisionSidsRequest {
        router: router.id.to_string(),
        locator: router.locator.to_string(),
        msd: u32::from(router.msd),
        sids: t
            .sids()
            .of_router(r)
            .into_iter()
            .map(|s| pb::LocalSid {
                sid: s.addr.to_string(),
                behavior: crate::api::convert::behavior(s.behavior()).into(),
                link: match s.function {
                    SidFunction::EndX { link } => t.link(link).id.to_string(),
                    _ => String::new(),
                },
                neighbor: match s.function {
                    SidFunction::EndX { link } => t.router(t.other_end(link, r)).id.to_string(),
                    _ => String::new(),
                },
                datacenter: match s.function {
                    SidFunction::EndDt6 { datacenter } => t.datacenter(datacenter).id.to_string(),
                    _ => String::new(),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_and_prefixes() {
        assert_eq!(color(Objective::Latency, Protection::None), 100);
        assert_eq!(color(Objective::Price, Protection::Link), 401);
        assert_eq!(
            datacenter_prefix(DatacenterIx(0)).to_string(),
            "fd00:dc:1::/64"
        );
        assert_eq!(
            datacenter_prefix(DatacenterIx(15)).to_string(),
            "fd00:dc:10::/64"
        );
    }

    #[test]
    fn distinguishers_are_never_zero_and_wrap() {
        assert_eq!(distinguisher(0), 1);
        assert_eq!(distinguisher(41), 42);
        assert_eq!(distinguisher(u64::from(u32::MAX) - 1), u32::MAX);
        assert_eq!(distinguisher(u64::from(u32::MAX)), 1);
    }
}
