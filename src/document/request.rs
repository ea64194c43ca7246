//! The request document and its resolution: every id checked against the
//! topology, every error one line naming the field and the id.

use serde::{Deserialize, Serialize};

use super::FieldError;
use crate::engine::{
    Compression, ComputeDemand, Constraints, Destination, Objective, PathRequest, Protection,
    Residency, Standby,
};
use crate::model::{PoolKind, Topology};
use crate::topology_file::guard::check_flow_depth;

/// Largest request accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// A path query as written (YAML or JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDoc {
    /// Headend router id.
    pub from: String,
    /// Compute the job needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeDoc>,
    /// A data center id or router id that pins the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What the network is told about the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataDoc>,
    /// Bounds and exclusions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<ConstraintsDoc>,
    /// Backup path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection: Option<Protection>,
    /// A standby data center in another region or city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<Standby>,
    /// What to minimize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<Objective>,
    /// `none` or `next-csid`; absent: micro-SIDs wherever the routers
    /// take them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionDoc>,
}

/// `compression:` as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompressionDoc {
    /// Full SIDs only.
    None,
    /// Micro-SIDs (RFC 9800 NEXT-C-SID); the headend must support them.
    NextCsid,
}

/// `compute:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeDoc {
    /// ai, hpc or general.
    pub kind: PoolKind,
    /// TFLOPS, > 0.
    pub tflops: f64,
    /// Memory, GB.
    #[serde(default)]
    pub memory_gb: f64,
}

/// `data:`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataDoc {
    /// any, operator, region or city.
    #[serde(default)]
    pub residency: Residency,
}

/// `constraints:`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintsDoc {
    /// Path latency bound, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency_us: Option<u64>,
    /// Jitter bound, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_jitter_us: Option<u64>,
    /// Loss bound, ppm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss_ppm: Option<u64>,
    /// Bandwidth every link must have available, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bandwidth_mbps: Option<u64>,
    /// Allowed operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operators: Option<Vec<String>>,
    /// Routers to avoid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub avoid_routers: Vec<String>,
    /// Links to avoid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub avoid_links: Vec<String>,
}

/// Parses a request document (YAML or JSON) into its serde form; the error
/// is one line naming the field.
pub fn parse_request(text: &str) -> Result<RequestDoc, String> {
    if text.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "request is {} bytes, more than {MAX_REQUEST_BYTES}",
            text.len()
        ));
    }
    check_flow_depth(text).map_err(|(line, m)| format!("line {line}: {m}"))?;
    // serde_yaml's messages name the field path and the line already.
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// Resolves ids against `t`; the error names the field and the unknown id.
pub fn resolve(doc: &RequestDoc, t: &Topology) -> Result<PathRequest, FieldError> {
    let router = |field: &str, id: &str| {
        t.router_ix(id)
            .ok_or_else(|| FieldError::new(field, format!("unknown router `{id}`")))
    };
    let from = router("from", &doc.from)?;
    let to = match &doc.to {
        None => None,
        Some(id) => Some(match (t.datacenter_ix(id), t.router_ix(id)) {
            (Some(dc), _) => Destination::Datacenter(dc),
            (None, Some(r)) => Destination::Router(r),
            (None, None) => {
                return Err(FieldError::new(
                    "to",
                    format!("unknown data center or router `{id}`"),
                ));
            }
        }),
    };
    let c = doc.constraints.clone().unwrap_or_default();
    let operators = match &c.operators {
        None => None,
        // Nothing would be feasible; and over gRPC an empty list cannot be
        // told from no list. Refused, so that both mean the same.
        Some(ids) if ids.is_empty() => {
            return Err(FieldError::new(
                "constraints.operators",
                "an empty list allows no operator; leave the field out to allow every operator",
            ));
        }
        Some(ids) => {
            let mut ops = ids
                .iter()
                .map(|id| {
                    t.operator_ix(id).ok_or_else(|| {
                        FieldError::new("constraints.operators", format!("unknown operator `{id}`"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            ops.sort_unstable();
            ops.dedup();
            Some(ops)
        }
    };
    let avoid_routers = c
        .avoid_routers
        .iter()
        .map(|id| router("constraints.avoid_routers", id))
        .collect::<Result<Vec<_>, _>>()?;
    let avoid_links = c
        .avoid_links
        .iter()
        .map(|id| {
            t.link_ix(id).ok_or_else(|| {
                FieldError::new("constraints.avoid_links", format!("unknown link `{id}`"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let compression = match doc.compression {
        None => Compression::Auto,
        Some(CompressionDoc::None) => Compression::Off,
        Some(CompressionDoc::NextCsid) => {
            if t.csid_block(from).is_none() {
                let r = t.router(from);
                return Err(FieldError::new(
                    "compression",
                    format!(
                        "headend `{}` takes no micro-SIDs: operator `{}` declares no next_csid block or the router has no usid",
                        r.id,
                        t.operator(r.operator).id
                    ),
                ));
            }
            Compression::NextCsid
        }
    };
    Ok(PathRequest {
        compression,
        from,
        compute: doc.compute.as_ref().map(|c| ComputeDemand {
            kind: c.kind,
            tflops: c.tflops,
            memory_gb: c.memory_gb,
        }),
        to,
        residency: doc.data.as_ref().map(|d| d.residency).unwrap_or_default(),
        constraints: Constraints {
            max_latency_us: c.max_latency_us,
            max_jitter_us: c.max_jitter_us,
            max_loss_ppm: c.max_loss_ppm,
            min_bandwidth_mbps: c.min_bandwidth_mbps,
            operators,
            avoid_routers,
            avoid_links,
        },
        protection: doc.protection.unwrap_or_default(),
        standby: doc.standby.unwrap_or_default(),
        objective: doc.objective.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::topology_file::lab;

    #[test]
    fn full_request_resolves() {
        let t = lab();
        let doc = parse_request(
            "from: a1\ncompute: {kind: ai, tflops: 200, memory_gb: 400}\ndata: {residency: region}\n\
             constraints: {max_latency_us: 20000, operators: [op-b, op-a, op-a], avoid_routers: [a3], avoid_links: [a1-a2]}\n\
             protection: link\nobjective: price\n",
        )
        .unwrap();
        let req = resolve(&doc, &t).unwrap();
        assert_eq!(req.from, t.router_ix("a1").unwrap());
        assert_eq!(req.residency, Residency::Region);
        assert_eq!(req.protection, Protection::Link);
        assert_eq!(req.objective, Objective::Price);
        assert_eq!(req.constraints.operators.as_ref().unwrap().len(), 2);
        assert_eq!(req.constraints.avoid_links, [t.link_ix("a1-a2").unwrap()]);
        assert_eq!(req.compute.unwrap().memory_gb, 400.0);
    }

    #[test]
    fn json_is_accepted_and_to_names_a_dc_or_a_router() {
        let t = lab();
        let dc = resolve(
            &parse_request(r#"{"from": "a1", "to": "dc-west"}"#).unwrap(),
            &t,
        )
        .unwrap();
        assert_eq!(
            dc.to,
            Some(Destination::Datacenter(t.datacenter_ix("dc-west").unwrap()))
        );
        let r = resolve(&parse_request(r#"{"from": "a1", "to": "b3"}"#).unwrap(), &t).unwrap();
        assert_eq!(r.to, Some(Destination::Router(t.router_ix("b3").unwrap())));
    }

    #[test]
    fn errors_name_the_field_and_id() {
        let t = lab();
        let err = |text: &str| match parse_request(text) {
            Err(e) => e,
            Ok(doc) => resolve(&doc, &t).unwrap_err().to_string(),
        };
        assert_eq!(err("from: zz\nto: b3\n"), "from: unknown router `zz`");
        assert_eq!(
            err("from: a1\nto: nowhere\n"),
            "to: unknown data center or router `nowhere`"
        );
        assert_eq!(
            err("from: a1\nto: b3\nconstraints: {avoid_links: [x-y]}\n"),
            "constraints.avoid_links: unknown link `x-y`"
        );
        assert_eq!(
            err("from: a1\nto: b3\nconstraints: {operators: [op-q]}\n"),
            "constraints.operators: unknown operator `op-q`"
        );
        assert!(err("from: a1\ncolour: red\n").contains("unknown field `colour`"));
        assert!(
            err("from: a1\ncompute: {kind: gpu, tflops: 1}\n")
                .starts_with("compute.kind: unknown variant `gpu`")
        );
        assert!(
            err("from: a1\nobjective: fastest\n")
                .starts_with("objective: unknown variant `fastest`")
        );
        assert!(
            err("from: a1\nconstraints: {max_latency_us: -1}\n")
                .starts_with("constraints.max_latency_us:")
        );
    }
}
