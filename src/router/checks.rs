//! What every agent back end checks, as a real headend would: SIDs are IPv6
//! addresses inside the router's locator (micro-SIDs inside its NEXT-C-SID
//! block, with a structure the kernel takes) with behaviors it knows and
//! flavors those behaviors can take, a policy has a name and at least one
//! well-formed segment, and no more segments than the router can push (its
//! MSD). Errors carry the codes of
//! router.proto (INVALID_ARGUMENT and OUT_OF_RANGE: refused as it stands).

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;
use tonic::Status;

use crate::proto::v1 as pb;

/// True for the behaviors CPN allocates (End, End.X, End.DT6).
pub fn known_behavior(b: i32) -> bool {
    matches!(
        pb::SidBehavior::try_from(b),
        Ok(pb::SidBehavior::End | pb::SidBehavior::EndX | pb::SidBehavior::EndDt6)
    )
}

/// Parses a SID; `what` names it in the error.
pub fn parse_sid(s: &str, what: &str) -> Result<Ipv6Addr, Status> {
    s.parse::<Ipv6Addr>()
        .map_err(|_| Status::invalid_argument(format!("{what}: `{s}` is not an IPv6 address")))
}

/// Checks a provisioning request; returns the locator.
pub fn provision(r: &pb::ProvisionSidsRequest) -> Result<Ipv6Network, Status> {
    if r.router.is_empty() {
        return Err(Status::invalid_argument("router is required"));
    }
    let locator: Ipv6Network = r.locator.parse().map_err(|_| {
        Status::invalid_argument(format!("locator `{}` is not an IPv6 prefix", r.locator))
    })?;
    let block: Option<Ipv6Network> = if r.csid_block.is_empty() {
        None
    } else {
        Some(r.csid_block.parse().map_err(|_| {
            Status::invalid_argument(format!(
                "csid_block `{}` is not an IPv6 prefix",
                r.csid_block
            ))
        })?)
    };
    for s in &r.sids {
        let sid = parse_sid(&s.sid, "sid")?;
        if !known_behavior(s.behavior) {
            return Err(Status::invalid_argument(format!(
                "SID {sid}: unknown behavior {}",
                s.behavior
            )));
        }
        match &s.structure {
            None if !locator.contains(sid) => {
                return Err(Status::invalid_argument(format!(
                    "SID {sid} is outside locator {locator} of {}",
                    r.router
                )));
            }
            None => {}
            Some(st) => micro_sid(sid, st, block, &r.router)?,
        }
        flavors(sid, s)?;
    }
    Ok(locator)
}

/// The route length of a micro-SID: block + node + function bits.
pub fn micro_prefix_len(st: &pb::SidStructure) -> u32 {
    st.locator_block_bits + st.locator_node_bits + st.function_bits
}

/// A micro-SID: inside the router's block, with block and node + function
/// lengths the kernel takes (whole bytes, within one address).
fn micro_sid(
    sid: Ipv6Addr,
    st: &pb::SidStructure,
    block: Option<Ipv6Network>,
    router: &str,
) -> Result<(), Status> {
    let Some(block) = block else {
        return Err(Status::invalid_argument(format!(
            "micro-SID {sid}: {router} has no csid_block"
        )));
    };
    let lnfl = st.locator_node_bits + st.function_bits;
    let lbl = st.locator_block_bits;
    if !block.contains(sid) || lbl != u32::from(block.prefix()) {
        return Err(Status::invalid_argument(format!(
            "micro-SID {sid} (block /{lbl}) is outside the csid_block {block} of {router}"
        )));
    }
    if lnfl == 0 || !lnfl.is_multiple_of(8) || !lbl.is_multiple_of(8) || lbl + lnfl > 128 {
        return Err(Status::invalid_argument(format!(
            "micro-SID {sid}: block {lbl} and node + function {lnfl} bits must be whole bytes within 128"
        )));
    }
    Ok(())
}

/// Flavors: known, NEXT-C-SID only on End and End.X micro-SIDs (the kernel
/// accepts it on other behaviors and silently drops it: refused here, so
/// that nothing pretends to be compressed).
fn flavors(sid: Ipv6Addr, s: &pb::LocalSid) -> Result<(), Status> {
    for &f in &s.flavors {
        match pb::SidFlavor::try_from(f) {
            Ok(pb::SidFlavor::NextCsid) => {
                let takes = matches!(
                    pb::SidBehavior::try_from(s.behavior),
                    Ok(pb::SidBehavior::End | pb::SidBehavior::EndX)
                );
                if !takes {
                    return Err(Status::invalid_argument(format!(
                        "SID {sid}: only End and End.X take the next-csid flavor"
                    )));
                }
                if s.structure.is_none() {
                    return Err(Status::invalid_argument(format!(
                        "SID {sid}: the next-csid flavor needs a structure (block and node + function bits)"
                    )));
                }
            }
            _ => {
                return Err(Status::invalid_argument(format!(
                    "SID {sid}: unknown flavor {f}"
                )));
            }
        }
    }
    Ok(())
}

/// Checks a policy's form (before knowing the router); returns it with its
/// segments parsed.
pub fn policy(r: pb::ApplyPolicyRequest) -> Result<(pb::SrPolicy, Vec<Ipv6Addr>), Status> {
    let policy = r
        .policy
        .ok_or_else(|| Status::invalid_argument("policy is required"))?;
    if policy.name.is_empty() {
        return Err(Status::invalid_argument("policy.name is required"));
    }
    if policy.segments.is_empty() {
        return Err(Status::invalid_argument(
            "a policy needs at least one segment",
        ));
    }
    if pb::Encapsulation::try_from(policy.encapsulation).is_err() {
        return Err(Status::invalid_argument(format!(
            "policy {}: unknown encapsulation {}",
            policy.name, policy.encapsulation
        )));
    }
    let mut segments = Vec::with_capacity(policy.segments.len());
    for s in &policy.segments {
        segments.push(parse_sid(&s.sid, "segment")?);
        if !known_behavior(s.behavior) {
            return Err(Status::invalid_argument(format!(
                "segment {}: unknown behavior {}",
                s.sid, s.behavior
            )));
        }
    }
    Ok((policy, segments))
}

/// Refuses more segments than `limit` (the router's MSD).
pub fn depth(policy: &pb::SrPolicy, limit: u32, router: &str) -> Result<(), Status> {
    if policy.segments.len() as u32 > limit {
        return Err(Status::out_of_range(format!(
            "{} segments exceed the MSD {limit} of {router}",
            policy.segments.len()
        )));
    }
    Ok(())
}
