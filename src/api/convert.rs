//! Model -> proto conversions for the northbound API. Proto types never
//! enter the model; this file is the only place that knows both.

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
                mgmt: r.mgmt.clone().unwrap_or_default(),
                up: r.up,
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
                            SidFunction::EndDt6 { datacenter } => {
                                t.datacenter(datacenter).id.to_string()
                            }
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
                    })
                    .collect(),
            })
            .collect(),
    }
}

// ---- documents <-> proto (the API speaks ids, as the JSON documents do) ----

use tonic::Status;

use crate::document::{
    AnswerJson, ComputeDoc, ConstraintsDoc, DataDoc, EventDoc, MetricsJson, PlacementJson,
    PolicyJson, RejectionJson, RequestDoc, SegmentJson, SetLinkDoc, SetPoolDoc,
};
use crate::engine::{Objective, Protection, Residency};

/// The proto enum of a pool kind name ("ai"), unspecified when absent.
fn pool_kind_of(name: Option<&str>) -> i32 {
    name.and_then(|n| n.parse::<PoolKind>().ok())
        .map_or(pb::PoolKind::Unspecified, pool_kind)
        .into()
}

/// The pool kind of a proto value; `field` names it in the error.
pub fn pool_kind_from(v: i32, field: &str) -> Result<PoolKind, Status> {
    match pb::PoolKind::try_from(v) {
        Ok(pb::PoolKind::Ai) => Ok(PoolKind::Ai),
        Ok(pb::PoolKind::Hpc) => Ok(PoolKind::Hpc),
        Ok(pb::PoolKind::General) => Ok(PoolKind::General),
        _ => Err(Status::invalid_argument(format!(
            "{field}: pool kind {v} is not ai, hpc or general"
        ))),
    }
}

/// A request document as proto.
pub fn request_to_pb(d: &RequestDoc) -> pb::PathRequest {
    let c = d.constraints.clone().unwrap_or_default();
    pb::PathRequest {
        from: d.from.clone(),
        compute: d.compute.as_ref().map(|c| pb::ComputeDemand {
            kind: pool_kind(c.kind).into(),
            tflops: c.tflops,
            memory_gb: c.memory_gb,
        }),
        to: d.to.clone().unwrap_or_default(),
        residency: match d.data.as_ref().map(|x| x.residency).unwrap_or_default() {
            Residency::Any => pb::Residency::Any,
            Residency::Operator => pb::Residency::Operator,
            Residency::Region => pb::Residency::Region,
            Residency::City => pb::Residency::City,
        }
        .into(),
        constraints: Some(pb::Constraints {
            max_latency_us: c.max_latency_us,
            max_jitter_us: c.max_jitter_us,
            max_loss_ppm: c.max_loss_ppm,
            min_bandwidth_mbps: c.min_bandwidth_mbps,
            operators: c.operators.unwrap_or_default(),
            avoid_routers: c.avoid_routers,
            avoid_links: c.avoid_links,
        }),
        protection: match d.protection.unwrap_or_default() {
            Protection::None => pb::Protection::None,
            Protection::Link => pb::Protection::Link,
            Protection::Node => pb::Protection::Node,
            Protection::Srlg => pb::Protection::Srlg,
        }
        .into(),
        objective: match d.objective.unwrap_or_default() {
            Objective::Latency => pb::Objective::Latency,
            Objective::Igp => pb::Objective::Igp,
            Objective::Te => pb::Objective::Te,
            Objective::Price => pb::Objective::Price,
        }
        .into(),
    }
}

/// A proto request as a document; enum values out of range are refused.
pub fn request_from_pb(r: &pb::PathRequest) -> Result<RequestDoc, Status> {
    let bad = |field: &str, v: i32| {
        Status::invalid_argument(format!("request.{field}: unknown value {v}"))
    };
    let residency =
        match pb::Residency::try_from(r.residency).map_err(|_| bad("residency", r.residency))? {
            pb::Residency::Unspecified | pb::Residency::Any => Residency::Any,
            pb::Residency::Operator => Residency::Operator,
            pb::Residency::Region => Residency::Region,
            pb::Residency::City => Residency::City,
        };
    let protection = match pb::Protection::try_from(r.protection)
        .map_err(|_| bad("protection", r.protection))?
    {
        pb::Protection::Unspecified | pb::Protection::None => Protection::None,
        pb::Protection::Link => Protection::Link,
        pb::Protection::Node => Protection::Node,
        pb::Protection::Srlg => Protection::Srlg,
    };
    let objective =
        match pb::Objective::try_from(r.objective).map_err(|_| bad("objective", r.objective))? {
            pb::Objective::Unspecified | pb::Objective::Latency => Objective::Latency,
            pb::Objective::Igp => Objective::Igp,
            pb::Objective::Te => Objective::Te,
            pb::Objective::Price => Objective::Price,
        };
    if r.from.is_empty() {
        return Err(Status::invalid_argument(
            "request.from: the headend router id is required",
        ));
    }
    let compute = match &r.compute {
        Some(c) => Some(ComputeDoc {
            kind: pool_kind_from(c.kind, "request.compute.kind")?,
            tflops: c.tflops,
            memory_gb: c.memory_gb,
        }),
        None => None,
    };
    let c = r.constraints.clone().unwrap_or_default();
    Ok(RequestDoc {
        from: r.from.clone(),
        compute,
        to: (!r.to.is_empty()).then(|| r.to.clone()),
        data: (residency != Residency::Any).then_some(DataDoc { residency }),
        constraints: Some(ConstraintsDoc {
            max_latency_us: c.max_latency_us,
            max_jitter_us: c.max_jitter_us,
            max_loss_ppm: c.max_loss_ppm,
            min_bandwidth_mbps: c.min_bandwidth_mbps,
            operators: (!c.operators.is_empty()).then_some(c.operators),
            avoid_routers: c.avoid_routers,
            avoid_links: c.avoid_links,
        })
        .filter(|c| *c != ConstraintsDoc::default()),
        protection: (protection != Protection::None).then_some(protection),
        objective: (objective != Objective::Latency).then_some(objective),
    })
}

fn segment_to_pb(s: &SegmentJson) -> pb::Segment {
    pb::Segment {
        sid: s.sid.clone(),
        behavior: s
            .behavior
            .parse::<Behavior>()
            .map_or(pb::SidBehavior::Unspecified, behavior)
            .into(),
        router: s.router.clone(),
        link: s.link.clone().unwrap_or_default(),
        datacenter: s.datacenter.clone().unwrap_or_default(),
    }
}

fn segment_from_pb(s: &pb::Segment) -> SegmentJson {
    let name = match pb::SidBehavior::try_from(s.behavior) {
        Ok(pb::SidBehavior::End) => Behavior::End.name(),
        Ok(pb::SidBehavior::EndX) => Behavior::EndX.name(),
        Ok(pb::SidBehavior::EndDt6) => Behavior::EndDt6.name(),
        _ => "unknown",
    };
    SegmentJson {
        sid: s.sid.clone(),
        behavior: name.to_owned(),
        router: s.router.clone(),
        link: (!s.link.is_empty()).then(|| s.link.clone()),
        datacenter: (!s.datacenter.is_empty()).then(|| s.datacenter.clone()),
    }
}

fn metrics_to_pb(m: &MetricsJson) -> pb::Metrics {
    pb::Metrics {
        latency_us: m.latency_us,
        igp: m.igp,
        te: m.te,
        jitter_us: m.jitter_us,
        loss_ppm: m.loss_ppm,
        min_available_mbps: m.min_available_mbps,
        price: m.price,
    }
}

fn metrics_from_pb(m: &pb::Metrics) -> MetricsJson {
    MetricsJson {
        latency_us: m.latency_us,
        igp: m.igp,
        te: m.te,
        jitter_us: m.jitter_us,
        loss_ppm: m.loss_ppm,
        min_available_mbps: m.min_available_mbps,
        price: m.price,
    }
}

/// A placement as proto.
pub fn placement_to_pb(p: &PlacementJson) -> pb::Placement {
    pb::Placement {
        headend: p.headend.clone(),
        datacenter: p.datacenter.clone().unwrap_or_default(),
        pool: pool_kind_of(p.pool.as_deref()),
        endpoint: p.endpoint.clone(),
        path: p.path.clone(),
        links: p.links.clone(),
        segments: p.segments.iter().map(segment_to_pb).collect(),
        metrics: Some(metrics_to_pb(&p.metrics)),
    }
}

/// A proto placement as JSON.
pub fn placement_from_pb(p: &pb::Placement) -> PlacementJson {
    PlacementJson {
        headend: p.headend.clone(),
        datacenter: (!p.datacenter.is_empty()).then(|| p.datacenter.clone()),
        pool: pool_kind_from(p.pool, "pool").ok().map(|k| k.to_string()),
        endpoint: p.endpoint.clone(),
        path: p.path.clone(),
        links: p.links.clone(),
        segments: p.segments.iter().map(segment_from_pb).collect(),
        metrics: metrics_from_pb(&p.metrics.unwrap_or_default()),
    }
}

fn rejection_to_pb(r: &RejectionJson) -> pb::Rejection {
    pb::Rejection {
        datacenter: r.datacenter.clone(),
        feasible: r.feasible,
        reason: r.reason.clone(),
    }
}

fn rejection_from_pb(r: &pb::Rejection) -> RejectionJson {
    RejectionJson {
        datacenter: r.datacenter.clone(),
        feasible: r.feasible,
        reason: r.reason.clone(),
    }
}

/// An answer as proto.
pub fn answer_to_pb(a: &AnswerJson) -> pb::PathAnswer {
    pb::PathAnswer {
        primary: Some(placement_to_pb(&a.primary)),
        backup: a.backup.as_ref().map(placement_to_pb),
        rejected: a.rejected.iter().map(rejection_to_pb).collect(),
        notes: a.notes.clone(),
    }
}

/// A proto answer as JSON.
pub fn answer_from_pb(a: &pb::PathAnswer) -> AnswerJson {
    AnswerJson {
        primary: placement_from_pb(&a.primary.clone().unwrap_or_default()),
        backup: a.backup.as_ref().map(placement_from_pb),
        rejected: a.rejected.iter().map(rejection_from_pb).collect(),
        notes: a.notes.clone(),
    }
}

/// "Nothing feasible" as proto.
pub fn no_placement_to_pb(error: &str, rejected: &[RejectionJson]) -> pb::NoPlacement {
    pb::NoPlacement {
        error: error.to_owned(),
        rejected: rejected.iter().map(rejection_to_pb).collect(),
    }
}

/// Rejections from proto.
pub fn rejections_from_pb(r: &[pb::Rejection]) -> Vec<RejectionJson> {
    r.iter().map(rejection_from_pb).collect()
}

/// A policy as proto.
pub fn policy_to_pb(p: &PolicyJson) -> pb::Policy {
    let answer = p.endpoint.as_ref().map(|endpoint| pb::PathAnswer {
        primary: Some(pb::Placement {
            headend: p.headend.clone(),
            datacenter: p.datacenter.clone().unwrap_or_default(),
            pool: pool_kind_of(p.pool.as_deref()),
            endpoint: endpoint.clone(),
            path: p.path.clone(),
            links: p.links.clone(),
            segments: p.segments.iter().map(segment_to_pb).collect(),
            metrics: p.metrics.as_ref().map(metrics_to_pb),
        }),
        backup: p.backup.as_ref().map(placement_to_pb),
        rejected: p.rejected.iter().map(rejection_to_pb).collect(),
        notes: p.notes.clone(),
    });
    pb::Policy {
        name: p.name.clone(),
        request: Some(request_to_pb(&p.request)),
        state: if p.state == "up" {
            pb::PolicyState::Up
        } else {
            pb::PolicyState::Down
        }
        .into(),
        reason: p.reason.clone().unwrap_or_default(),
        answer,
        southbound: match p.southbound.as_str() {
            "applied" => pb::SouthboundState::Applied,
            "failed" => pb::SouthboundState::Failed,
            _ => pb::SouthboundState::Pending,
        }
        .into(),
        southbound_detail: p.southbound_detail.clone().unwrap_or_default(),
        version: p.version,
    }
}

/// A proto policy as JSON.
pub fn policy_from_pb(p: &pb::Policy) -> Result<PolicyJson, Status> {
    let request = request_from_pb(&p.request.clone().unwrap_or_default())?;
    let answer = p.answer.as_ref().map(answer_from_pb);
    let primary = answer.as_ref().map(|a| &a.primary);
    Ok(PolicyJson {
        name: p.name.clone(),
        state: if p.state == pb::PolicyState::Up as i32 {
            "up"
        } else {
            "down"
        }
        .to_owned(),
        reason: (!p.reason.is_empty()).then(|| p.reason.clone()),
        southbound: match pb::SouthboundState::try_from(p.southbound) {
            Ok(pb::SouthboundState::Applied) => "applied",
            Ok(pb::SouthboundState::Failed) => "failed",
            _ => "pending",
        }
        .to_owned(),
        southbound_detail: (!p.southbound_detail.is_empty()).then(|| p.southbound_detail.clone()),
        version: p.version,
        headend: request.from.clone(),
        datacenter: primary.and_then(|x| x.datacenter.clone()),
        pool: primary.and_then(|x| x.pool.clone()),
        endpoint: primary.map(|x| x.endpoint.clone()),
        path: primary.map(|x| x.path.clone()).unwrap_or_default(),
        links: primary.map(|x| x.links.clone()).unwrap_or_default(),
        segments: primary.map(|x| x.segments.clone()).unwrap_or_default(),
        metrics: primary.map(|x| x.metrics.clone()),
        backup: answer.as_ref().and_then(|a| a.backup.clone()),
        rejected: answer
            .as_ref()
            .map(|a| a.rejected.clone())
            .unwrap_or_default(),
        notes: answer.map(|a| a.notes).unwrap_or_default(),
        request,
    })
}

/// A proto event as a document.
pub fn event_from_pb(e: &pb::Event) -> Result<EventDoc, Status> {
    use pb::event::Event as E;
    Ok(match e.event.clone() {
        None => {
            return Err(Status::invalid_argument(
                "event: one of link_down, link_up, router_down, router_up, set_link, set_pool is required",
            ));
        }
        Some(E::LinkDown(id)) => EventDoc::LinkDown(id),
        Some(E::LinkUp(id)) => EventDoc::LinkUp(id),
        Some(E::RouterDown(id)) => EventDoc::RouterDown(id),
        Some(E::RouterUp(id)) => EventDoc::RouterUp(id),
        Some(E::SetLink(s)) => EventDoc::SetLink(SetLinkDoc {
            id: s.id,
            latency_us: s.latency_us,
            igp: s.igp,
            te: s.te,
            bandwidth_mbps: s.bandwidth_mbps,
            used_mbps: s.used_mbps,
            jitter_us: s.jitter_us,
            loss_ppm: s.loss_ppm,
            up: s.up,
        }),
        Some(E::SetPool(s)) => EventDoc::SetPool(SetPoolDoc {
            datacenter: s.datacenter,
            kind: pool_kind_from(s.kind, "set_pool.kind")?,
            used_tflops: s.used_tflops,
            used_memory_gb: s.used_memory_gb,
        }),
    })
}

/// An event document as proto.
pub fn event_to_pb(e: &EventDoc) -> pb::Event {
    use pb::event::Event as E;
    let event = match e.clone() {
        EventDoc::LinkDown(id) => E::LinkDown(id),
        EventDoc::LinkUp(id) => E::LinkUp(id),
        EventDoc::RouterDown(id) => E::RouterDown(id),
        EventDoc::RouterUp(id) => E::RouterUp(id),
        EventDoc::SetLink(s) => E::SetLink(pb::SetLink {
            id: s.id,
            latency_us: s.latency_us,
            igp: s.igp,
            te: s.te,
            bandwidth_mbps: s.bandwidth_mbps,
            used_mbps: s.used_mbps,
            jitter_us: s.jitter_us,
            loss_ppm: s.loss_ppm,
            up: s.up,
        }),
        EventDoc::SetPool(s) => E::SetPool(pb::SetPool {
            datacenter: s.datacenter,
            kind: pool_kind(s.kind).into(),
            used_tflops: s.used_tflops,
            used_memory_gb: s.used_memory_gb,
        }),
    };
    pb::Event { event: Some(event) }
}
