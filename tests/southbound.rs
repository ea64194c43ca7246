//! Policies reach the routers and stay there: cpnd pushing to in-process mock
//! agents over real gRPC. The mock holds exactly the computed segments; an
//! agent restart heals by itself; a lossy agent still converges; a reroute is
//! make-before-break at the headend; drift is repaired both ways; a router's
//! link report moves the policies.

mod common;

use std::time::Duration;

use common::server::{TestServer, lab_at, start_mock, start_pushing};
use common::wait::eventually;
use cpn::document::{PolicyJson, parse_request};
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::router::mock::Faults;
use cpn::store::MemoryStore;

const AI: &str = "{from: a1, compute: {kind: ai, tflops: 200}}";
const CPU: &str = "{from: a1, compute: {kind: general, tflops: 1}}";
/// Only dc-north (behind a2) is in a1's city.
const IN_CITY: &str = "{from: a1, compute: {kind: general, tflops: 1}, data: {residency: city}}";

async fn install(s: &TestServer, name: &str, yaml: &str) -> PolicyJson {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = pb::InstallPolicyRequest {
        name: name.into(),
        request: Some(convert::request_to_pb(&parse_request(yaml).unwrap())),
        ..Default::default()
    };
    convert::policy_from_pb(
        &c.install_policy(r)
            .await
            .unwrap()
            .into_inner()
            .policy
            .unwrap(),
    )
    .unwrap()
}

async fn list(s: &TestServer) -> Vec<PolicyJson> {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = c
        .list_policies(pb::ListPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner();
    r.policies
        .iter()
        .map(|p| convert::policy_from_pb(p).unwrap())
        .collect()
}

/// Waits (polling, at most 20 s) until every policy is applied at its
/// current version; returns them.
async fn converged(s: &TestServer) -> Vec<PolicyJson> {
    eventually(
        "every policy is applied",
        Duration::from_secs(20),
        || async {
            let now = list(s).await;
            if now.iter().all(|p| p.southbound == "applied") {
                return Ok(now);
            }
            let states: Vec<_> = now
                .iter()
                .map(|p| (&p.name, &p.southbound, &p.southbound_detail))
                .collect();
            Err(format!("{states:?}"))
        },
    )
    .await
}

/// The segments the mock holds for a policy at a1.
fn held(agent: &cpn::router::mock::MockAgent, name: &str) -> Option<(u64, Vec<String>)> {
    agent
        .list("a1")
        .policies
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| (p.version, p.segments.into_iter().map(|s| s.sid).collect()))
}

fn sids(p: &PolicyJson) -> Vec<String> {
    p.segments.iter().map(|s| s.sid.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_holds_exactly_the_computed_segments() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    install(&s, "ai", AI).await;
    install(&s, "cpu", CPU).await;
    let now = converged(&s).await;
    for p in &now {
        assert_eq!(
            held(&mock.agent, &p.name),
            Some((p.version, sids(p))),
            "{}",
            p.name
        );
        assert!(p.southbound_detail.is_none());
    }
    // Every router got its local SIDs.
    let a2 = mock.agent.list("a2");
    assert!(a2.known);
    assert_eq!(
        a2.sids.len(),
        5,
        "End, the data center's End.DT6, its own End.DT6 and two End.X"
    );
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_restart_heals_by_itself() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let addr = mock.addr;
    let s = start_pushing(lab_at(addr), Box::new(MemoryStore::default())).await;
    install(&s, "first", CPU).await;
    converged(&s).await;
    mock.stop().await;
    // The agent is gone: installs still succeed; pushes wait.
    install(&s, "second", AI).await;
    install(&s, "third", CPU).await;
    // A new agent, knowing nothing, on the same address.
    let mock = start_mock(&addr.to_string(), Faults::default()).await;
    let now = converged(&s).await;
    assert_eq!(now.len(), 3);
    for p in &now {
        assert_eq!(
            held(&mock.agent, &p.name),
            Some((p.version, sids(p))),
            "{}",
            p.name
        );
    }
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lossy_agent_still_converges() {
    let faults = Faults {
        fail_rate: 0.3,
        seed: 7,
        ..Faults::default()
    };
    let mock = start_mock("127.0.0.1:0", faults).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    for i in 0..10 {
        install(&s, &format!("job{i}"), CPU).await;
    }
    let now = converged(&s).await;
    for p in &now {
        assert_eq!(
            held(&mock.agent, &p.name),
            Some((p.version, sids(p))),
            "{}",
            p.name
        );
    }
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reroute_is_make_before_break_and_drift_is_repaired() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    install(&s, "job", AI).await;
    converged(&s).await;
    let mut topo = TopologyServiceClient::new(s.channel().await);
    let down = convert::event_to_pb(&cpn::document::parse_event("{link_down: a3-a4}").unwrap());
    topo.apply_event(pb::ApplyEventRequest {
        event: Some(down),
        ..Default::default()
    })
    .await
    .unwrap();
    let now = converged(&s).await;
    assert_eq!(now[0].version, 2);
    assert_eq!(held(&mock.agent, "job"), Some((2, sids(&now[0]))));
    // At the headend: version 1, then version 2, and never a removal between.
    let ops: Vec<(String, u64)> = mock
        .agent
        .history()
        .into_iter()
        .filter(|o| o.name == "job")
        .map(|o| (o.kind, o.version))
        .collect();
    assert_eq!(ops, [("apply".to_owned(), 1), ("apply".to_owned(), 2)]);

    // Drift: a policy CPN does not know appears at a1, and CPN's is tampered
    // with. Reconciliation removes the first and restores the second.
    let stray = pb::ApplyPolicyRequest {
        router: "a1".into(),
        policy: Some(pb::SrPolicy {
            name: "stray".into(),
            version: 1,
            segments: vec![pb::PolicySegment {
                sid: "fc00:a:2::".into(),
                behavior: 1,
                ..Default::default()
            }],
            ..Default::default()
        }),
    };
    mock.agent.apply(stray).unwrap();
    mock.agent
        .remove(pb::RemoveRouterPolicyRequest {
            router: "a1".into(),
            name: "job".into(),
        })
        .unwrap();
    eventually("the drift is repaired", Duration::from_secs(20), || async {
        (held(&mock.agent, "stray").is_none() && held(&mock.agent, "job").is_some()).then_some(())
    })
    .await;
    assert_eq!(held(&mock.agent, "job"), Some((2, sids(&now[0]))));
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_report_from_a_router_moves_the_policies() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    let p = install(&s, "job", AI).await;
    assert_eq!(p.path, ["a1", "a3", "a4", "b1"]);
    converged(&s).await;
    // Wait until a3's worker follows a3's reports (it subscribes when it connects).
    eventually(
        "the report moves the policy",
        Duration::from_secs(20),
        || async {
            mock.agent.inject(pb::RouterReport {
                router: "a3".into(),
                report: Some(pb::router_report::Report::LinkState(pb::LinkStateReport {
                    link: "a3-a4".into(),
                    up: false,
                })),
            });
            let now = list(&s).await;
            if now[0].path == ["a1", "a2", "a4", "b1"] {
                Ok(())
            } else {
                Err(format!("path {:?}", now[0].path))
            }
        },
    )
    .await;
    let now = converged(&s).await;
    assert_eq!(held(&mock.agent, "job").unwrap().1, sids(&now[0]));
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_policy_is_taken_off_its_headend_and_msd_refusals_show() {
    let mock = start_mock(
        "127.0.0.1:0",
        Faults {
            reject_msd: Some(2),
            ..Faults::default()
        },
    )
    .await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    // Three segments: the agent (MSD 2 forced) refuses; the status says why.
    install(&s, "job", AI).await;
    let p = eventually("the push fails", Duration::from_secs(20), || async {
        let p = list(&s).await.remove(0);
        (p.southbound == "failed").then_some(p)
    })
    .await;
    assert!(p.southbound_detail.unwrap().contains("exceed the MSD 2"));
    // Few segments: applied. Then it goes down (a2 fails): removed from a1.
    install(&s, "cpu", IN_CITY).await;
    let mut topo = TopologyServiceClient::new(s.channel().await);
    // One 20 s budget for this wait and the next.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    eventually("cpu is at a1", Duration::from_secs(20), || async {
        held(&mock.agent, "cpu").map(|_| ())
    })
    .await;
    let down = convert::event_to_pb(&cpn::document::parse_event("{router_down: a2}").unwrap());
    topo.apply_event(pb::ApplyEventRequest {
        event: Some(down),
        ..Default::default()
    })
    .await
    .unwrap();
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    let what = "the down policy is taken off its headend";
    eventually(what, left, || async {
        held(&mock.agent, "cpu").is_none().then_some(())
    })
    .await;
    let p = list(&s)
        .await
        .into_iter()
        .find(|p| p.name == "cpu")
        .unwrap();
    assert_eq!(p.state, "down");
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_restart_never_takes_a_policy_off_its_headend() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = || Box::new(cpn::store::RedbStore::open(dir.path()).unwrap());
    let s = start_pushing(lab_at(mock.addr), store()).await;
    let headends = ["a1", "a2", "a3", "b1", "b2"];
    for i in 0..40 {
        let from = headends[i % headends.len()];
        let yaml = format!("{{from: {from}, compute: {{kind: general, tflops: 0.1}}}}");
        install(&s, &format!("job{i}"), &yaml).await;
    }
    let before = converged(&s).await;
    s.stop().await;
    let done = mock.agent.history().len();

    // The same data directory: the controller comes back with every policy,
    // and the agent still holds them all.
    let s = start_pushing(lab_at(mock.addr), store()).await;
    let after = converged(&s).await;
    assert_eq!(after.len(), before.len());
    let since: Vec<_> = mock.agent.history().split_off(done);
    let removals: Vec<_> = since.iter().filter(|o| o.kind == "remove").collect();
    assert!(
        removals.is_empty(),
        "taken off after the restart: {removals:?}"
    );
    for p in &after {
        let headend = &p.path[0];
        let held = mock.agent.list(headend).policies;
        let held = held.iter().find(|h| h.name == p.name);
        assert_eq!(held.map(|h| h.version), Some(p.version), "{}", p.name);
    }
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_topology_provisions_the_new_sids() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    // One 20 s budget for this wait and the next.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    eventually("a1 is provisioned", Duration::from_secs(20), || async {
        // End, its own End.DT6, End.X to a2 and to a3.
        (mock.agent.list("a1").sids.len() == 4).then_some(())
    })
    .await;
    // A new link a1-a4 gives a1 and a4 one more End.X each.
    let yaml = common::server::lab_yaml_at(&mock.addr.to_string()).replacen(
        "links:\n",
        "links:\n  - {a: a1, b: a4, igp: 30, latency_us: 3000, bandwidth_mbps: 10000}\n",
        1,
    );
    let mut topo = TopologyServiceClient::new(s.channel().await);
    topo.replace_topology(pb::ReplaceTopologyRequest { document: yaml })
        .await
        .unwrap();
    let new_link = |sids: &[pb::LocalSid]| sids.iter().any(|x| x.link == "a1-a4");
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    let what = "the new End.X SIDs reach a1 and a4";
    eventually(what, left, || async {
        (new_link(&mock.agent.list("a1").sids) && new_link(&mock.agent.list("a4").sids))
            .then_some(())
    })
    .await;
    assert_eq!(mock.agent.list("a1").sids.len(), 5);
    s.stop().await;
    mock.stop().await;
}

mod processes {
    //! The same with real processes: `cpnd`, `cpn-router --mock
    //! --fail-rate 0.3` (SIGKILLed and restarted on its address) and `cpnctl`.

    use std::process::Command;
    use std::time::Duration;

    use super::common::daemon::{self, Daemon};
    use super::common::server::lab_yaml_at;
    use super::common::wait::eventually;
    use cpn::proto::v1 as pb;
    use cpn::proto::v1::router_agent_client::RouterAgentClient;

    fn router(listen: &str) -> Daemon {
        let args = [
            "--mock",
            "--listen",
            listen,
            "--fail-rate",
            "0.3",
            "--seed",
            "11",
        ];
        daemon::spawn(
            env!("CARGO_BIN_EXE_cpn-router"),
            &args,
            "serving the mock router agent",
        )
    }

    fn cpnctl(server: &str, args: &[&str]) -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
            .args(["--server", server])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Polls `policy list` (at most 30 s) until `done` holds for every policy.
    async fn wait_all(
        server: &str,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        let what = format!("every policy {what}");
        eventually(&what, Duration::from_secs(30), || async {
            let list = cpnctl(server, &["policy", "list", "--json"]);
            let list = list.as_array().unwrap().clone();
            if list.iter().all(&done) {
                Ok(list)
            } else {
                Err(format!("{list:#?}"))
            }
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_lossy_agent_comes_back_and_everything_converges() {
        let agent = router("127.0.0.1:0");
        let dir = tempfile::tempdir().unwrap();
        let topology = dir.path().join("lab.yaml");
        std::fs::write(&topology, lab_yaml_at(&agent.addr)).unwrap();
        let request = dir.path().join("job.yaml");
        std::fs::write(&request, super::CPU).unwrap();
        let cpnd_args = [
            "--listen",
            "127.0.0.1:0",
            "--topology",
            topology.to_str().unwrap(),
            "--reconcile-interval",
            "0.5",
            "--push-timeout-ms",
            "1000",
            "--retry-max-ms",
            "500",
            "--metrics-listen",
            "127.0.0.1:0",
        ];
        let cpnd = daemon::spawn(env!("CARGO_BIN_EXE_cpnd"), &cpnd_args, "serving gRPC");
        let server = format!("http://{}", cpnd.addr);
        let install = |name: &str| {
            cpnctl(
                &server,
                &[
                    "policy",
                    "install",
                    name,
                    "--request",
                    request.to_str().unwrap(),
                    "--json",
                ],
            )
        };
        install("job1");
        wait_all(&server, "applied", |p| p["southbound"] == "applied").await;

        let addr = agent.addr.clone();
        agent.kill();
        install("job2");
        install("job3");
        // cpnd keeps trying, and says so.
        let retrying = |p: &serde_json::Value| {
            p["name"] == "job1"
                || p["southbound_detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("retrying:"))
        };
        wait_all(&server, "retrying", retrying).await;

        // A new agent process on the same address, knowing nothing.
        let agent = router(&addr);
        let policies = wait_all(&server, "applied again", |p| p["southbound"] == "applied").await;
        assert_eq!(policies.len(), 3);
        let client = RouterAgentClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        // The agent fails 30% of calls: ask until it answers.
        let held = eventually("the agent answers", Duration::from_secs(30), || {
            let mut client = client.clone();
            async move {
                let r = pb::ListStateRequest {
                    router: "a1".into(),
                };
                client.list_state(r).await.map(|r| r.into_inner())
            }
        })
        .await;
        assert!(held.known, "a1 was provisioned again");
        for p in &policies {
            let name = p["name"].as_str().unwrap();
            let at_a1 = held
                .policies
                .iter()
                .find(|h| h.name == name)
                .unwrap_or_else(|| panic!("{name} is not at a1"));
            let sids: Vec<&str> = p["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["sid"].as_str().unwrap())
                .collect();
            let held_sids: Vec<&str> = at_a1.segments.iter().map(|s| s.sid.as_str()).collect();
            assert_eq!(held_sids, sids, "{name}");
            assert_eq!(at_a1.version, p["version"].as_u64().unwrap());
        }
        // Operators see the same in the metrics.
        let url = cpnd.logged("serving metrics", "url").unwrap();
        let metrics_addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/metrics");
        let text = Daemon::http_get(metrics_addr, "/metrics");
        assert!(
            text.contains("cpn_policies_southbound{state=\"applied\"} 3"),
            "{text}"
        );
        assert!(text.contains("cpn_policies{state=\"up\"} 3"), "{text}");
        drop(agent);
        cpnd.terminate();
    }
}

/// The compressed lab with every router's agent at `addr`.
fn usid_lab_at(addr: std::net::SocketAddr) -> cpn::model::Topology {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies/lab-usid.yaml"
    ))
    .unwrap();
    let yaml: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("mgmt:") {
                format!("    mgmt: \"{addr}\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    cpn::topology_file::parse_str(&yaml.join("\n"), "lab-usid.yaml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_policy_reaches_the_headend_as_containers_over_micro_sids() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(usid_lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    let p = install(&s, "far", "{from: c1, to: dc-far}").await;
    let containers = p.containers.clone().expect("compressed");
    converged(&s).await;
    let held = mock.agent.list("c1");
    let policy = held.policies.iter().find(|x| x.name == "far").unwrap();
    let entries: Vec<String> = policy.segments.iter().map(|s| s.sid.clone()).collect();
    assert_eq!(entries, containers, "the headend holds the containers");
    assert_eq!(
        policy.encapsulation,
        i32::from(pb::Encapsulation::HEncapsRed)
    );
    let st = policy.segments[0].structure.unwrap();
    assert_eq!(
        (
            st.locator_block_bits,
            st.locator_node_bits,
            st.argument_bits
        ),
        (32, 16, 80),
        "F3216: the active micro-SID as node, the rest as argument"
    );
    // Every router took its micro-SIDs, flavored where the kernel applies it.
    let c2 = mock.agent.list("c2");
    let micro: Vec<(String, i32, Vec<i32>)> = c2
        .sids
        .iter()
        .filter(|s| s.structure.is_some())
        .map(|s| (s.sid.clone(), s.behavior, s.flavors.clone()))
        .collect();
    let next_csid = vec![pb::SidFlavor::NextCsid as i32];
    assert_eq!(
        micro,
        [
            (
                "fc00:0:200::".into(),
                pb::SidBehavior::End as i32,
                next_csid.clone()
            ),
            (
                "fc00:0:e000::".into(),
                pb::SidBehavior::EndDt6 as i32,
                vec![]
            ),
            (
                "fc00:0:e001::".into(),
                pb::SidBehavior::EndX as i32,
                next_csid.clone()
            ),
            (
                "fc00:0:e002::".into(),
                pb::SidBehavior::EndX as i32,
                next_csid.clone()
            ),
            (
                "fc00:0:e003::".into(),
                pb::SidBehavior::EndX as i32,
                next_csid
            ),
        ],
        "uN, own uDT6, a uA per link (c1-c2, c2-c3, c2-hub)"
    );
    s.stop().await;
    mock.stop().await;
}
