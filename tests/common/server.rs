//! An in-process `cpnd` for tests: `cpn::daemon::run` on port 0, as the
//! binary runs it; and in-process mock agents.

use cpn::daemon::{self, DaemonError};
use cpn::model::Topology;
use cpn::store::Store;
use tonic::transport::Channel;

/// A running server; stop it with [`TestServer::stop`].
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Where the web console listens, when the config has one.
    pub console: Option<std::net::SocketAddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    daemon: tokio::task::JoinHandle<Result<(), DaemonError>>,
}

/// Starts `cpnd` with `config` on a free port.
pub async fn start_with(config: daemon::Config) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let console = config.console.as_ref().map(|l| l.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(daemon::run(config, listener, async {
        stopped.await.ok();
    }));
    TestServer {
        url,
        console,
        stop,
        daemon,
    }
}

/// Starts a server on `store`, seeded with `topology` if the store is
/// empty; it pushes nothing to routers.
pub async fn start(topology: Option<Topology>, store: Box<dyn Store>) -> TestServer {
    start_with(daemon::Config::new(topology, store)).await
}

/// Starts a server whose controller pushes to routers, with fast retries.
pub async fn start_pushing(topology: Topology, store: Box<dyn Store>) -> TestServer {
    let southbound = cpn::southbound::Config {
        timeout: std::time::Duration::from_secs(2),
        backoff_base: std::time::Duration::from_millis(20),
        backoff_max: std::time::Duration::from_millis(300),
        reconcile_interval: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    start_with(daemon::Config {
        southbound: Some(southbound),
        ..daemon::Config::new(Some(topology), store)
    })
    .await
}

impl TestServer {
    /// A client channel.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Stops the server (calls in flight finish) and the controller task.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.daemon.await.unwrap().unwrap();
    }
}

/// The lab topology.
pub fn lab() -> Topology {
    cpn::topology_file::load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap()
}

/// A mock router agent served in-process on a port.
pub struct MockServer {
    /// `127.0.0.1:PORT`
    pub addr: std::net::SocketAddr,
    /// The agent's state.
    pub agent: cpn::router::mock::MockAgent,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), cpn::grpc::ServeError>>,
}

/// Starts a mock agent on `addr` (port 0 picks one).
pub async fn start_mock(addr: &str, faults: cpn::router::mock::Faults) -> MockServer {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let agent = cpn::router::mock::MockAgent::new(faults);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(cpn::router::server::serve_mock(
        listener,
        agent.clone(),
        None,
        async {
            stopped.await.ok();
        },
    ));
    MockServer {
        addr,
        agent,
        stop,
        task,
    }
}

impl MockServer {
    /// Stops the agent (its state is gone with it).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The lab's YAML with every router's agent at `addr`.
pub fn lab_yaml_at(addr: &str) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap();
    let re_mgmt = |line: &str| {
        if line.trim_start().starts_with("mgmt:") {
            format!("    mgmt: \"{addr}\"")
        } else {
            line.to_owned()
        }
    };
    text.lines().map(re_mgmt).collect::<Vec<_>>().join("\n")
}

/// The lab with every router's agent at `addr`.
pub fn lab_at(addr: std::net::SocketAddr) -> Topology {
    cpn::topology_file::parse_str(&lab_yaml_at(&addr.to_string()), "lab.yaml").unwrap()
}
