//! What the controller-scale benchmarks share: the generated 1,000-router
//! network, tiny-job requests (so that capacity lasts for 100,000), memory
//! readings, and the busiest core link.

#![allow(dead_code)]

use cpn::controller::Controller;
use cpn::document::{ComputeDoc, RequestDoc};
use cpn::model::Topology;
use cpn::topology_file::TopologyDocument;
use cpn::topology_file::generate::{GenerateParams, generate};

/// Resident and peak resident memory of this process, MB.
pub fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Policies to install: `CPN_POLICIES`, 100,000 by default.
pub fn policy_count() -> usize {
    std::env::var("CPN_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// 1,000 routers, 3 operators, 50 data centers, seed 1.
pub fn network() -> TopologyDocument {
    let params = GenerateParams {
        routers: 1000,
        operators: 3,
        datacenters: 50,
        seed: 1,
        links: None,
        compressed: false,
    };
    generate(&params, &mut |_, _| {}).unwrap()
}

/// `n` random requests for tiny jobs (0.01 TFLOPS, 1 Mbit/s reserved).
pub fn tiny_requests(t: &Topology, n: usize) -> Vec<RequestDoc> {
    cpn::cli::bench::random_requests(t, n, 5)
        .iter()
        .map(|r| RequestDoc {
            from: t.router(r.from).id.to_string(),
            compute: r.compute.map(|c| ComputeDoc {
                kind: c.kind,
                tflops: 0.01,
                memory_gb: 0.0,
            }),
            constraints: Some(cpn::document::ConstraintsDoc {
                min_bandwidth_mbps: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect()
}

/// The intra-operator link on the most policies' paths (its failure also
/// moves that operator's IGP), and how many.
pub fn busiest_core_link(c: &Controller) -> (String, usize) {
    let mut count = std::collections::HashMap::new();
    for p in c.policies() {
        if let Some(a) = p.answer() {
            for l in &a.primary.links {
                *count.entry(*l).or_insert(0usize) += 1;
            }
        }
    }
    let t = c.topology();
    let (l, k) = count
        .into_iter()
        .filter(|(l, _)| t.link_kind(*l) == cpn::model::LinkKind::Intra)
        .max_by_key(|(l, k)| (*k, std::cmp::Reverse(*l)))
        .unwrap();
    (t.link(l).id.to_string(), k)
}
