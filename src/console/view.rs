//! The topology as the console reads it: the topology file document (what
//! `cpnctl topology --json` prints, coordinates included), and beside it
//! what the controller derives and keeps out of the file: which routers are
//! down, which links are peering, what installed policies reserve, and
//! what is left.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{LinkKind, Topology};
use crate::topology_file::TopologyDocument;

/// `GET /api/topology`.
#[derive(Debug, Serialize)]
pub struct TopologyView {
    /// The topology in the file format.
    pub topology: TopologyDocument,
    /// What the controller derives and keeps beside it.
    pub derived: Derived,
}

/// The live values that are not part of a topology file.
#[derive(Debug, Default, Serialize)]
pub struct Derived {
    /// Routers that are down (the file has no field for it).
    pub routers_down: Vec<String>,
    /// Per link id.
    pub links: BTreeMap<String, LinkState>,
    /// Per data center id, per pool kind.
    pub pools: BTreeMap<String, BTreeMap<String, PoolState>>,
}

/// A link's derived state.
#[derive(Debug, Serialize)]
pub struct LinkState {
    /// Joins two operators.
    pub peering: bool,
    /// Reserved by installed policies, Mbit/s.
    pub reserved_mbps: u64,
    /// Capacity - used - reserved, Mbit/s.
    pub available_mbps: u64,
}

/// A pool's derived state.
#[derive(Debug, Serialize)]
pub struct PoolState {
    /// Reserved by installed policies, TFLOPS.
    pub reserved_tflops: f64,
    /// Reserved by installed policies, GB.
    pub reserved_memory_gb: f64,
    /// Capacity - used - reserved, TFLOPS.
    pub available_tflops: f64,
    /// Capacity - used - reserved, GB.
    pub available_memory_gb: f64,
}

impl TopologyView {
    /// The view of `t` as it is now.
    pub fn of(t: &Topology) -> TopologyView {
        let mut derived = Derived {
            routers_down: t
                .routers()
                .filter(|(_, r)| !r.up)
                .map(|(_, r)| r.id.to_string())
                .collect(),
            ..Derived::default()
        };
        for (ix, l) in t.links() {
            derived.links.insert(
                l.id.to_string(),
                LinkState {
                    peering: t.link_kind(ix) == LinkKind::Peering,
                    reserved_mbps: l.reserved_mbps,
                    available_mbps: l.available_mbps(),
                },
            );
        }
        for d in t.datacenters() {
            let pools = d
                .pools
                .iter()
                .map(|p| {
                    let state = PoolState {
                        reserved_tflops: p.reserved_tflops,
                        reserved_memory_gb: p.reserved_memory_gb,
                        available_tflops: p.available_tflops(),
                        available_memory_gb: p.available_memory_gb(),
                    };
                    (p.kind.to_string(), state)
                })
                .collect();
            derived.pools.insert(d.id.to_string(), pools);
        }
        TopologyView {
            topology: TopologyDocument::from_topology(t),
            derived,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_with_its_derived_values() {
        let mut t = crate::topology_file::lab();
        let a1 = t.router_ix("a1").unwrap();
        t.set_router_up(a1, false);
        let l = t.link_ix("a4-b1").unwrap();
        t.set_link_reserved(l, 100);
        let v = serde_json::to_value(TopologyView::of(&t)).unwrap();
        assert_eq!(v["topology"]["name"], "lab");
        assert_eq!(v["derived"]["routers_down"], serde_json::json!(["a1"]));
        let link = &v["derived"]["links"]["a4-b1"];
        assert_eq!(link["peering"], true);
        assert_eq!(link["reserved_mbps"], 100);
        assert_eq!(v["derived"]["links"]["a1-a2"]["peering"], false);
        assert!(v["derived"]["pools"]["dc-central"]["ai"]["available_tflops"].is_number());
    }
}
