//! End to end on a real SRv6 data plane (root; `.ci/run` runs it): `cpnctl
//! lab up` builds the lab topology out of network namespaces with one
//! `cpn-router --linux` per router, `cpnd` installs a policy, and real
//! packets prove it: ping from the headend's host reaches the data center;
//! a burst of UDP datagrams passes every SID of the segment list exactly
//! once per datagram (seg6local counters), enters every router of the path
//! and no other (interface counters); a link of the path cut in the lab is
//! reported by the routers' agents, the policy moves and ping works over
//! the new path; removed, the policy no longer carries traffic.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::daemon;
use common::lab::{
    BURST, Lab, burst, cpnctl, install, ok, ping, ping_until, received, settled, sid_counters,
};
use common::system;
use common::wait::eventually;
use cpn::document::PolicyJson;
use cpn::netlink::netns;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;

const ROUTERS: [&str; 7] = ["a1", "a2", "a3", "a4", "b1", "b2", "b3"];

/// A burst from a1's host to `to` crosses exactly the SIDs of `p` (each
/// once per datagram) and exactly the routers of its path.
async fn burst_follows(p: &PolicyJson, to: Ipv6Addr) {
    let sids_before = sid_counters();
    let rx_before = received(&ROUTERS).await;
    burst("cpn-h-a1", to);
    let last = p.segments.last().unwrap().sid.clone();
    let what = format!("the burst reaches {last}");
    let sids = eventually(&what, Duration::from_secs(10), || async {
        let now = sid_counters();
        (now[&last] >= sids_before[&last] + BURST).then_some(now)
    })
    .await;
    let on_path: Vec<&str> = p.segments.iter().map(|s| s.sid.as_str()).collect();
    for (sid, n) in &sids {
        let delta = n - sids_before[sid];
        let want = if on_path.contains(&sid.as_str()) {
            BURST
        } else {
            0
        };
        assert_eq!(delta, want, "SID {sid} counted {delta}");
    }
    let rx = received(&ROUTERS).await;
    for hop in p.path.windows(2) {
        let link = p
            .links
            .iter()
            .find(|l| {
                let ends: Vec<&str> = l.split('-').collect();
                ends.contains(&hop[0].as_str()) && ends.contains(&hop[1].as_str())
            })
            .unwrap();
        let into = &hop[1];
        let delta = rx[into].0[link] - rx_before[into].0[link];
        assert!(delta >= BURST, "{into} received {delta} on {link}");
    }
    for r in ROUTERS.iter().filter(|r| !p.path.iter().any(|x| x == *r)) {
        let delta = rx[*r].1 - rx_before[*r].1;
        assert!(delta < BURST / 4, "{r}, off the path, received {delta}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_carries_real_packets_and_follows_a_link_failure() {
    let needs = [system::SRV6, system::IP, system::PING];
    if !system::available_on_an_srv6_kernel(
        "a_policy_carries_real_packets_and_follows_a_link_failure",
        &needs,
    )
    .await
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The lab with every agent on a port the system picks: the lab writes
    // the addresses they got into its own copy of the topology.
    let lab = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap();
    let lab: String = lab
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("mgmt:") {
                "    mgmt: \"127.0.0.1:0\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let topology = dir.path().join("lab.yaml");
    std::fs::write(&topology, lab).unwrap();
    let topology = topology.to_str().unwrap();

    // Up twice: the second takes the first down and builds it again.
    let _lab = Lab;
    ok(cpnctl(&["lab", "up", topology]));
    ok(cpnctl(&["lab", "up", topology]));
    assert_eq!(
        netns::list("cpn-").len(),
        17,
        "7 routers, 7 hosts, 3 data centers"
    );
    let lab_topology = format!("{}/topology.yaml", cpn::lab::LAB_DIR);
    let t = cpn::topology_file::load_file(&lab_topology).unwrap();
    assert!(
        t.routers()
            .all(|(_, r)| r.mgmt.as_deref().is_some_and(|m| !m.ends_with(":0"))),
        "the lab's topology has the agents' real ports"
    );

    let cpnd = daemon::spawn(
        env!("CARGO_BIN_EXE_cpnd"),
        &[
            "--topology",
            &lab_topology,
            "--listen",
            "127.0.0.1:0",
            "--reconcile-interval",
            "1",
        ],
        "serving gRPC",
    );
    let channel = cpnd.channel().await;
    let mut policies = PolicyServiceClient::new(channel);
    install(
        &mut policies,
        "train",
        "{from: a1, compute: {kind: ai, tflops: 200}}",
    )
    .await;
    let first = settled(&mut policies, "train", |_| true).await;
    // dc-central declares fd00:dc:1::/64 in lab.yaml: its host answers on ::1.
    assert_eq!(first.datacenter.as_deref(), Some("dc-central"));
    let dc: Ipv6Addr = "fd00:dc:1::1".parse().unwrap();
    ping_until("cpn-h-a1", dc);
    burst_follows(&first, dc).await;

    // Pinned to a router: the packets reach the site behind b3, and it is
    // b3's own End.DT6 (into its main table) that lets them out.
    install(&mut policies, "site", "{from: a1, to: b3}").await;
    let site = settled(&mut policies, "site", |_| true).await;
    let own_dt6 = t.sids().own_dt6(t.router_ix("b3").unwrap()).to_string();
    let last = site.segments.last().unwrap();
    assert_eq!(
        (last.sid.as_str(), last.behavior.as_str()),
        (own_dt6.as_str(), "End.DT6")
    );
    let b3_site = cpn::lab::plan::plan(&t).unwrap().sites["b3"];
    ping_until("cpn-h-a1", b3_site);
    burst_follows(&site, b3_site).await;
    policies
        .remove_policy(pb::RemovePolicyRequest {
            name: "site".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // Cut a link of the path that has a way around.
    // (Not the peering links a4-b1, a4-b2: the way around them is long.)
    let cut = first
        .links
        .iter()
        .skip(1)
        .find(|l| !l.starts_with("a4-b"))
        .cloned()
        .expect("an intra-operator link after the first hop");
    ok(cpnctl(&["lab", "link-down", &cut]));
    let moved = settled(&mut policies, "train", |p| !p.links.contains(&cut)).await;
    ping_until("cpn-h-a1", dc);
    burst_follows(&moved, dc).await;

    // Removed: the headend no longer steers the data center's prefix.
    policies
        .remove_policy(pb::RemovePolicyRequest {
            name: "train".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    eventually(
        "the encap route is gone",
        Duration::from_secs(20),
        || async {
            let v: serde_json::Value =
                serde_json::from_str(&ok(cpnctl(&["lab", "status", "--json"]))).unwrap();
            v["policies"].as_array().unwrap().is_empty().then_some(())
        },
    )
    .await;
    assert!(
        !ping("cpn-h-a1", dc),
        "traffic still reaches the data center"
    );
    // Once a1 has taken the burst in from its host, no SID has seen any of it.
    let before = sid_counters();
    let from_host = || async { received(&["a1"]).await["a1"].0["host"] };
    let rx_before = from_host().await;
    burst("cpn-h-a1", dc);
    eventually("a1 gets the burst", Duration::from_secs(10), || async {
        (from_host().await >= rx_before + BURST).then_some(())
    })
    .await;
    for s in &moved.segments {
        assert_eq!(
            sid_counters()[&s.sid],
            before[&s.sid],
            "{} still counts",
            s.sid
        );
    }

    cpnd.terminate();
    ok(cpnctl(&["lab", "down"]));
    assert!(netns::list("cpn-").is_empty());
    ok(cpnctl(&["lab", "down"]));
}
