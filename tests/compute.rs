//! The compute side, live, against a real `cpnd`: a data center's reporter
//! streams pool reports; a pool reported down moves the job placed there
//! and the headend's mock agent sees the switch in one apply; a reporter
//! may speak only for its own data center; a reporter that goes quiet
//! turns stale, then lost, and its jobs move; `cpnctl dc report` and `dc
//! reporter --once` (from a Prometheus text endpoint) as scripts use them.

mod common;

use std::time::Duration;

use common::cli::cpnctl_on;
use common::server::{TestServer, lab, lab_at, start_mock, start_pushing, start_with};
use common::wait::eventually;
use cpn::api::access::token_hash;
use cpn::document::parse_request;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::compute_service_client::ComputeServiceClient;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::router::mock::Faults;
use cpn::store::MemoryStore;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request};

/// 200 TFLOPS of AI from a1: dc-north (150 free) cannot, dc-central takes it.
const AI: &str = "{from: a1, compute: {kind: ai, tflops: 200}}";

async fn install(s: &TestServer, name: &str, yaml: &str) -> pb::Policy {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = pb::InstallPolicyRequest {
        name: name.into(),
        request: Some(convert::request_to_pb(&parse_request(yaml).unwrap())),
        ..Default::default()
    };
    c.install_policy(r)
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap()
}

async fn policy(s: &TestServer, name: &str) -> pb::Policy {
    let mut c = PolicyServiceClient::new(s.channel().await);
    c.get_policy(pb::GetPolicyRequest { name: name.into() })
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap()
}

fn datacenter(p: &pb::Policy) -> String {
    p.answer
        .as_ref()
        .unwrap()
        .primary
        .as_ref()
        .unwrap()
        .datacenter
        .clone()
}

fn report(dc: &str, kind: pb::PoolKind) -> pb::PoolReport {
    pb::PoolReport {
        datacenter: dc.into(),
        kind: kind.into(),
        ..Default::default()
    }
}

/// The acknowledgement refuses its report, saying `why`.
fn assert_refused(ack: &pb::ReportAck, why: &str) {
    assert!(
        ack.error.contains(why),
        "{:?} does not say {why}",
        ack.error
    );
}

/// The live topology, on an open API.
async fn live(s: &TestServer) -> pb::Topology {
    TopologyServiceClient::new(s.channel().await)
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap()
}

/// A report stream: what to send, and the acknowledgements.
struct Reporter {
    tx: mpsc::Sender<pb::PoolReport>,
    acks: tonic::Streaming<pb::ReportAck>,
}

impl Reporter {
    async fn open(s: &TestServer, token: Option<&str>) -> Result<Reporter, tonic::Status> {
        let (tx, rx) = mpsc::channel(8);
        let mut request = Request::new(ReceiverStream::new(rx));
        if let Some(t) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        let acks = ComputeServiceClient::new(s.channel().await)
            .report(request)
            .await?
            .into_inner();
        Ok(Reporter { tx, acks })
    }

    async fn send(&mut self, r: pb::PoolReport) -> Result<pb::ReportAck, tonic::Status> {
        self.tx.send(r).await.unwrap();
        self.acks.next().await.expect("an acknowledgement")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_reported_down_moves_the_job_and_the_headend_switches_in_one_apply() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    let first = install(&s, "train", AI).await;
    assert_eq!(datacenter(&first), "dc-central");
    let held = || {
        mock.agent
            .list("a1")
            .policies
            .into_iter()
            .find(|p| p.name == "train")
            .map(|p| p.version)
    };
    eventually("a1 holds train v1", Duration::from_secs(10), || async {
        (held() == Some(1)).then_some(())
    })
    .await;
    let before = mock.agent.history().len();

    let mut reporter = Reporter::open(&s, None).await.unwrap();
    let ack = reporter
        .send(pb::PoolReport {
            health: pb::PoolHealth::Down.into(),
            ..report("dc-central", pb::PoolKind::Ai)
        })
        .await
        .unwrap();
    assert_eq!(ack.error, "");
    assert_eq!(ack.affected_policies, ["train"]);
    assert!(ack.first_sequence > 0 && ack.last_sequence >= ack.first_sequence);
    let moved = policy(&s, "train").await;
    assert_ne!(datacenter(&moved), "dc-central");
    assert_eq!(moved.version, 2);

    eventually("a1 holds train v2", Duration::from_secs(10), || async {
        (held() == Some(2)).then_some(())
    })
    .await;
    // One apply replaced the old segment list: nothing removed in between.
    let since: Vec<_> = mock.agent.history().split_off(before);
    let ops: Vec<(&str, &str, u64)> = since
        .iter()
        .filter(|o| o.name == "train")
        .map(|o| (o.router.as_str(), o.kind.as_str(), o.version))
        .collect();
    assert_eq!(ops, [("a1", "apply", 2)]);
    let at_a1 = mock.agent.list("a1").policies;
    let sids: Vec<String> = at_a1[0].segments.iter().map(|s| s.sid.clone()).collect();
    let want: Vec<String> = moved
        .answer
        .unwrap()
        .primary
        .unwrap()
        .segments
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(sids, want);
    s.stop().await;
    mock.stop().await;
}

/// The standby of a policy's answer.
fn standby_of(p: &pb::Policy) -> Option<String> {
    p.answer
        .as_ref()
        .and_then(|a| a.standby.as_ref())
        .map(|s| s.datacenter.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_center_reported_down_fails_its_job_over_to_the_standby_in_one_apply() {
    let mock = start_mock("127.0.0.1:0", Faults::default()).await;
    let s = start_pushing(lab_at(mock.addr), Box::new(MemoryStore::default())).await;
    let request = "{from: a1, compute: {kind: ai, tflops: 100}, standby: region}";
    let first = install(&s, "dr", request).await;
    assert_eq!(datacenter(&first), "dc-north");
    let standby = standby_of(&first).expect("a standby in the west");
    assert!(["dc-central", "dc-west"].contains(&standby.as_str()));
    let held = || {
        mock.agent
            .list("a1")
            .policies
            .into_iter()
            .find(|p| p.name == "dr")
            .map(|p| p.version)
    };
    eventually("a1 holds dr v1", Duration::from_secs(10), || async {
        (held() == Some(1)).then_some(())
    })
    .await;
    let before = mock.agent.history().len();

    let mut reporter = Reporter::open(&s, None).await.unwrap();
    let down = pb::PoolReport {
        health: pb::PoolHealth::Down.into(),
        ..report("dc-north", pb::PoolKind::Ai)
    };
    let ack = reporter.send(down).await.unwrap();
    assert_eq!(ack.affected_policies, ["dr"]);
    let moved = policy(&s, "dr").await;
    assert_eq!(datacenter(&moved), standby, "the job runs on its standby");
    assert_eq!(moved.failed_over_from, "dc-north");
    eventually("a1 holds dr v2", Duration::from_secs(10), || async {
        (held() == Some(2)).then_some(())
    })
    .await;
    let ops: Vec<(String, String, u64)> = mock
        .agent
        .history()
        .split_off(before)
        .into_iter()
        .filter(|o| o.name == "dr")
        .map(|o| (o.router, o.kind, o.version))
        .collect();
    assert_eq!(
        ops,
        [("a1".into(), "apply".into(), 2)],
        "one apply, nothing removed"
    );
    let last_sid = |p: &pb::Policy| {
        let segments = &p
            .answer
            .as_ref()
            .unwrap()
            .primary
            .as_ref()
            .unwrap()
            .segments;
        segments.last().unwrap().sid.clone()
    };
    let at_a1 = mock.agent.list("a1").policies;
    assert_eq!(at_a1[0].segments.last().unwrap().sid, last_sid(&moved));

    // dc-north is back: the job stays (no automatic failback) until asked.
    let up = pb::PoolReport {
        health: pb::PoolHealth::Up.into(),
        ..report("dc-north", pb::PoolKind::Ai)
    };
    reporter.send(up).await.unwrap();
    assert_eq!(datacenter(&policy(&s, "dr").await), standby);
    let back = PolicyServiceClient::new(s.channel().await)
        .failback_policy(pb::FailbackPolicyRequest { name: "dr".into() })
        .await
        .unwrap()
        .into_inner();
    let back = back.policy.unwrap();
    assert_eq!(datacenter(&back), "dc-north");
    assert_eq!(back.failed_over_from, "");
    let again = PolicyServiceClient::new(s.channel().await)
        .failback_policy(pb::FailbackPolicyRequest { name: "dr".into() })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    s.stop().await;
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_speaks_only_for_its_own_data_center() {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.yaml");
    let mut yaml = "tokens:\n".to_owned();
    for (name, token, role) in [
        ("root", "tok-admin", "admin"),
        ("north", "tok-north", "datacenter:dc-north"),
        ("noc", "tok-view", "viewer"),
    ] {
        yaml += &format!(
            "  - {{name: {name}, sha256: {}, role: \"{role}\"}}\n",
            token_hash(token)
        );
    }
    std::fs::write(&access, yaml).unwrap();
    let s = start_with(cpn::daemon::Config {
        access_file: Some(access),
        ..cpn::daemon::Config::new(Some(lab()), Box::new(MemoryStore::default()))
    })
    .await;
    let mut north = Reporter::open(&s, Some("tok-north")).await.unwrap();
    let ack = north
        .send(pb::PoolReport {
            free_tflops: Some(100.0),
            ..report("dc-north", pb::PoolKind::Ai)
        })
        .await
        .unwrap();
    assert_eq!(ack.error, "");
    // Its figures are bad: refused, named, and the stream goes on.
    let ack = north
        .send(pb::PoolReport {
            free_tflops: Some(-1.0),
            ..report("dc-north", pb::PoolKind::Ai)
        })
        .await
        .unwrap();
    assert_refused(&ack, "report_pool.free_tflops");
    // Another data center: refused, and the stream ends.
    let e = north
        .send(report("dc-west", pb::PoolKind::Ai))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("dc-west"), "{}", e.message());
    // A viewer may not report at all; an admin may for any.
    let e = Reporter::open(&s, Some("tok-view")).await.err().unwrap();
    assert_eq!(e.code(), Code::PermissionDenied);
    let mut admin = Reporter::open(&s, Some("tok-admin")).await.unwrap();
    let ack = admin
        .send(report("dc-nowhere", pb::PoolKind::Ai))
        .await
        .unwrap();
    assert_refused(&ack, "unknown data center `dc-nowhere`");
    let ack = admin
        .send(report("dc-west", pb::PoolKind::Ai))
        .await
        .unwrap();
    assert_eq!(ack.error, "");

    // The topology shows what was reported: 100 TFLOPS free at dc-north.
    let t = TopologyServiceClient::new(s.channel().await)
        .get_topology(Request::new(pb::GetTopologyRequest {}))
        .await;
    assert_eq!(t.unwrap_err().code(), Code::Unauthenticated);
    let mut request = Request::new(pb::GetTopologyRequest {});
    request
        .metadata_mut()
        .insert("authorization", "Bearer tok-north".parse().unwrap());
    let t = TopologyServiceClient::new(s.channel().await)
        .get_topology(request)
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap();
    let north = t.datacenters.iter().find(|d| d.id == "dc-north").unwrap();
    assert_eq!(north.pools[0].available_tflops, 100.0);
    assert_eq!(
        north.reporter.map(|r| r.state),
        Some(pb::ReporterState::Live.into())
    );
    s.stop().await;
}

async fn reporter_state(s: &TestServer, dc: &str) -> Option<pb::ReporterState> {
    let d = live(s)
        .await
        .datacenters
        .into_iter()
        .find(|d| d.id == dc)
        .unwrap();
    d.reporter
        .map(|r| pb::ReporterState::try_from(r.state).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_reporter_turns_stale_then_lost_and_its_jobs_move() {
    let s = start_with(cpn::daemon::Config {
        report_grace: Duration::from_secs(3),
        ..cpn::daemon::Config::new(Some(lab()), Box::new(MemoryStore::default()))
    })
    .await;
    assert_eq!(datacenter(&install(&s, "train", AI).await), "dc-central");
    let mut reporter = Reporter::open(&s, None).await.unwrap();
    let ack = reporter
        .send(pb::PoolReport {
            interval_s: Some(1),
            ..report("dc-central", pb::PoolKind::Ai)
        })
        .await
        .unwrap();
    assert_eq!(ack.error, "");
    assert_eq!(
        reporter_state(&s, "dc-central").await,
        Some(pb::ReporterState::Live)
    );
    // Then nothing: stale after its 1 s, the job still there.
    eventually("dc-central is stale", Duration::from_secs(10), || async {
        (reporter_state(&s, "dc-central").await == Some(pb::ReporterState::Stale)).then_some(())
    })
    .await;
    assert_eq!(datacenter(&policy(&s, "train").await), "dc-central");
    // Lost after 3 s more: treated as down, the job moves.
    eventually("dc-central is lost", Duration::from_secs(10), || async {
        (reporter_state(&s, "dc-central").await == Some(pb::ReporterState::Lost)).then_some(())
    })
    .await;
    let moved = policy(&s, "train").await;
    assert_ne!(datacenter(&moved), "dc-central");
    // Reporting again brings it back (live), for the next jobs.
    reporter
        .send(report("dc-central", pb::PoolKind::Ai))
        .await
        .unwrap();
    assert_eq!(
        reporter_state(&s, "dc-central").await,
        Some(pb::ReporterState::Live)
    );
    s.stop().await;
}

/// Serves `body` as a Prometheus text endpoint (HTTP/1.1, one response per
/// connection) until the test ends.
async fn exporter(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpnctl_reports_once_and_from_a_prometheus_endpoint() {
    let s = start_with(cpn::daemon::Config::new(
        Some(lab()),
        Box::new(MemoryStore::default()),
    ))
    .await;
    let ok = cpnctl_on(
        &s.url,
        &[
            "dc",
            "report",
            "--datacenter",
            "dc-north",
            "--pool",
            "ai",
            "--free-tflops",
            "120",
            "--health",
            "degraded",
        ],
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for (args, says) in [
        (
            ["--datacenter", "dc-nowhere", "--pool", "ai"],
            "unknown data center",
        ),
        (
            ["--datacenter", "dc-north", "--pool", "hpc"],
            "has no hpc pool",
        ),
    ] {
        let out = cpnctl_on(&s.url, &[&["dc", "report"][..], &args[..]].concat());
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
    let bad = cpnctl_on(
        &s.url,
        &["dc", "report", "--datacenter", "dc-north", "--pool", "tpu"],
    );
    assert_eq!(bad.status.code(), Some(2), "clap's own usage error");

    // A GPU exporter: mean utilisation 75% of dc-west's 1,000 TFLOPS AI pool.
    let url =
        exporter("# TYPE gpu_util gauge\ngpu_util{gpu=\"0\"} 50\ngpu_util{gpu=\"1\"} 100\nup 1\n")
            .await;
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("dc-west.yaml");
    std::fs::write(
        &map,
        format!(
            "datacenter: dc-west
scrape: {url}
interval_s: 15
pools:
  - kind: ai
    tflops: 1000
    free_tflops: {{utilisation: {{metric: gpu_util, aggregate: mean}}, full: 100}}
    health: {{from: {{metric: up}}, down_below: 1}}
"
        ),
    )
    .unwrap();
    let out = cpnctl_on(
        &s.url,
        &["dc", "reporter", "--map", map.to_str().unwrap(), "--once"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = live(&s).await;
    let pool = |dc: &str| {
        let d = t.datacenters.iter().find(|d| d.id == dc).unwrap();
        (d.pools[0], d.reporter)
    };
    let (west, reporter) = pool("dc-west");
    assert_eq!((west.tflops, west.available_tflops), (1000.0, 250.0));
    assert_eq!(reporter.map(|r| r.interval_s), Some(15));
    let (north, _) = pool("dc-north");
    assert_eq!(north.available_tflops, 120.0);
    assert_eq!(north.health, pb::PoolHealth::Degraded as i32);
    // `cpnctl topology` shows health and reporter state.
    let shown = cpnctl_on(&s.url, &["topology"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("degraded, reporter live"), "{text}");
    s.stop().await;
}
