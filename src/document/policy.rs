//! A policy in JSON (docs/api.md): the path answer (docs/path-query.md)
//! plus `name`, `state`, `reason` and `southbound` (with its detail), the
//! version, the request it was installed with, the SR policy its headend
//! holds, and its times (RFC 3339).

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
    /// `"next-csid"` when the segment list uses micro-SIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// SRH entries of a compressed list, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<String>>,
    /// Metrics; null when down.
    pub metrics: Option<MetricsJson>,
    /// Backup; null without protection or when down.
    pub backup: Option<PlacementJson>,
    /// Standby data center and its path; absent when the request asks for
    /// none, when none exists, or when down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<PlacementJson>,
    /// Every other data center at the last placement.
    pub rejected: Vec<RejectionJson>,
    /// Notes of the last placement; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The request it was installed with.
    pub request: RequestDoc,
    /// What its headend holds; null when down.
    #[serde(default)]
    pub sr_policy: Option<SrPolicyJson>,
    /// When it was installed (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When its state or placement last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// When it was last checked against the network (RFC 3339).
    #[serde(default)]
    pub checked_at: Option<String>,
    /// The data center it failed over from, while it runs in its former
    /// standby's (until failback); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_over_from: Option<String>,
}

/// The SR policy a headend holds (RFC 9256 terms); its segment list is the
/// policy's `segments`, in the order the packet visits them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrPolicyJson {
    /// The intent: 100 x objective (1 latency, 2 igp, 3 te, 4 price) +
    /// protection (0 none, 1 link, 2 node, 3 srlg).
    pub color: u32,
    /// The End SID of the router where the path ends.
    pub endpoint: String,
    /// The prefix steered into the policy: the data center's, or the site
    /// of the router it is pinned to.
    pub steering_prefix: String,
    /// The binding SID at the headend.
    pub binding_sid: String,
    /// Candidate path preference.
    pub preference: u32,
    /// RFC 9830 distinguisher, fixed for the policy's life.
    pub distinguisher: u32,
}
