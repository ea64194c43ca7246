//! The southbound at scale: 100,000 policies on a generated 1,000-router
//! network, every router's agent a mock router (one in-process mock agent
//! serving all 1,000 virtual routers over real gRPC on loopback). Measures
//! the time from `cpnd`'s start (controller task and southbound spawned with
//! every policy installed) until every policy is `applied`, then the time
//! from a core link failure until every moved policy is applied again.
//!
//! `cargo bench --bench southbound`; `CPN_POLICIES=N` changes the count,
//! `CPN_MOCK_DELAY_MS=D` makes the mock answer every call after D ms.

mod support;

use std::time::{Duration, Instant};

use cpn::controller::actor::{self, ControllerHandle};
use cpn::controller::{Config, Controller, PolicyCounts};
use cpn::document::parse_event;
use cpn::router::mock::{Faults, MockAgent};
use cpn::store::MemoryStore;
use support::{busiest_core_link, network, policy_count, rss_mb, tiny_requests};

async fn counts(h: &ControllerHandle) -> PolicyCounts {
    h.stats().await.unwrap().1
}

/// Polls until every policy is applied; prints progress every second.
async fn until_applied(h: &ControllerHandle, started: Instant) -> f64 {
    let mut said = 0;
    loop {
        let n = counts(h).await;
        let total = n.up + n.down;
        let elapsed = started.elapsed().as_secs_f64();
        if n.applied == total {
            return elapsed;
        }
        if elapsed as u64 > said {
            said = elapsed as u64;
            println!(
                "  {elapsed:>5.1} s: {} applied, {} pending, {} failed",
                n.applied, n.pending, n.failed
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn main() {
    let n = policy_count();
    let delay: u64 = std::env::var("CPN_MOCK_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let faults = Faults {
            delay: Duration::from_millis(delay),
            ..Faults::default()
        };
        let mock = MockAgent::new(faults);
        tokio::spawn(cpn::router::server::serve_mock(
            listener,
            mock.clone(),
            None,
            std::future::pending(),
        ));

        let mut document = network();
        for r in &mut document.routers {
            r.mgmt = Some(addr.clone());
        }
        let ids: Vec<String> = document.routers.iter().map(|r| r.id.clone()).collect();
        let t = document.to_builder().unwrap().build().unwrap();
        println!(
            "topology: {} routers (each with its agent at the mock, {addr}), {} links; mock delay {delay} ms per call",
            t.router_count(),
            t.link_count()
        );
        let requests = tiny_requests(&t, n);
        let store = Box::new(MemoryStore::default());
        let mut c = Controller::open(store, Some(t), Config::default()).unwrap();
        c.defer_commits();
        for (i, r) in requests.into_iter().enumerate() {
            let _ = c.install(&format!("p{i}"), r);
            drop(c.drain_changes(false));
        }
        c.flush().unwrap();
        let busiest = busiest_core_link(&c);
        let before = c.policy_counts();
        println!("installed: {} up, {} down", before.up, before.down);

        let started = Instant::now();
        let (sink, updates) = tokio::sync::mpsc::unbounded_channel();
        let running = actor::spawn(c, Some(sink));
        let handle = running.handle;
        tokio::spawn(cpn::southbound::run(
            updates,
            running.feedback,
            cpn::southbound::Config::default(),
        ));
        let took = until_applied(&handle, started).await;
        let calls = mock.history().len();
        let held: usize = ids.iter().map(|r| mock.list(r).policies.len()).sum();
        println!(
            "start: all {} policies applied in {took:.2} s ({:.0} per second); the mock holds {held} (one per up policy) after {calls} provision/apply calls",
            n,
            n as f64 / took
        );
        assert_eq!(held, before.up, "the mock holds every up policy");

        let event = parse_event(&format!("{{link_down: {}}}", busiest.0)).unwrap();
        let started = Instant::now();
        let changed = handle.event(event, None).await.unwrap().unwrap().affected;
        let took = until_applied(&handle, started).await;
        let calls = mock.history().len() - calls;
        println!(
            "link_down {} (on {} paths): {} policies changed; all applied again {took:.2} s after the event ({calls} calls)",
            busiest.0,
            busiest.1,
            changed.len()
        );
        let (rss, hwm) = rss_mb();
        println!("memory: {rss:.0} MB resident, peak {hwm:.0} MB (controller, southbound and mock)");
    });
}
