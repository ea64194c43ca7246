//! Compressed SRv6 with real packets (root and a kernel with the next-csid
//! flavor; `.ci/run` or tools/vmlab run it): `cpnctl lab up` builds
//! topologies/lab-usid.yaml, `cpnd` installs two policies from c1, and the
//! packets prove them. To dc-near one container carries the whole path
//! (uN, two uA, uDT6): on the wire after c1 there is no SRH at all (the
//! outer header is followed by the inner packet), and every micro-SID of
//! the list counts the burst exactly once per datagram, every other none.
//! To dc-far seven micro-SIDs need two containers: the first in the
//! destination address, the second in an SRH of one entry.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::process::Command;
use std::time::Duration;

use common::daemon;
use common::lab::{
    BURST, Lab, burst, cpnctl, install, ok, ping_until, settled, sid_counters_by_router,
};
use common::system;
use common::wait::eventually;
use cpn::document::PolicyJson;
use cpn::netlink::{links, netns};
use cpn::proto::v1::policy_service_client::PolicyServiceClient;

/// Outer headers counted on an interface, by what follows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Wire {
    /// A routing header (an SRH) of exactly one entry.
    srh_one_entry: u64,
    /// Any routing header.
    srh: u64,
    /// The inner IPv6 packet right after the outer header: no SRH.
    no_srh: u64,
}

/// The interface of router `router` on link `link` (the lab aliases them).
async fn interface(router: &str, link: &str) -> String {
    let h = netns::connect(Some(&format!("cpn-r-{router}"))).unwrap();
    links::states(&h)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, (_, alias))| alias.as_deref() == Some(link))
        .map(|(name, _)| name)
        .unwrap_or_else(|| panic!("{router} has no interface on {link}"))
}

fn tc(netns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", netns, "tc"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Counts, at the ingress of `ifname` in `netns`, the IPv6 packets whose
/// next header is 43 (a routing header; separately when its Hdr Ext Len is
/// 2 and its type 4: an SRH of one entry) or 41 (IPv6 in IPv6, no SRH).
fn count_headers(netns: &str, ifname: &str) {
    tc(netns, &["qdisc", "add", "dev", ifname, "clsact"]);
    let base = [
        "filter", "add", "dev", ifname, "ingress", "protocol", "ipv6",
    ];
    let rules: [&[&str]; 3] = [
        &[
            "prio", "1", "u32", "match", "ip6", "protocol", "43", "0xff", "match", "u8", "2",
            "0xff", "at", "41", "match", "u8", "4", "0xff", "at", "42",
        ],
        &["prio", "2", "u32", "match", "ip6", "protocol", "43", "0xff"],
        &["prio", "3", "u32", "match", "ip6", "protocol", "41", "0xff"],
    ];
    for rule in rules {
        let args: Vec<&str> = base
            .iter()
            .chain(rule.iter())
            .copied()
            .chain(["action", "pass"])
            .collect();
        tc(netns, &args);
    }
}

fn read_headers(netns: &str, ifname: &str) -> Wire {
    let v: serde_json::Value = serde_json::from_str(&tc(
        netns,
        &["-s", "-j", "filter", "show", "dev", ifname, "ingress"],
    ))
    .unwrap();
    let mut by_pref = BTreeMap::new();
    for f in v.as_array().unwrap() {
        if let Some(actions) = f["options"]["actions"].as_array() {
            let packets = actions[0]["stats"]["packets"].as_u64().unwrap();
            by_pref.insert(f["pref"].as_u64().unwrap(), packets);
        }
    }
    Wire {
        srh_one_entry: by_pref[&1],
        srh: by_pref[&1] + by_pref[&2],
        no_srh: by_pref[&3],
    }
}

/// A burst from c1's host to `to` is counted exactly once per datagram by
/// every micro-SID of `p` (by router: local micro-SIDs repeat) and by no
/// other SID; returns what c2 saw arrive from c1 meanwhile.
async fn burst_counts(p: &PolicyJson, to: Ipv6Addr, wire: (&str, &str)) -> Wire {
    let before = sid_counters_by_router();
    let wire_before = read_headers(wire.0, wire.1);
    burst("cpn-h-c1", to);
    let last = p.segments.last().unwrap();
    let last = (last.router.clone(), last.sid.clone());
    let now = eventually(
        "the burst reaches the uDT6",
        Duration::from_secs(10),
        || async {
            let now = sid_counters_by_router();
            (now[&last] >= before[&last] + BURST).then_some(now)
        },
    )
    .await;
    let on_path: Vec<(String, String)> = p
        .segments
        .iter()
        .map(|s| (s.router.clone(), s.sid.clone()))
        .collect();
    for (key, n) in &now {
        let delta = n - before[key];
        let want = if on_path.contains(key) { BURST } else { 0 };
        assert_eq!(delta, want, "{key:?} counted {delta}");
    }
    let after = read_headers(wire.0, wire.1);
    Wire {
        srh_one_entry: after.srh_one_entry - wire_before.srh_one_entry,
        srh: after.srh - wire_before.srh,
        no_srh: after.no_srh - wire_before.no_srh,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_container_crosses_the_network_without_an_srh() {
    let needs = [system::NEXT_CSID, system::IP, system::PING];
    if !system::available_on_an_srv6_kernel(
        "one_container_crosses_the_network_without_an_srh",
        &needs,
    )
    .await
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lab = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies/lab-usid.yaml"
    ))
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
    let topology = dir.path().join("lab-usid.yaml");
    std::fs::write(&topology, lab).unwrap();
    let _lab = Lab;
    ok(cpnctl(&["lab", "up", topology.to_str().unwrap()]));
    assert_eq!(
        netns::list("cpn-").len(),
        18,
        "8 routers, 8 hosts, 2 data centers"
    );
    let lab_topology = format!("{}/topology.yaml", cpn::lab::LAB_DIR);
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
    let mut policies = PolicyServiceClient::new(cpnd.channel().await);
    let c2 = interface("c2", "c1-c2").await;
    count_headers("cpn-r-c2", &c2);

    install(&mut policies, "near", "{from: c1, to: dc-near}").await;
    let near = settled(&mut policies, "near", |_| true).await;
    assert_eq!(near.path, ["c1", "c2", "c3", "c4"]);
    assert_eq!(near.compression.as_deref(), Some("next-csid"));
    assert_eq!(
        near.containers.as_deref(),
        Some(&["fc00:0:200:e002:e002:f000::".to_owned()][..]),
        "uN c2, uA c2 and c3 (their 2nd link), uDT6 of c4's data center"
    );
    let behaviors: Vec<&str> = near.segments.iter().map(|s| s.behavior.as_str()).collect();
    assert_eq!(behaviors, ["End", "End.X", "End.X", "End.DT6"]);
    let dc_near: Ipv6Addr = "fd00:dc:11::1".parse().unwrap();
    ping_until("cpn-h-c1", dc_near);
    let seen = burst_counts(&near, dc_near, ("cpn-r-c2", &c2)).await;
    eprintln!("dc-near: {:?}; c2 saw {seen:?}", near.containers);
    assert!(seen.no_srh >= BURST, "{seen:?}");
    assert_eq!(seen.srh, 0, "one container needs no SRH: {seen:?}");

    install(&mut policies, "far", "{from: c1, to: dc-far}").await;
    let far = settled(&mut policies, "far", |_| true).await;
    assert_eq!(far.path.len(), 7);
    assert_eq!(far.segments.len(), 7, "{:?}", far.segments);
    let containers = far.containers.clone().unwrap();
    assert_eq!(containers.len(), 2, "{containers:?}");
    let dc_far: Ipv6Addr = "fd00:dc:12::1".parse().unwrap();
    ping_until("cpn-h-c1", dc_far);
    let seen = burst_counts(&far, dc_far, ("cpn-r-c2", &c2)).await;
    eprintln!("dc-far: {containers:?}; c2 saw {seen:?}");
    assert!(
        seen.srh_one_entry >= BURST,
        "the second container in a one-entry SRH: {seen:?}"
    );
    assert_eq!(seen.srh, seen.srh_one_entry, "{seen:?}");

    cpnd.terminate();
    ok(cpnctl(&["lab", "down"]));
    assert!(netns::list("cpn-").is_empty());
}
