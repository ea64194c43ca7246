//! The gRPC API as an OSS integrator meets it (docs/api.md): reflection in
//! both protocol versions listing exactly what is served; a generic Python
//! client (reflection only, no project protos) installing, retrying and
//! reading `google.rpc` error details; retries that change nothing twice;
//! a list joined to a watch without a gap while installs go on; 50,000
//! policies paged through a stock client's 4 MiB limit; times that move.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::server::{TestServer, lab, start};
use common::system;
use cpn::document::parse_request;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::store::MemoryStore;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::transport::Channel;

fn install(name: &str, yaml: &str) -> pb::InstallPolicyRequest {
    pb::InstallPolicyRequest {
        name: name.into(),
        request: Some(convert::request_to_pb(&parse_request(yaml).unwrap())),
        ..Default::default()
    }
}

const SERVED: [&str; 7] = [
    "cpn.v1.BgpLsService",
    "cpn.v1.ClusterService",
    "cpn.v1.ComputeService",
    "cpn.v1.PathService",
    "cpn.v1.PolicyService",
    "cpn.v1.TopologyService",
    "grpc.health.v1.Health",
];

/// The services reflection v1 lists.
async fn listed_v1(channel: Channel) -> BTreeSet<String> {
    use tonic_reflection::pb::v1 as r;
    let mut c = r::server_reflection_client::ServerReflectionClient::new(channel);
    let request = r::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(r::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut replies = c
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.next().await.unwrap().unwrap();
    match reply.message_response {
        Some(r::server_reflection_response::MessageResponse::ListServicesResponse(l)) => {
            l.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_client_sees_only_what_is_served_and_reads_error_details() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    // v1: the served services, and reflection itself in both versions; not
    // the agents' RouterAgent and MockControl, whose descriptors ship along.
    let listed = listed_v1(s.channel().await).await;
    let expected: BTreeSet<String> = SERVED
        .iter()
        .map(|s| s.to_string())
        .chain([
            "grpc.reflection.v1.ServerReflection".to_owned(),
            "grpc.reflection.v1alpha.ServerReflection".to_owned(),
        ])
        .collect();
    assert_eq!(listed, expected);

    // v1alpha, from a stock client, with nothing but reflection.
    if system::available("api_generic::python_client", &[system::PYTHON_GRPC]).await {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/generic_client.py"
        );
        let addr = s.url.trim_start_matches("http://").to_owned();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .args([script, &addr])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(seen["created"], serde_json::json!([true, false]));
        // Every data center of the lab, each with its reason.
        let rejected = seen["rejected"].as_object().unwrap();
        let dcs: BTreeSet<&str> = rejected.keys().map(String::as_str).collect();
        assert_eq!(dcs, BTreeSet::from(["dc-central", "dc-north", "dc-west"]));
        assert!(
            rejected
                .values()
                .all(|r| r.as_str().unwrap().contains("TFLOPS")),
            "{rejected:?}"
        );
        assert_eq!(seen["bad_fields"], serde_json::json!(["request.from"]));
        assert_eq!(
            seen["not_found"],
            serde_json::json!(["cpn.v1.Policy", "nope"])
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_calls_change_nothing_twice() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let mut c = PolicyServiceClient::new(s.channel().await);
    let req = install("job", "{from: a1, compute: {kind: ai, tflops: 10}}");
    let first = c.install_policy(req.clone()).await.unwrap().into_inner();
    // A retry after a lost reply: the policy as it stands, not created.
    let again = c.install_policy(req).await.unwrap().into_inner();
    assert!(first.created && !again.created);
    assert_eq!(again.sequence, 0, "nothing changed");
    assert_eq!(first.policy.unwrap().name, again.policy.unwrap().name);
    let other = c
        .install_policy(install(
            "job",
            "{from: a1, compute: {kind: ai, tflops: 11}}",
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);

    // An event retried with its request id is applied once.
    let mut t = TopologyServiceClient::new(s.channel().await);
    let event = |id: &str| pb::ApplyEventRequest {
        event: Some(convert::event_to_pb(
            &cpn::document::parse_event("{set_link: {id: a1-a2, latency_us: 9000}}").unwrap(),
        )),
        request_id: id.into(),
    };
    let e1 = t.apply_event(event("ev-1")).await.unwrap().into_inner();
    let e2 = t.apply_event(event("ev-1")).await.unwrap().into_inner();
    assert_eq!(e1, e2, "the first outcome, again");
    assert_eq!(e1.affected_policies, ["job"]);
    assert!(e1.first_sequence > first.sequence && e1.last_sequence >= e1.first_sequence);
    let list = c
        .list_policies(pb::ListPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.sequence, e1.last_sequence, "no second change");

    // A removal retried with its id succeeds; without one it is NOT_FOUND.
    let remove = |id: &str| pb::RemovePolicyRequest {
        name: "job".into(),
        request_id: id.into(),
    };
    let r1 = c.remove_policy(remove("rm-1")).await.unwrap().into_inner();
    let r2 = c.remove_policy(remove("rm-1")).await.unwrap().into_inner();
    assert_eq!(r1.sequence, r2.sequence);
    let e = c.remove_policy(remove("")).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_joined_to_a_watch_misses_nothing_while_installs_go_on() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let channel = s.channel().await;
    let mut c = PolicyServiceClient::new(channel.clone());
    for i in 0..50 {
        let r = install(&format!("before-{i:03}"), "{from: a1, to: b3}");
        c.install_policy(r).await.unwrap();
    }
    // Installs keep coming while the client lists and then watches; from
    // another connection, as another client: this one does not read its
    // watch until the writer is done, and on one HTTP/2 connection unread
    // changes would fill the window the writer's replies need.
    let writer = {
        let mut c = PolicyServiceClient::new(s.channel().await);
        tokio::spawn(async move {
            for i in 0..150 {
                let r = install(&format!("during-{i:03}"), "{from: b1, to: a2}");
                c.install_policy(r).await.unwrap();
            }
        })
    };
    // List in small pages; watch from the first page's sequence.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut request = pb::ListPoliciesRequest {
        page_size: 7,
        ..Default::default()
    };
    let mut from = None;
    loop {
        let page = c.list_policies(request.clone()).await.unwrap().into_inner();
        from.get_or_insert(page.sequence);
        seen.extend(page.policies.into_iter().map(|p| p.name));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    let from = from.unwrap();
    let mut watch = c
        .watch_policies(pb::WatchPoliciesRequest {
            resume_after: from,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    writer.await.unwrap();
    let last = c
        .list_policies(pb::ListPoliciesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sequence;
    let mut expect = from;
    while expect < last {
        let change = tokio::time::timeout(Duration::from_secs(20), watch.next())
            .await
            .expect("the watch keeps up")
            .unwrap()
            .unwrap();
        // No gap, no repeat: every change after the list's sequence.
        assert_eq!(change.sequence, expect + 1);
        expect = change.sequence;
        if change.kind == pb::ChangeKind::Installed as i32 {
            seen.insert(change.name);
        }
    }
    let all: BTreeSet<String> = (0..50)
        .map(|i| format!("before-{i:03}"))
        .chain((0..150).map(|i| format!("during-{i:03}")))
        .collect();
    assert_eq!(seen, all);
    // The watch is still open: shutting down ends it rather than waiting.
    s.stop().await;
    let end = watch.next().await.unwrap().unwrap_err();
    assert_eq!(end.code(), Code::Unavailable, "{end}");
}

/// Two routers and a data center: policies that cost nothing to place.
const TINY: &str = "version: 1
name: tiny
operators: [{id: op}]
routers:
  - {id: r1, operator: op, locator: 'fc00:1::/48'}
  - {id: r2, operator: op, locator: 'fc00:2::/48'}
links:
  - {a: r1, b: r2, igp: 1, latency_us: 10, bandwidth_mbps: 100000}
";

async fn install_many(s: &TestServer, n: usize) {
    let clients = 16;
    let mut tasks = Vec::new();
    for k in 0..clients {
        let mut c = PolicyServiceClient::new(s.channel().await);
        tasks.push(tokio::spawn(async move {
            for i in (k..n).step_by(clients) {
                c.install_policy(install(&format!("p{i:05}"), "{from: r1, to: r2}"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_policies_page_through_a_stock_clients_limit() {
    let t = cpn::topology_file::parse_str(TINY, "tiny.yaml").unwrap();
    let s = start(Some(t), Box::new(MemoryStore::default())).await;
    install_many(&s, 50_000).await;
    // tonic's default receive limit is 4 MiB, as stock clients'.
    let mut c = PolicyServiceClient::new(s.channel().await);
    // The largest page asked: still under the limit (pages stop at 3 MiB).
    let mut request = pb::ListPoliciesRequest {
        page_size: 10_000,
        ..Default::default()
    };
    let (mut names, mut pages) = (Vec::new(), 0);
    loop {
        let page = c.list_policies(request.clone()).await.unwrap().into_inner();
        pages += 1;
        names.extend(page.policies.into_iter().map(|p| p.name));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    let expected: Vec<String> = (0..50_000).map(|i| format!("p{i:05}")).collect();
    assert_eq!(names, expected, "every policy once, in name order");
    assert!(pages >= 5, "{pages} pages");
    // Filters: one headend, and a state nobody is in.
    let up = c
        .list_policies(pb::ListPoliciesRequest {
            page_size: 5,
            headend: "r1".into(),
            state: pb::PolicyState::Up.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(up.policies.len(), 5);
    let down = c
        .list_policies(pb::ListPoliciesRequest {
            state: pb::PolicyState::Down.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(down.policies.is_empty() && down.next_page_token.is_empty());
    let bad = c
        .list_policies(pb::ListPoliciesRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_move_as_the_policy_changes() {
    let s = start(Some(lab()), Box::new(MemoryStore::default())).await;
    let mut c = PolicyServiceClient::new(s.channel().await);
    let time = |t: &Option<prost_types::Timestamp>| {
        let t = t.as_ref().unwrap();
        (t.seconds, t.nanos)
    };
    let get = |c: &mut PolicyServiceClient<Channel>, name: &'static str| {
        let mut c = c.clone();
        async move {
            c.get_policy(pb::GetPolicyRequest { name: name.into() })
                .await
                .unwrap()
                .into_inner()
                .policy
                .unwrap()
        }
    };
    c.install_policy(install(
        "moves",
        "{from: a1, compute: {kind: ai, tflops: 10}}",
    ))
    .await
    .unwrap();
    c.install_policy(install("stays", "{from: b3, to: b2}"))
        .await
        .unwrap();
    let (moves, stays) = (get(&mut c, "moves").await, get(&mut c, "stays").await);
    assert_eq!(time(&moves.created_at), time(&moves.updated_at));
    // Times are kept to the millisecond: wait until the clock has left the
    // one the install happened in.
    let installed = time(&moves.updated_at);
    common::wait::eventually("the clock moves on", Duration::from_secs(5), || async {
        let now = prost_types::Timestamp::from(std::time::SystemTime::now());
        ((now.seconds, now.nanos / 1_000_000) > (installed.0, installed.1 / 1_000_000))
            .then_some(())
    })
    .await;
    let link = moves
        .answer
        .as_ref()
        .unwrap()
        .primary
        .as_ref()
        .unwrap()
        .links[0]
        .clone();
    let mut t = TopologyServiceClient::new(s.channel().await);
    t.apply_event(pb::ApplyEventRequest {
        event: Some(convert::event_to_pb(&cpn::document::EventDoc::LinkDown(
            link,
        ))),
        ..Default::default()
    })
    .await
    .unwrap();
    let (moved, stayed) = (get(&mut c, "moves").await, get(&mut c, "stays").await);
    assert_eq!(time(&moved.created_at), time(&moves.created_at));
    assert!(time(&moved.updated_at) > time(&moves.updated_at));
    assert!(time(&moved.checked_at) > time(&moves.checked_at));
    assert_eq!(
        time(&stayed.updated_at),
        time(&stays.updated_at),
        "untouched"
    );
    assert_eq!(
        time(&stayed.checked_at),
        time(&stays.checked_at),
        "not re-checked"
    );
    s.stop().await;
}
