//! What the HA tests (tests/ha.rs) set up and check: feasible requests,
//! concurrent clients, reservations that add up, replayed watch streams,
//! and what a mock headend holds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cpn::proto::v1 as pb;
use cpn::proto::v1::path_service_client::PathServiceClient;
use cpn::proto::v1::router_agent_client::RouterAgentClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;

use super::etcd::lazy;
use super::replicas::{Seen, Writer};

pub const TOPOLOGY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/topologies/china-east-west.yaml"
);
/// Every policy reserves this on each link of its path.
pub const BANDWIDTH: u64 = 10;
/// Concurrent clients.
pub const CLIENTS: usize = 16;

/// Requests the network can place (router to router, with bandwidth).
pub async fn feasible(url: &str, count: usize) -> Vec<pb::PathRequest> {
    let t = cpn::topology_file::load_file(std::path::Path::new(TOPOLOGY)).unwrap();
    let ids: Vec<String> = t.routers().map(|(_, r)| r.id.to_string()).collect();
    let mut c = PathServiceClient::new(lazy(url));
    let mut out = Vec::new();
    for i in 0..ids.len() * 4 {
        let (from, to) = (&ids[i % ids.len()], &ids[(i * 7 + 3) % ids.len()]);
        if from == to {
            continue;
        }
        let yaml =
            format!("{{from: {from}, to: {to}, constraints: {{min_bandwidth_mbps: {BANDWIDTH}}}}}");
        let request =
            cpn::proto::convert::request_to_pb(&cpn::document::parse_request(&yaml).unwrap());
        let r = c
            .compute_path(pb::ComputePathRequest {
                request: Some(request.clone()),
            })
            .await
            .unwrap()
            .into_inner();
        if matches!(
            r.outcome,
            Some(pb::compute_path_response::Outcome::Answer(_))
        ) {
            out.push(request);
        }
        if out.len() == count {
            break;
        }
    }
    assert!(out.len() >= 8, "enough feasible requests: {}", out.len());
    out
}

/// Runs `CLIENTS` clients doing `ops` installs each (every third removed
/// again) against `urls`; returns the names that must remain. `acked`
/// counts acknowledged operations as they happen.
pub fn load(
    urls: &[String],
    requests: &[pb::PathRequest],
    ops: usize,
    prefix: &str,
    acked: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<BTreeSet<String>> {
    let (urls, requests, prefix) = (urls.to_vec(), requests.to_vec(), prefix.to_owned());
    tokio::spawn(async move {
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (urls, requests, prefix, acked) = (
                urls.clone(),
                requests.clone(),
                prefix.clone(),
                acked.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut w = Writer::new(&urls, c);
                let mut kept = BTreeSet::new();
                for i in 0..ops {
                    let name = format!("{prefix}c{c}-{i}");
                    w.install(&name, &requests[(c * ops + i) % requests.len()])
                        .await;
                    acked.fetch_add(1, Ordering::SeqCst);
                    if i % 3 == 0 {
                        w.remove(&name).await;
                        acked.fetch_add(1, Ordering::SeqCst);
                    } else {
                        kept.insert(name);
                    }
                }
                kept
            }));
        }
        let mut all = BTreeSet::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    })
}

/// Reservations add up on the replica at `url`: what links lost to
/// reservations is what the policies' paths reserve.
pub async fn check_reservations(url: &str, policies: &[pb::Policy]) {
    let t = TopologyServiceClient::new(lazy(url))
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap();
    let mut reserved: BTreeMap<String, u64> = BTreeMap::new();
    for l in &t.links {
        let r = l.bandwidth_mbps - l.used_mbps.min(l.bandwidth_mbps) - l.available_mbps;
        if r > 0 {
            reserved.insert(l.id.clone(), r);
        }
    }
    let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
    for p in policies {
        let primary = p.answer.as_ref().and_then(|a| a.primary.as_ref()).unwrap();
        for l in &primary.links {
            *wanted.entry(l.clone()).or_default() += BANDWIDTH;
        }
    }
    assert_eq!(
        reserved, wanted,
        "link reservations at {url} are the policies'"
    );
}

/// The final state by replaying watched changes: names whose last change
/// is not a removal; and the sequences must run 1, 2, 3, ... with no gap.
pub fn replay(changes: &[Seen]) -> BTreeSet<String> {
    let sequences: Vec<u64> = changes.iter().map(|c| c.0).collect();
    let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
    assert_eq!(
        sequences, expected,
        "the watched sequences run without gap or repeat"
    );
    let mut last: BTreeMap<&str, i32> = BTreeMap::new();
    for (_, kind, name) in changes {
        last.insert(name, *kind);
    }
    last.into_iter()
        .filter(|(_, k)| *k != pb::ChangeKind::Removed as i32)
        .map(|(n, _)| n.to_owned())
        .collect()
}

pub fn urls_of(replicas: &[Option<super::daemon::Daemon>]) -> Vec<String> {
    replicas
        .iter()
        .map(|d| format!("http://{}", d.as_ref().unwrap().addr))
        .collect()
}

/// A request as a file for cpnctl.
pub fn dir_request(request: &pb::PathRequest) -> tempfile::NamedTempFile {
    let doc = cpn::proto::convert::request_from_pb(request).unwrap();
    let f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(f.path(), serde_json::to_string(&doc).unwrap()).unwrap();
    f
}

/// What the mock agent's headend `a1` holds, by name.
pub async fn held(agent: &str) -> Result<BTreeSet<String>, tonic::Status> {
    let mut c = RouterAgentClient::new(lazy(&format!("http://{agent}")));
    let r = c
        .list_state(pb::ListStateRequest {
            router: "a1".into(),
        })
        .await?
        .into_inner();
    Ok(r.policies.into_iter().map(|p| p.name).collect())
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
