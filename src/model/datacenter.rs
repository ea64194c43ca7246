//! Data centers and their compute pools: the compute half of the model.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ipnetwork::Ipv6Network;

use super::geo::Coordinates;
use super::ids::DatacenterId;
use super::liveness::{PoolHealth, Reporter};
use super::topology::RouterIx;

/// Index of a data center inside a [`Topology`](super::Topology) (sorted by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DatacenterIx(pub u32);

/// The kind of compute a pool offers.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PoolKind {
    /// AI accelerators (GPU/NPU).
    Ai,
    /// High-performance computing.
    Hpc,
    /// General-purpose CPU.
    General,
}

impl PoolKind {
    /// Every kind, in order.
    pub const ALL: [PoolKind; 3] = [PoolKind::Ai, PoolKind::Hpc, PoolKind::General];

    /// The name used in files and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolKind::Ai => "ai",
            PoolKind::Hpc => "hpc",
            PoolKind::General => "general",
        }
    }
}

impl fmt::Display for PoolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PoolKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PoolKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown pool kind `{s}`, expected one of: ai, hpc, general"))
    }
}

/// A pool of compute of one kind in a data center.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// What kind of compute this is.
    pub kind: PoolKind,
    /// Capacity in TFLOPS, > 0.
    pub tflops: f64,
    /// TFLOPS used by work the controller does not manage.
    pub used_tflops: f64,
    /// TFLOPS reserved by installed policies (kept by the controller).
    pub reserved_tflops: f64,
    /// Memory capacity in GB, > 0.
    pub memory_gb: f64,
    /// Memory used by work the controller does not manage, in GB.
    pub used_memory_gb: f64,
    /// Memory reserved by installed policies, in GB.
    pub reserved_memory_gb: f64,
    /// Price per TFLOPS-hour.
    pub price: f64,
    /// Health, as the data center reports it (up when it never did).
    pub health: PoolHealth,
    /// How long a job waits in the pool's queue before it starts, seconds,
    /// as reported; shown, not used to place.
    pub queue_wait_s: Option<f64>,
}

impl Pool {
    /// TFLOPS still free: capacity - used - reserved, never negative.
    pub fn available_tflops(&self) -> f64 {
        (self.tflops - self.used_tflops - self.reserved_tflops).max(0.0)
    }

    /// Memory still free in GB: capacity - used - reserved, never negative.
    pub fn available_memory_gb(&self) -> f64 {
        (self.memory_gb - self.used_memory_gb - self.reserved_memory_gb).max(0.0)
    }

    /// Compute-to-memory ratio in GFLOPS per GB of memory.
    pub fn gflops_per_gb(&self) -> f64 {
        self.tflops * 1000.0 / self.memory_gb
    }
}

/// A data center hanging off one or more gateway routers.
#[derive(Clone, Debug, PartialEq)]
pub struct Datacenter {
    /// Unique id (shared namespace with routers).
    pub id: DatacenterId,
    /// Gateway routers, sorted by router id.
    pub attach: Vec<RouterIx>,
    /// City, for residency constraints.
    pub city: Option<String>,
    /// Region, for residency constraints.
    pub region: Option<String>,
    /// Where it is, for maps; `None` when the topology does not say.
    pub coordinates: Option<Coordinates>,
    /// Gateway-to-servers latency in microseconds, added to paths ending here.
    pub latency_us: u64,
    /// Storage capacity by medium, in TB.
    pub storage_tb: BTreeMap<String, f64>,
    /// Compute pools, sorted by kind, at most one per kind.
    pub pools: Vec<Pool>,
    /// The prefix behind the data center that policies steer into (traffic
    /// to it is encapsulated at the headend): declared in the topology, or
    /// [`derived_prefix`](super::derived_prefix) of the id. Stable: adding or removing another data
    /// center never moves it.
    pub prefix: Ipv6Network,
    /// Its reporter, once it has reported (see [`Reporter`]).
    pub reporter: Option<Reporter>,
}

impl Datacenter {
    /// Whether it takes jobs now: not when its reporter is lost.
    pub fn takes_jobs(&self) -> bool {
        Reporter::takes_jobs(self.reporter.as_ref())
    }

    /// The pool of the given kind, if this data center has one.
    pub fn pool(&self, kind: PoolKind) -> Option<&Pool> {
        self.pools.iter().find(|p| p.kind == kind)
    }

    /// The pool of the given kind, mutable.
    pub fn pool_mut(&mut self, kind: PoolKind) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_availability_and_ratio_are_derived() {
        let pool = Pool {
            kind: PoolKind::Ai,
            tflops: 1000.0,
            used_tflops: 200.0,
            reserved_tflops: 300.0,
            memory_gb: 500.0,
            used_memory_gb: 100.0,
            reserved_memory_gb: 450.0,
            price: 1.0,
            health: PoolHealth::Up,
            queue_wait_s: None,
        };
        assert_eq!(pool.available_tflops(), 500.0);
        assert_eq!(pool.available_memory_gb(), 0.0);
        assert_eq!(pool.gflops_per_gb(), 2000.0);
    }

    #[test]
    fn pool_kinds_parse_and_print() {
        for kind in PoolKind::ALL {
            assert_eq!(kind.as_str().parse::<PoolKind>(), Ok(kind));
        }
        assert!(
            "gpu"
                .parse::<PoolKind>()
                .unwrap_err()
                .contains("ai, hpc, general")
        );
    }
}
