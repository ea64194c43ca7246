//! cpnd learns the network over BGP-LS, from real processes:
//!
//! - a real gobgpd 3.10 peers with `cpnd --bgp-ls`; the test loads the whole
//!   lab into gobgpd (encoded by hand, TLV by TLV, in `bgp_ls_support`) before
//!   letting the session start, then withdraws a link and raises a delay,
//!   and checks that cpnd's topology, sources and policies follow;
//! - a scripted speaker (raw BGP over TCP) sends what gobgpd cannot: SRv6
//!   SID NLRI, parallel links, a session that drops and comes back with a
//!   half table, and malformed UPDATEs, which close the session with the
//!   right NOTIFICATION while cpnd keeps running.
//!
//! Needs `gobgpd` (Debian package `gobgpd`) for the first; the test says
//! SKIPPED without it (and fails with CPN_REQUIRE_SYSTEM_TESTS=1).

mod bgp_ls_support;
mod common;

use std::future::Future;
use std::net::Ipv6Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bgp_ls_support::*;
use common::daemon::{self, Daemon};
use common::grpc::policy;
use cpn::document::parse_request;
use cpn::proto::convert;
use cpn::proto::gobgp as api;
use cpn::proto::gobgp::gobgp_api_client::GobgpApiClient;
use cpn::proto::v1 as pb;
use cpn::proto::v1::bgp_ls_service_client::BgpLsServiceClient;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use tonic::transport::Channel;

/// Waits (at most 30 s) until `check` gives `Some`.
pub(crate) async fn until<T, F: Future<Output = Option<T>>>(
    what: &str,
    check: impl FnMut() -> F,
) -> T {
    common::wait::eventually(what, Duration::from_secs(30), check).await
}

/// cpnd on the lab's business data, learning over BGP-LS on a free port.
pub(crate) fn cpnd(dir: &Path, extra: &[&str]) -> (Daemon, String) {
    let business = dir.join("business.yaml");
    std::fs::write(&business, lab_business()).unwrap();
    let mut args = vec![
        "--topology",
        business.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--bgp-ls",
        "127.0.0.1:0",
        "--bgp-ls-batch-ms",
        "50",
        "--no-southbound",
    ];
    args.extend_from_slice(extra);
    let d = daemon::spawn(env!("CARGO_BIN_EXE_cpnd"), &args, "serving gRPC");
    let bgp = d.logged("listening for BGP-LS", "addr").unwrap();
    (d, bgp)
}

pub(crate) async fn topology(ch: &Channel) -> pb::Topology {
    TopologyServiceClient::new(ch.clone())
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap()
}

pub(crate) async fn status(ch: &Channel) -> pb::GetBgpLsStatusResponse {
    BgpLsServiceClient::new(ch.clone())
        .get_bgp_ls_status(pb::GetBgpLsStatusRequest {})
        .await
        .unwrap()
        .into_inner()
}

pub(crate) fn link<'a>(t: &'a pb::Topology, id: &str) -> &'a pb::Link {
    t.links
        .iter()
        .find(|l| l.id == id)
        .unwrap_or_else(|| panic!("link {id}"))
}

pub(crate) fn sid_of(t: &pb::Topology, router: &str, link: &str) -> Ipv6Addr {
    let r = t.routers.iter().find(|r| r.id == router).unwrap();
    r.sids
        .iter()
        .find(|s| s.link == link)
        .map(|s| s.sid.parse().unwrap())
        .unwrap_or_else(|| panic!("End.X of {router} on {link}"))
}

/// A gobgpd process; killed and reaped on drop.
struct Gobgpd {
    child: Child,
    api: String,
}

impl Drop for Gobgpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

use common::ports::free_port;

/// gobgpd (AS 65000) with cpnd as its one BGP-LS neighbor, graceful restart
/// on (so that it sends End-of-RIB), the neighbor `admin-down` until the
/// test enables it. gobgpd cannot bind port 0: a taken API port is retried.
async fn start_gobgpd(dir: &Path, cpnd_bgp: &str) -> (Gobgpd, GobgpApiClient<Channel>) {
    let (host, port) = cpnd_bgp.rsplit_once(':').unwrap();
    let config = format!(
        r#"[global.config]
  as = 65000
  router-id = "10.0.0.254"
  port = -1

[[neighbors]]
  [neighbors.config]
    neighbor-address = "{host}"
    peer-as = 64512
    admin-down = true
  [neighbors.transport.config]
    remote-port = {port}
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ls"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
"#
    );
    let file = dir.join("gobgpd.toml");
    std::fs::write(&file, config).unwrap();
    for attempt in 0..5 {
        let api_addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.join(format!("gobgpd-{attempt}.log"))).unwrap();
        let child = Command::new(gobgpd_binary())
            .args(["-f", file.to_str().unwrap(), "--api-hosts", &api_addr])
            .args(["--pprof-disable", "-p"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut g = Gobgpd {
            child,
            api: api_addr,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            if g.child.try_wait().unwrap().is_some() {
                break;
            }
            if let Ok(c) = Channel::from_shared(format!("http://{}", g.api))
                .unwrap()
                .connect()
                .await
            {
                let mut c = GobgpApiClient::new(c);
                if c.get_bgp(api::GetBgpRequest {}).await.is_ok() {
                    return (g, c);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(g);
    }
    panic!("gobgpd does not start; logs in {}", dir.display());
}

fn ls_family() -> api::Family {
    api::Family {
        afi: api::family::Afi::Ls.into(),
        safi: api::family::Safi::Ls.into(),
    }
}

fn any(name: &str, m: &impl prost::Message) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/apipb.{name}"),
        value: m.encode_to_vec(),
    }
}

/// Originates `route` at gobgpd: the NLRI in wire form, ORIGIN, NEXT_HOP,
/// and the BGP-LS attribute byte for byte (an UnknownAttribute of type 29).
async fn add(c: &mut GobgpApiClient<Channel>, route: &Route) {
    let path = api::Path {
        family: Some(ls_family()),
        nlri_binary: route.nlri.clone(),
        pattrs: vec![
            any("OriginAttribute", &api::OriginAttribute { origin: 0 }),
            any(
                "NextHopAttribute",
                &api::NextHopAttribute {
                    next_hop: "10.0.0.254".into(),
                },
            ),
            any(
                "UnknownAttribute",
                &api::UnknownAttribute {
                    flags: 0x80,
                    r#type: 29,
                    value: route.attr.clone(),
                },
            ),
        ],
        ..Default::default()
    };
    c.add_path(api::AddPathRequest {
        path: Some(path),
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("gobgpd takes {}: {e}", route.what));
}

async fn delete(c: &mut GobgpApiClient<Channel>, route: &Route) {
    c.delete_path(api::DeletePathRequest {
        family: Some(ls_family()),
        path: Some(api::Path {
            family: Some(ls_family()),
            nlri_binary: route.nlri.clone(),
            is_withdraw: true,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpnd_learns_the_lab_from_gobgpd_and_follows_its_changes() {
    let test = "bgp_ls::cpnd_learns_the_lab_from_gobgpd_and_follows_its_changes";
    if !common::system::available(test, &[common::system::GOBGPD]).await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cpnd, bgp) = cpnd(dir.path(), &[]);
    let ch = cpnd.channel().await;
    // Business data only: no router yet.
    assert_eq!(topology(&ch).await.routers.len(), 0);
    let (_g, mut gobgp) = start_gobgpd(dir.path(), &bgp).await;

    // The whole lab into gobgpd first; then the session, which carries
    // the table and End-of-RIB.
    let lab = lab();
    let routes = lab_routes(&lab);
    for r in &routes {
        add(&mut gobgp, r).await;
    }
    assert!(!status(&ch).await.synced);
    gobgp
        .enable_peer(api::EnablePeerRequest {
            address: bgp.rsplit_once(':').unwrap().0.into(),
        })
        .await
        .unwrap();
    let c = &ch;
    let t = until("the lab is learned", move || async move {
        let t = topology(c).await;
        (t.routers.len() == 7 && t.links.len() == 9).then_some(t)
    })
    .await;

    // What was learned is the lab: metrics, operators, cities.
    for (ix, want) in lab.links() {
        let got = link(&t, want.id.as_str());
        let (a, b) = lab.link_ends(ix);
        assert_eq!(
            (got.a.as_str(), got.b.as_str()),
            (lab.router(a).id.as_str(), lab.router(b).id.as_str())
        );
        assert_eq!(
            (
                got.igp,
                got.te,
                got.latency_us,
                got.bandwidth_mbps,
                got.used_mbps
            ),
            (
                want.igp,
                want.te,
                want.latency_us,
                want.bandwidth_mbps,
                want.used_mbps
            ),
            "{}",
            want.id
        );
        assert_eq!(
            (got.jitter_us, got.loss_ppm, &got.srlg),
            (want.jitter_us, want.loss_ppm, &want.srlg)
        );
        assert!(got.up);
        assert_eq!(
            got.peering,
            lab.link_kind(ix) == cpn::model::LinkKind::Peering
        );
        // The network's End.X SIDs, not CPN's allocation.
        assert_eq!(sid_of(&t, got.a.as_str(), &got.id), end_x(&lab, a, ix));
        assert_eq!(sid_of(&t, got.b.as_str(), &got.id), end_x(&lab, b, ix));
    }
    for (_, want) in lab.routers() {
        let got = t.routers.iter().find(|r| r.id == want.id.as_str()).unwrap();
        assert_eq!(got.locator, want.locator.to_string());
        assert_eq!(got.operator, lab.operator(want.operator).id.as_str());
        assert_eq!(got.city, want.city.clone().unwrap_or_default());
        assert_eq!(got.msd, u32::from(want.msd));
    }
    assert_eq!(t.datacenters.len(), 3);
    let s = status(&ch).await;
    assert!(s.synced && s.enabled);
    assert_eq!(s.peers.len(), 1);
    let p = &s.peers[0];
    assert_eq!(
        (p.state.as_str(), p.asn, p.synced),
        ("Established", 65000, true)
    );
    assert_eq!((p.nodes, p.links, p.prefixes), (7, 18, 7));
    assert!(p.counters.as_ref().unwrap().end_of_rib >= 1);
    assert!(
        s.routers.iter().all(|o| o.source == "bgp-ls 127.0.0.1"),
        "{:?}",
        s.routers
    );
    assert_eq!(s.links.len(), 9);
    assert_eq!(s.rebuilds, 1);

    // A latency-bound HPC job (only dc-central has HPC): a1-a3-a4-b1; the
    // peering link is crossed with a4's learned End.X.
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
    let p = policy(&mut policies, "hpc").await;
    assert_eq!(p.path, ["a1", "a3", "a4", "b1"]);
    let a4 = lab.router_ix("a4").unwrap();
    let a4b1 = lab.link_ix("a4-b1").unwrap();
    let learned = end_x(&lab, a4, a4b1).to_string();
    assert!(
        p.segments.iter().any(|s| s.sid == learned),
        "{:?}",
        p.segments
    );

    // a3-a4 withdrawn (both directions): link_down, the policy moves.
    let a3a4 = lab.link_ix("a3-a4").unwrap();
    let (a3, a4) = lab.link_ends(a3a4);
    delete(&mut gobgp, &link_route(&lab, a3a4, a3, None)).await;
    delete(&mut gobgp, &link_route(&lab, a3a4, a4, None)).await;
    let moved = until("the policy leaves a3-a4", move || async move {
        let p = policy(&mut PolicyServiceClient::new(c.clone()), "hpc").await;
        (p.path == ["a1", "a2", "a4", "b1"]).then_some(p)
    })
    .await;
    assert_eq!(moved.state, "up");
    let t = topology(&ch).await;
    assert!(!link(&t, "a3-a4").up, "kept, down");

    // a4-b1's delay raised to 9 ms on both sides: set_link, the policy
    // goes by b2.
    let (x, y) = lab.link_ends(a4b1);
    add(&mut gobgp, &link_route(&lab, a4b1, x, Some(9000))).await;
    add(&mut gobgp, &link_route(&lab, a4b1, y, Some(9000))).await;
    until("the policy leaves the slow link", move || async move {
        let p = policy(&mut PolicyServiceClient::new(c.clone()), "hpc").await;
        (p.path == ["a1", "a2", "a4", "b2"]).then_some(())
    })
    .await;
    assert_eq!(link(&topology(&ch).await, "a4-b1").latency_us, 9000);
    let s = status(&ch).await;
    assert_eq!(
        s.rebuilds, 1,
        "changes are events, not rebuilds: {}",
        s.last_apply
    );
    assert!(s.event_batches >= 2);

    // cpnctl shows it all.
    let server = format!("http://{}", cpnd.addr);
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["--server", &server, "bgp-ls", "status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["peers"][0]["state"], "Established");
    assert_eq!(v["routers"]["a1"], "bgp-ls 127.0.0.1");
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["--server", &server, "topology", "--sources"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("bgp-ls 127.0.0.1") && text.contains("a3-a4"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["--server", &server, "bgp-ls", "status"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Established") && text.contains("network applied"),
        "{text}"
    );
    cpnd.terminate();
}

#[path = "bgp_ls_support/scripted.rs"]
mod scripted;
