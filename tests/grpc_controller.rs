//! The controller over real gRPC (server on port 0, tonic clients): the
//! topology, online path answers equal to offline ones, the policy lifecycle
//! with reservations, re-optimization after events, restarts on the same data
//! directory, the change stream, and status codes for bad input.

mod common;

use common::server::{TestServer, lab, start};
use cpn::document::{AnswerJson, PolicyJson, answer_json, parse_request, resolve};
use cpn::engine::Engine;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::path_service_client::PathServiceClient;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::store::{MemoryStore, RedbStore};
use tokio_stream::StreamExt;
use tonic::Code;

fn request(yaml: &str) -> pb::PathRequest {
    convert::request_to_pb(&parse_request(yaml).unwrap())
}

async fn install(s: &TestServer, name: &str, yaml: &str) -> Result<PolicyJson, tonic::Status> {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = c
        .install_policy(pb::InstallPolicyRequest {
            name: name.into(),
            request: Some(request(yaml)),
            ..Default::default()
        })
        .await?;
    Ok(convert::policy_from_pb(&r.into_inner().policy.unwrap()).unwrap())
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

async fn event(s: &TestServer, yaml: &str) -> Result<Vec<String>, tonic::Status> {
    let mut c = TopologyServiceClient::new(s.channel().await);
    let e = convert::event_to_pb(&cpn::document::parse_event(yaml).unwrap());
    Ok(c.apply_event(pb::ApplyEventRequest {
        event: Some(e),
        ..Default::default()
    })
    .await?
    .into_inner()
    .affected_policies)
}

const BIG: &str =
    "{from: a1, compute: {kind: ai, tflops: 300}, constraints: {min_bandwidth_mbps: 30000}}";

#[tokio::test]
async fn topology_is_served_with_sids_and_capacity() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let mut c = TopologyServiceClient::new(s.channel().await);
    let t = c
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap();
    assert_eq!(t.name, "lab");
    let ids: Vec<&str> = t.routers.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "a3", "a4", "b1", "b2", "b3"]);
    let a2 = &t.routers[1];
    let sids: Vec<(&str, i32, &str, &str)> = a2
        .sids
        .iter()
        .map(|s| {
            (
                s.sid.as_str(),
                s.behavior,
                s.link.as_str(),
                s.datacenter.as_str(),
            )
        })
        .collect();
    assert_eq!(
        sids,
        [
            ("fc00:a:2::", 1, "", ""),
            ("fc00:a:2:d000::", 18, "", "dc-north"),
            // The router's own End.DT6, into its main table.
            ("fc00:a:2:e000::", 18, "", ""),
            ("fc00:a:2:e001::", 5, "a1-a2", ""),
            ("fc00:a:2:e002::", 5, "a2-a4", ""),
        ]
    );
    assert!(t.links.iter().find(|l| l.id == "a4-b1").unwrap().peering);
    let west = t.datacenters.iter().find(|d| d.id == "dc-west").unwrap();
    assert_eq!(west.pools[0].available_tflops, 3500.0);
    // The export is a topology file that loads back to the same document.
    let yaml = c
        .export_topology(pb::ExportTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .yaml;
    let again = cpn::topology_file::parse_str(&yaml, "export").unwrap();
    assert_eq!(again.router_count(), 7);
    s.stop().await;
}

#[tokio::test]
async fn online_answers_equal_offline_ones() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let mut c = PathServiceClient::new(s.channel().await);
    let t = lab();
    let engine = Engine::new();
    for yaml in [
        "{from: a1, compute: {kind: ai, tflops: 200}}",
        "{from: a1, compute: {kind: ai, tflops: 10}, protection: node}",
        "{from: b3, to: a1, objective: igp}",
        "{from: a2, compute: {kind: general, tflops: 5}, objective: price, data: {residency: region}}",
    ] {
        let offline = answer_json(
            &t,
            &engine
                .query(&t, &resolve(&parse_request(yaml).unwrap(), &t).unwrap())
                .unwrap(),
        );
        let r = c
            .compute_path(pb::ComputePathRequest {
                request: Some(request(yaml)),
            })
            .await
            .unwrap();
        let online: AnswerJson = match r.into_inner().outcome.unwrap() {
            pb::compute_path_response::Outcome::Answer(a) => convert::answer_from_pb(&a),
            other => panic!("{other:?}"),
        };
        assert_eq!(online, offline, "{yaml}");
    }
    let r = c.compute_path(pb::ComputePathRequest {
        request: Some(request("{from: a1, compute: {kind: hpc, tflops: 1e9}}")),
    });
    match r.await.unwrap().into_inner().outcome.unwrap() {
        pb::compute_path_response::Outcome::NoPlacement(e) => {
            assert!(e.error.starts_with("no feasible"));
            assert_eq!(e.rejected.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    s.stop().await;
}

#[tokio::test]
async fn policies_reserve_move_go_down_and_come_back() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let p1 = install(&s, "big1", BIG).await.unwrap();
    assert_eq!(p1.path, ["a1", "a3", "a4", "b1"]);
    // a3-a4 has 40,000 Mbit/s: the second 30,000 reservation must go another way.
    let p2 = install(&s, "big2", BIG).await.unwrap();
    assert_eq!(p2.path, ["a1", "a2", "a4", "b1"]);
    let err = install(&s, "big3", BIG).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().starts_with("no feasible"),
        "{}",
        err.message()
    );
    // A small policy elsewhere that the failure below does not touch.
    let mut small = install(
        &s,
        "north",
        "{from: a1, compute: {kind: general, tflops: 1}}",
    )
    .await
    .unwrap();
    assert_eq!(small.datacenter.as_deref(), Some("dc-north"));
    // The install reply explains the choice; the stored policy keeps only its placement.
    assert_eq!(small.rejected.len(), 2);
    small.rejected.clear();

    // a4-b1 fails: both big policies used it; only they are affected.
    let affected = event(&s, "{link_down: a4-b1}").await.unwrap();
    assert_eq!(affected, ["big1", "big2"]);
    let now = list(&s).await;
    let by = |n: &str| now.iter().find(|p| p.name == n).unwrap().clone();
    assert_eq!(by("big1").path, ["a1", "a3", "a4", "b2"]);
    assert_eq!(by("big1").version, 2);
    assert_eq!(by("big2").state, "down");
    assert!(
        by("big2")
            .reason
            .unwrap()
            .starts_with("link a4-b1 is down; no feasible placement")
    );
    assert_eq!(by("north"), small, "an unaffected policy must not change");

    // The link comes back: the down policy returns by itself.
    let affected = event(&s, "{link_up: a4-b1}").await.unwrap();
    assert_eq!(affected, ["big2"]);
    let back = list(&s)
        .await
        .into_iter()
        .find(|p| p.name == "big2")
        .unwrap();
    assert_eq!(back.state, "up");
    assert_eq!(back.version, 3);

    // Removing gives back the reservation: a new big policy fits again.
    let mut c = PolicyServiceClient::new(s.channel().await);
    c.remove_policy(pb::RemovePolicyRequest {
        name: "big1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let err = c
        .get_policy(pb::GetPolicyRequest {
            name: "big1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    install(&s, "big3", BIG).await.unwrap();
    let names: Vec<String> = list(&s).await.into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["big2", "big3", "north"]);
    s.stop().await;
}

#[tokio::test]
async fn a_restart_on_the_same_data_dir_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(Some(lab()), Box::new(RedbStore::open(dir.path()).unwrap())).await;
    install(&s, "big1", BIG).await.unwrap();
    install(&s, "big2", BIG).await.unwrap();
    install(
        &s,
        "north",
        "{from: a1, compute: {kind: general, tflops: 1}}",
    )
    .await
    .unwrap();
    event(&s, "{link_down: a4-b1}").await.unwrap();
    event(&s, "{set_link: {id: a1-a3, used_mbps: 5000}}")
        .await
        .unwrap();
    let before = list(&s).await;
    s.stop().await;

    // No topology given: everything comes from the data directory.
    let s = start(None, Box::new(RedbStore::open(dir.path()).unwrap())).await;
    // Metrics are as of each policy's last check; a restart re-checks every
    // policy, so the free bandwidth they saw may be fresher, and the check
    // is later. All else is equal (creation and change times included).
    let stable = |mut v: Vec<PolicyJson>| {
        for p in &mut v {
            if let Some(m) = &mut p.metrics {
                m.min_available_mbps = None;
            }
            p.checked_at = None;
        }
        v
    };
    let after = list(&s).await;
    let time = |t: &Option<String>| {
        let t: prost_types::Timestamp = t.as_deref().unwrap().parse().unwrap();
        (t.seconds, t.nanos)
    };
    for (a, b) in after.iter().zip(&before) {
        assert!(time(&a.checked_at) >= time(&b.checked_at), "{a:?} {b:?}");
        assert!(time(&a.updated_at) >= time(&a.created_at));
    }
    assert_eq!(stable(after), stable(before));
    let mut c = TopologyServiceClient::new(s.channel().await);
    let t = c
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap();
    let link = |id: &str| t.links.iter().find(|l| l.id == id).unwrap().clone();
    assert!(!link("a4-b1").up);
    assert_eq!(link("a1-a3").used_mbps, 5000);
    // Reservations were rebuilt: big1 holds 30,000 on its path again.
    assert_eq!(link("a4-b2").available_mbps, 40_000 - 30_000);
    // And the down policy still comes back when the link does.
    event(&s, "{link_up: a4-b1}").await.unwrap();
    assert!(list(&s).await.iter().all(|p| p.state == "up"));
    s.stop().await;
}

#[tokio::test]
async fn a_watcher_sees_every_change_in_order_and_can_resume() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let mut c = PolicyServiceClient::new(s.channel().await);
    let mut stream = c
        .watch_policies(pb::WatchPoliciesRequest {
            resume_after: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    install(&s, "big1", BIG).await.unwrap();
    install(&s, "big2", BIG).await.unwrap();
    event(&s, "{link_down: a4-b1}").await.unwrap();
    event(&s, "{link_up: a4-b1}").await.unwrap();
    c.remove_policy(pb::RemovePolicyRequest {
        name: "big1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 6 {
        let change = stream.next().await.unwrap().unwrap();
        let kind = pb::ChangeKind::try_from(change.kind).unwrap();
        seen.push((change.sequence, kind, change.name));
    }
    use pb::ChangeKind::*;
    assert_eq!(
        seen,
        [
            (1, Installed, "big1".into()),
            (2, Installed, "big2".into()),
            (3, Updated, "big1".into()),
            (4, Down, "big2".into()),
            (5, Restored, "big2".into()),
            (6, Removed, "big1".into()),
        ]
    );
    // Resume from the middle.
    let mut again = c
        .watch_policies(pb::WatchPoliciesRequest {
            resume_after: 4,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let five = again.next().await.unwrap().unwrap();
    let six = again.next().await.unwrap().unwrap();
    assert_eq!((five.sequence, six.sequence), (5, 6));
    assert!(six.policy.is_none());
    let err = c
        .watch_policies(pb::WatchPoliciesRequest {
            resume_after: 99,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange);
    drop(stream);
    drop(again);
    s.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_changes_nothing() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    install(&s, "p1", "{from: a1, compute: {kind: ai, tflops: 1}}")
        .await
        .unwrap();
    let cases = [
        (
            install(&s, "p2", "{from: zz, to: b3}").await.unwrap_err(),
            Code::InvalidArgument,
            "from: unknown router `zz`",
        ),
        (
            install(&s, "p1", "{from: a1, to: b3}").await.unwrap_err(),
            Code::AlreadyExists,
            "`p1` exists",
        ),
        (
            install(&s, "bad name", "{from: a1, to: b3}")
                .await
                .unwrap_err(),
            Code::InvalidArgument,
            "policy name",
        ),
        (
            event(&s, "{link_down: nope}").await.unwrap_err(),
            Code::InvalidArgument,
            "unknown link `nope`",
        ),
        (
            event(&s, "{set_link: {id: a1-a2, igp: 0}}")
                .await
                .unwrap_err(),
            Code::InvalidArgument,
            "igp",
        ),
        (
            event(
                &s,
                "{set_pool: {datacenter: dc-north, kind: hpc, used_tflops: 1}}",
            )
            .await
            .unwrap_err(),
            Code::InvalidArgument,
            "no hpc pool",
        ),
    ];
    for (status, code, needle) in cases {
        assert_eq!(status.code(), code, "{}", status.message());
        assert!(status.message().contains(needle), "{}", status.message());
    }
    let mut c = PolicyServiceClient::new(s.channel().await);
    let err = c
        .install_policy(pb::InstallPolicyRequest {
            name: "p3".into(),
            request: Some(pb::PathRequest {
                from: "a1".into(),
                objective: 42,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("objective"), "{}", err.message());
    let mut t = TopologyServiceClient::new(s.channel().await);
    let err = t
        .replace_topology(pb::ReplaceTopologyRequest {
            document: "version: 1\nname: x\noperators: []\nrouters: []\n".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("document:3"), "{}", err.message());
    // Nothing changed.
    let names: Vec<String> = list(&s).await.into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["p1"]);
    s.stop().await;
}

#[tokio::test]
async fn replacing_the_topology_rechecks_every_policy() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    install(
        &s,
        "west",
        "{from: a1, compute: {kind: ai, tflops: 1}, to: dc-west}",
    )
    .await
    .unwrap();
    install(
        &s,
        "north",
        "{from: a1, compute: {kind: general, tflops: 1}}",
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap();
    // The new network has no dc-west at all.
    let start_dc = text.find("  - id: dc-west").unwrap();
    let shrunk = &text[..start_dc];
    let mut t = TopologyServiceClient::new(s.channel().await);
    let affected = t
        .replace_topology(pb::ReplaceTopologyRequest {
            document: shrunk.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .affected_policies;
    assert_eq!(affected, ["west"]);
    let now = list(&s).await;
    let west = now.iter().find(|p| p.name == "west").unwrap();
    assert_eq!(west.state, "down");
    assert!(
        west.reason.as_ref().unwrap().contains("dc-west"),
        "{:?}",
        west.reason
    );
    assert_eq!(now.iter().find(|p| p.name == "north").unwrap().state, "up");
    s.stop().await;
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(s.channel().await);
    for service in [
        "cpn.v1.PolicyService",
        "cpn.v1.PathService",
        "cpn.v1.TopologyService",
        "",
    ] {
        let r = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            r.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service}"
        );
    }
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut r = ServerReflectionClient::new(s.channel().await);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = r
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        replies.next().await.unwrap().unwrap().message_response
    else {
        panic!("no service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "cpn.v1.PolicyService",
        "cpn.v1.PathService",
        "cpn.v1.TopologyService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    s.stop().await;
}

/// h-x-d (fast) and h-y-d (slow) tie on IGP: a list over h-x-d must pin x
/// until y-d fails.
const TWO_WAYS: &str = include_str!("../topologies/two-ways.yaml");

#[tokio::test]
async fn an_idle_controller_shortens_the_lists_a_failure_left_long() {
    let t = cpn::topology_file::parse_str(TWO_WAYS, "two-ways.yaml").unwrap();
    let s = start(Some(t), Box::new(MemoryStore::default())).await;
    let mut c = PolicyServiceClient::new(s.channel().await);
    let mut stream = c
        .watch_policies(pb::WatchPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let job = install(&s, "job", "{from: h, compute: {kind: ai, tflops: 1}}")
        .await
        .unwrap();
    assert_eq!(job.path, ["h", "x", "d"]);
    assert_eq!(job.segments.len(), 2);
    // The failure cuts nothing the job uses: the event's answer names no
    // policy, the list it keeps still steers right...
    assert!(event(&s, "{link_down: y-d}").await.unwrap().is_empty());
    // ...and the controller, idle, shortens it: the next change is that.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let change = tokio::time::timeout(std::time::Duration::from_secs(30), stream.next())
            .await
            .expect("a change within 30 s")
            .unwrap()
            .unwrap();
        seen.push(change);
    }
    assert_eq!(
        pb::ChangeKind::try_from(seen[1].kind).unwrap(),
        pb::ChangeKind::Updated
    );
    let after = convert::policy_from_pb(seen[1].policy.as_ref().unwrap()).unwrap();
    assert_eq!(after.path, job.path);
    assert_eq!(after.segments.len(), 1);
    assert_eq!(after.version, 2);
    drop(stream);
    s.stop().await;
}
