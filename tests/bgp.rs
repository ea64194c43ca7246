//! BGP SR Policy through real GoBGP speakers: two `gobgpd` on loopback with
//! an iBGP session carrying the SR Policy family; `cpnd` pushes to the first
//! through its gRPC API; the second's RIB must receive exactly the policy
//! over the real session. The routes are read on the wire bytes GoBGP
//! received (RFC 9830, RFC 9012 encodings parsed here, not by CPN's code).
//!
//! Needs `gobgpd` (Debian package `gobgpd`, which `.ci/run` installs).

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::daemon;
use common::grpc::policy;
use common::system;
use common::wait::eventually;
use cpn::document::{PolicyJson, parse_request};
use cpn::proto::convert;
use cpn::proto::gobgp as api;
use cpn::proto::gobgp::gobgp_api_client::GobgpApiClient;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// The BGP Identifier CPN names headend a1 by.
const A1_ID: &str = "10.0.0.11";

use common::ports::free_port_on as free_port;

fn gobgpd_binary() -> std::path::PathBuf {
    let system::Need::Program { name, paths, .. } = system::GOBGPD else {
        unreachable!("gobgpd is a program")
    };
    system::program(name, paths).expect("checked by the test first")
}

/// A gobgpd process; killed and reaped on drop.
struct Speaker {
    child: Child,
    api: String,
}

impl Speaker {
    /// True while the process runs (gobgpd exits when a port it was given
    /// is taken).
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts gobgpd as `me` (router id, listen address and port) peering
/// with `peer` (address and port), SR Policy family on the session.
fn speaker(dir: &Path, name: &str, me: (&str, &str, u16), peer: (&str, u16)) -> Speaker {
    let (router_id, address, port) = me;
    let config = format!(
        r#"[global.config]
  as = 65000
  router-id = "{router_id}"
  port = {port}
  local-address-list = ["{address}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "{peer_address}"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "{address}"
    remote-port = {peer_port}
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-srpolicy"
"#,
        peer_address = peer.0,
        peer_port = peer.1,
    );
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, config).unwrap();
    let api = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(gobgpd_binary())
        .args(["-f", file.to_str().unwrap(), "--api-hosts", &api])
        .args(["--pprof-disable", "-p"])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    Speaker { child, api }
}

/// A client of the speaker's API once it answers; `None` if the process
/// ended first (a port it was given was taken).
async fn client(s: &mut Speaker) -> Option<GobgpApiClient<Channel>> {
    let what = format!("gobgpd answers on {} or exits", s.api);
    let api = s.api.clone();
    let child = std::sync::Mutex::new(s);
    eventually(&what, Duration::from_secs(30), || async {
        if !child.lock().unwrap().running() {
            return Some(None);
        }
        let c = Channel::from_shared(format!("http://{api}"))
            .unwrap()
            .connect()
            .await
            .ok()?;
        let mut c = GobgpApiClient::new(c);
        c.get_bgp(api::GetBgpRequest {}).await.ok()?;
        Some(Some(c))
    })
    .await
}

async fn established(c: &mut GobgpApiClient<Channel>) -> bool {
    let Ok(r) = c.list_peer(api::ListPeerRequest::default()).await else {
        return false;
    };
    let peers: Vec<_> = r.into_inner().collect().await;
    let up = api::peer_state::SessionState::Established as i32;
    !peers.is_empty()
        && peers.iter().all(|p| {
            p.as_ref()
                .ok()
                .and_then(|p| p.peer.as_ref()?.state.as_ref())
                .is_some_and(|s| s.session_state == up)
        })
}

/// An SR Policy route as received on the wire.
#[derive(Debug, PartialEq)]
struct Wire {
    distinguisher: u32,
    color: u32,
    endpoint: Ipv6Addr,
    route_targets: Vec<Ipv4Addr>,
    preference: Option<u32>,
    binding_sid: Option<Ipv6Addr>,
    /// (SID, endpoint behavior codepoint)
    segments: Vec<(Ipv6Addr, u16)>,
    from: String,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn v6_at(b: &[u8], i: usize) -> Ipv6Addr {
    Ipv6Addr::from(<[u8; 16]>::try_from(&b[i..i + 16]).unwrap())
}

/// Parses one path from its wire NLRI (RFC 9830 2.1) and wire attributes.
fn parse_wire(p: &api::Path) -> Wire {
    let n = &p.nlri_binary;
    assert_eq!(n[0], 192, "NLRI length in bits");
    let mut w = Wire {
        distinguisher: u32_at(n, 1),
        color: u32_at(n, 5),
        endpoint: v6_at(n, 9),
        route_targets: Vec::new(),
        preference: None,
        binding_sid: None,
        segments: Vec::new(),
        from: p.neighbor_ip.clone(),
    };
    for a in &p.pattrs_binary {
        // flags, type, length (2 bytes when extended), value
        let (kind, value) = if a[0] & 0x10 != 0 {
            (a[1], &a[4..4 + usize::from(u16_at(a, 2))])
        } else {
            (a[1], &a[3..3 + usize::from(a[2])])
        };
        match kind {
            16 => {
                for c in value.chunks(8) {
                    // Transitive IPv4-address-specific, route target.
                    if c[0] == 0x01 && c[1] == 0x02 {
                        w.route_targets.push(Ipv4Addr::new(c[2], c[3], c[4], c[5]));
                    }
                }
            }
            23 => parse_tunnel_encap(value, &mut w),
            _ => {}
        }
    }
    w
}

/// RFC 9012 tunnel encapsulation: TLVs of type 2 + length 2; sub-TLVs with a
/// 1-byte length below type 128 and a 2-byte one from 128.
fn parse_tunnel_encap(mut b: &[u8], w: &mut Wire) {
    while b.len() >= 4 {
        let (kind, len) = (u16_at(b, 0), usize::from(u16_at(b, 2)));
        let mut tlv = &b[4..4 + len];
        b = &b[4 + len..];
        assert_eq!(kind, 15, "an SR Policy tunnel");
        while !tlv.is_empty() {
            let sub = tlv[0];
            let (value, rest) = if sub < 128 {
                let l = usize::from(tlv[1]);
                (&tlv[2..2 + l], &tlv[2 + l..])
            } else {
                let l = usize::from(u16_at(tlv, 1));
                (&tlv[3..3 + l], &tlv[3 + l..])
            };
            tlv = rest;
            match sub {
                // Preference: flags, reserved, 4 bytes.
                12 => w.preference = Some(u32_at(value, 2)),
                // Binding SID: flags, reserved, SID.
                13 if value.len() == 18 => w.binding_sid = Some(v6_at(value, 2)),
                // Segment list: reserved, then sub-TLVs (weight, segments).
                128 => {
                    let mut s = &value[1..];
                    while !s.is_empty() {
                        let (t, l) = (s[0], usize::from(s[1]));
                        let v = &s[2..2 + l];
                        s = &s[2 + l..];
                        if t == 13 {
                            // Type B: flags, reserved, SID, then the
                            // behavior (2 bytes) and structure when the
                            // B-flag is set (behavior 0: none said).
                            let behavior = if v[0] & 0x10 != 0 { u16_at(v, 18) } else { 0 };
                            w.segments.push((v6_at(v, 2), behavior));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Every SR Policy route in `c`'s global RIB.
async fn rib(c: &mut GobgpApiClient<Channel>) -> Vec<Wire> {
    let r = api::ListPathRequest {
        table_type: api::TableType::Global.into(),
        family: Some(cpn::southbound::bgp::path::family()),
        enable_nlri_binary: true,
        enable_attribute_binary: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut stream = c.list_path(r).await.unwrap().into_inner();
    while let Some(d) = stream.next().await {
        for p in &d.unwrap().destination.unwrap().paths {
            out.push(parse_wire(p));
        }
    }
    out
}

/// Waits (at most 30 s) until `c`'s RIB satisfies `done`; returns it.
async fn rib_until(
    c: &mut GobgpApiClient<Channel>,
    what: &str,
    done: impl Fn(&[Wire]) -> bool,
) -> Vec<Wire> {
    let done = &done;
    eventually(what, Duration::from_secs(30), || {
        let mut c = c.clone();
        async move {
            let now = rib(&mut c).await;
            if done(&now) {
                Ok(now)
            } else {
                Err(format!("the RIB holds {now:?}"))
            }
        }
    })
    .await
}

fn segments(p: &PolicyJson) -> Vec<(Ipv6Addr, u16)> {
    p.segments
        .iter()
        .map(|s| {
            let codepoint = match s.behavior.as_str() {
                "End" => 1,
                "End.X" => 5,
                "End.DT6" => 18,
                other => panic!("behavior {other}"),
            };
            (s.sid.parse().unwrap(), codepoint)
        })
        .collect()
}

/// Two gobgpd peering with each other: A (CPN's speaker) and B (standing
/// for a headend's BGP), with their API clients. gobgpd cannot take port 0,
/// so the ports are picked free beforehand; if one was taken meanwhile (the
/// process exits), the pair is started again on others.
async fn speaker_pair(
    dir: &Path,
) -> (
    (Speaker, GobgpApiClient<Channel>),
    (Speaker, GobgpApiClient<Channel>),
) {
    for _ in 0..5 {
        let (port_a, port_b) = (free_port("127.0.0.1"), free_port("127.0.0.2"));
        let mut a = speaker(
            dir,
            "a",
            ("10.255.0.1", "127.0.0.1", port_a),
            ("127.0.0.2", port_b),
        );
        let mut b = speaker(
            dir,
            "b",
            ("10.255.0.2", "127.0.0.2", port_b),
            ("127.0.0.1", port_a),
        );
        let (ca, cb) = tokio::join!(client(&mut a), client(&mut b));
        if let (Some(ca), Some(cb)) = (ca, cb)
            && a.running()
            && b.running()
        {
            return ((a, ca), (b, cb));
        }
    }
    panic!("gobgpd would not start (logs in {})", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sr_policies_reach_a_real_bgp_peer_and_are_withdrawn() {
    if !system::available("bgp::sr_policies_reach_a_real_bgp_peer", &[system::GOBGPD]).await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ((a, mut ca), (_b, mut cb)) = speaker_pair(dir.path()).await;
    let what = format!("the BGP session is up (logs in {})", dir.path().display());
    eventually(&what, Duration::from_secs(60), || {
        let (mut ca, mut cb) = (ca.clone(), cb.clone());
        async move { (established(&mut ca).await && established(&mut cb).await).then_some(()) }
    })
    .await;

    // cpnd on the lab, a1 reached through A (no agents anywhere).
    let lab = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap();
    let lab: String = lab
        .lines()
        .filter(|l| !l.trim_start().starts_with("mgmt:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let topology = dir.path().join("lab.yaml");
    std::fs::write(&topology, lab).unwrap();
    let southbound = dir.path().join("southbound.yaml");
    std::fs::write(
        &southbound,
        format!(
            "bgp:\n  - speaker: \"{}\"\n    headends: {{a1: {A1_ID}}}\n",
            a.api
        ),
    )
    .unwrap();
    let cpnd = daemon::spawn(
        env!("CARGO_BIN_EXE_cpnd"),
        &[
            "--topology",
            topology.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--southbound",
            southbound.to_str().unwrap(),
            "--reconcile-interval",
            "0.5",
        ],
        "serving gRPC",
    );
    let channel = cpnd.channel().await;
    let mut policies = PolicyServiceClient::new(channel.clone());
    let request =
        parse_request("{from: a1, compute: {kind: ai, tflops: 200}, objective: price}").unwrap();
    policies
        .install_policy(pb::InstallPolicyRequest {
            name: "train".into(),
            request: Some(convert::request_to_pb(&request)),
            ..Default::default()
        })
        .await
        .unwrap();
    let installed = policy(&mut policies, "train").await;
    // dc-west, the cheapest with 200 TFLOPS of AI, behind b3.
    assert_eq!(installed.path.last().map(String::as_str), Some("b3"));

    // B received it over the session: color of price/none is 400, endpoint
    // b3's End SID (its locator fc00:b:3::/48), a1's route target, the
    // binding SID (a1's locator, function 1 for the first policy), and the
    // exact segment list with behaviors.
    let got = rib_until(&mut cb, "the policy reaches B", |r| r.len() == 1).await;
    let route = &got[0];
    assert_eq!(route.from, "127.0.0.1", "learned from A");
    assert_eq!(route.color, 400);
    assert_eq!(route.endpoint, "fc00:b:3::".parse::<Ipv6Addr>().unwrap());
    assert_eq!(route.route_targets, [A1_ID.parse::<Ipv4Addr>().unwrap()]);
    assert_eq!(route.preference, Some(100));
    assert_eq!(route.binding_sid, Some("fc00:a:1:1::".parse().unwrap()));
    assert_eq!(route.segments, segments(&installed));
    assert!(!route.segments.is_empty());
    let distinguisher = route.distinguisher;
    eventually("the status is applied", Duration::from_secs(30), || {
        let mut policies = policies.clone();
        async move {
            let p = policy(&mut policies, "train").await;
            (p.southbound == "applied").then_some(())
        }
    })
    .await;

    // A link of the path fails: the policy moves, and B's route changes in
    // place (same NLRI, new segments).
    let on_path = format!("{}-{}", installed.path[1], installed.path[2]);
    let event = convert::event_to_pb(
        &cpn::document::parse_event(&format!("{{link_down: {on_path}}}")).unwrap(),
    );
    TopologyServiceClient::new(channel.clone())
        .apply_event(pb::ApplyEventRequest {
            event: Some(event),
            ..Default::default()
        })
        .await
        .unwrap();
    let moved = policy(&mut policies, "train").await;
    assert_ne!(moved.path, installed.path);
    let want = segments(&moved);
    let got = rib_until(&mut cb, "the rerouted segments reach B", |r| {
        r.len() == 1 && r[0].segments == want
    })
    .await;
    assert_eq!(got[0].distinguisher, distinguisher);

    // Drift at the speaker: CPN's route withdrawn behind its back comes
    // back; a route with CPN's mark that no policy wants goes.
    let stray = cpn::southbound::bgp::path::encode(
        &pb::SrPolicy {
            name: "stray".into(),
            color: 100,
            endpoint: "fc00:a:4::".into(),
            segments: vec![pb::PolicySegment {
                sid: "fc00:a:4::".into(),
                behavior: 1,
                ..Default::default()
            }],
            version: 1,
            distinguisher: 999_999,
            ..Default::default()
        },
        A1_ID.parse().unwrap(),
        65000,
        "::",
    )
    .unwrap();
    ca.add_path(api::AddPathRequest {
        path: Some(stray),
        ..Default::default()
    })
    .await
    .unwrap();
    let own = cpn::southbound::bgp::path::Nlri {
        distinguisher,
        color: 400,
        endpoint: got[0].endpoint,
    };
    ca.delete_path(api::DeletePathRequest {
        family: Some(cpn::southbound::bgp::path::family()),
        path: Some(cpn::southbound::bgp::path::withdrawal(own)),
        ..Default::default()
    })
    .await
    .unwrap();
    // Both calls are done at A: A's RIB shows the repair, then B's.
    let repaired =
        |r: &[Wire]| r.len() == 1 && r[0].distinguisher == distinguisher && r[0].segments == want;
    rib_until(&mut ca, "reconciliation repairs the speaker", repaired).await;
    let healed = rib_until(&mut cb, "the repair reaches B", repaired).await;
    assert_eq!(healed[0].color, 400);

    // dc-west fills up: the policy moves to another data center, hence to
    // another endpoint and NLRI; the new route is there and the old one
    // withdrawn (same distinguisher: the same policy).
    let full = "{set_pool: {datacenter: dc-west, kind: ai, used_tflops: 4000}}";
    let event = convert::event_to_pb(&cpn::document::parse_event(full).unwrap());
    TopologyServiceClient::new(channel.clone())
        .apply_event(pb::ApplyEventRequest {
            event: Some(event),
            ..Default::default()
        })
        .await
        .unwrap();
    let elsewhere = policy(&mut policies, "train").await;
    assert_ne!(elsewhere.datacenter, installed.datacenter);
    let want = segments(&elsewhere);
    let old_endpoint = healed[0].endpoint;
    let got = rib_until(&mut cb, "the new NLRI replaces the old at B", |r| {
        r.len() == 1 && r[0].segments == want
    })
    .await;
    assert_ne!(got[0].endpoint, old_endpoint);
    assert_eq!(got[0].distinguisher, distinguisher);

    // Removed: withdrawn at B.
    policies
        .remove_policy(pb::RemovePolicyRequest {
            name: "train".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    rib_until(&mut cb, "the withdrawal reaches B", |r| r.is_empty()).await;
    cpnd.terminate();
}
