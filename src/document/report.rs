//! What a data center says about its pools, as events: `report_pool` (one
//! pool's figures and health, from the data center's reporter) and
//! `reporter_silent` (the controller's own note that a reporter stopped
//! talking). Unset fields stay as they are.

use serde::{Deserialize, Serialize};

use crate::model::{PoolHealth, PoolKind, ReporterState};

/// The interval a reporter is held to when it declares none, seconds.
pub const DEFAULT_REPORT_INTERVAL_S: u32 = 30;

/// `report_pool: {datacenter, kind, ...}`: a pool as its data center's
/// scheduler sees it now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolReportDoc {
    /// The data center.
    pub datacenter: String,
    /// The pool kind.
    pub kind: PoolKind,
    /// Capacity, TFLOPS (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tflops: Option<f64>,
    /// TFLOPS free as the scheduler sees it (the controller's own jobs
    /// count as running there): 0 to capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_tflops: Option<f64>,
    /// Memory free, GB, likewise: 0 to the pool's memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_memory_gb: Option<f64>,
    /// Price per TFLOPS-hour (>= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// up, degraded or down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<PoolHealth>,
    /// How long a job waits before it starts, seconds (>= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait_s: Option<f64>,
    /// How often the reporter promises to report, seconds (> 0); kept from
    /// its last report when unset, [`DEFAULT_REPORT_INTERVAL_S`] at first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u32>,
}

impl PoolReportDoc {
    /// A report that says nothing yet but which pool it is about.
    pub fn new(datacenter: impl Into<String>, kind: PoolKind) -> Self {
        PoolReportDoc {
            datacenter: datacenter.into(),
            kind,
            tflops: None,
            free_tflops: None,
            free_memory_gb: None,
            price: None,
            health: None,
            queue_wait_s: None,
            interval_s: None,
        }
    }
}

/// `reporter_silent: {datacenter, state}`: a reporter went quiet for
/// longer than its interval (`stale`) or than the grace period too
/// (`lost`: the data center is treated as down).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterSilentDoc {
    /// The data center.
    pub datacenter: String,
    /// `stale` or `lost` (a reporter becomes `live` by reporting).
    pub state: ReporterState,
}
