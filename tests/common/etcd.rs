//! A real etcd cluster on loopback (Debian's `etcd-server`), and `cpnd`
//! replicas on it: start, SIGKILL, SIGSTOP/SIGCONT, restart; find the
//! leader; clients that follow the leader as the replicas answer.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cpn::proto::v1 as pb;
use cpn::proto::v1::cluster_service_client::ClusterServiceClient;
use tonic::transport::Channel;

use super::daemon::{self, Daemon};
use super::system::Need;
use super::wait::eventually;

/// etcd's server.
pub const ETCD: Need = Need::Program {
    name: "etcd",
    paths: &["/usr/bin/etcd", "/usr/local/bin/etcd"],
    package: "etcd-server",
};

pub use super::ports::free_port;

/// One member's ports and process.
struct Member {
    name: String,
    client: u16,
    peer: u16,
    child: Option<Child>,
}

/// An etcd cluster of loopback members, data in a temporary directory.
pub struct EtcdCluster {
    dir: tempfile::TempDir,
    members: Vec<Member>,
    initial: String,
}

impl EtcdCluster {
    /// Starts `n` members and waits until the cluster answers.
    pub async fn start(n: usize) -> EtcdCluster {
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("e{i}"),
                client: free_port(),
                peer: free_port(),
                child: None,
            })
            .collect();
        let initial = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",");
        let mut c = EtcdCluster {
            dir: tempfile::tempdir().unwrap(),
            members,
            initial,
        };
        for i in 0..n {
            c.start_member(i);
        }
        c.wait_healthy().await;
        c
    }

    /// (Re)starts member `i` on its data directory.
    pub fn start_member(&mut self, i: usize) {
        let m = &self.members[i];
        let data = self.dir.path().join(&m.name);
        let client = format!("http://127.0.0.1:{}", m.client);
        let peer = format!("http://127.0.0.1:{}", m.peer);
        let child = Command::new(super::system::program("etcd", &["/usr/bin/etcd"]).unwrap())
            .args(["--name", &m.name, "--data-dir"])
            .arg(&data)
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &self.initial])
            .args(["--initial-cluster-token", "cpn-test"])
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args(["--log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.members[i].child = Some(child);
    }

    /// SIGKILLs member `i`.
    pub fn kill_member(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `etcd://HOST:PORT,...` of every member.
    pub fn store_url(&self) -> String {
        let list: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.client))
            .collect();
        format!("etcd://{}", list.join(","))
    }

    /// A client of the whole cluster.
    pub fn client(&self) -> cpn::ha::Etcd {
        let urls: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("http://127.0.0.1:{}", m.client))
            .collect();
        cpn::ha::Etcd::connect(&urls, None).unwrap()
    }

    /// Waits until a read is answered by the cluster.
    pub async fn wait_healthy(&self) {
        let etcd = self.client();
        eventually("etcd answers", Duration::from_secs(30), || {
            let etcd = etcd.clone();
            async move { etcd.get(b"/health-probe").await.map(|_| ()) }
        })
        .await;
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill_member(i);
        }
    }
}

/// Starts a `cpnd` replica on `store` with `extra` arguments.
pub fn replica(store: &str, id: &str, extra: &[&str]) -> Daemon {
    let mut d = start_replica(store, id, extra);
    let ready = d.wait_for("serving gRPC");
    d.addr = ready["fields"]["addr"].as_str().unwrap().to_owned();
    d
}

/// Starts a `cpnd` replica on `store` without waiting for it to serve.
pub fn start_replica(store: &str, id: &str, extra: &[&str]) -> Daemon {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--store",
        store,
        "--replica-id",
        id,
        "--etcd-prefix",
        "/cpn-test",
    ];
    args.extend_from_slice(extra);
    daemon::start(env!("CARGO_BIN_EXE_cpnd"), &args)
}

/// A lazily connected channel to `url`.
pub fn lazy(url: &str) -> Channel {
    Channel::from_shared(url.to_owned())
        .unwrap()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(10))
        .connect_lazy()
}

/// What the replica at `url` says about itself, if it answers.
pub async fn replica_status(url: &str) -> Option<pb::ReplicaStatus> {
    let mut c = ClusterServiceClient::new(lazy(url));
    let r = tokio::time::timeout(
        Duration::from_secs(2),
        c.get_cluster_status(pb::GetClusterStatusRequest {}),
    )
    .await
    .ok()?
    .ok()?;
    r.into_inner().replica
}

/// The index in `urls` of the replica that says it leads (the highest
/// epoch), waiting until one does.
pub async fn leader(urls: &[String]) -> (usize, i64) {
    eventually("a replica leads", Duration::from_secs(30), || async {
        let mut best: Option<(usize, i64)> = None;
        for (i, u) in urls.iter().enumerate() {
            if let Some(s) = replica_status(u).await
                && s.role == "leader"
                && best.is_none_or(|b| s.epoch > b.1)
            {
                best = Some((i, s.epoch));
            }
        }
        best
    })
    .await
}
