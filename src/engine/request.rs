//! A path query as the engine sees it: ids already resolved to indices,
//! every option an enum. Built by the edges (files, gRPC) after checking.

use crate::model::{DatacenterIx, LinkIx, OperatorIx, PoolKind, RouterIx};

/// What is minimized over every feasible (datacenter, pool, path).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Path latency (links + data center); ties by igp.
    #[default]
    Latency,
    /// Sum of link IGP metrics; ties by latency.
    Igp,
    /// Sum of link TE metrics; ties by latency.
    Te,
    /// Pool price x TFLOPS; ties by latency.
    Price,
}

impl Objective {
    /// Every objective.
    pub const ALL: [Objective; 4] = [
        Objective::Latency,
        Objective::Igp,
        Objective::Te,
        Objective::Price,
    ];

    /// The name in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Latency => "latency",
            Objective::Igp => "igp",
            Objective::Te => "te",
            Objective::Price => "price",
        }
    }
}

/// Where the data may go, relative to the headend.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Residency {
    /// Anywhere.
    #[default]
    Any,
    /// Only routers (and data centers behind routers) of the headend's operator.
    Operator,
    /// Only the headend's region.
    Region,
    /// Only the headend's city.
    City,
}

impl Residency {
    /// The name in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Residency::Any => "any",
            Residency::Operator => "operator",
            Residency::Region => "region",
            Residency::City => "city",
        }
    }
}

/// What the backup path must not share with the primary.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protection {
    /// No backup.
    #[default]
    None,
    /// No link in common.
    Link,
    /// No transit router (and so no link) in common.
    Node,
    /// No link and no shared-risk link group in common.
    Srlg,
}

impl Protection {
    /// The name in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Protection::None => "none",
            Protection::Link => "link",
            Protection::Node => "node",
            Protection::Srlg => "srlg",
        }
    }
}

/// Where a standby data center must be, relative to the primary's (a
/// disaster-recovery site for the job, with its own path).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Standby {
    /// No standby.
    #[default]
    None,
    /// In another region than the primary data center.
    Region,
    /// In another city than the primary data center.
    City,
}

impl Standby {
    /// The name in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Standby::None => "none",
            Standby::Region => "region",
            Standby::City => "city",
        }
    }
}

/// Compute a job needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComputeDemand {
    /// Pool kind.
    pub kind: PoolKind,
    /// TFLOPS, > 0.
    pub tflops: f64,
    /// Memory in GB, >= 0.
    pub memory_gb: f64,
}

/// A pinned destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    /// This data center (through any of its gateways).
    Datacenter(DatacenterIx),
    /// This router; no compute.
    Router(RouterIx),
}

/// Bounds and exclusions; every field optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constraints {
    /// Path latency bound (links + data center), microseconds.
    pub max_latency_us: Option<u64>,
    /// Sum of link jitter bound, microseconds.
    pub max_jitter_us: Option<u64>,
    /// Sum of link loss bound, parts per million.
    pub max_loss_ppm: Option<u64>,
    /// Every link must have this much available bandwidth, Mbit/s.
    pub min_bandwidth_mbps: Option<u64>,
    /// Only routers of these operators (sorted, deduplicated); `None` = all.
    pub operators: Option<Vec<OperatorIx>>,
    /// Routers not to use.
    pub avoid_routers: Vec<RouterIx>,
    /// Links not to use.
    pub avoid_links: Vec<LinkIx>,
}

/// Whether the segment list may use compressed SIDs (RFC 9800 NEXT-C-SID).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Micro-SIDs wherever the routers of the list take them, when the
    /// headend's operator declares a block; full SIDs elsewhere.
    #[default]
    Auto,
    /// Full SIDs only.
    Off,
    /// As `Auto`, but the headend must support compression (else the
    /// request is refused).
    NextCsid,
}

/// A path query: from a headend, for compute and/or to a destination.
#[derive(Clone, Debug, PartialEq)]
pub struct PathRequest {
    /// The headend router.
    pub from: RouterIx,
    /// Compute the job needs; `None` when only a path is asked for.
    pub compute: Option<ComputeDemand>,
    /// A pinned destination; `None` = any data center with a fitting pool.
    pub to: Option<Destination>,
    /// Data residency.
    pub residency: Residency,
    /// Bounds and exclusions.
    pub constraints: Constraints,
    /// Backup path.
    pub protection: Protection,
    /// Standby data center.
    pub standby: Standby,
    /// What to minimize.
    pub objective: Objective,
    /// Compressed SIDs or not.
    pub compression: Compression,
}

impl PathRequest {
    /// A plain request: from `from`, for `compute`, everything else default.
    pub fn new(from: RouterIx, compute: Option<ComputeDemand>, to: Option<Destination>) -> Self {
        PathRequest {
            from,
            compute,
            to,
            residency: Residency::Any,
            constraints: Constraints::default(),
            protection: Protection::None,
            standby: Standby::None,
            objective: Objective::Latency,
            compression: Compression::Auto,
        }
    }
}
