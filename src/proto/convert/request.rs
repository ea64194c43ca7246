//! Path requests: the request document as proto and back.

use super::{pool_kind, pool_kind_from};
use crate::document::{
    CompressionDoc, ComputeDoc, ConstraintsDoc, DataDoc, FieldError, RequestDoc,
};
use crate::engine::{Objective, Protection, Residency, Standby};
use crate::proto::v1 as pb;

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
        standby: match d.standby.unwrap_or_default() {
            Standby::None => pb::Standby::None,
            Standby::Region => pb::Standby::Region,
            Standby::City => pb::Standby::City,
        }
        .into(),
        compression: match d.compression {
            None => pb::Compression::Unspecified,
            Some(CompressionDoc::None) => pb::Compression::None,
            Some(CompressionDoc::NextCsid) => pb::Compression::NextCsid,
        }
        .into(),
    }
}

/// A proto request as a document; enum values out of range are refused.
pub fn request_from_pb(r: &pb::PathRequest) -> Result<RequestDoc, FieldError> {
    let bad = |field: &str, v: i32| FieldError::new(field, format!("unknown value {v}"));
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
    let standby = match pb::Standby::try_from(r.standby).map_err(|_| bad("standby", r.standby))? {
        pb::Standby::Unspecified | pb::Standby::None => Standby::None,
        pb::Standby::Region => Standby::Region,
        pb::Standby::City => Standby::City,
    };
    let objective =
        match pb::Objective::try_from(r.objective).map_err(|_| bad("objective", r.objective))? {
            pb::Objective::Unspecified | pb::Objective::Latency => Objective::Latency,
            pb::Objective::Igp => Objective::Igp,
            pb::Objective::Te => Objective::Te,
            pb::Objective::Price => Objective::Price,
        };
    let compression = match pb::Compression::try_from(r.compression)
        .map_err(|_| bad("compression", r.compression))?
    {
        pb::Compression::Unspecified => None,
        pb::Compression::None => Some(CompressionDoc::None),
        pb::Compression::NextCsid => Some(CompressionDoc::NextCsid),
    };
    if r.from.is_empty() {
        return Err(FieldError::new("from", "the headend router id is required"));
    }
    let compute = match &r.compute {
        Some(c) => Some(ComputeDoc {
            kind: pool_kind_from(c.kind, "compute.kind")?,
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
        standby: (standby != Standby::None).then_some(standby),
        objective: (objective != Objective::Latency).then_some(objective),
        compression,
    })
}
