//! A scripted BGP-LS speaker (raw BGP over TCP) for what gobgpd cannot
//! send: SRv6 SID NLRI, parallel links, unknown NLRI and TLVs, a session
//! that drops and comes back with half a table, malformed UPDATEs.

use std::net::Ipv6Addr;
use std::time::Duration;

use super::bgp_ls_support::*;
use super::common::grpc::policy;
use super::{cpnd, link, status, topology, until};
use cpn::document::parse_request;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;

/// An SRv6 SID NLRI of `router` with End behavior (1250).
fn end_sid(t: &cpn::model::Topology, router: &str, sid: Ipv6Addr) -> Route {
    let r = t.router_ix(router).unwrap();
    Route {
        nlri: nlri(6, 2, &[tlv(256, &igp_node(t, r)), tlv(518, &sid.octets())]),
        attr: [tlv(1250, &[0, 1, 0, 0]), tlv(1252, &[48, 0, 16, 0])].concat(),
        what: format!("End SID of {router}"),
    }
}

/// A second a1-a2 link (link ids 101/102) with its own End.X SIDs.
fn parallel(t: &cpn::model::Topology, from_a1: bool) -> Route {
    let (a1, a2) = (t.router_ix("a1").unwrap(), t.router_ix("a2").unwrap());
    let (from, to, ids, sid) = if from_a1 {
        (a1, a2, [0, 0, 0, 101, 0, 0, 0, 102], "fc00:a:1:e999::")
    } else {
        (a2, a1, [0, 0, 0, 102, 0, 0, 0, 101], "fc00:a:2:e999::")
    };
    let mut endx = vec![0, 5, 0, 0, 0, 0];
    endx.extend_from_slice(&sid.parse::<Ipv6Addr>().unwrap().octets());
    Route {
        nlri: nlri(
            2,
            2,
            &[
                tlv(256, &igp_node(t, from)),
                tlv(257, &igp_node(t, to)),
                tlv(258, &ids),
            ],
        ),
        attr: [
            tlv(1095, &[0, 0, 30]),
            tlv(1089, &(1.25e9f32).to_be_bytes()),
            tlv(1114, &[0, 0, 0x01, 0xf4]),
            tlv(1106, &endx),
            // A TLV nobody knows: kept and counted.
            tlv(3999, &[1, 2, 3]),
        ]
        .concat(),
        what: "the parallel a1-a2".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_speaker_srv6_sids_parallel_links_restart_and_malformed_updates() {
    let dir = tempfile::tempdir().unwrap();
    let (cpnd, bgp) = cpnd(dir.path(), &["--bgp-ls-eor-timeout", "30"]);
    let ch = cpnd.channel().await;
    let c = &ch;
    let lab = lab();
    let routes = lab_routes(&lab);
    let a1_end: Ipv6Addr = "fc00:a:1:5::".parse().unwrap();

    // The lab, a1's End SID (SRv6 SID NLRI), a parallel a1-a2, an NLRI of
    // an unknown type, End-of-RIB.
    let mut peer = RawPeer::connect(&bgp);
    for r in &routes {
        peer.send(&announce(&r.nlri, &r.attr));
    }
    let extra = [
        end_sid(&lab, "a1", a1_end),
        parallel(&lab, true),
        parallel(&lab, false),
    ];
    for r in &extra {
        peer.send(&announce(&r.nlri, &r.attr));
    }
    peer.send(&announce(&tlv(99, &[2, 0, 0, 0, 0, 0, 0, 0, 0]), &[]));
    peer.send(&end_of_rib());
    let t = until("the lab and its extras are learned", move || async move {
        let t = topology(c).await;
        (t.links.len() == 10).then_some(t)
    })
    .await;
    let a1 = t.routers.iter().find(|r| r.id == "a1").unwrap();
    let end = a1
        .sids
        .iter()
        .find(|s| s.behavior == pb::SidBehavior::End as i32)
        .unwrap();
    assert_eq!(
        end.sid.parse::<Ipv6Addr>().unwrap(),
        a1_end,
        "the network's End SID"
    );
    // Parallel links: both get the suffix of a1's link id.
    assert!(t.links.iter().all(|l| l.id != "a1-a2"));
    assert_eq!(link(&t, "a1-a2#101").igp, 30);
    assert_eq!(link(&t, "a1-a2#1").igp, 10);
    assert_eq!(
        super::sid_of(&t, "a1", "a1-a2#101"),
        "fc00:a:1:e999::".parse::<Ipv6Addr>().unwrap()
    );
    let s = status(c).await;
    let counters = s.peers[0].counters.unwrap();
    assert_eq!(counters.unknown_nlri, 1);
    assert!(counters.unknown_tlvs >= 2, "{counters:?}");
    assert_eq!(s.peers[0].other, 1);

    let mut policies = PolicyServiceClient::new(ch.clone());
    let request =
        parse_request("{from: a1, compute: {kind: hpc, tflops: 100}, objective: latency}").unwrap();
    policies
        .install_policy(pb::InstallPolicyRequest {
            name: "hpc".into(),
            request: Some(convert::request_to_pb(&request)),
            ..Default::default()
        })
        .await
        .unwrap();
    let before = policy(&mut policies, "hpc").await;
    assert_eq!(before.path, ["a1", "a3", "a4", "b1"]);

    // The session drops: what it said stays (stale), nothing moves.
    drop(peer);
    until("the session is down", move || async move {
        (status(c).await.peers[0].state == "Idle").then_some(())
    })
    .await;
    let p = policy(&mut policies, "hpc").await;
    assert_eq!((p.state.as_str(), &p.path), ("up", &before.path));
    assert_eq!(topology(c).await.links.len(), 10);

    // It comes back and sends half its table: still nothing applied.
    let mut peer = RawPeer::connect(&bgp);
    for r in routes.iter().filter(|r| !r.what.starts_with("link")) {
        peer.send(&announce(&r.nlri, &r.attr));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = topology(c).await;
    assert!(
        t.links.iter().all(|l| l.up),
        "no link down for half a table"
    );
    assert_eq!(policy(&mut policies, "hpc").await.path, before.path);
    assert!(!status(c).await.peers[0].synced);
    // The rest, without a3-a4 and the parallel link, then End-of-RIB: those
    // go down, the policy moves.
    for r in routes
        .iter()
        .filter(|r| r.what.starts_with("link") && !r.what.starts_with("link a3-a4"))
    {
        peer.send(&announce(&r.nlri, &r.attr));
    }
    peer.send(&announce(&extra[0].nlri, &extra[0].attr));
    peer.send(&end_of_rib());
    let p = until("the policy leaves a3-a4", move || async move {
        let p = policy(&mut PolicyServiceClient::new(c.clone()), "hpc").await;
        (p.path != ["a1", "a3", "a4", "b1"]).then_some(p)
    })
    .await;
    assert_eq!(p.path, ["a1", "a2", "a4", "b1"]);
    let t = topology(c).await;
    assert!(!link(&t, "a3-a4").up && !link(&t, "a1-a2#101").up);
    // The remaining a1-a2 keeps its id; withdrawals were events.
    assert!(link(&t, "a1-a2#1").up);
    assert_eq!(status(c).await.rebuilds, 1);

    // A BGP-LS NLRI longer than its MP_REACH_NLRI: NOTIFICATION 3/9
    // (optional attribute error), the session closes, cpnd runs on.
    let mut broken = nlri(
        1,
        2,
        &[tlv(256, &igp_node(&lab, lab.router_ix("a1").unwrap()))],
    );
    broken[3] += 40;
    peer.send(&announce(&broken, &[]));
    assert_eq!(peer.notification(), (3, 9));
    // An attribute list that overruns its UPDATE: 3/1.
    let mut peer = RawPeer::connect(&bgp);
    peer.send(&message(2, &[0, 0, 0, 50, 0x40, 1, 1, 0]));
    assert_eq!(peer.notification(), (3, 1));
    // A bad marker: 1/1.
    let mut peer = RawPeer::connect(&bgp);
    let mut bad = message(4, &[]);
    bad[0] = 0;
    peer.send(&bad);
    assert_eq!(peer.notification(), (1, 1));
    // A KEEPALIVE of the wrong length: 1/2.
    let mut peer = RawPeer::connect(&bgp);
    peer.send(&message(4, &[0]));
    assert_eq!(peer.notification(), (1, 2));

    // cpnd still serves, and kept the network.
    let s = status(c).await;
    assert!(!s.peers[0].last_error.is_empty());
    assert_eq!(topology(c).await.routers.len(), 7);
    assert_eq!(policy(&mut policies, "hpc").await.state, "up");
    cpnd.terminate();
}
