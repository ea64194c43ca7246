//! BGP-LS at scale, end to end over TCP with an in-process `cpnd --bgp-ls`:
//!
//! 1. time to learn a generated 10,000-router network from one session:
//!    from the first byte of the table to the model holding every router
//!    (decode, RIB, learn, build, controller replacement), with the
//!    sans-IO parts timed alone beside it;
//! 2. a delay update storm: 1,000 link-direction UPDATEs a second for
//!    10 s, each a new delay, with policies installed on the network: how
//!    far behind the model is, how much re-optimization it costs.
//!
//! `cargo bench --bench bgp_ls`; `CPN_BGP_LS_ROUTERS`, `CPN_BGP_LS_POLICIES`,
//! `CPN_BGP_LS_RATE`, `CPN_BGP_LS_SECONDS` change the figures.

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use cpn::bgp_ls::export::{export, messages};
use cpn::bgp_ls::merge::{build, learn};
use cpn::bgp_ls::rib::Rib;
use cpn::bgp_ls::session::{Config, Event, Output, Session};
use cpn::bgp_ls::wire::attr::Measured;
use cpn::bgp_ls::wire::message::{Capability, Message, Open};
use cpn::bgp_ls::wire::nlri::Nlri;
use cpn::bgp_ls::wire::update::Update;
use cpn::proto::v1 as pb;
use cpn::topology_file::business::parse_business;
use cpn::topology_file::generate::{GenerateParams, generate};
use rand::{RngExt, SeedableRng};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's CPU time (user + system), seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn open_bytes() -> Vec<u8> {
    Message::Open(Open {
        version: 4,
        my_as: 65000,
        hold_time: 0,
        bgp_id: Ipv4Addr::new(10, 9, 9, 9),
        capabilities: vec![Capability::Multiprotocol {
            afi: 16388,
            safi: 71,
        }],
    })
    .encode()
}

/// A counter from cpnd's `/metrics` at `addr`.
fn metric(addr: &str, name: &str) -> f64 {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Reads and drops whatever cpnd sends (its OPEN, KEEPALIVE, End-of-RIB).
fn drain(mut s: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
}

fn main() {
    let routers = env("CPN_BGP_LS_ROUTERS", 10_000) as usize;
    let doc = generate(
        &GenerateParams {
            routers,
            operators: 4,
            datacenters: 500.min(routers / 10).max(1),
            seed: 1,
            links: None,
            compressed: false,
        },
        &mut |_, _| {},
    )
    .unwrap();
    let file = doc.to_builder().unwrap().build().unwrap();
    let e = export(&file);
    let business_yaml = serde_yaml::to_string(&e.business).unwrap();
    let business = parse_business(&business_yaml, "business.yaml").unwrap();
    let table = messages(&e.routes, 65000, "10.0.0.1".parse().unwrap());
    let bytes: usize = table.iter().map(Vec::len).sum();
    println!(
        "network: {} routers, {} links, {} data centers; its table: {} routes in {} UPDATEs, {:.1} MB",
        file.router_count(),
        file.link_count(),
        file.datacenters().len(),
        e.routes.len(),
        table.len(),
        bytes as f64 / 1e6
    );

    // The sans-IO parts alone.
    let started = Instant::now();
    let now = Instant::now();
    let (mut s, _) = Session::new(Config::default(), now);
    s.receive(&open_bytes(), now);
    s.receive(&Message::Keepalive.encode(), now);
    let mut rib = Rib::new();
    rib.session_up("rr");
    for m in &table {
        for o in s.receive(m, now) {
            if let Output::Event(Event::Update(u)) = o {
                rib.apply("rr", &u);
            }
        }
    }
    let decoded = started.elapsed();
    let learned = learn(&rib, &business);
    let learned_at = started.elapsed();
    let built = build(&learned, &business, None).unwrap();
    let built_at = started.elapsed();
    assert_eq!(built.topology.router_count(), file.router_count());
    println!(
        "sans-IO, one thread: decode + RIB {:.2} s, learn {:.2} s, build {:.2} s: {:.2} s",
        decoded.as_secs_f64(),
        (learned_at - decoded).as_secs_f64(),
        (built_at - learned_at).as_secs_f64(),
        built_at.as_secs_f64()
    );
    drop((rib, learned, built));

    // End to end: cpnd in-process, the table over TCP.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let business_file = dir.path().join("business.yaml");
    std::fs::write(&business_file, &business_yaml).unwrap();
    let initial = build(&Default::default(), &business, None)
        .unwrap()
        .topology;
    let bgp_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut speaker =
        cpn::bgp_ls::speaker::Config::new(format!("127.0.0.1:{bgp_port}").parse().unwrap());
    speaker.eor_timeout = Duration::from_secs(60);
    let mut config =
        cpn::daemon::Config::new(Some(initial), Box::new(cpn::store::MemoryStore::default()));
    config.bgp_ls = Some(cpn::daemon::BgpLs { speaker, business });
    let metrics_addr = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    config.metrics = Some(metrics_addr.parse().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let daemon = runtime.spawn(cpn::daemon::run(config, listener, async {
        stop_rx.await.ok();
    }));
    let channel = runtime.block_on(async {
        loop {
            if let Ok(c) = tonic::transport::Channel::from_shared(url.clone())
                .unwrap()
                .connect()
                .await
            {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let status = |ch: &tonic::transport::Channel| {
        runtime.block_on(async {
            cpn::proto::v1::bgp_ls_service_client::BgpLsServiceClient::new(ch.clone())
                .get_bgp_ls_status(pb::GetBgpLsStatusRequest {})
                .await
                .unwrap()
                .into_inner()
        })
    };
    // Served once the speaker listens.
    assert!(status(&channel).enabled);
    let mut feed = TcpStream::connect(("127.0.0.1", bgp_port)).unwrap();
    feed.set_nodelay(true).unwrap();
    drain(feed.try_clone().unwrap());
    feed.write_all(&open_bytes()).unwrap();
    feed.write_all(&Message::Keepalive.encode()).unwrap();
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    for m in &table {
        feed.write_all(m).unwrap();
    }
    let sent = started.elapsed();
    while !status(&channel).synced {
        std::thread::sleep(Duration::from_millis(20));
    }
    let learned = started.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let s = status(&channel);
    println!(
        "over TCP into cpnd: table sent in {:.2} s, network applied after {:.2} s ({}; {:.1} s of CPU)",
        sent.as_secs_f64(),
        learned.as_secs_f64(),
        s.last_apply,
        cpu
    );
    let (_, hwm) = support::rss_mb();
    println!("memory: peak {hwm:.0} MB resident (generator, sans-IO run and cpnd in one process)");

    // Policies on it.
    let policies = env("CPN_BGP_LS_POLICIES", 1000) as usize;
    let requests = support::tiny_requests(&file, policies);
    let installed = runtime.block_on(async {
        let mut c =
            cpn::proto::v1::policy_service_client::PolicyServiceClient::new(channel.clone());
        let mut n = 0;
        for (i, r) in requests.iter().enumerate() {
            let ok = c
                .install_policy(pb::InstallPolicyRequest {
                    name: format!("p{i}"),
                    request: Some(cpn::proto::convert::request_to_pb(r)),
                    ..Default::default()
                })
                .await
                .is_ok();
            n += usize::from(ok);
        }
        n
    });
    println!("{installed} policies installed");

    // The storm: one link direction a message, a new delay each time.
    let rate = env("CPN_BGP_LS_RATE", 1000);
    let seconds = env("CPN_BGP_LS_SECONDS", 10);
    let links: Vec<(Nlri, cpn::bgp_ls::wire::attr::LsAttribute)> = e
        .routes
        .iter()
        .filter(|(n, _)| matches!(n, Nlri::Link(_)))
        .cloned()
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let before = status(&channel);
    let reopt0 = metric(&metrics_addr, "cpn_reoptimization_seconds_total");
    let reevaluated0 = metric(&metrics_addr, "cpn_reoptimizations_total");
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let total = rate * seconds;
    let mut last_name = String::new();
    let mut last_delay = 0;
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let (n, a) = &links[rng.random_range(0..links.len())];
        let mut a = a.clone();
        let delay = rng.random_range(100..20_000);
        a.delay = Some(Measured {
            anomalous: false,
            value: delay,
        });
        last_name = a.link_name.clone().unwrap_or_default();
        last_delay = delay;
        let u = Update::announce(
            vec![n.clone()],
            Some(a),
            &[65000],
            "10.0.0.1".parse().unwrap(),
        );
        feed.write_all(&Message::Update(Box::new(u)).encode())
            .unwrap();
    }
    let sending = started.elapsed();
    let sent_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Caught up: the last UPDATE was received and an apply came after it.
    let caught_up = loop {
        let s = status(&channel);
        let p = &s.peers[0];
        if p.counters.as_ref().unwrap().updates
            >= before.peers[0].counters.as_ref().unwrap().updates + total
            && s.last_apply_unix_ms >= p.last_update_unix_ms
        {
            break s.last_apply_unix_ms.saturating_sub(sent_ms);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    // And the model has what was sent last (the other direction may hold
    // a larger delay).
    let t = runtime.block_on(async {
        cpn::proto::v1::topology_service_client::TopologyServiceClient::new(channel.clone())
            .max_decoding_message_size(cpn::grpc::MAX_MESSAGE_BYTES)
            .get_topology(pb::GetTopologyRequest {})
            .await
            .unwrap()
            .into_inner()
            .topology
            .unwrap()
    });
    let l = t.links.iter().find(|l| l.id == last_name).unwrap();
    assert!(l.latency_us >= u64::from(last_delay));
    let cpu = cpu_seconds() - cpu0;
    let after = status(&channel);
    let reopt = metric(&metrics_addr, "cpn_reoptimization_seconds_total") - reopt0;
    let reevaluated = metric(&metrics_addr, "cpn_reoptimizations_total") - reevaluated0;
    println!(
        "storm: {total} UPDATEs in {:.1} s ({:.0}/s); the model caught up {caught_up} ms after the last; \
         {} event batches with {} events; {reevaluated:.0} policy re-evaluations taking {reopt:.2} s; \
         {:.1} s of CPU in all ({:.0} % of one core)",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64(),
        after.event_batches - before.event_batches,
        after.events - before.events,
        cpu,
        100.0 * cpu / elapsed.as_secs_f64()
    );
    let _ = stop_tx.send(());
    drop(feed);
    let _ = runtime.block_on(daemon);
}
