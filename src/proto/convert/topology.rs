//! The topology, pool kinds and SRv6 behaviors as proto.

use crate::document::FieldError;
use crate::model::{Behavior, PoolKind, SidFunction, Topology};
use crate::proto::v1 as pb;

/// The proto enum value of a pool kind.
pub fn pool_kind(kind: PoolKind) -> pb::PoolKind {
    match kind {
        PoolKind::Ai => pb::PoolKind::Ai,
        PoolKind::Hpc => pb::PoolKind::Hpc,
        PoolKind::General => pb::PoolKind::General,
    }
}

/// The proto enum value of an SRv6 behavior (same numbers as RFC 8986).
pub fn behavior(b: Behavior) -> pb::SidBehavior {
    match b {
        Behavior::End => pb::SidBehavior::End,
        Behavior::EndX => pb::SidBehavior::EndX,
        Behavior::EndDt6 => pb::SidBehavior::EndDt6,
    }
}

/// The proto enum of a pool kind name ("ai"), unspecified when absent.
pub fn pool_kind_of(name: Option<&str>) -> i32 {
    name.and_then(|n| n.parse::<PoolKind>().ok())
        .map_or(pb::PoolKind::Unspecified, pool_kind)
        .into()
}

/// The pool kind of a proto value; `field` names it in the error.
pub fn pool_kind_from(v: i32, field: &str) -> Result<PoolKind, FieldError> {
    match pb::PoolKind::try_from(v) {
        Ok(pb::PoolKind::Ai) => Ok(PoolKind::Ai),
        Ok(pb::PoolKind::Hpc) => Ok(PoolKind::Hpc),
        Ok(pb::PoolKind::General) => Ok(PoolKind::General),
        _ => Err(FieldError::new(
            field,
            format!("pool kind {v} is not ai, hpc or general"),
        )),
    }
}

/// Coordinates as proto.
fn coordinates(c: crate::model::Coordinates) -> pb::Coordinates {
    pb::Coordinates {
        lat: c.lat,
        lon: c.lon,
    }
}

/// The whole topology as the API shows it, everything sorted by id.
pub fn topology(t: &Topology) -> pb::Topology {
    pb::Topology {
        name: t.name().to_owned(),
        operators: t
            .operators()
            .iter()
            .map(|o| pb::Operator {
                id: o.id.to_string(),
                asn: o.asn,
                description: o.description.clone().unwrap_or_default(),
            })
            .collect(),
        routers: t
            .routers()
            .map(|(ix, r)| pb::Router {
                id: r.id.to_string(),
                operator: t.operator(r.operator).id.to_string(),
                locator: r.locator.to_string(),
                city: r.city.clone().unwrap_or_default(),
                region: r.region.clone().unwrap_or_default(),
                msd: u32::from(r.msd),
                prefix: r.prefix.to_string(),
                mgmt: r.mgmt.clone().unwrap_or_default(),
                up: r.up,
                coordinates: r.coordinates.map(coordinates),
                sids: t
                    .sids()
                    .of_router(ix)
                    .into_iter()
                    .map(|s| pb::Sid {
                        sid: s.addr.to_string(),
                        behavior: behavior(s.behavior()).into(),
                        router: r.id.to_string(),
                        link: match s.function {
                            SidFunction::EndX { link } => t.link(link).id.to_string(),
                            _ => String::new(),
                        },
                        datacenter: match s.function {
                            SidFunction::EndDt6 {
                                datacenter: Some(dc),
                            } => t.datacenter(dc).id.to_string(),
                            _ => String::new(),
                        },
                    })
                    .collect(),
            })
            .collect(),
        links: t
            .links()
            .map(|(ix, l)| {
                let (a, b) = t.link_ends(ix);
                pb::Link {
                    id: l.id.to_string(),
                    a: t.router(a).id.to_string(),
                    b: t.router(b).id.to_string(),
                    igp: l.igp,
                    te: l.te,
                    latency_us: l.latency_us,
                    bandwidth_mbps: l.bandwidth_mbps,
                    used_mbps: l.used_mbps,
                    jitter_us: l.jitter_us,
                    loss_ppm: l.loss_ppm,
                    srlg: l.srlg.clone(),
                    up: l.up,
                    peering: t.link_kind(ix) == crate::model::LinkKind::Peering,
                    available_mbps: l.available_mbps(),
                }
            })
            .collect(),
        datacenters: t
            .datacenters()
            .iter()
            .map(|d| pb::Datacenter {
                id: d.id.to_string(),
                attach: d
                    .attach
                    .iter()
                    .map(|&r| t.router(r).id.to_string())
                    .collect(),
                city: d.city.clone().unwrap_or_default(),
                region: d.region.clone().unwrap_or_default(),
                coordinates: d.coordinates.map(coordinates),
                prefix: d.prefix.to_string(),
                latency_us: d.latency_us,
                storage_tb: d.storage_tb.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                pools: d
                    .pools
                    .iter()
                    .map(|p| pb::Pool {
                        kind: pool_kind(p.kind).into(),
                        tflops: p.tflops,
                        used_tflops: p.used_tflops,
                        memory_gb: p.memory_gb,
                        used_memory_gb: p.used_memory_gb,
                        price: p.price,
                        available_tflops: p.available_tflops(),
                        available_memory_gb: p.available_memory_gb(),
                        health: super::health_to_pb(p.health).into(),
                        queue_wait_s: p.queue_wait_s,
                    })
                    .collect(),
                reporter: d.reporter.as_ref().map(super::reporter_to_pb),
            })
            .collect(),
    }
}
