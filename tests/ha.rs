//! High availability with real processes: a 3-member etcd cluster on
//! loopback and 3 `cpnd` replicas on it (`--store etcd://...`). Clients
//! install and remove policies against every replica, following the leader
//! as the replicas say (UNAVAILABLE with `cpn-leader`) or trying the next
//! one; the leader is SIGKILLed mid-load, SIGSTOPped past its lease, and
//! etcd members are killed. Afterwards every acknowledged install is there
//! exactly once, every acknowledged removal is gone, reservations add up,
//! and a watcher that resumes on another replica missed nothing. Also: an
//! event too large for one etcd transaction, and a standby that falls
//! behind a compaction.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::etcd::{ETCD, EtcdCluster, lazy, leader, replica, start_replica};
use common::ha_checks::{
    BANDWIDTH, TOPOLOGY, check_reservations, dir_request, feasible, held, load, replay, set,
    urls_of,
};
use common::replicas::{Writer, collect, list, names, open_watch, try_install, watch};
use common::system::available;
use common::wait::eventually;
use cpn::proto::v1 as pb;
use cpn::proto::v1::mock_control_client::MockControlClient;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_of_the_leader_loses_no_acknowledged_change() {
    if !available(
        "ha::sigkill_of_the_leader_loses_no_acknowledged_change",
        &[ETCD],
    )
    .await
    {
        return;
    }
    let etcd = EtcdCluster::start(3).await;
    let store = etcd.store_url();
    let args = [
        "--topology",
        TOPOLOGY,
        "--no-southbound",
        "--lease-ttl-s",
        "3",
    ];
    let mut replicas: Vec<Option<common::daemon::Daemon>> = Vec::new();
    for i in 0..3 {
        replicas.push(Some(replica(&store, &format!("r{i}"), &args)));
    }
    let urls = urls_of(&replicas);
    let (lead, epoch) = leader(&urls).await;
    let requests = feasible(&urls[lead], 64).await;

    // A watcher on the leader, from the first change.
    let watcher = tokio::spawn(collect(open_watch(&urls[lead], 0).await.unwrap(), None));

    let acked = Arc::new(AtomicUsize::new(0));
    let clients = load(&urls, &requests, 30, "", acked.clone());
    eventually(
        "a third of the load is acknowledged",
        Duration::from_secs(120),
        || {
            let n = acked.load(Ordering::SeqCst);
            async move { (n >= 200).then_some(()).ok_or(format!("{n} acknowledged")) }
        },
    )
    .await;
    let killed_at = Instant::now();
    replicas[lead].take().unwrap().kill();
    let kept = clients.await.unwrap();
    let survivors: Vec<String> = (0..3)
        .filter(|&i| i != lead)
        .map(|i| urls[i].clone())
        .collect();
    let (new_lead, new_epoch) = leader(&survivors).await;
    assert!(new_epoch > epoch, "a new epoch: {new_epoch} after {epoch}");
    // It took over on the state it followed, without reading it again.
    let alive: Vec<usize> = (0..3).filter(|&i| i != lead).collect();
    let took = replicas[alive[new_lead]]
        .as_mut()
        .unwrap()
        .wait_for("leading: took over on the state followed");
    assert_eq!(took["fields"]["epoch"], new_epoch, "{took}");
    eprintln!(
        "takeover: {} acknowledged operations in {:.1} s after the kill",
        acked.load(Ordering::SeqCst),
        killed_at.elapsed().as_secs_f64()
    );

    // Every replica left holds exactly the acknowledged state.
    for url in &survivors {
        eventually(
            "the replica lists every acknowledged install and no removal",
            Duration::from_secs(30),
            || async {
                let (policies, _) = list(url).await.map_err(|e| e.to_string())?;
                let listed = names(&policies);
                if listed == kept {
                    Ok(())
                } else {
                    Err(format!("{} listed, {} kept", listed.len(), kept.len()))
                }
            },
        )
        .await;
    }
    let (policies, last) = list(&survivors[new_lead]).await.unwrap();
    check_reservations(&survivors[new_lead], &policies).await;
    let standby = &survivors[1 - new_lead];
    eventually(
        "the standby's reservations match",
        Duration::from_secs(30),
        || async {
            let (p, _) = list(standby).await.map_err(|e| e.to_string())?;
            let same = p.len() == policies.len();
            same.then_some(()).ok_or(format!("{} listed", p.len()))
        },
    )
    .await;
    check_reservations(standby, &policies).await;

    // The watcher's stream broke with the leader; it resumes on the standby
    // and misses nothing.
    let before = watcher.await.unwrap();
    let resume = before.last().map_or(0, |c| c.0);
    assert!(resume > 0, "the watcher saw changes before the kill");
    let after = eventually(
        "the standby resumes the watch",
        Duration::from_secs(30),
        || {
            let standby = standby.clone();
            async move { watch(standby, resume, Some(last)).await }
        },
    )
    .await;
    let mut all = before;
    all.extend(after);
    assert_eq!(
        replay(&all),
        kept,
        "the watched changes end in the acknowledged state"
    );

    // The killed replica comes back as a standby with everything.
    replicas[lead] = Some(replica(&store, &format!("r{lead}"), &args));
    let back = format!("http://{}", replicas[lead].as_ref().unwrap().addr);
    eventually(
        "the restarted replica catches up",
        Duration::from_secs(30),
        || async {
            let (p, _) = list(&back).await.map_err(|e| e.to_string())?;
            (names(&p) == kept)
                .then_some(())
                .ok_or(format!("{} listed", p.len()))
        },
    )
    .await;
    let s = common::etcd::replica_status(&back).await.unwrap();
    assert_eq!(s.role, "standby");

    // cpnctl with every URL, the dead one first: it finds a replica, and
    // the leader for writes; cluster status names the leader and 3 replicas.
    let dead = urls[lead].clone();
    let all = [
        dead.as_str(),
        survivors[0].as_str(),
        survivors[1].as_str(),
        back.as_str(),
    ]
    .join(",");
    let cpnctl = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cpnctl"))
            .args(["--server", &all])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cpnctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let request = dir_request(&requests[0]);
    cpnctl(&[
        "policy",
        "install",
        "via-cpnctl",
        "--request",
        request.path().to_str().unwrap(),
    ]);
    let status: serde_json::Value =
        serde_json::from_str(&cpnctl(&["cluster", "status", "--json"])).unwrap();
    let new_id = common::etcd::replica_status(&survivors[new_lead])
        .await
        .unwrap()
        .id;
    assert_eq!(status["leader"], new_id.as_str(), "{status:#}");
    assert_eq!(status["epoch"], new_epoch, "{status:#}");
    let replicas = status["replicas"].as_array().unwrap();
    assert_eq!(replicas.len(), 3, "{status:#}");
    let roles: Vec<&str> = replicas
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles.iter().filter(|r| **r == "leader").count(),
        1,
        "{status:#}"
    );
    assert_eq!(
        roles.iter().filter(|r| **r == "standby").count(),
        2,
        "{status:#}"
    );
    assert!(replicas.iter().all(|r| r["lag"].is_i64()), "{status:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_leader_is_fenced_and_becomes_a_standby() {
    if !available(
        "ha::a_paused_leader_is_fenced_and_becomes_a_standby",
        &[ETCD],
    )
    .await
    {
        return;
    }
    let etcd = EtcdCluster::start(3).await;
    let store = etcd.store_url();
    let agent = common::daemon::mock_agent();
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("lab.yaml");
    std::fs::write(&topology, common::server::lab_yaml_at(&agent.addr)).unwrap();
    let args = [
        "--topology",
        topology.to_str().unwrap(),
        "--lease-ttl-s",
        "2",
        "--reconcile-interval",
        "0.5",
        "--push-timeout-ms",
        "1000",
        "--retry-max-ms",
        "300",
    ];
    let replicas: Vec<Option<common::daemon::Daemon>> = (0..3)
        .map(|i| Some(replica(&store, &format!("r{i}"), &args)))
        .collect();
    let urls = urls_of(&replicas);
    let (lead, epoch) = leader(&urls).await;
    let cpu = cpn::proto::convert::request_to_pb(
        &cpn::document::parse_request("{from: a1, compute: {kind: general, tflops: 1}}").unwrap(),
    );
    let mut w = Writer::new(&urls, lead);
    w.install("keep", &cpu).await;
    w.install("old", &cpu).await;
    eventually(
        "the headend holds both policies",
        Duration::from_secs(30),
        || async {
            let h = held(&agent.addr).await.map_err(|e| e.to_string())?;
            (h == set(&["keep", "old"]))
                .then_some(())
                .ok_or(format!("{h:?}"))
        },
    )
    .await;

    // Paused past its lease: another replica takes over.
    let old = replicas[lead].as_ref().unwrap();
    old.signal("STOP");
    let late = {
        let (url, cpu) = (urls[lead].clone(), cpu.clone());
        tokio::spawn(async move {
            PolicyServiceClient::new(lazy(&url))
                .install_policy(pb::InstallPolicyRequest {
                    name: "late".into(),
                    request: Some(cpu),
                    ..Default::default()
                })
                .await
        })
    };
    let survivors: Vec<String> = (0..3)
        .filter(|&i| i != lead)
        .map(|i| urls[i].clone())
        .collect();
    let (_, new_epoch) = leader(&survivors).await;
    assert!(new_epoch > epoch, "a new epoch: {new_epoch} after {epoch}");
    let mut w = Writer::new(&survivors, 0);
    w.remove("old").await;
    w.install("new", &cpu).await;
    eventually(
        "the new leader reconciles the headend",
        Duration::from_secs(30),
        || async {
            let h = held(&agent.addr).await.map_err(|e| e.to_string())?;
            (h == set(&["keep", "new"]))
                .then_some(())
                .ok_or(format!("{h:?}"))
        },
    )
    .await;
    let mut control = MockControlClient::new(lazy(&format!("http://{}", agent.addr)));
    let before = control
        .history(pb::MockHistoryRequest {})
        .await
        .unwrap()
        .into_inner()
        .operations;
    let removal = before
        .iter()
        .rev()
        .find(|o| o.kind == "remove" && o.name == "old")
        .map(|o| o.sequence)
        .expect("the new leader removed `old` from the headend");

    // Resumed: its write is not acknowledged, nothing it pushes lands, and
    // it becomes a standby with the state in etcd.
    old.signal("CONT");
    let answer = late.await.unwrap();
    if answer.is_ok() {
        // What the paused leader did, to see why.
        for l in old.drain_logs() {
            eprintln!("paused leader: {l}");
        }
    }
    assert!(
        answer.is_err(),
        "the paused leader acknowledged a write: {answer:?}"
    );
    eventually(
        "the old leader is a standby",
        Duration::from_secs(30),
        || async {
            let s = common::etcd::replica_status(&urls[lead]).await;
            (s.as_ref().map(|s| s.role.as_str()) == Some("standby"))
                .then_some(())
                .ok_or(format!("{s:?}"))
        },
    )
    .await;
    eventually(
        "the old leader reloads the state from etcd",
        Duration::from_secs(30),
        || async {
            let (p, _) = list(&urls[lead]).await.map_err(|e| e.to_string())?;
            let n = names(&p);
            (n == set(&["keep", "new"]))
                .then_some(())
                .ok_or(format!("{n:?}"))
        },
    )
    .await;
    let (p, _) = list(&survivors[0]).await.unwrap();
    assert_eq!(
        names(&p),
        set(&["keep", "new"]),
        "the paused leader's write is nowhere"
    );
    let after = control
        .history(pb::MockHistoryRequest {})
        .await
        .unwrap()
        .into_inner()
        .operations;
    let stale: Vec<_> = after
        .iter()
        .filter(|o| {
            o.sequence > removal && (o.name == "old" || o.name == "late") && o.kind == "apply"
        })
        .collect();
    assert!(
        stale.is_empty(),
        "the deposed leader's pushes landed: {stale:?}"
    );
    assert_eq!(held(&agent.addr).await.unwrap(), set(&["keep", "new"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn etcd_member_loss_keeps_quorum_and_quorum_loss_refuses_writes_only() {
    if !available(
        "ha::etcd_member_loss_keeps_quorum_and_quorum_loss_refuses_writes_only",
        &[ETCD],
    )
    .await
    {
        return;
    }
    let mut etcd = EtcdCluster::start(3).await;
    let store = etcd.store_url();
    let args = [
        "--topology",
        TOPOLOGY,
        "--no-southbound",
        "--lease-ttl-s",
        "5",
    ];
    let replicas: Vec<Option<common::daemon::Daemon>> = (0..3)
        .map(|i| Some(replica(&store, &format!("r{i}"), &args)))
        .collect();
    let urls = urls_of(&replicas);
    let (lead, epoch) = leader(&urls).await;
    let requests = feasible(&urls[lead], 8).await;
    let mut w = Writer::new(&urls, lead);
    w.install("before", &requests[0]).await;

    // One member down: the cluster keeps quorum; nothing visible changes.
    etcd.kill_member(0);
    for i in 0..5 {
        let name = format!("one-down-{i}");
        try_install(&urls[lead], &name, &requests[i % requests.len()])
            .await
            .unwrap_or_else(|e| panic!("install {name} with one member down: {e:?}"));
    }
    let (still, same) = leader(&urls).await;
    assert_eq!(
        (still, same),
        (lead, epoch),
        "the same leader and epoch with one member down"
    );
    for url in &urls {
        eventually(
            "every replica has the writes made with a member down",
            Duration::from_secs(30),
            || async {
                let (p, _) = list(url).await.map_err(|e| e.to_string())?;
                (p.len() == 6)
                    .then_some(())
                    .ok_or(format!("{} listed", p.len()))
            },
        )
        .await;
    }

    // Two down: no quorum. Writes are refused UNAVAILABLE, saying why;
    // reads go on from memory on every replica.
    etcd.kill_member(1);
    let refusal = eventually(
        "writes are refused without quorum",
        Duration::from_secs(30),
        || async {
            match try_install(&urls[lead], "no-quorum", &requests[1]).await {
                Err((Code::Unavailable, m)) => Ok(m),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert!(
        refusal.contains("etcd") || refusal.contains("leadership") || refusal.contains("no leader"),
        "the refusal says why: {refusal}"
    );
    // (The refused install was not acknowledged; its outcome is unknown:
    // etcd may still apply a timed-out request. The replica that tried it
    // may show it until it reloads from etcd.)
    for url in &urls {
        let (p, _) = list(url).await.expect("reads go on without quorum");
        let n = names(&p);
        assert!(
            n.contains("before") && (0..5).all(|i| n.contains(&format!("one-down-{i}"))),
            "{url} still serves every acknowledged policy: {n:?}"
        );
    }
    for (i, url) in urls.iter().enumerate() {
        match try_install(url, "no-quorum", &requests[1]).await {
            Err((Code::Unavailable, _)) => {}
            other => panic!("replica {i} without quorum: {other:?}"),
        }
    }

    // A replica started now waits for etcd instead of giving up.
    let mut late = start_replica(&store, "late", &args);
    late.wait_for("waiting for etcd");

    // Quorum back: a leader, and writes again, with everything there.
    etcd.start_member(0);
    etcd.start_member(1);
    let ready = late.wait_for("serving gRPC");
    late.addr = ready["fields"]["addr"].as_str().unwrap().to_owned();
    // Any of the four may lead now.
    let mut all = urls.clone();
    all.push(format!("http://{}", late.addr));
    let mut w = Writer::new(&all, 0);
    w.install("after", &requests[2]).await;
    let (_, back) = leader(&all).await;
    assert!(back >= epoch);
    let (p, _) = list(&all[leader(&all).await.0]).await.unwrap();
    let state = names(&p);
    assert!(
        state.contains("after") && state.contains("before"),
        "{state:?}"
    );
    assert_eq!(state.len(), 7 + usize::from(state.contains("no-quorum")));
    for url in &all {
        eventually(
            "every replica has the leader's state after quorum returns",
            Duration::from_secs(30),
            || async {
                let (p, _) = list(url).await.map_err(|e| e.to_string())?;
                let n = names(&p);
                (n == state).then_some(()).ok_or(format!("{url}: {n:?}"))
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_event_is_split_into_fenced_transactions_and_standbys_take_it_whole() {
    if !available(
        "ha::a_large_event_is_split_into_fenced_transactions_and_standbys_take_it_whole",
        &[ETCD],
    )
    .await
    {
        return;
    }
    let etcd = EtcdCluster::start(1).await;
    let store = etcd.store_url();
    let args = ["--topology", TOPOLOGY, "--no-southbound"];
    let replicas: Vec<Option<common::daemon::Daemon>> = (0..2)
        .map(|i| Some(replica(&store, &format!("r{i}"), &args)))
        .collect();
    let urls = urls_of(&replicas);
    let (lead, _) = leader(&urls).await;
    let standby = &urls[1 - lead];
    let yaml =
        format!("{{from: bj-ct, to: tj-cu, constraints: {{min_bandwidth_mbps: {BANDWIDTH}}}}}");
    let request = cpn::proto::convert::request_to_pb(&cpn::document::parse_request(&yaml).unwrap());
    let mut w = Writer::new(&urls, lead);
    for i in 0..300 {
        w.install(&format!("p{i:03}"), &request).await;
    }
    let (before, _) = list(&urls[lead]).await.unwrap();
    let link = before[0]
        .answer
        .as_ref()
        .unwrap()
        .primary
        .as_ref()
        .unwrap()
        .links[0]
        .clone();
    assert!(
        before
            .iter()
            .all(|p| { p.answer.as_ref().unwrap().primary.as_ref().unwrap().links[0] == link }),
        "every policy crosses {link}"
    );
    let event = cpn::proto::convert::event_to_pb(
        &cpn::document::parse_event(&format!("{{link_down: {link}}}")).unwrap(),
    );
    let moved = TopologyServiceClient::new(lazy(&urls[lead]))
        .apply_event(pb::ApplyEventRequest {
            event: Some(event),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        moved.affected_policies.len(),
        300,
        "every policy moved off {link}"
    );

    // More than 128 writes: several transactions.
    let (kvs, _) = etcd
        .client()
        .range_prefix(b"/cpn-test/state/policies/", 0)
        .await
        .unwrap();
    let revisions: BTreeSet<i64> = kvs.iter().map(|kv| kv.mod_revision).collect();
    assert!(
        revisions.len() >= 3,
        "300 policy writes in {} transactions",
        revisions.len()
    );

    let (after, _) = list(&urls[lead]).await.unwrap();
    let shape = |ps: &[pb::Policy]| -> Vec<(String, u64, Vec<String>)> {
        ps.iter()
            .map(|p| {
                let path = p
                    .answer
                    .as_ref()
                    .map_or(vec![], |a| a.primary.clone().unwrap().path);
                (p.name.clone(), p.version, path)
            })
            .collect()
    };
    assert!(after.iter().all(|p| p.version == 2));
    eventually(
        "the standby holds the leader's placements",
        Duration::from_secs(30),
        || async {
            let (p, _) = list(standby).await.map_err(|e| e.to_string())?;
            (shape(&p) == shape(&after))
                .then_some(())
                .ok_or(format!("{} listed", p.len()))
        },
    )
    .await;
    check_reservations(standby, &after).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_behind_a_compaction_reads_everything_again() {
    if !available(
        "ha::a_standby_behind_a_compaction_reads_everything_again",
        &[ETCD],
    )
    .await
    {
        return;
    }
    let mut etcd = EtcdCluster::start(3).await;
    let store = etcd.store_url();
    let args = [
        "--topology",
        TOPOLOGY,
        "--no-southbound",
        "--lease-ttl-s",
        "5",
    ];
    let first = replica(&store, "r0", &args);
    let standby = replica(&store, "r1", &args);
    let urls = vec![
        format!("http://{}", first.addr),
        format!("http://{}", standby.addr),
    ];
    let (lead, _) = leader(&urls).await;
    assert_eq!(lead, 0, "the first replica leads");
    let requests = feasible(&urls[0], 8).await;
    let mut w = Writer::new(&urls, 0);
    w.install("before", &requests[0]).await;
    eventually("the standby follows", Duration::from_secs(30), || async {
        let (p, _) = list(&urls[1]).await.map_err(|e| e.to_string())?;
        (p.len() == 1)
            .then_some(())
            .ok_or(format!("{} listed", p.len()))
    })
    .await;

    // Paused, its etcd member gone, the history it needs compacted away.
    standby.signal("STOP");
    etcd.kill_member(0);
    for i in 0..20 {
        w.install(&format!("while-paused-{i}"), &requests[i % requests.len()])
            .await;
    }
    let client = etcd.client();
    let now = client
        .range_prefix(b"/cpn-test/state/sequence", 0)
        .await
        .unwrap()
        .1;
    client.compact(now).await.unwrap();
    standby.signal("CONT");

    eventually(
        "the standby has everything again",
        Duration::from_secs(30),
        || async {
            let (p, _) = list(&urls[1]).await.map_err(|e| e.to_string())?;
            (p.len() == 21)
                .then_some(())
                .ok_or(format!("{} listed", p.len()))
        },
    )
    .await;
    let logs = standby.drain_logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("etcd compacted the history")),
        "the standby read everything again after the compaction"
    );
    // And it follows again from there.
    w.install("after", &requests[1]).await;
    eventually(
        "the standby follows after the reload",
        Duration::from_secs(30),
        || async {
            let (p, _) = list(&urls[1]).await.map_err(|e| e.to_string())?;
            names(&p)
                .contains("after")
                .then_some(())
                .ok_or(format!("{} listed", p.len()))
        },
    )
    .await;
    // cpnctl given only the standby: the standby names the leader and
    // cpnctl sends the install there.
    let file = dir_request(&requests[2]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args([
            "--server",
            &urls[1],
            "policy",
            "install",
            "via-standby",
            "--request",
        ])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (p, _) = list(&urls[0]).await.unwrap();
    assert!(names(&p).contains("via-standby"));
}
