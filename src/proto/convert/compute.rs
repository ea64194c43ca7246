//! What data centers report (pool reports, reporter states, pool health) as
//! proto and back.

use super::{pool_kind, pool_kind_from};
use crate::document::{FieldError, PoolReportDoc, ReporterSilentDoc};
use crate::model::{PoolHealth, Reporter, ReporterState};
use crate::proto::v1 as pb;

/// A health as proto.
pub fn health_to_pb(h: PoolHealth) -> pb::PoolHealth {
    match h {
        PoolHealth::Up => pb::PoolHealth::Up,
        PoolHealth::Degraded => pb::PoolHealth::Degraded,
        PoolHealth::Down => pb::PoolHealth::Down,
    }
}

/// A proto health; `None` for UNSPECIFIED.
pub fn health_from_pb(v: i32, field: &str) -> Result<Option<PoolHealth>, FieldError> {
    match pb::PoolHealth::try_from(v) {
        Ok(pb::PoolHealth::Unspecified) => Ok(None),
        Ok(pb::PoolHealth::Up) => Ok(Some(PoolHealth::Up)),
        Ok(pb::PoolHealth::Degraded) => Ok(Some(PoolHealth::Degraded)),
        Ok(pb::PoolHealth::Down) => Ok(Some(PoolHealth::Down)),
        Err(_) => Err(FieldError::new(
            field,
            format!("health {v} is not up, degraded or down"),
        )),
    }
}

/// A reporter state as proto.
pub fn reporter_state_to_pb(s: ReporterState) -> pb::ReporterState {
    match s {
        ReporterState::Live => pb::ReporterState::Live,
        ReporterState::Stale => pb::ReporterState::Stale,
        ReporterState::Lost => pb::ReporterState::Lost,
    }
}

/// A reporter as proto.
pub fn reporter_to_pb(r: &Reporter) -> pb::Reporter {
    pb::Reporter {
        interval_s: r.interval_s,
        state: reporter_state_to_pb(r.state).into(),
    }
}

/// A proto pool report as a document.
pub fn report_from_pb(r: &pb::PoolReport, parent: &str) -> Result<PoolReportDoc, FieldError> {
    Ok(PoolReportDoc {
        datacenter: r.datacenter.clone(),
        kind: pool_kind_from(r.kind, &format!("{parent}.kind"))?,
        tflops: r.tflops,
        free_tflops: r.free_tflops,
        free_memory_gb: r.free_memory_gb,
        price: r.price,
        health: health_from_pb(r.health, &format!("{parent}.health"))?,
        queue_wait_s: r.queue_wait_s,
        interval_s: r.interval_s,
    })
}

/// A pool report document as proto.
pub fn report_to_pb(r: &PoolReportDoc) -> pb::PoolReport {
    pb::PoolReport {
        datacenter: r.datacenter.clone(),
        kind: pool_kind(r.kind).into(),
        tflops: r.tflops,
        free_tflops: r.free_tflops,
        free_memory_gb: r.free_memory_gb,
        price: r.price,
        health: r
            .health
            .map_or(pb::PoolHealth::Unspecified, health_to_pb)
            .into(),
        queue_wait_s: r.queue_wait_s,
        interval_s: r.interval_s,
    }
}

/// A proto reporter-silent note as a document.
pub fn silent_from_pb(s: &pb::ReporterSilent) -> Result<ReporterSilentDoc, FieldError> {
    let state = match pb::ReporterState::try_from(s.state) {
        Ok(pb::ReporterState::Stale) => ReporterState::Stale,
        Ok(pb::ReporterState::Lost) => ReporterState::Lost,
        _ => {
            return Err(FieldError::new(
                "reporter_silent.state",
                "must be STALE or LOST",
            ));
        }
    };
    Ok(ReporterSilentDoc {
        datacenter: s.datacenter.clone(),
        state,
    })
}

/// A reporter-silent document as proto.
pub fn silent_to_pb(s: &ReporterSilentDoc) -> pb::ReporterSilent {
    pb::ReporterSilent {
        datacenter: s.datacenter.clone(),
        state: reporter_state_to_pb(s.state).into(),
    }
}
