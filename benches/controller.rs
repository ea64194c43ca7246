//! The controller at scale: 100,000 installed policies on a generated
//! 1,000-router network (durable store, group commits of 256 as `cpnd`
//! does), the memory they take, how long re-optimizing after the failure
//! of the busiest core link takes, and a restart on the same store (every
//! policy read back, re-checked and re-reserved). Prints its figures; run
//! with `cargo bench --bench controller` (`CPN_POLICIES=N` to change the
//! count).

mod support;

use std::time::Instant;

use cpn::controller::{Config, Controller};
use cpn::document::parse_event;
use cpn::store::RedbStore;
use support::{busiest_core_link, network, policy_count, rss_mb, tiny_requests};

fn main() {
    let n = policy_count();
    let t = network().to_builder().unwrap().build().unwrap();
    println!(
        "topology: {} routers, {} links, {} data centers",
        t.router_count(),
        t.link_count(),
        t.datacenters().len()
    );
    let requests = tiny_requests(&t, n);
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
    let busiest = busiest_core_link(&c);
    let event = parse_event(&format!("{{link_down: {}}}", busiest.0)).unwrap();
    let started = Instant::now();
    let changed = c.apply_event(&event).unwrap();
    let applied = started.elapsed().as_secs_f64();
    c.flush().unwrap();
    let took = started.elapsed().as_secs_f64();
    println!(
        "  of which applying the event {applied:.3} s, the commit {:.3} s",
        took - applied
    );
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
        changed.affected.len(),
        took
    );
    // What `cpnd` does once idle: the policies crossing the failed link's
    // operator keep segment lists that still steer right; each is
    // re-encoded in case a shorter one now does.
    let untidy = c.untidy();
    let before = c.stats().reoptimization_seconds;
    let started = Instant::now();
    let shortened = c.settle().unwrap();
    c.flush().unwrap();
    println!(
        "then, idle: {untidy} segment lists re-encoded ({} shorter) in {:.3} s including the commit ({:.3} s re-encoding)",
        shortened.len(),
        started.elapsed().as_secs_f64(),
        c.stats().reoptimization_seconds - before
    );
    let (_, hwm2) = rss_mb();
    println!("peak memory over the run: {hwm2:.0} MB");

    // A restart: the store is opened again and every policy re-checked.
    let names: Vec<(String, u64)> = c.policies().map(|p| (p.name.clone(), p.version)).collect();
    drop(c);
    let started = Instant::now();
    let store = RedbStore::open(dir.path()).unwrap();
    let c = Controller::open(Box::new(store), None, Config::default()).unwrap();
    let took = started.elapsed().as_secs_f64();
    let back: Vec<(String, u64)> = c.policies().map(|p| (p.name.clone(), p.version)).collect();
    assert_eq!(back.len(), names.len(), "every policy is back");
    let same = back == names;
    println!(
        "restart: {} policies read back, re-checked and re-reserved in {took:.1} s ({})",
        back.len(),
        if same {
            "every one at the version it had"
        } else {
            "some changed version on the way back"
        }
    );
    let (rss3, _) = rss_mb();
    println!("memory after the restart: {rss3:.0} MB resident");
}
