//! Standby data centers held by the controller: the standby hold shared
//! across primaries, failover when the primary's data center is lost or
//! its path has no repair, no automatic failback, and `failback`.

use super::*;
use crate::document::{parse_event, parse_request};
use crate::model::PoolKind;
use crate::store::MemoryStore;

/// h reaches near (north, on n), mid (south, on m) and far (south, on f),
/// each over its own link; near also through g (h-g-n, 500 us).
const THREE_REGIONS: &str = "
version: 1
name: three-regions
operators: [{id: op}]
routers:
  - {id: h, operator: op, locator: 'fc00:1::/32'}
  - {id: g, operator: op, locator: 'fc00:2::/32'}
  - {id: n, operator: op, locator: 'fc00:3::/32'}
  - {id: m, operator: op, locator: 'fc00:4::/32'}
  - {id: f, operator: op, locator: 'fc00:5::/32'}
links:
  - {a: h, b: n, igp: 10, latency_us: 100, bandwidth_mbps: 1000}
  - {a: h, b: m, igp: 10, latency_us: 300, bandwidth_mbps: 1000}
  - {a: h, b: f, igp: 10, latency_us: 500, bandwidth_mbps: 1000}
  - {a: g, b: h, igp: 10, latency_us: 100, bandwidth_mbps: 1000}
  - {a: g, b: n, igp: 30, latency_us: 400, bandwidth_mbps: 1000}
datacenters:
  - {id: near, attach: [n], region: north, pools: [{kind: ai, tflops: 100, memory_gb: 100}]}
  - {id: mid, attach: [m], region: south, pools: [{kind: ai, tflops: 50, memory_gb: 100}]}
  - {id: far, attach: [f], region: south, pools: [{kind: ai, tflops: 100, memory_gb: 100}]}
";

fn controller() -> Controller {
    let t = crate::topology_file::parse_str(THREE_REGIONS, "three-regions.yaml").unwrap();
    Controller::open(Box::new(MemoryStore::default()), Some(t), Config::default()).unwrap()
}

fn install(c: &mut Controller, name: &str, from: &str, tflops: u32) {
    let req = format!("{{from: {from}, compute: {{kind: ai, tflops: {tflops}}}, standby: region}}");
    c.install(name, parse_request(&req).unwrap()).unwrap();
}

fn apply(c: &mut Controller, yaml: &str) -> Vec<String> {
    c.apply_event(&parse_event(yaml).unwrap()).unwrap().affected
}

/// (primary data center, standby data center, failed over from).
fn sites(c: &Controller, name: &str) -> (Option<String>, Option<String>, Option<String>) {
    let p = c.policy_json(name).unwrap();
    (
        p.datacenter,
        p.standby.and_then(|s| s.datacenter),
        c.policies[name].failed_over_from.clone(),
    )
}

fn s(x: &str) -> Option<String> {
    Some(x.to_owned())
}

fn standby_held(c: &Controller, dc: &str, covers: &str) -> f64 {
    let t = c.topology();
    let pool = t
        .datacenter(t.datacenter_ix(dc).unwrap())
        .pool(PoolKind::Ai)
        .unwrap();
    pool.standby
        .get(&t.datacenter_ix(covers).unwrap())
        .map_or(0.0, |h| h.tflops)
}

#[test]
fn a_standby_is_held_in_another_region_and_shared_across_primaries() {
    let mut c = controller();
    install(&mut c, "a", "h", 40);
    // near is best; its standby is the best south site: mid.
    assert_eq!(sites(&c, "a"), (s("near"), s("mid"), None));
    assert_eq!(standby_held(&c, "mid", "near"), 40.0);
    // mid has 50: a second job of 40 from near cannot stand by there too
    // (both would run at once if near were lost), so it stands by in far.
    install(&mut c, "b", "h", 40);
    assert_eq!(sites(&c, "b"), (s("near"), s("far"), None));
    // mid's standby hold keeps 40 of its 50 from new primaries.
    let t = c.topology();
    let mid = t.datacenter(t.datacenter_ix("mid").unwrap());
    assert_eq!(mid.pool(PoolKind::Ai).unwrap().available_tflops(), 10.0);
}

#[test]
fn a_lost_data_center_moves_its_jobs_to_their_standby_and_they_stay_until_failback() {
    let mut c = controller();
    install(&mut c, "a", "h", 40);
    let version = c.policies["a"].version;
    let affected = apply(
        &mut c,
        "{report_pool: {datacenter: near, kind: ai, health: down}}",
    );
    assert_eq!(affected, vec!["a".to_owned()]);
    // On its standby now; a new standby in another region than mid's:
    // near, but its pool is down, so none.
    assert_eq!(sites(&c, "a"), (s("mid"), None, s("near")));
    assert_eq!(c.policies["a"].version, version + 1);
    let notes = c.policy_json("a").unwrap().notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("failed over from near to its standby mid")),
        "{notes:?}"
    );
    assert_eq!(
        standby_held(&c, "mid", "near"),
        0.0,
        "the hold became the job"
    );
    // near comes back: the job gets a standby there, but stays in mid
    // (no automatic failback), though near is better.
    apply(
        &mut c,
        "{report_pool: {datacenter: near, kind: ai, health: up}}",
    );
    assert_eq!(sites(&c, "a"), (s("mid"), s("near"), s("near")));
    // Failback when asked: near again, standby mid, and no longer marked.
    c.failback("a").unwrap();
    assert_eq!(sites(&c, "a"), (s("near"), s("mid"), None));
    let again = c.failback("a").unwrap_err();
    assert!(
        matches!(again, ControllerError::FailedPrecondition(_)),
        "{again}"
    );
}

#[test]
fn a_primary_path_without_repair_fails_over_and_one_with_repair_stays() {
    let mut c = controller();
    install(&mut c, "a", "h", 40);
    // The direct path to near goes: repaired through g (500 us, worse
    // than mid's 300: a repair keeps the site, it is not a re-placement).
    apply(&mut c, "{set_link: {id: h-n, up: false}}");
    assert_eq!(sites(&c, "a"), (s("near"), s("mid"), None));
    assert_eq!(c.policy_json("a").unwrap().path, ["h", "g", "n"]);
    // The last path to near goes: no repair there, so its standby.
    apply(&mut c, "{set_link: {id: g-n, up: false}}");
    assert_eq!(sites(&c, "a"), (s("mid"), None, s("near")));
}

#[test]
fn a_pinned_job_fails_over_and_is_not_held_to_the_pin_it_left() {
    let mut c = controller();
    let req = "{from: h, to: near, compute: {kind: ai, tflops: 40}, standby: region}";
    c.install("p", parse_request(req).unwrap()).unwrap();
    assert_eq!(sites(&c, "p"), (s("near"), s("mid"), None));
    apply(
        &mut c,
        "{report_pool: {datacenter: near, kind: ai, health: down}}",
    );
    assert_eq!(sites(&c, "p"), (s("mid"), None, s("near")));
    let version = c.policies["p"].version;
    // A change on its path re-checks it: it holds in mid, unchanged.
    apply(&mut c, "{set_link: {id: h-m, latency_us: 310}}");
    assert_eq!(sites(&c, "p").0, s("mid"));
    assert_eq!(c.policies["p"].version, version);
    // Failback places it under its request as installed: near again.
    apply(
        &mut c,
        "{report_pool: {datacenter: near, kind: ai, health: up}}",
    );
    c.failback("p").unwrap();
    assert_eq!(sites(&c, "p"), (s("near"), s("mid"), None));
}

#[test]
fn a_restart_keeps_the_failover_and_the_standby_holds() {
    let dir = tempfile::tempdir().unwrap();
    let open = |t| {
        let store = crate::store::RedbStore::open(dir.path()).unwrap();
        Controller::open(Box::new(store), t, Config::default()).unwrap()
    };
    // A fourth region, far from everything, for the failed-over job's new
    // standby.
    let four = THREE_REGIONS.replace(
        "datacenters:\n",
        "datacenters:\n  - {id: east, attach: [g], region: east, latency_us: 2000, pools: [{kind: ai, tflops: 100, memory_gb: 100}]}\n",
    );
    {
        let t = crate::topology_file::parse_str(&four, "four-regions.yaml").unwrap();
        let mut c = open(Some(t));
        install(&mut c, "a", "h", 40);
        apply(
            &mut c,
            "{report_pool: {datacenter: near, kind: ai, health: down}}",
        );
        assert_eq!(sites(&c, "a"), (s("mid"), s("east"), s("near")));
        assert_eq!(standby_held(&c, "east", "mid"), 40.0);
    }
    let c = open(None);
    assert_eq!(sites(&c, "a"), (s("mid"), s("east"), s("near")));
    assert_eq!(standby_held(&c, "east", "mid"), 40.0, "the hold, rebuilt");
    assert_eq!(standby_held(&c, "mid", "near"), 0.0, "the old hold is gone");
}
