//! The thin tokio driver of BGP-LS: a listener that accepts peers (all of
//! them, or those of an allow list), one task per connection running the
//! session state machine, and the learner task that owns the RIB and talks
//! to the controller through its handle, as any other input does. It never
//! touches the controller's state, and never advertises a route.

mod connection;
mod learner;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::session::{self, Peer};
use super::status::Status;
use super::wire::update::Update;
use crate::controller::actor::ControllerHandle;
use crate::topology_file::business::Business;

/// How the speaker runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (port 0: any free port; the log says which).
    pub listen: SocketAddr,
    /// What CPN says in its OPEN.
    pub session: session::Config,
    /// Peers allowed to connect (empty: any).
    pub peers: Vec<IpAddr>,
    /// A session that sends no End-of-RIB has a complete table once it
    /// was quiet (no UPDATE) this long.
    pub eor_timeout: Duration,
    /// Learned changes are applied at most this often, each window's
    /// changes together.
    pub batch: Duration,
}

impl Config {
    /// Defaults around a listen address: AS 64512, BGP Identifier the
    /// listen address when it is a specific IPv4 address (else
    /// 192.0.2.1), hold time 90 s, any peer, 10 s quiet period, 100 ms
    /// batches.
    pub fn new(listen: SocketAddr) -> Self {
        let bgp_id = match listen.ip() {
            IpAddr::V4(a) if !a.is_unspecified() => a,
            _ => Ipv4Addr::new(192, 0, 2, 1),
        };
        Config {
            listen,
            session: session::Config {
                bgp_id,
                ..Default::default()
            },
            peers: Vec::new(),
            eor_timeout: Duration::from_secs(10),
            batch: learner::BATCH,
        }
    }
}

/// What connections tell the learner.
#[derive(Debug)]
enum Msg {
    Connected {
        conn: u64,
        peer: String,
        control: mpsc::Sender<connection::Control>,
    },
    Up {
        conn: u64,
        peer: Peer,
    },
    Update {
        conn: u64,
        update: Box<Update>,
    },
    Down {
        conn: u64,
        reason: String,
    },
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A bound BGP-LS listener.
pub struct Listener {
    listener: TcpListener,
    /// The address it is bound to.
    pub addr: SocketAddr,
}

/// Binds the listener of `config`.
pub async fn bind(config: &Config) -> std::io::Result<Listener> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    Ok(Listener { listener, addr })
}

/// Runs the speaker on `listener` until `stop` turns true: sessions are
/// closed with Cease (administrative shutdown). The status is published on
/// the returned receiver.
pub fn spawn(
    listener: Listener,
    config: Config,
    business: Arc<Business>,
    handle: ControllerHandle,
    stop: watch::Receiver<bool>,
) -> (watch::Receiver<Arc<Status>>, tokio::task::JoinHandle<()>) {
    let (status_tx, status_rx) = watch::channel(Arc::new(Status::default()));
    let (tx, rx) = mpsc::channel::<Msg>(4096);
    let learner = learner::Learner::new(
        config.clone(),
        business,
        handle,
        status_tx,
        listener.addr.to_string(),
    );
    let task = tokio::spawn(async move {
        let learning = tokio::spawn(learner.run(rx, stop.clone()));
        accept(listener, config, tx, stop).await;
        let _ = learning.await;
    });
    (status_rx, task)
}

async fn accept(
    listener: Listener,
    config: Config,
    tx: mpsc::Sender<Msg>,
    mut stop: watch::Receiver<bool>,
) {
    if config.peers.is_empty() && !listener.addr.ip().is_loopback() {
        warn!(addr = %listener.addr, "BGP-LS accepts sessions from any peer (no --bgp-ls-peer)");
    }
    let mut next_id = 0u64;
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let (stream, from) = tokio::select! {
            r = listener.listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    warn!(error = %e, "BGP-LS accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let ip = from.ip().to_canonical();
        if !config.peers.is_empty() && !config.peers.contains(&ip) {
            warn!(peer = %from, "BGP-LS connection refused: not an allowed peer");
            tokio::spawn(refuse(stream));
            continue;
        }
        next_id += 1;
        info!(peer = %from, conn = next_id, "BGP-LS connection");
        let _ = stream.set_nodelay(true);
        tasks.spawn(connection::run(
            stream,
            next_id,
            ip.to_string(),
            config.session.clone(),
            tx.clone(),
            stop.clone(),
        ));
        while tasks.try_join_next().is_some() {}
    }
    // Connections close with Cease on the same signal; wait for them.
    while tasks.join_next().await.is_some() {}
}

/// Cease 5 (connection rejected), without an OPEN.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let n = super::wire::message::Message::Notification(super::wire::message::Notification {
        code: 6,
        subcode: 5,
        data: vec![],
    });
    let _ = stream.write_all(&n.encode()).await;
    let _ = stream.shutdown().await;
}
