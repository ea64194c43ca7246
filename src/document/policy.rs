//! A policy in JSON (shared/spec/cli.md): the path answer of path-query.md
//! plus `name`, `state`, `reason` and `southbound` (with its detail), the
//! version and the request it was installed with.

use serde::{Deserialize, Serialize};

use super::answer::{MetricsJson, PlacementJson, RejectionJson, SegmentJson};
use super::request::RequestDoc;

/// One policy. For a policy that is down, the answer fields are null or empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyJson {
    /// Unique name.
    pub name: String,
    /// "up" or "down".
    pub state: String,
    /// Why it is down; null when up.
    pub reason: Option<String>,
    /// "applied", "pending", "failed" or "disabled" (the controller pushes
    /// nothing).
    pub southbound: String,
    /// What is pending, or the last southbound error; null when applied.
    pub southbound_detail: Option<String>,
    /// Bumped on every change of placement or segment list.
    pub version: u64,
    /// Headend router.
    pub headend: String,
    /// Data center; null for a router destination or when down.
    pub datacenter: Option<String>,
    /// Pool kind; null for a router destination or when down.
    pub pool: Option<String>,
    /// Last router; null when down.
    pub endpoint: Option<String>,
    /// Routers; empty when down.
    pub path: Vec<String>,
    /// Links; empty when down.
    pub links: Vec<String>,
    /// Segment list; empty when down.
    pub segments: Vec<SegmentJson>,
    /// Metrics; null when down.
    pub metrics: Option<MetricsJson>,
    /// Backup; null without protection or when down.
    pub backup: Option<PlacementJson>,
    /// Every other data center at the last placement.
    pub rejected: Vec<RejectionJson>,
    /// Notes of the last placement; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The request it was installed with.
    pub request: RequestDoc,
}
