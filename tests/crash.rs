//! Nothing acknowledged is ever lost: `cpnd` is SIGKILLed in the middle of
//! a stream of installs and removals from concurrent clients, restarted on
//! the same data directory, and every acknowledged operation must be there
//! and nothing else (an operation cut off by the kill may have happened or
//! not). Three rounds on the same directory.
//!
//! (The same for the agent: tests/southbound.rs SIGKILLs a lossy agent
//! during pushes, and reconciliation heals it.)

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::daemon::{self, Daemon};
use common::wait::eventually;
use cpn::document::parse_request;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use tokio::sync::Mutex;
use tonic::transport::Channel;

/// What a name must be after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// Its install was acknowledged last.
    Present,
    /// Its removal was acknowledged last.
    Absent,
    /// An operation on it was cut off: either.
    Either,
}

fn cpnd(data: &str) -> Daemon {
    let lab = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml");
    daemon::spawn(
        env!("CARGO_BIN_EXE_cpnd"),
        &[
            "--topology",
            lab,
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--no-southbound",
        ],
        "serving gRPC",
    )
}

async fn client(addr: &str) -> PolicyServiceClient<Channel> {
    PolicyServiceClient::new(
        Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    )
}

const HEADENDS: [&str; 5] = ["a1", "a2", "a3", "b1", "b2"];

/// Installs and removes until the server goes away; records what was
/// acknowledged. Client `c` owns names `cC-N`.
async fn churn(
    addr: String,
    c: usize,
    round: usize,
    book: Arc<Mutex<BTreeMap<String, Known>>>,
    acked: Arc<AtomicUsize>,
) {
    let mut pol = client(&addr).await;
    let mut mine: Vec<String> = Vec::new();
    for i in 0usize.. {
        // Two installs for each removal.
        let remove = i % 3 == 2 && !mine.is_empty();
        let (name, result) = if remove {
            let name = mine.remove(i % mine.len());
            book.lock().await.insert(name.clone(), Known::Either);
            let r = pol
                .remove_policy(pb::RemovePolicyRequest { name: name.clone() })
                .await
                .map(|_| Known::Absent);
            (name, r)
        } else {
            let name = format!("c{c}-r{round}-{i}");
            let from = HEADENDS[(c + i) % HEADENDS.len()];
            let doc = parse_request(&format!(
                "{{from: {from}, compute: {{kind: general, tflops: 0.01}}}}"
            ))
            .unwrap();
            book.lock().await.insert(name.clone(), Known::Either);
            let r = pol
                .install_policy(pb::InstallPolicyRequest {
                    name: name.clone(),
                    request: Some(convert::request_to_pb(&doc)),
                })
                .await
                .map(|_| Known::Present);
            (name, r)
        };
        match result {
            Ok(k) => {
                book.lock().await.insert(name.clone(), k);
                if k == Known::Present {
                    mine.push(name);
                }
                acked.fetch_add(1, Ordering::SeqCst);
            }
            // Killed: this one stays `Either`.
            Err(_) => return,
        }
    }
}

async fn held(addr: &str) -> Vec<String> {
    let mut v: Vec<String> = client(addr)
        .await
        .list_policies(pb::ListPoliciesRequest {})
        .await
        .unwrap()
        .into_inner()
        .policies
        .into_iter()
        .map(|p| p.name)
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_controller_keeps_every_acknowledged_operation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let book: Arc<Mutex<BTreeMap<String, Known>>> = Arc::default();
    for round in 0..3 {
        let server = cpnd(data);
        // What the last round left is all there, and nothing else; what
        // was cut off is now one or the other.
        let now = held(&server.addr).await;
        settle(&now, &mut *book.lock().await);
        let acked = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..4)
            .map(|c| {
                tokio::spawn(churn(
                    server.addr.clone(),
                    c,
                    round,
                    book.clone(),
                    acked.clone(),
                ))
            })
            .collect();
        // Kill in the middle of the stream: after 150 + 50 * round acks.
        let target = 150 + 50 * round;
        let what = format!("{target} acknowledged operations (the clients stalled?)");
        eventually(&what, Duration::from_secs(60), || async {
            let n = acked.load(Ordering::SeqCst);
            if n >= target {
                Ok(())
            } else {
                Err(format!("{n} acknowledged"))
            }
        })
        .await;
        server.kill();
        for c in clients {
            c.await.unwrap();
        }
        let book = book.lock().await;
        let either = book.values().filter(|k| **k == Known::Either).count();
        assert!(either <= 4, "at most one cut-off operation per client");
    }
    let server = cpnd(data);
    let now = held(&server.addr).await;
    settle(&now, &mut *book.lock().await);
    assert!(
        now.len() > 100,
        "the stream left policies behind: {}",
        now.len()
    );
}

/// Checks `held` against `book`, then takes what was cut off as it turned out.
fn settle(held: &[String], book: &mut BTreeMap<String, Known>) {
    check(held, book);
    for (name, k) in book.iter_mut() {
        if *k == Known::Either {
            *k = if held.binary_search(name).is_ok() {
                Known::Present
            } else {
                Known::Absent
            };
        }
    }
}

/// `held` is what `book` allows: every `Present` there, every `Absent` and
/// every name never tried missing.
fn check(held: &[String], book: &BTreeMap<String, Known>) {
    for (name, k) in book {
        let there = held.binary_search(name).is_ok();
        match k {
            Known::Present => assert!(there, "acknowledged install of {name} lost"),
            Known::Absent => assert!(!there, "acknowledged removal of {name} undone"),
            Known::Either => {}
        }
    }
    for name in held {
        assert!(book.contains_key(name), "{name} was never asked for");
    }
}
