//! Replicas on an etcd that speaks only TLS and asks every client for a
//! certificate (`--client-cert-auth`), as production etcd clusters do:
//! `cpnd --etcd-ca --etcd-cert --etcd-key` leads and commits there, and a
//! second replica reads what the first wrote. Needs Debian's `etcd-server`.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::etcd::{ETCD, free_port, leader, replica, replica_status};
use common::replicas::list;
use common::system::available;
use common::wait::eventually;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;

/// The etcd process, killed and reaped on drop.
struct Etcd(Child);

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_speak_tls_with_client_certificates_to_etcd() {
    if !available(
        "ha_tls::replicas_speak_tls_with_client_certificates_to_etcd",
        &[ETCD],
    )
    .await
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = common::certs::ca(dir.path(), "etcd");
    let (server_cert, server_key) = ca.issue(dir.path(), "etcd-server", &["127.0.0.1"]);
    let (client_cert, client_key) = ca.issue(dir.path(), "cpnd", &["cpnd"]);
    let (client, peer) = (free_port(), free_port());
    let client_url = format!("https://127.0.0.1:{client}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let etcd = Command::new(common::system::program("etcd", &["/usr/bin/etcd"]).unwrap())
        .args(["--name", "e0", "--data-dir"])
        .arg(dir.path().join("e0"))
        .args(["--listen-client-urls", &client_url])
        .args(["--advertise-client-urls", &client_url])
        .args(["--listen-peer-urls", &peer_url])
        .args(["--initial-advertise-peer-urls", &peer_url])
        .args(["--initial-cluster", &format!("e0={peer_url}")])
        .arg("--cert-file")
        .arg(&server_cert)
        .arg("--key-file")
        .arg(&server_key)
        .arg("--trusted-ca-file")
        .arg(&ca.pem)
        .args(["--client-cert-auth", "--log-level", "error"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _etcd = Etcd(etcd);
    eventually("etcd listens", Duration::from_secs(30), || async {
        std::net::TcpStream::connect(("127.0.0.1", client)).map(|_| ())
    })
    .await;

    let store = format!("etcd://127.0.0.1:{client}");
    let lab = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let (ca_pem, cert, key) = (path(&ca.pem), path(&client_cert), path(&client_key));
    let tls = [
        "--topology",
        lab,
        "--no-southbound",
        "--etcd-ca",
        &ca_pem,
        "--etcd-cert",
        &cert,
        "--etcd-key",
        &key,
    ];
    let a = replica(&store, "a", &tls);
    let a_url = format!("http://{}", a.addr);
    let (_, epoch) = leader(std::slice::from_ref(&a_url)).await;
    assert!(epoch > 0);
    let request = cpn::proto::convert::request_to_pb(
        &cpn::document::parse_request("{from: a1, compute: {kind: ai, tflops: 10}}").unwrap(),
    );
    PolicyServiceClient::new(common::etcd::lazy(&a_url))
        .install_policy(pb::InstallPolicyRequest {
            name: "over-tls".into(),
            request: Some(request),
            ..Default::default()
        })
        .await
        .unwrap();

    // A second replica, over the same TLS, reads it and stands by.
    let b = replica(&store, "b", &tls);
    let b_url = format!("http://{}", b.addr);
    assert_eq!(
        replica_status(&b_url).await.map(|s| s.role),
        Some("standby".to_owned())
    );
    eventually("b holds the policy", Duration::from_secs(20), || async {
        let (policies, _) = list(&b_url).await.map_err(|e| e.to_string())?;
        let names: Vec<String> = policies.into_iter().map(|p| p.name).collect();
        (names == ["over-tls"])
            .then_some(())
            .ok_or(format!("{names:?}"))
    })
    .await;
}
