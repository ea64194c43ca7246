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
    /// Compute held for standbys (kept by the controller), by the data
    /// center of the primaries they cover. Standbys of primaries in
    /// different data centers share it: one data center is lost at a time,
    /// so the pool keeps free only the largest of these (see
    /// [`Pool::standby_peak`]).
    pub standby: BTreeMap<DatacenterIx, Held>,
}

/// Compute and memory held.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Held {
    /// TFLOPS.
    pub tflops: f64,
    /// Memory, GB.
    pub memory_gb: f64,
}

impl Pool {
    /// TFLOPS still free for a new job: capacity - used - reserved - the
    /// standby peak, never negative.
    pub fn available_tflops(&self) -> f64 {
        (self.tflops - self.used_tflops - self.reserved_tflops - self.standby_peak().tflops)
            .max(0.0)
    }

    /// Memory still free in GB for a new job: capacity - used - reserved -
    /// the standby peak, never negative.
    pub fn available_memory_gb(&self) -> f64 {
        (self.memory_gb
            - self.used_memory_gb
            - self.reserved_memory_gb
            - self.standby_peak().memory_gb)
            .max(0.0)
    }

    /// What the standbys of the worst single data-center loss would take:
    /// per resource, the largest hold over the covered data centers.
    pub fn standby_peak(&self) -> Held {
        self.standby.values().fold(Held::default(), |m, h| Held {
            tflops: m.tflops.max(h.tflops),
            memory_gb: m.memory_gb.max(h.memory_gb),
        })
    }

    /// What a new standby covering a primary in `primary` may still take:
    /// capacity - used - reserved - what standbys of that same data center
    /// already hold (the standbys of other data centers would not run at the
    /// same time). Never negative.
    pub fn standby_available(&self, primary: DatacenterIx) -> Held {
        let held = self.standby.get(&primary).copied().unwrap_or_default();
        Held {
            tflops: (self.tflops - self.used_tflops - self.reserved_tflops - held.tflops).max(0.0),
            memory_gb: (self.memory_gb
                - self.used_memory_gb
                - self.reserved_memory_gb
                - held.memory_gb)
                .max(0.0),
        }
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
            standby: BTreeMap::new(),
        };
        assert_eq!(pool.available_tflops(), 500.0);
        assert_eq!(pool.available_memory_gb(), 0.0);
        assert_eq!(pool.gflops_per_gb(), 2000.0);
    }

    #[test]
    fn standbys_of_different_data_centers_share_capacity() {
        let held = |tflops| Held {
            tflops,
            memory_gb: 0.0,
        };
        let (a, b) = (DatacenterIx(0), DatacenterIx(1));
        let pool = Pool {
            kind: PoolKind::Ai,
            tflops: 1000.0,
            used_tflops: 100.0,
            reserved_tflops: 100.0,
            memory_gb: 100.0,
            used_memory_gb: 0.0,
            reserved_memory_gb: 0.0,
            price: 1.0,
            health: PoolHealth::Up,
            queue_wait_s: None,
            standby: BTreeMap::from([(a, held(500.0)), (b, held(300.0))]),
        };
        // New primaries see only the worst single loss (a: 500) held.
        assert_eq!(pool.standby_peak().tflops, 500.0);
        assert_eq!(pool.available_tflops(), 300.0);
        // A standby for b's primaries shares a's 500: 800 - 300.
        assert_eq!(pool.standby_available(b).tflops, 500.0);
        assert_eq!(pool.standby_available(a).tflops, 300.0);
        assert_eq!(pool.standby_available(DatacenterIx(2)).tflops, 800.0);
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
