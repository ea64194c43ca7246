//! Disaster recovery at scale: 10,000 jobs with a standby in another region
//! (`standby: region`) on the generated 1,000-router network, then the data
//! center that runs the most of them loses every pool at once (one batch of
//! `report_pool ... health: down`): how long until every job placed there
//! runs on its standby, committed (durable store, as `cpnd`). Twice: jobs
//! placed where they are best (a share of them in the lost data center),
//! then all 10,000 pinned to one data center that is lost. Prints its
//! figures; run with `cargo bench --bench failover`
//! (`CPN_FAILOVER_POLICIES=N` to change the count).

mod support;

use std::collections::HashMap;
use std::time::Instant;

use cpn::controller::{Config, Controller};
use cpn::document::{EventDoc, RequestDoc, parse_event};
use cpn::engine::Standby;
use cpn::model::Topology;
use cpn::store::RedbStore;
use support::{network, rss_mb, tiny_requests};

fn main() {
    let n: usize = std::env::var("CPN_FAILOVER_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let t = network().to_builder().unwrap().build().unwrap();
    let jobs: Vec<RequestDoc> = tiny_requests(&t, n * 2)
        .into_iter()
        .filter(|r| r.compute.is_some() && r.to.is_none())
        .take(n)
        .map(|mut r| {
            r.standby = Some(Standby::Region);
            r
        })
        .collect();
    println!("-- {n} jobs placed where they are best; the busiest data center is lost");
    round(&t, jobs.clone());
    let pin = t.datacenters()[0].id.to_string();
    println!("-- the same {n} jobs pinned to {pin} (to: {pin}); {pin} is lost");
    let pinned = jobs
        .into_iter()
        .map(|mut r| {
            r.to = Some(pin.clone());
            r
        })
        .collect();
    round(&t, pinned);
}

/// Installs `jobs` on a fresh controller, loses the data center with the
/// most primaries, and prints the figures.
fn round(t: &Topology, jobs: Vec<RequestDoc>) {
    let n = jobs.len();
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path()).unwrap();
    let mut c = Controller::open(Box::new(store), Some(t.clone()), Config::default()).unwrap();
    c.defer_commits();
    let started = Instant::now();
    for (i, r) in jobs.into_iter().enumerate() {
        let _ = c.install(&format!("p{i}"), r);
        if i % 256 == 255 {
            c.flush().unwrap();
        }
        drop(c.drain_changes(false));
    }
    c.flush().unwrap();
    let install_s = started.elapsed().as_secs_f64();
    let with_standby: Vec<(String, String, String)> = c
        .policies_json()
        .into_iter()
        .filter_map(|p| Some((p.name, p.datacenter?, p.standby?.datacenter?)))
        .collect();
    println!(
        "installed {} of {n} jobs with standby: region in {install_s:.1} s ({:.0} per second); {} have a standby",
        c.policies().count(),
        n as f64 / install_s,
        with_standby.len()
    );

    // The data center with the most primaries loses every pool.
    let mut per_dc: HashMap<&str, usize> = HashMap::new();
    for (_, dc, _) in &with_standby {
        *per_dc.entry(dc.as_str()).or_default() += 1;
    }
    let (lost, jobs) = per_dc
        .iter()
        .max_by_key(|(dc, n)| (**n, std::cmp::Reverse(**dc)))
        .map(|(dc, n)| (dc.to_string(), *n))
        .expect("jobs were placed");
    let live = c.topology();
    let dc = live.datacenter(live.datacenter_ix(&lost).unwrap());
    let events: Vec<EventDoc> = dc
        .pools
        .iter()
        .map(|p| {
            parse_event(&format!(
                "{{report_pool: {{datacenter: {lost}, kind: {}, health: down}}}}",
                p.kind
            ))
            .unwrap()
        })
        .collect();
    let before = c.stats().reoptimization_seconds;
    let started = Instant::now();
    let outcome = c.apply_events(&events).unwrap();
    c.flush().unwrap();
    let took = started.elapsed().as_secs_f64();
    let standby_of: HashMap<&str, &str> = with_standby
        .iter()
        .filter(|(_, dc, _)| *dc == lost)
        .map(|(name, _, s)| (name.as_str(), s.as_str()))
        .collect();
    let on_standby = standby_of
        .iter()
        .filter(|(name, s)| {
            c.policy_json(name)
                .is_ok_and(|p| p.datacenter.as_deref() == Some(**s))
        })
        .count();
    println!(
        "{lost} lost ({} pools down in one batch): {jobs} jobs there; {} policies changed, {on_standby} of {jobs} now run on their standby, in {took:.3} s including the commit (re-evaluation {:.3} s)",
        events.len(),
        outcome.affected.len(),
        c.stats().reoptimization_seconds - before
    );
    let (rss, hwm) = rss_mb();
    println!("memory: {rss:.0} MB resident, peak {hwm:.0} MB");
}
