//! The lab's test helpers (tests/lab.rs, tests/lab_usid.rs): `cpnctl`,
//! the lab's lifetime, pings, bursts of datagrams, and the counters that
//! show where they went.

use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::process::{Command, Output};
use std::time::Duration;

use cpn::document::{PolicyJson, parse_request};
use cpn::netlink::{links, netns};
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use tonic::transport::Channel;

use super::grpc::policy;
use super::wait::{eventually, eventually_blocking};

/// Datagrams in a burst.
pub const BURST: u64 = 200;

pub fn cpnctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(args)
        .output()
        .unwrap()
}

pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Takes the lab down whatever happens.
pub struct Lab;

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = cpnctl(&["lab", "down"]);
    }
}

/// One ping round from `netns` to `addr`: true when a reply came.
pub fn ping(netns: &str, addr: Ipv6Addr) -> bool {
    Command::new("ip")
        .args([
            "netns", "exec", netns, "ping", "-c", "2", "-i", "0.2", "-W", "1",
        ])
        .arg(addr.to_string())
        .output()
        .unwrap()
        .status
        .success()
}

/// Pings until a reply comes (at most 20 s; the first packets wait for
/// neighbor discovery).
pub fn ping_until(netns: &str, addr: Ipv6Addr) {
    let what = format!("a reply from {addr} in {netns}");
    eventually_blocking(&what, Duration::from_secs(20), || {
        ping(netns, addr).then_some(())
    });
}

/// Packets counted by every local SID of the lab.
pub fn sid_counters() -> BTreeMap<String, u64> {
    sid_counters_by_router()
        .into_iter()
        .map(|((_, sid), n)| (sid, n))
        .collect()
}

/// Packets counted by every local SID of the lab, by (router, SID): local
/// micro-SIDs (uA, uDT6) repeat from router to router.
pub fn sid_counters_by_router() -> BTreeMap<(String, String), u64> {
    let v: serde_json::Value =
        serde_json::from_str(&ok(cpnctl(&["lab", "status", "--json"]))).unwrap();
    v["sids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                (
                    s["router"].as_str().unwrap().to_owned(),
                    s["sid"].as_str().unwrap().to_owned(),
                ),
                s["packets"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Packets received per router, per link (interfaces are aliased with
/// their link id, `host` for the host's wire), and in all.
pub async fn received(routers: &[&str]) -> BTreeMap<String, (BTreeMap<String, u64>, u64)> {
    let mut out = BTreeMap::new();
    for r in routers {
        let h = netns::connect(Some(&format!("cpn-r-{r}"))).unwrap();
        let rx = links::rx_packets(&h).await.unwrap();
        let states = links::states(&h).await.unwrap();
        let by_link = states
            .iter()
            .filter_map(|(ifname, (_, alias))| Some((alias.clone()?, rx[ifname])))
            .collect();
        let total = rx
            .iter()
            .filter(|(n, _)| n.starts_with('w'))
            .map(|(_, v)| v)
            .sum();
        out.insert((*r).to_owned(), (by_link, total));
    }
    out
}

/// Sends `BURST` UDP datagrams from inside `netns` to `addr`.
pub fn burst(netns: &str, addr: Ipv6Addr) {
    netns::run_in(Some(netns), move || {
        let s = UdpSocket::bind("[::]:0")?;
        for i in 0..BURST {
            s.send_to(&i.to_be_bytes(), SocketAddrV6::new(addr, 9, 0, 0))?;
        }
        Ok(())
    })
    .unwrap();
}

/// Waits until policy `name` is applied on a path `done` accepts.
pub async fn settled(
    c: &mut PolicyServiceClient<Channel>,
    name: &str,
    done: impl Fn(&PolicyJson) -> bool,
) -> PolicyJson {
    let done = &done;
    let what = format!("policy {name} settles");
    eventually(&what, Duration::from_secs(30), || {
        let mut c = c.clone();
        async move {
            let p = policy(&mut c, name).await;
            if p.southbound == "applied" && done(&p) {
                Ok(p)
            } else {
                Err(format!(
                    "{:?} {} {:?}",
                    p.path, p.southbound, p.southbound_detail
                ))
            }
        }
    })
    .await
}

/// Installs policy `name` for `request` (YAML).
pub async fn install(c: &mut PolicyServiceClient<Channel>, name: &str, request: &str) {
    let request = parse_request(request).unwrap();
    c.install_policy(pb::InstallPolicyRequest {
        name: name.into(),
        request: Some(convert::request_to_pb(&request)),
        ..Default::default()
    })
    .await
    .unwrap();
}
