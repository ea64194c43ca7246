//! What the routers should hold, decided by the controller: each router's
//! local SIDs, and each up policy as an SR policy at its headend (color,
//! endpoint, steered prefix, segment list, binding SID, version).

use super::Policy;
use super::outbox::{LocalSid, PolicySegment, RouterSids, SrPolicy};
use crate::engine::{Objective, Protection};
use crate::model::{RouterIx, SidFunction, SidStructure, Topology, sid_in_locator};

/// Candidate path preference CPN gives its policies.
pub const PREFERENCE: u32 = 100;

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
pub fn binding_sid(t: &Topology, headend: RouterIx, order: u64) -> std::net::Ipv6Addr {
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
/// should hold nothing).
pub fn policy(t: &Topology, p: &Policy) -> Option<SrPolicy> {
    let answer = p.answer()?;
    let primary = &answer.primary;
    // The prefix behind where the path ends: the data center's, or the
    // site behind the router a policy is pinned to.
    let destination = match primary.datacenter {
        Some(dc) => t.datacenter(dc).prefix,
        None => t.router(primary.endpoint).prefix,
    };
    let objective = p.request.objective.unwrap_or_default();
    let protection = p.request.protection.unwrap_or_default();
    Some(SrPolicy {
        name: p.name.clone(),
        color: color(objective, protection),
        endpoint: t.sids().end(primary.endpoint),
        destination,
        segments: match &primary.containers {
            None => primary
                .segments
                .iter()
                .map(|s| PolicySegment {
                    sid: s.sid,
                    behavior: s.behavior,
                    structure: t
                        .sids()
                        .lookup(s.sid)
                        .map(|sid| SidStructure::of_locator(t.router(sid.router).locator)),
                })
                .collect(),
            Some(entries) => container_segments(t, &primary.segments, entries),
        },
        reduced: primary.containers.is_some(),
        binding_sid: binding_sid(t, answer.headend, p.order),
        preference: PREFERENCE,
        version: p.version,
        distinguisher: distinguisher(p.order),
    })
}

/// The entries of a compressed list as policy segments: a full SID as
/// itself; a container with the behavior of its active (first) micro-SID
/// and the structure of RFC 9800 (block, the micro-SID as node, the rest
/// as argument).
fn container_segments(
    t: &Topology,
    segments: &[crate::engine::Segment],
    entries: &[std::net::Ipv6Addr],
) -> Vec<PolicySegment> {
    entries
        .iter()
        .enumerate()
        .map(|(i, &entry)| {
            let first = segments.iter().find(|s| s.container == Some(i));
            let behavior = first.map_or(crate::model::Behavior::End, |s| s.behavior);
            let micro = first
                .filter(|s| s.sid != entry || t.sids().lookup(s.sid).is_none())
                .and_then(|s| t.csid_block(s.router));
            let structure = match micro {
                Some(b) => Some(SidStructure {
                    block_bits: b.lbl(),
                    node_bits: b.lnfl,
                    function_bits: 0,
                    argument_bits: 128 - b.lbl() - b.lnfl,
                }),
                None => t
                    .sids()
                    .lookup(entry)
                    .map(|sid| SidStructure::of_locator(t.router(sid.router).locator)),
            };
            PolicySegment {
                sid: entry,
                behavior,
                structure,
            }
        })
        .collect()
}

/// A router's micro-SIDs (NEXT-C-SID), when it takes them: its uN, a uA
/// per link, its own uDT6 and one per attached data center.
fn micro_sids(t: &Topology, r: RouterIx) -> Vec<LocalSid> {
    let Some(block) = t.csid_block(r).copied() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |csid, behavior, adjacency, datacenter| {
        out.push(LocalSid {
            sid: block.address(csid),
            behavior,
            adjacency,
            datacenter,
            csid: Some(block),
        });
    };
    use crate::model::Behavior;
    if let Some(un) = t.usid_end(r) {
        push(un, Behavior::End, None, None);
    }
    for a in t.adjacencies(r) {
        if let Some(ua) = t.usid_end_x(r, a.link) {
            let adjacency = Some((
                t.link(a.link).id.to_string(),
                t.router(a.router).id.to_string(),
            ));
            push(ua, Behavior::EndX, adjacency, None);
        }
    }
    if let Some(own) = t.usid_dt6(r, None) {
        push(own, Behavior::EndDt6, None, None);
    }
    for &dc in t.datacenters_at(r) {
        if let Some(u) = t.usid_dt6(r, Some(dc)) {
            push(
                u,
                Behavior::EndDt6,
                None,
                Some(t.datacenter(dc).id.to_string()),
            );
        }
    }
    out
}

/// A router's local SIDs and facts.
pub fn router(t: &Topology, r: RouterIx) -> RouterSids {
    let router = t.router(r);
    RouterSids {
        router: router.id.to_string(),
        mgmt: router.mgmt.clone(),
        locator: router.locator,
        msd: router.msd,
        sids: t
            .sids()
            .of_router(r)
            .into_iter()
            .map(|s| LocalSid {
                sid: s.addr,
                behavior: s.behavior(),
                adjacency: match s.function {
                    SidFunction::EndX { link } => Some((
                        t.link(link).id.to_string(),
                        t.router(t.other_end(link, r)).id.to_string(),
                    )),
                    _ => None,
                },
                datacenter: match s.function {
                    SidFunction::EndDt6 {
                        datacenter: Some(dc),
                    } => Some(t.datacenter(dc).id.to_string()),
                    _ => None,
                },
                csid: None,
            })
            .chain(micro_sids(t, r))
            .collect::<Vec<_>>(),
        csid_block: t.csid_block(r).copied(),
    }
    .sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors() {
        assert_eq!(color(Objective::Latency, Protection::None), 100);
        assert_eq!(color(Objective::Price, Protection::Link), 401);
    }

    #[test]
    fn distinguishers_are_never_zero_and_wrap() {
        assert_eq!(distinguisher(0), 1);
        assert_eq!(distinguisher(41), 42);
        assert_eq!(distinguisher(u64::from(u32::MAX) - 1), u32::MAX);
        assert_eq!(distinguisher(u64::from(u32::MAX)), 1);
    }
}
