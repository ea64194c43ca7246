//! The JSON answer of path-query.md, with ids in place of indices.

use serde::{Deserialize, Serialize};

use crate::engine::{NoPlacement, PathAnswer, Placement, Rejection};
use crate::model::Topology;

/// One segment: `link` only for End.X, `datacenter` only for End.DT6.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentJson {
    /// The SID.
    pub sid: String,
    /// End, End.X or End.DT6.
    pub behavior: String,
    /// Owner router.
    pub router: String,
    /// The link an End.X crosses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The data center of an End.DT6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,
    /// In a compressed answer: the index in `containers` of the entry that
    /// carries this segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<usize>,
}

/// The answer's name for RFC 9800 NEXT-C-SID compression.
pub const COMPRESSION_NEXT_CSID: &str = "next-csid";

/// True sums along a path: the engine's metrics, written as they are.
pub type MetricsJson = crate::engine::Metrics;

/// One placement: the fields of an answer without backup and rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacementJson {
    /// Headend router.
    pub headend: String,
    /// Data center; null for a router destination.
    pub datacenter: Option<String>,
    /// Pool kind; null for a router destination.
    pub pool: Option<String>,
    /// Last router.
    pub endpoint: String,
    /// Routers.
    pub path: Vec<String>,
    /// Links.
    pub links: Vec<String>,
    /// Segment list.
    pub segments: Vec<SegmentJson>,
    /// `"next-csid"` when the list uses micro-SIDs; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// What the headend puts in the packet, in order (containers and full
    /// SIDs); absent when uncompressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<String>>,
    /// Metrics.
    pub metrics: MetricsJson,
}

/// A data center that was not chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectionJson {
    /// Its id.
    pub datacenter: String,
    /// Could it have taken the job?
    pub feasible: bool,
    /// Why not, or its value beside the chosen one.
    pub reason: String,
}

/// A whole answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerJson {
    /// The primary placement.
    #[serde(flatten)]
    pub primary: PlacementJson,
    /// The backup; null without protection.
    pub backup: Option<PlacementJson>,
    /// With `standby` asked: the standby data center and its path, or null
    /// when none exists (a note says why). Absent when not asked, so that
    /// answers without it keep the fields of path-query.md exactly.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub standby: Option<Option<PlacementJson>>,
    /// Every other data center.
    pub rejected: Vec<RejectionJson>,
    /// When the request asks for a standby: every data center but the
    /// primary's and the standby's, with why it is not the standby; absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby_rejected: Option<Vec<RejectionJson>>,
    /// What the operator should know; absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The answer when nothing is feasible (or, in batch mode, bad input).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorJson {
    /// One line.
    pub error: String,
    /// Every data center's reason; absent for bad input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Vec<RejectionJson>>,
}

/// The JSON form of one placement.
pub fn placement_json(t: &Topology, headend: &str, p: &Placement) -> PlacementJson {
    PlacementJson {
        headend: headend.to_owned(),
        datacenter: p.datacenter.map(|d| t.datacenter(d).id.to_string()),
        pool: p.pool.map(|k| k.to_string()),
        endpoint: t.router(p.endpoint).id.to_string(),
        path: p.path.iter().map(|&r| t.router(r).id.to_string()).collect(),
        links: p.links.iter().map(|&l| t.link(l).id.to_string()).collect(),
        segments: p
            .segments
            .iter()
            .map(|s| SegmentJson {
                sid: s.sid.to_string(),
                behavior: s.behavior.name().to_owned(),
                router: t.router(s.router).id.to_string(),
                link: s.link.map(|l| t.link(l).id.to_string()),
                datacenter: s.datacenter.map(|d| t.datacenter(d).id.to_string()),
                container: s.container,
            })
            .collect(),
        compression: p
            .containers
            .as_ref()
            .map(|_| COMPRESSION_NEXT_CSID.to_owned()),
        containers: p
            .containers
            .as_ref()
            .map(|c| c.iter().map(|a| a.to_string()).collect()),
        metrics: p.metrics,
    }
}

/// The JSON form of rejections.
pub fn rejections_json(t: &Topology, rejected: &[Rejection]) -> Vec<RejectionJson> {
    rejected
        .iter()
        .map(|r| RejectionJson {
            datacenter: t.datacenter(r.datacenter).id.to_string(),
            feasible: r.feasible,
            reason: r.reason.clone(),
        })
        .collect()
}

/// A field that is present, null or not: `Some(None)` for null.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The JSON form of an answer.
pub fn answer_json(t: &Topology, a: &PathAnswer) -> AnswerJson {
    let headend = t.router(a.headend).id.to_string();
    AnswerJson {
        primary: placement_json(t, &headend, &a.primary),
        backup: a.backup.as_ref().map(|b| placement_json(t, &headend, b)),
        standby: a
            .standby
            .as_ref()
            .map(|s| s.placement.as_ref().map(|p| placement_json(t, &headend, p))),
        rejected: rejections_json(t, &a.rejected),
        standby_rejected: a.standby.as_ref().map(|s| rejections_json(t, &s.rejected)),
        notes: a.notes.clone(),
    }
}

/// The JSON form of "nothing feasible".
pub fn error_json(t: &Topology, e: &NoPlacement) -> ErrorJson {
    ErrorJson {
        error: e.message.clone(),
        rejected: Some(rejections_json(t, &e.rejected)),
    }
}
