//! Disaster recovery across real processes: `cpnd` pushes to a
//! `cpn-router --mock` agent over gRPC; `cpnctl dc report` says the primary
//! data center's pool is down; the headend's policy switches to the standby
//! data center in one apply (nothing removed in between); it stays there
//! when the data center comes back, and `cpnctl policy failback` brings it
//! home.

mod common;

use std::time::Duration;

use common::cli::{cpnctl_on, json};
use common::daemon;
use common::wait::eventually;
use cpn::proto::v1 as pb;
use cpn::proto::v1::mock_control_client::MockControlClient;
use cpn::proto::v1::router_agent_client::RouterAgentClient;
use tonic::transport::Channel;

/// `cpnctl dc report`: dc-north's AI pool has `health`; taken.
fn report_health(server: &str, health: &str) {
    let args = [
        "dc",
        "report",
        "--datacenter",
        "dc-north",
        "--pool",
        "ai",
        "--health",
        health,
    ];
    let out = cpnctl_on(server, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn channel(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
}

/// The version and last SID of `dr` at headend a1, as the agent holds it.
async fn held(agent: &str) -> Option<(u64, String)> {
    let state = RouterAgentClient::new(channel(agent))
        .list_state(pb::ListStateRequest {
            router: "a1".into(),
        })
        .await
        .ok()?
        .into_inner();
    let p = state.policies.into_iter().find(|p| p.name == "dr")?;
    Some((p.version, p.segments.last()?.sid.clone()))
}

/// What the agent did to `dr`, in order: (router, kind, version).
async fn history(agent: &str) -> Vec<(String, String, u64)> {
    MockControlClient::new(channel(agent))
        .history(pb::MockHistoryRequest {})
        .await
        .unwrap()
        .into_inner()
        .operations
        .into_iter()
        .filter(|o| o.name == "dr")
        .map(|o| (o.router, o.kind, o.version))
        .collect()
}

/// Waits until a1 holds `dr` at `version` ending in `sid`.
async fn wait_held(agent: &str, version: u64, sid: &str) {
    let what = format!("a1 holds dr v{version} ending in {sid}");
    eventually(&what, Duration::from_secs(20), || async {
        match held(agent).await {
            Some((v, s)) if v == version && s == sid => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

fn last_sid(policy: &serde_json::Value) -> String {
    let segments = policy["segments"].as_array().unwrap();
    segments.last().unwrap()["sid"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_fails_over_to_its_standby_and_back_across_real_processes() {
    let agent = daemon::mock_agent();
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("lab.yaml");
    std::fs::write(&topology, common::server::lab_yaml_at(&agent.addr)).unwrap();
    let request = dir.path().join("dr.yaml");
    std::fs::write(
        &request,
        "{from: a1, compute: {kind: ai, tflops: 100}, standby: region}",
    )
    .unwrap();
    let cpnd = daemon::spawn(
        env!("CARGO_BIN_EXE_cpnd"),
        &[
            "--topology",
            topology.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "serving gRPC",
    );
    let server = format!("http://{}", cpnd.addr);
    let show = || json(&cpnctl_on(&server, &["policy", "show", "dr", "--json"]));

    let installed = json(&cpnctl_on(
        &server,
        &[
            "policy",
            "install",
            "dr",
            "--request",
            request.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(installed["datacenter"], "dc-north");
    let standby = installed["standby"]["datacenter"]
        .as_str()
        .expect("a standby in the west")
        .to_owned();
    assert!(["dc-central", "dc-west"].contains(&standby.as_str()));
    wait_held(&agent.addr, 1, &last_sid(&installed)).await;
    let before = history(&agent.addr).await.len();

    // The scheduler says Beijing's AI pool is down.
    report_health(&server, "down");
    let moved = show();
    assert_eq!(moved["datacenter"], standby.as_str(), "on its standby");
    assert_eq!(moved["failed_over_from"], "dc-north");
    assert_eq!(moved["version"], 2);
    // The standby data center's End.DT6 ends the list the headend holds.
    let segments = moved["segments"].as_array().unwrap();
    assert_eq!(segments.last().unwrap()["datacenter"], standby.as_str());
    wait_held(&agent.addr, 2, &last_sid(&moved)).await;
    let ops = history(&agent.addr).await.split_off(before);
    assert_eq!(
        ops,
        [("a1".to_owned(), "apply".to_owned(), 2)],
        "one apply, nothing removed in between"
    );

    // Beijing is back: the job stays on the standby until failed back.
    report_health(&server, "up");
    assert_eq!(show()["datacenter"], standby.as_str());
    let back = json(&cpnctl_on(&server, &["policy", "failback", "dr", "--json"]));
    assert_eq!(back["datacenter"], "dc-north");
    assert!(back.get("failed_over_from").is_none(), "{back:#}");
    wait_held(
        &agent.addr,
        back["version"].as_u64().unwrap(),
        &last_sid(&back),
    )
    .await;
    let again = cpnctl_on(&server, &["policy", "failback", "dr"]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("has not failed over"), "{stderr}");
}
