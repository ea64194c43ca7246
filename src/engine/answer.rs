//! What the engine answers: the chosen placement and path, its SRv6 segment
//! list, metrics, the backup, and why every other data center lost.

use std::net::Ipv6Addr;

use crate::model::{Behavior, DatacenterIx, LinkIx, PoolKind, RouterIx};

/// One SID of a segment list, with its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The SID.
    pub sid: Ipv6Addr,
    /// Its endpoint behavior.
    pub behavior: Behavior,
    /// The router that owns it.
    pub router: RouterIx,
    /// For End.X: the link crossed.
    pub link: Option<LinkIx>,
    /// For End.DT6: the data center.
    pub datacenter: Option<DatacenterIx>,
    /// In a compressed list: the index of the SRH entry (container or full
    /// SID) that carries this segment; `None` in an uncompressed list.
    pub container: Option<usize>,
}

/// The true sums along a path (in JSON as the answer's `metrics`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Links' latency plus the data center's, microseconds.
    pub latency_us: u64,
    /// Sum of IGP metrics.
    pub igp: u64,
    /// Sum of TE metrics.
    pub te: u64,
    /// Sum of jitter, microseconds.
    pub jitter_us: u64,
    /// Sum of loss, parts per million.
    pub loss_ppm: u64,
    /// The smallest available bandwidth along the path; `None` for a path
    /// without links.
    pub min_available_mbps: Option<u64>,
    /// Pool price x TFLOPS requested (0 without compute).
    pub price: f64,
}

/// One path to a destination, encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// The data center, when the destination is one.
    pub datacenter: Option<DatacenterIx>,
    /// The pool used, when compute was asked for.
    pub pool: Option<PoolKind>,
    /// The router where the path ends.
    pub endpoint: RouterIx,
    /// Routers from the headend to the endpoint.
    pub path: Vec<RouterIx>,
    /// Links between them.
    pub links: Vec<LinkIx>,
    /// The SRv6 segment list that steers a packet onto exactly `path`.
    pub segments: Vec<Segment>,
    /// With compression: what the headend puts in the packet, in order
    /// (NEXT-C-SID containers and full SIDs); `None`: `segments` as they are.
    pub containers: Option<Vec<Ipv6Addr>>,
    /// True sums.
    pub metrics: Metrics,
}

impl Placement {
    /// How many SRH entries the headend pushes: what its MSD counts.
    pub fn sid_depth(&self) -> usize {
        self.containers
            .as_ref()
            .map_or(self.segments.len(), Vec::len)
    }
}

/// Why a data center was not chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// The data center.
    pub datacenter: DatacenterIx,
    /// True when it could have taken the job, only worse.
    pub feasible: bool,
    /// The first violated requirement, or its best value beside the chosen one.
    pub reason: String,
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PathAnswer {
    /// The headend.
    pub headend: RouterIx,
    /// The chosen placement.
    pub primary: Placement,
    /// A disjoint backup to the same destination, when protection asked for one.
    pub backup: Option<Placement>,
    /// The standby data center, when the request asks for one.
    pub standby: Option<StandbyAnswer>,
    /// Every other data center, once each, in id order.
    pub rejected: Vec<Rejection>,
    /// Things the operator should know (MSD forced a worse path, no backup, ...).
    pub notes: Vec<String>,
}

/// The standby part of an answer (when the request asks for one).
#[derive(Clone, Debug, PartialEq)]
pub struct StandbyAnswer {
    /// The standby data center and its path; `None` when no data center
    /// can be the standby of the primary (a note says so).
    pub placement: Option<Placement>,
    /// Every data center but the primary's and the standby's, in id order,
    /// with why it is not the standby.
    pub rejected: Vec<Rejection>,
}

/// Nothing feasible: the reason in one line, and every data center's reason.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct NoPlacement {
    /// One line, starting with "no feasible".
    pub message: String,
    /// Every data center, in id order.
    pub rejected: Vec<Rejection>,
}
