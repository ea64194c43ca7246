//! Path answers (placements, segments, metrics, rejections) as proto and
//! back.

use super::{behavior, behavior_from_pb, pool_kind_from, pool_kind_of};
use crate::document::{AnswerJson, MetricsJson, PlacementJson, RejectionJson, SegmentJson};
use crate::model::Behavior;
use crate::proto::v1 as pb;

pub(super) fn segment_to_pb(s: &SegmentJson) -> pb::Segment {
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
        container: s.container.map(|c| c as u32),
    }
}

fn segment_from_pb(s: &pb::Segment) -> SegmentJson {
    let name = behavior_from_pb(s.behavior).map_or("unknown", Behavior::name);
    SegmentJson {
        sid: s.sid.clone(),
        behavior: name.to_owned(),
        router: s.router.clone(),
        link: (!s.link.is_empty()).then(|| s.link.clone()),
        datacenter: (!s.datacenter.is_empty()).then(|| s.datacenter.clone()),
        container: s.container.map(|c| c as usize),
    }
}

pub(super) fn metrics_to_pb(m: &MetricsJson) -> pb::Metrics {
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
        compression: p.compression.clone().unwrap_or_default(),
        containers: p.containers.clone().unwrap_or_default(),
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
        compression: (!p.compression.is_empty()).then(|| p.compression.clone()),
        containers: (!p.containers.is_empty()).then(|| p.containers.clone()),
        metrics: metrics_from_pb(&p.metrics.unwrap_or_default()),
    }
}

pub(super) fn rejection_to_pb(r: &RejectionJson) -> pb::Rejection {
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
        standby: a
            .standby
            .as_ref()
            .and_then(|s| s.as_ref())
            .map(placement_to_pb),
        standby_rejected: a
            .standby_rejected
            .iter()
            .flatten()
            .map(rejection_to_pb)
            .collect(),
    }
}

/// A proto answer as JSON.
pub fn answer_from_pb(a: &pb::PathAnswer) -> AnswerJson {
    AnswerJson {
        primary: placement_from_pb(&a.primary.clone().unwrap_or_default()),
        backup: a.backup.as_ref().map(placement_from_pb),
        standby: (a.standby.is_some() || !a.standby_rejected.is_empty())
            .then(|| a.standby.as_ref().map(placement_from_pb)),
        rejected: a.rejected.iter().map(rejection_from_pb).collect(),
        // Proto cannot tell "not asked" from "nothing to say" in a
        // repeated field: the standby's presence decides, as it does for
        // people reading the answer.
        standby_rejected: (a.standby.is_some() || !a.standby_rejected.is_empty())
            .then(|| a.standby_rejected.iter().map(rejection_from_pb).collect()),
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
