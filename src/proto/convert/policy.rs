//! Policies and policy changes as proto and back.

use super::answer::{metrics_to_pb, rejection_to_pb, segment_to_pb};
use super::{answer_from_pb, placement_to_pb, pool_kind_of, request_from_pb, request_to_pb};
use crate::controller::{Change, ChangeKind};
use crate::document::{FieldError, PolicyJson, SrPolicyJson};
use crate::proto::v1 as pb;

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
            compression: p.compression.clone().unwrap_or_default(),
            containers: p.containers.clone().unwrap_or_default(),
        }),
        backup: p.backup.as_ref().map(placement_to_pb),
        rejected: p.rejected.iter().map(rejection_to_pb).collect(),
        notes: p.notes.clone(),
        standby: p.standby.as_ref().map(placement_to_pb),
        standby_rejected: Vec::new(),
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
            "disabled" => pb::SouthboundState::Disabled,
            _ => pb::SouthboundState::Pending,
        }
        .into(),
        southbound_detail: p.southbound_detail.clone().unwrap_or_default(),
        version: p.version,
        sr_policy: p.sr_policy.as_ref().map(|sr| pb::SrPolicyInfo {
            color: sr.color,
            endpoint: sr.endpoint.clone(),
            steering_prefix: sr.steering_prefix.clone(),
            binding_sid: sr.binding_sid.clone(),
            preference: sr.preference,
            distinguisher: sr.distinguisher,
        }),
        created_at: timestamp(p.created_at.as_deref()),
        updated_at: timestamp(p.updated_at.as_deref()),
        checked_at: timestamp(p.checked_at.as_deref()),
        failed_over_from: p.failed_over_from.clone().unwrap_or_default(),
    }
}

/// An RFC 3339 time as a protobuf timestamp (`None` when absent or not one).
fn timestamp(t: Option<&str>) -> Option<prost_types::Timestamp> {
    t.and_then(|t| t.parse().ok())
}

/// A protobuf timestamp in RFC 3339.
fn rfc3339(t: Option<&prost_types::Timestamp>) -> Option<String> {
    t.map(ToString::to_string)
}

/// A proto policy as JSON.
pub fn policy_from_pb(p: &pb::Policy) -> Result<PolicyJson, FieldError> {
    let request =
        request_from_pb(&p.request.clone().unwrap_or_default()).map_err(|e| e.under("request"))?;
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
            Ok(pb::SouthboundState::Disabled) => "disabled",
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
        compression: primary.and_then(|x| x.compression.clone()),
        containers: primary.and_then(|x| x.containers.clone()),
        metrics: primary.map(|x| x.metrics),
        backup: answer.as_ref().and_then(|a| a.backup.clone()),
        standby: answer.as_ref().and_then(|a| a.standby.clone().flatten()),
        rejected: answer
            .as_ref()
            .map(|a| a.rejected.clone())
            .unwrap_or_default(),
        notes: answer.map(|a| a.notes).unwrap_or_default(),
        request,
        sr_policy: p.sr_policy.as_ref().map(|sr| SrPolicyJson {
            color: sr.color,
            endpoint: sr.endpoint.clone(),
            steering_prefix: sr.steering_prefix.clone(),
            binding_sid: sr.binding_sid.clone(),
            preference: sr.preference,
            distinguisher: sr.distinguisher,
        }),
        created_at: rfc3339(p.created_at.as_ref()),
        updated_at: rfc3339(p.updated_at.as_ref()),
        checked_at: rfc3339(p.checked_at.as_ref()),
        failed_over_from: (!p.failed_over_from.is_empty()).then(|| p.failed_over_from.clone()),
    })
}

/// A change of the policy log as proto.
pub fn change_to_pb(c: &Change) -> pb::PolicyChange {
    pb::PolicyChange {
        sequence: c.sequence,
        kind: match c.kind {
            ChangeKind::Installed => pb::ChangeKind::Installed,
            ChangeKind::Updated => pb::ChangeKind::Updated,
            ChangeKind::Down => pb::ChangeKind::Down,
            ChangeKind::Restored => pb::ChangeKind::Restored,
            ChangeKind::Removed => pb::ChangeKind::Removed,
            ChangeKind::Southbound => pb::ChangeKind::Southbound,
        }
        .into(),
        name: c.name.clone(),
        policy: c.policy.as_ref().map(policy_to_pb),
        version: c.version,
        time: Some(c.time.into()),
        headend: c.headend.clone(),
    }
}
