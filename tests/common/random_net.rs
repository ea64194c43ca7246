//! Random small networks and requests for the brute-force reference
//! tests (engine_reference.rs).

use std::collections::BTreeMap;

use cpn::engine::{
    ComputeDemand, Constraints, Destination, Objective, PathRequest, Protection, Residency,
};
use cpn::model::{
    CsidBlock, DatacenterDraft, DatacenterIx, LinkDraft, LinkIx, MicroSid, PoolDraft, PoolHealth,
    PoolKind, Reporter, ReporterState, RouterDraft, RouterIx, Topology, TopologyBuilder,
};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A random network of 3 to 8 routers in one or two operators; with
/// `compressed`, operators declare NEXT-C-SID blocks (of varied lengths)
/// and most routers a node micro-SID.
pub fn random_topology(rng: &mut ChaCha8Rng, compressed: bool) -> Topology {
    random_topology_with(rng, compressed, 0..=3)
}

/// [`random_topology`] with a number of data centers drawn from `dcs`.
pub fn random_topology_with(
    rng: &mut ChaCha8Rng,
    compressed: bool,
    dcs: std::ops::RangeInclusive<usize>,
) -> Topology {
    let n = rng.random_range(3..=8usize);
    let ops = rng.random_range(1..=2usize);
    let mut b = TopologyBuilder::new("random");
    b.operator("op-a");
    if ops == 2 {
        b.operator("op-b");
    }
    if compressed {
        for (i, op) in b.operators.iter_mut().enumerate() {
            // F3216 (6 per container), 48/16 (5) or 64/32 (2).
            let (block, lnfl) = [
                (format!("fd0{i}::/32"), 16),
                (format!("fd1{i}::/48"), 16),
                (format!("fd2{i}::/64"), 32),
            ][rng.random_range(0..3)]
            .clone();
            if rng.random_bool(0.85) {
                op.csid = Some(CsidBlock {
                    block: block.parse().unwrap(),
                    lnfl,
                });
            }
        }
    }
    for i in 0..n {
        let op = if ops == 2 && rng.random_bool(0.4) {
            "op-b"
        } else {
            "op-a"
        };
        let mut r = RouterDraft::new(
            &format!("r{i}"),
            op,
            format!("fc00:{:x}::/32", i + 1).parse().unwrap(),
        );
        r.city = Some(["x", "y"][rng.random_range(0..2)].to_owned());
        r.region = Some(["n", "s"][rng.random_range(0..2)].to_owned());
        r.msd = rng.random_range(1..=6);
        let has_block = b
            .operators
            .iter()
            .any(|o| o.id.as_str() == op && o.csid.is_some());
        if has_block && rng.random_bool(0.85) {
            r.usid = Some(MicroSid(0x100 * (i as u32 + 1)));
        }
        b.router(r);
    }
    let m = rng.random_range(n - 1..=(n * (n - 1) / 2).min(12));
    for k in 0..m {
        // A spanning chain first, then random pairs (parallel links allowed).
        let (a, z) = if k < n - 1 {
            (k, k + 1)
        } else {
            let a = rng.random_range(0..n);
            let mut z = rng.random_range(0..n);
            while z == a {
                z = rng.random_range(0..n);
            }
            (a, z)
        };
        let mut l = LinkDraft::new(
            &format!("r{a}"),
            &format!("r{z}"),
            rng.random_range(1..=5),
            rng.random_range(1..=30) * 10,
        );
        l.id = format!("l{k}").into();
        l.te = rng.random_range(1..=5);
        l.bandwidth_mbps = 100;
        l.used_mbps = rng.random_range(0..=100);
        l.jitter_us = rng.random_range(0..=5);
        l.loss_ppm = rng.random_range(0..=3);
        l.srlg = (1..=3).filter(|_| rng.random_bool(0.25)).collect();
        l.up = rng.random_bool(0.92);
        b.link(l);
    }
    let d = rng.random_range(dcs);
    for i in 0..d {
        let mut attach: Vec<String> = vec![format!("r{}", rng.random_range(0..n))];
        if rng.random_bool(0.4) {
            let other = format!("r{}", rng.random_range(0..n));
            if !attach.contains(&other) {
                attach.push(other);
            }
        }
        let mut pools = Vec::new();
        for kind in PoolKind::ALL {
            if kind == PoolKind::Ai || rng.random_bool(0.5) {
                let tflops = f64::from(rng.random_range(10..=100u32));
                pools.push(PoolDraft {
                    kind,
                    tflops,
                    used_tflops: (tflops * f64::from(rng.random_range(0..=5u32)) / 10.0).round(),
                    memory_gb: 200.0,
                    used_memory_gb: f64::from(rng.random_range(0..=150u32)),
                    price: f64::from(rng.random_range(1..=5u32)),
                    health: if rng.random_bool(0.1) {
                        PoolHealth::Down
                    } else {
                        PoolHealth::Up
                    },
                    queue_wait_s: None,
                });
            }
        }
        b.datacenter(DatacenterDraft {
            id: format!("dc{i}").into(),
            attach: attach.iter().map(|a| a.as_str().into()).collect(),
            city: Some(["x", "y"][rng.random_range(0..2)].to_owned()),
            region: Some(["n", "s"][rng.random_range(0..2)].to_owned()),
            lat: None,
            lon: None,
            latency_us: rng.random_range(0..=50),
            storage_tb: BTreeMap::new(),
            pools,
            prefix: None,
            reporter: rng.random_bool(0.08).then_some(Reporter {
                interval_s: 10,
                state: ReporterState::Lost,
            }),
        });
    }
    let mut t = b.build().expect("generated topologies are valid");
    for r in 0..n {
        if rng.random_bool(0.05) {
            t.set_router_up(RouterIx::new(r), false);
        }
    }
    t
}

/// A random request on `t`.
pub fn random_request(rng: &mut ChaCha8Rng, t: &Topology) -> PathRequest {
    let n = t.router_count();
    let from = RouterIx::new(rng.random_range(0..n));
    let dcs = t.datacenters().len();
    let compute = (dcs > 0 && rng.random_bool(0.75)).then(|| ComputeDemand {
        kind: PoolKind::ALL[rng.random_range(0..3)],
        tflops: f64::from(rng.random_range(1..=40u32)),
        memory_gb: if rng.random_bool(0.5) {
            f64::from(rng.random_range(0..=60u32))
        } else {
            0.0
        },
    });
    let to = if compute.is_some() {
        (rng.random_bool(0.2))
            .then(|| Destination::Datacenter(DatacenterIx(rng.random_range(0..dcs) as u32)))
    } else if dcs > 0 && rng.random_bool(0.5) {
        Some(Destination::Datacenter(DatacenterIx(
            rng.random_range(0..dcs) as u32,
        )))
    } else {
        Some(Destination::Router(RouterIx::new(rng.random_range(0..n))))
    };
    let mut objectives = vec![Objective::Latency, Objective::Igp, Objective::Te];
    if compute.is_some() {
        objectives.push(Objective::Price);
    }
    let maybe = |rng: &mut ChaCha8Rng, p: f64, lo: u64, hi: u64| {
        rng.random_bool(p).then(|| rng.random_range(lo..=hi))
    };
    let constraints = Constraints {
        max_latency_us: maybe(rng, 0.35, 50, 600),
        max_jitter_us: maybe(rng, 0.25, 0, 12),
        max_loss_ppm: maybe(rng, 0.2, 0, 6),
        min_bandwidth_mbps: maybe(rng, 0.25, 0, 80),
        operators: rng
            .random_bool(0.1)
            .then(|| vec![t.operator_ix("op-a").unwrap()]),
        avoid_routers: if rng.random_bool(0.15) {
            vec![RouterIx::new(rng.random_range(0..n))]
        } else {
            vec![]
        },
        avoid_links: if rng.random_bool(0.15) {
            vec![LinkIx::new(rng.random_range(0..t.link_count()))]
        } else {
            vec![]
        },
    };
    PathRequest {
        from,
        compute,
        to,
        residency: [
            Residency::Any,
            Residency::Any,
            Residency::Operator,
            Residency::Region,
            Residency::City,
        ][rng.random_range(0..5)],
        constraints,
        protection: [
            Protection::None,
            Protection::None,
            Protection::Link,
            Protection::Node,
            Protection::Srlg,
        ][rng.random_range(0..5)],
        standby: Default::default(),
        objective: objectives[rng.random_range(0..objectives.len())],
        compression: Default::default(),
    }
}
