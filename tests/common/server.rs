//! An in-process `cpnd` for tests: controller task plus gRPC server on port 0.

use std::sync::Arc;

use cpn::controller::actor;
use cpn::controller::{Config, Controller};
use cpn::metrics::Metrics;
use cpn::model::Topology;
use cpn::store::Store;
use tonic::transport::Channel;

/// A running server; stop it with [`TestServer::stop`].
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    actor: tokio::task::JoinHandle<()>,
}

/// Starts a server on `store`, seeded with `topology` if the store is empty.
pub async fn start(topology: Option<Topology>, store: Box<dyn Store>) -> TestServer {
    let controller =
        Controller::open(store, topology, Config::default()).expect("controller opens");
    let (handle, actor) = actor::spawn(controller, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cpn::api::server::serve(
        listener,
        handle,
        Arc::new(Metrics::new()),
        async {
            stopped.await.ok();
        },
    ));
    TestServer {
        url,
        stop,
        server,
        actor,
    }
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
        self.server.await.unwrap().unwrap();
        self.actor.await.unwrap();
    }
}

/// The lab topology.
pub fn lab() -> Topology {
    cpn::topology_file::load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap()
}
