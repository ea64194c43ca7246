//! The Linux agent against a real kernel (root): one router namespace with
//! one link, programmed through the agent's back end. What it lists is what
//! the kernel holds; routes removed behind its back, or left by someone
//! else of its protocol, show up for reconciliation; it survives its own
//! restart through its state file; it refuses what a headend would.
//! Micro-SIDs (RFC 9800) become /48 routes with the next-csid flavor on End
//! and End.X, read back; compressed policies use H.Encaps.Red.

mod common;

use std::net::Ipv6Addr;

use common::system;
use cpn::netlink::routes::{self, AGENT_PROTOCOL, MAIN_TABLE, Route};
use cpn::netlink::{links, netns};
use cpn::proto::v1 as pb;
use cpn::router::Backend;
use cpn::router::linux::{Adjacency, LinuxAgent, LinuxConfig};
use tonic::Code;

/// A namespace removed on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = netns::delete(&self.0);
    }
}

fn provision() -> pb::ProvisionSidsRequest {
    let sid = |sid: &str, behavior: pb::SidBehavior, link: &str| pb::LocalSid {
        sid: sid.into(),
        behavior: behavior as i32,
        link: link.into(),
        ..Default::default()
    };
    pb::ProvisionSidsRequest {
        router: "r1".into(),
        locator: "fc00:1::/48".into(),
        msd: 2,
        sids: vec![
            sid("fc00:1::", pb::SidBehavior::End, ""),
            sid("fc00:1:0:d000::", pb::SidBehavior::EndDt6, ""),
            sid("fc00:1:0:e001::", pb::SidBehavior::EndX, "r1-r2"),
        ],
        csid_block: String::new(),
    }
}

fn policy(name: &str, version: u64, segments: &[&str]) -> pb::ApplyPolicyRequest {
    pb::ApplyPolicyRequest {
        router: "r1".into(),
        policy: Some(pb::SrPolicy {
            name: name.into(),
            version,
            destination: "fd00:dc:1::/64".into(),
            preference: 100,
            segments: segments
                .iter()
                .map(|s| pb::PolicySegment {
                    sid: (*s).into(),
                    behavior: pb::SidBehavior::End as i32,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
    }
}

async fn kernel(ns: &str) -> Vec<Route> {
    let h = netns::connect(Some(ns)).unwrap();
    routes::dump(&h, MAIN_TABLE, AGENT_PROTOCOL)
        .await
        .unwrap()
        .into_iter()
        .map(|(r, _)| r)
        .collect()
}

fn held(state: &pb::ListStateResponse) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = state
        .policies
        .iter()
        .map(|p| (p.name.clone(), p.version))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_lists_what_the_kernel_holds_and_survives_a_restart() {
    let test = "the_agent_lists_what_the_kernel_holds_and_survives_a_restart";
    if !system::available_on_an_srv6_kernel(test, &[system::SRV6]).await {
        return;
    }
    let name = format!("cpn-test-agent-{}", std::process::id());
    let _ = netns::delete(&name);
    netns::create(&name).unwrap();
    let _guard = Netns(name.clone());
    let h = netns::connect(Some(&name)).unwrap();
    links::set_up(&h, "lo", true).await.unwrap();
    links::veth_local(&h, "w1", "w1p").await.unwrap();
    links::add_address(&h, "w1", "fd00:1ab::1".parse().unwrap(), 64)
        .await
        .unwrap();
    links::set_up(&h, "w1", true).await.unwrap();
    links::set_up(&h, "w1p", true).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = LinuxConfig::new("r1");
    config.netns = Some(name.clone());
    config.state_file = dir.path().join("r1.pb");
    config.links.insert(
        "r1-r2".into(),
        Adjacency {
            interface: "w1".into(),
            next_hop: "fd00:1ab::2".parse().unwrap(),
        },
    );
    let agent = LinuxAgent::start(config.clone()).await.unwrap();
    assert!(!agent.list_state("r1").await.unwrap().known);
    assert_eq!(
        agent.list_state("r2").await.unwrap_err().code(),
        Code::InvalidArgument,
        "another router's request: refused, not \"provision me\""
    );

    // SIDs become seg6local routes.
    agent.provision_sids(provision()).await.unwrap();
    let mut locals: Vec<(Ipv6Addr, String)> = kernel(&name)
        .await
        .into_iter()
        .filter_map(|r| match r {
            Route::Local { sid, action, .. } => Some((sid, format!("{action:?}"))),
            _ => None,
        })
        .collect();
    locals.sort();
    assert_eq!(
        locals,
        [
            ("fc00:1::".parse().unwrap(), "Some(End)".to_owned()),
            (
                "fc00:1:0:d000::".parse().unwrap(),
                "Some(EndDt6 { table: 254 })".to_owned()
            ),
            (
                "fc00:1:0:e001::".parse().unwrap(),
                "Some(EndX { next_hop: fd00:1ab::2 })".to_owned()
            ),
        ]
    );

    // A policy is an encap route; too many segments are refused.
    agent
        .apply_policy(policy("p", 1, &["fc00:2::", "fc00:3::"]))
        .await
        .unwrap();
    let too_deep = policy("q", 1, &["fc00:2::", "fc00:3::", "fc00:4::"]);
    assert_eq!(
        agent.apply_policy(too_deep).await.unwrap_err().code(),
        Code::OutOfRange
    );
    let encap = |routes: &[Route]| {
        routes.iter().find_map(|r| match r {
            Route::Encap { segments, .. } => Some(segments.clone()),
            _ => None,
        })
    };
    let want: Vec<Ipv6Addr> = vec!["fc00:2::".parse().unwrap(), "fc00:3::".parse().unwrap()];
    assert_eq!(encap(&kernel(&name).await), Some(want));
    // The kernel steers by destination: a second policy there is refused.
    let e = agent
        .apply_policy(policy("twin", 1, &["fc00:2::"]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("by policy p already"),
        "{}",
        e.message()
    );
    // An older version changes nothing.
    assert_eq!(
        agent
            .apply_policy(policy("p", 0, &["fc00:9::"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        held(&agent.list_state("r1").await.unwrap()),
        [("p".into(), 1)]
    );

    // A push the kernel cannot take (the SID device is gone, and the
    // policy's route with it) is not taken as done: the retry does the work
    // (it would be answered "version 2 held already" otherwise).
    links::delete(&h, "cpnsid0").await.unwrap();
    let v2 = policy("p", 2, &["fc00:2::", "fc00:4::"]);
    assert_eq!(
        agent.apply_policy(v2.clone()).await.unwrap_err().code(),
        Code::Unavailable
    );
    assert_eq!(encap(&kernel(&name).await), None);
    // Its End and End.DT6 went with the device too: the SIDs read as not
    // intact (so that cpnd provisions them again).
    assert!(agent.list_state("r1").await.unwrap().sids.is_empty());
    links::veth_local(&h, "cpnsid0", "cpnsid0p").await.unwrap();
    links::set_up(&h, "cpnsid0", true).await.unwrap();
    agent.provision_sids(provision()).await.unwrap();
    assert_eq!(agent.list_state("r1").await.unwrap().sids.len(), 3);
    assert_eq!(agent.apply_policy(v2).await.unwrap(), 2);
    let want2: Vec<Ipv6Addr> = vec!["fc00:2::".parse().unwrap(), "fc00:4::".parse().unwrap()];
    assert_eq!(encap(&kernel(&name).await), Some(want2));
    agent
        .apply_policy(policy("p", 3, &["fc00:2::", "fc00:3::"]))
        .await
        .unwrap();

    // A restart: the state file names what the kernel holds.
    drop(agent);
    let agent = LinuxAgent::start(config.clone()).await.unwrap();
    let state = agent.list_state("r1").await.unwrap();
    assert!(state.known);
    assert_eq!(state.sids.len(), 3);
    assert_eq!(held(&state), [("p".into(), 3)]);

    // Behind its back: the route goes; another of its protocol appears.
    for (r, m) in routes::dump(&h, MAIN_TABLE, AGENT_PROTOCOL).await.unwrap() {
        if matches!(r, Route::Encap { .. }) {
            routes::delete(&h, m).await.unwrap();
        }
    }
    let oif = links::require(&h, "w1").await.unwrap();
    let stray: ipnetwork::Ipv6Network = "fd00:dc:9::/64".parse().unwrap();
    routes::add_encap(
        &h,
        stray,
        &["fc00:5::".parse().unwrap()],
        oif,
        AGENT_PROTOCOL,
    )
    .await
    .unwrap();
    let state = agent.list_state("r1").await.unwrap();
    assert_eq!(
        held(&state),
        [("kernel:fd00:dc:9::/64".into(), 0)],
        "the lost policy is not held; the stray route is named for removal"
    );
    agent
        .remove_policy(pb::RemoveRouterPolicyRequest {
            router: "r1".into(),
            name: "kernel:fd00:dc:9::/64".into(),
        })
        .await
        .unwrap();
    assert_eq!(encap(&kernel(&name).await), None);
    // Pushed again, it is back.
    agent
        .apply_policy(policy("p", 3, &["fc00:2::", "fc00:3::"]))
        .await
        .unwrap();
    assert!(encap(&kernel(&name).await).is_some());
    assert_eq!(
        held(&agent.list_state("r1").await.unwrap()),
        [("p".into(), 3)]
    );
}

/// A namespace with one link (w1 to fd00:1ab::2) and an agent for r1.
async fn one_link_router(tag: &str) -> (Netns, std::sync::Arc<LinuxAgent>, tempfile::TempDir) {
    let name = format!("cpn-test-{tag}-{}", std::process::id());
    let _ = netns::delete(&name);
    netns::create(&name).unwrap();
    let guard = Netns(name.clone());
    let h = netns::connect(Some(&name)).unwrap();
    links::set_up(&h, "lo", true).await.unwrap();
    links::veth_local(&h, "w1", "w1p").await.unwrap();
    links::add_address(&h, "w1", "fd00:1ab::1".parse().unwrap(), 64)
        .await
        .unwrap();
    links::set_up(&h, "w1", true).await.unwrap();
    links::set_up(&h, "w1p", true).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = LinuxConfig::new("r1");
    config.netns = Some(name);
    config.state_file = dir.path().join("r1.pb");
    config.links.insert(
        "r1-r2".into(),
        Adjacency {
            interface: "w1".into(),
            next_hop: "fd00:1ab::2".parse().unwrap(),
        },
    );
    (guard, LinuxAgent::start(config).await.unwrap(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn micro_sids_carry_the_next_csid_flavor_and_compressed_policies_are_reduced() {
    let test = "micro_sids_carry_the_next_csid_flavor_and_compressed_policies_are_reduced";
    if !system::available_on_an_srv6_kernel(test, &[system::NEXT_CSID]).await {
        return;
    }
    let (ns, agent, _dir) = one_link_router("csid").await;
    let f3216 = Some(pb::SidStructure {
        locator_block_bits: 32,
        locator_node_bits: 16,
        function_bits: 0,
        argument_bits: 80,
    });
    let next_csid = vec![pb::SidFlavor::NextCsid as i32];
    let micro = |sid: &str, behavior: pb::SidBehavior, link: &str, flavors: &[i32]| pb::LocalSid {
        sid: sid.into(),
        behavior: behavior as i32,
        link: link.into(),
        flavors: flavors.to_vec(),
        structure: f3216,
        ..Default::default()
    };
    let mut request = provision();
    request.csid_block = "fc00::/32".into();
    request.sids.extend([
        micro("fc00:0:100::", pb::SidBehavior::End, "", &next_csid),
        micro("fc00:0:e000::", pb::SidBehavior::EndDt6, "", &[]),
        micro("fc00:0:e001::", pb::SidBehavior::EndX, "r1-r2", &next_csid),
    ]);
    agent.provision_sids(request.clone()).await.unwrap();
    let mut micro_routes: Vec<(String, Option<(u8, u8)>)> = kernel(&ns.0)
        .await
        .into_iter()
        .filter_map(|r| match &r {
            Route::Local {
                prefix_len: 48,
                next_csid,
                ..
            } => Some((
                r.prefix().to_string(),
                next_csid.map(|f| (f.block_bits, f.node_function_bits)),
            )),
            _ => None,
        })
        .collect();
    micro_routes.sort();
    assert_eq!(
        micro_routes,
        [
            ("fc00:0:100::/48".to_owned(), Some((32, 16))),
            ("fc00:0:e000::/48".to_owned(), None),
            ("fc00:0:e001::/48".to_owned(), Some((32, 16))),
        ],
        "uN and uA flavored, uDT6 plain, each a /48"
    );
    let state = agent.list_state("r1").await.unwrap();
    assert_eq!(state.sids.len(), 6, "held as provisioned");
    // Provisioning again keeps the routes (nothing to replace).
    agent.provision_sids(request).await.unwrap();

    // One container: H.Encaps.Red, the container alone.
    let mut p = policy("c", 1, &["fc00:0:100:e001:e000::"]);
    p.policy.as_mut().unwrap().encapsulation = pb::Encapsulation::HEncapsRed as i32;
    agent.apply_policy(p).await.unwrap();
    let encap: Vec<(Vec<Ipv6Addr>, bool)> = kernel(&ns.0)
        .await
        .into_iter()
        .filter_map(|r| match r {
            Route::Encap {
                segments, reduced, ..
            } => Some((segments, reduced)),
            _ => None,
        })
        .collect();
    assert_eq!(
        encap,
        [(vec!["fc00:0:100:e001:e000::".parse().unwrap()], true)]
    );
    assert_eq!(
        held(&agent.list_state("r1").await.unwrap()),
        [("c".into(), 1)],
        "the reduced route reads back as the policy"
    );
}
