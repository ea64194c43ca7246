//! What data centers report, applied by the controller: figures, health,
//! silence, and the jobs that move with them.

use super::*;
use crate::document::{parse_event, parse_request};
use crate::model::{PoolHealth, PoolKind, ReporterState};
use crate::store::MemoryStore;

/// h reaches dc (near, on d) and far (on y, 900 us away).
const TWO_DCS: &str = "
version: 1
name: two-dcs
operators: [{id: op}]
routers:
  - {id: h, operator: op, locator: 'fc00:1::/32'}
  - {id: y, operator: op, locator: 'fc00:3::/32'}
  - {id: d, operator: op, locator: 'fc00:4::/32'}
links:
  - {a: h, b: d, igp: 10, latency_us: 100, bandwidth_mbps: 1000}
  - {a: h, b: y, igp: 10, latency_us: 150, bandwidth_mbps: 1000}
datacenters:
  - {id: dc, attach: [d], pools: [{kind: ai, tflops: 100, memory_gb: 100}]}
  - {id: far, attach: [y], latency_us: 900, pools: [{kind: ai, tflops: 100, memory_gb: 100}]}
";

fn controller() -> Controller {
    let t = crate::topology_file::parse_str(TWO_DCS, "two-dcs.yaml").unwrap();
    let mut c =
        Controller::open(Box::new(MemoryStore::default()), Some(t), Config::default()).unwrap();
    c.install(
        "job",
        parse_request("{from: h, compute: {kind: ai, tflops: 30}}").unwrap(),
    )
    .unwrap();
    c
}

fn apply(c: &mut Controller, yaml: &str) -> Result<Vec<String>, ControllerError> {
    c.apply_event(&parse_event(yaml).unwrap())
        .map(|o| o.affected)
}

fn placed_in(c: &Controller) -> Option<String> {
    c.policy_json("job").unwrap().datacenter
}

fn pool(c: &Controller, dc: &str) -> crate::model::Pool {
    let t = c.topology();
    t.datacenter(t.datacenter_ix(dc).unwrap())
        .pool(PoolKind::Ai)
        .unwrap()
        .clone()
}

#[test]
fn a_report_sets_what_the_scheduler_sees_free_and_the_reporter_goes_live() {
    let mut c = controller();
    assert_eq!(placed_in(&c).as_deref(), Some("dc"));
    // The scheduler sees 50 of 120 free; the job's 30 run there.
    apply(
        &mut c,
        "{report_pool: {datacenter: dc, kind: ai, tflops: 120, free_tflops: 50, price: 3, interval_s: 5}}",
    )
    .unwrap();
    let p = pool(&c, "dc");
    assert_eq!(
        (p.tflops, p.used_tflops, p.reserved_tflops),
        (120.0, 40.0, 30.0)
    );
    assert_eq!(
        p.available_tflops(),
        50.0,
        "what the scheduler reports free"
    );
    assert_eq!(p.price, 3.0);
    let t = c.topology();
    let reporter = t
        .datacenter(t.datacenter_ix("dc").unwrap())
        .reporter
        .unwrap();
    assert_eq!(
        (reporter.interval_s, reporter.state),
        (5, ReporterState::Live)
    );
    // Bad figures change nothing and name the field.
    let e = apply(
        &mut c,
        "{report_pool: {datacenter: dc, kind: ai, free_tflops: 500}}",
    )
    .unwrap_err();
    assert!(e.to_string().contains("report_pool.free_tflops"), "{e}");
    let e = apply(&mut c, "{report_pool: {datacenter: nope, kind: ai}}").unwrap_err();
    assert!(e.to_string().contains("unknown data center `nope`"), "{e}");
    let e = apply(&mut c, "{report_pool: {datacenter: dc, kind: hpc}}").unwrap_err();
    assert!(e.to_string().contains("has no hpc pool"), "{e}");
    assert_eq!(pool(&c, "dc").tflops, 120.0);
}

#[test]
fn a_pool_reported_down_moves_its_jobs_and_takes_none() {
    let mut c = controller();
    let moved = apply(
        &mut c,
        "{report_pool: {datacenter: dc, kind: ai, health: down}}",
    )
    .unwrap();
    assert_eq!(moved, ["job"]);
    assert_eq!(placed_in(&c).as_deref(), Some("far"));
    assert_eq!(pool(&c, "dc").health, PoolHealth::Down);
    assert_eq!(pool(&c, "dc").reserved_tflops, 0.0);
    let answer = c
        .query(&parse_request("{from: h, compute: {kind: ai, tflops: 1}}").unwrap())
        .unwrap();
    let why = answer
        .rejected
        .iter()
        .find(|r| r.datacenter == c.topology().datacenter_ix("dc").unwrap())
        .map(|r| r.reason.clone())
        .unwrap();
    assert!(why.contains("ai pool is down"), "{why}");
    // Degraded takes jobs again; the job that moved stays where it holds
    // (a pool coming back re-checks the jobs waiting, not the placed ones).
    apply(
        &mut c,
        "{report_pool: {datacenter: dc, kind: ai, health: degraded}}",
    )
    .unwrap();
    assert_eq!(placed_in(&c).as_deref(), Some("far"));
    let answer = c
        .query(&parse_request("{from: h, compute: {kind: ai, tflops: 1}}").unwrap())
        .unwrap();
    assert_eq!(answer.primary.datacenter, c.topology().datacenter_ix("dc"));
}

#[test]
fn a_stale_reporter_moves_nothing_and_a_lost_one_moves_everything() {
    let mut c = controller();
    // Silence from a data center that never reported is refused.
    let e = apply(&mut c, "{reporter_silent: {datacenter: dc, state: stale}}").unwrap_err();
    assert!(e.to_string().contains("never reported"), "{e}");
    apply(&mut c, "{report_pool: {datacenter: dc, kind: ai}}").unwrap();
    assert!(
        apply(&mut c, "{reporter_silent: {datacenter: dc, state: stale}}")
            .unwrap()
            .is_empty()
    );
    assert_eq!(placed_in(&c).as_deref(), Some("dc"));
    assert_eq!(
        apply(&mut c, "{reporter_silent: {datacenter: dc, state: lost}}").unwrap(),
        ["job"]
    );
    assert_eq!(placed_in(&c).as_deref(), Some("far"));
    // The exported topology says so, and loads back the same.
    let doc = crate::topology_file::to_yaml(c.topology());
    assert!(doc.contains("state: lost"), "{doc}");
    // A report brings it back.
    apply(&mut c, "{report_pool: {datacenter: dc, kind: ai}}").unwrap();
    let t = c.topology();
    assert!(t.datacenter(t.datacenter_ix("dc").unwrap()).takes_jobs());
}
