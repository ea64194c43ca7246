//! What every agent back end checks, as a real headend would: SIDs are IPv6
//! addresses inside the router's locator with behaviors it knows, a policy
//! has a name and at least one well-formed segment, and no more segments
//! than the router can push (its MSD). Errors carry the codes of
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
    for s in &r.sids {
        let sid = parse_sid(&s.sid, "sid")?;
        if !locator.contains(sid) {
            return Err(Status::invalid_argument(format!(
                "SID {sid} is outside locator {locator} of {}",
                r.router
            )));
        }
        if !known_behavior(s.behavior) {
            return Err(Status::invalid_argument(format!(
                "SID {sid}: unknown behavior {}",
                s.behavior
            )));
        }
    }
    Ok(locator)
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
