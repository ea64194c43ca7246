//! The controller at scale: 100,000 installed policies on a generated
//! 1,000-router network (durable store, group commits of 256 as `cpnd`
//! does), the memory they take, and how long re-optimizing after the failure
//! of the busiest core link takes. Prints its figures; run with
//! `cargo bench --bench controller` (`CPN_POLICIES=N` to change the count).

use std::time::Instant;

use cpn::cli::bench::random_requests;
use cpn::controller::{Config, Controller};
use cpn::document::{ComputeDoc, RequestDoc, parse_event};
use cpn::model::Topology;
use cpn::store::RedbStore;
use cpn::topology_file::generate::{GenerateParams, generate};

fn rss_mb() -> (f64, f64) {
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

/// The request as a document with ids, for tiny jobs so that capacity lasts.
fn doc(t: &Topology, r: &cpn::engine::PathRequest) -> RequestDoc {
    RequestDoc {
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
    }
}

fn main() {
    let n: usize = std::env::var("CPN_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let params = GenerateParams {
        routers: 1000,
        operators: 3,
        datacenters: 50,
        seed: 1,
        links: None,
    };
    let document = generate(&params, &mut |_, _| {}).unwrap();
    let t = document.to_builder().unwrap().build().unwrap();
    println!(
        "topology: {} routers, {} links, {} data centers",
        t.router_count(),
        t.link_count(),
        t.datacenters().len()
    );
    let requests: Vec<RequestDoc> = random_requests(&t, n, 5)
        .iter()
        .map(|r| doc(&t, r))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path()).unwrap();
    let (rss0, _) = rss_mb();
    let config = Config {
        change_log: std::env::var("CPN_LOG")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000),
        ..Config::default()
    };
    let mut c = Controller::open(Box::new(store), Some(t), config).unwrap();
    c.defer_commits();

    let started = Instant::now();
    let mut installed = 0;
    for (i, r) in requests.into_iter().enumerate() {
        if c.install(&format!("p{i}"), r).is_ok() {
            installed += 1;
        }
        if i % 256 == 255 {
            c.flush().unwrap();
        }
        drop(c.drain_changes(false));
    }
    c.flush().unwrap();
    let install_s = started.elapsed().as_secs_f64();
    let (rss1, hwm1) = rss_mb();
    println!(
        "installed {installed} of {n} policies in {install_s:.1} s ({:.0} per second, one thread, group commits of 256)",
        installed as f64 / install_s
    );
    println!(
        "memory: {:.0} MB resident after installing ({:.0} MB before), peak {:.0} MB",
        rss1, rss0, hwm1
    );

    // The core link carried by the most policies: inside one operator, so
    // that its failure also moves that operator's IGP (every policy crossing
    // the operator gets its segment list re-checked).
    let busiest = {
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
    };
    let event = parse_event(&format!("{{link_down: {}}}", busiest.0)).unwrap();
    let started = Instant::now();
    let changed = c.apply_event(&event).unwrap();
    c.flush().unwrap();
    let took = started.elapsed().as_secs_f64();
    let counts = c.policy_counts();
    let (up, down) = (counts.up, counts.down);
    println!(
        "  of which re-evaluation {:.3} s",
        c.stats().reoptimization_seconds
    );
    println!(
        "link_down {} (core link on {} policies' paths): {} policies re-evaluated ({} answers reused), {} changed, in {:.3} s including the commit; now {up} up, {down} down",
        busiest.0,
        busiest.1,
        c.stats().reoptimizations,
        c.stats().reused_answers,
        changed.len(),
        took
    );
    let (_, hwm2) = rss_mb();
    println!("peak memory over the run: {hwm2:.0} MB");
}
