//! `cpnd` as a library: [`run`] opens the controller on its store, starts
//! the controller task, the southbound, the metrics endpoint and the
//! northbound API, and serves until shutdown. The binary parses arguments
//! into a [`Config`] and calls it; tests call it in-process.
//!
//! Also what both daemons (`cpnd`, `cpn-router`) share: log set-up, their
//! TLS options, the shutdown signal.

pub mod northbound;
mod shared;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

pub use shared::{LogFormat, TlsArgs, init_logs, signal, write_address_file};

use crate::api::access::Access;
use crate::controller::{self, Controller, ControllerError, actor};
use crate::grpc::ServeError;
use crate::metrics::Metrics;
use crate::model::Topology;
use crate::store::{Store, StoreError};
use crate::tls::ServerTls;

/// Everything `cpnd` is told at start.
pub struct Config {
    /// The topology to start from when the store holds none yet.
    pub topology: Option<Topology>,
    /// Where the state lives.
    pub store: Box<dyn Store>,
    /// How the controller re-optimizes.
    pub controller: controller::Config,
    /// How policies reach routers; `None`: they are not pushed (and say
    /// so).
    pub southbound: Option<crate::southbound::Config>,
    /// Southbound file: headends reached through BGP speakers (checked
    /// against the topology at start).
    pub southbound_file: Option<PathBuf>,
    /// Access file (bearer tokens and roles); `None`: the API is open.
    pub access_file: Option<PathBuf>,
    /// Where state-changing calls are appended as JSON lines.
    pub audit_log: Option<PathBuf>,
    /// Calls a second each token may make.
    pub rate_limit: Option<f64>,
    /// Longest a northbound call may take.
    pub call_timeout: Duration,
    /// TLS of the API (`None`: plaintext, loopback only unless allowed).
    pub tls: Option<ServerTls>,
    /// Serve plaintext on a non-loopback address.
    pub allow_plaintext: bool,
    /// Where to serve Prometheus metrics.
    pub metrics: Option<SocketAddr>,
    /// Where to serve the web console (`--http-listen`), already bound;
    /// `None`: no console.
    pub console: Option<tokio::net::TcpListener>,
    /// Learn the network over BGP-LS.
    pub bgp_ls: Option<BgpLs>,
    /// How long a data center's reporter may stay silent past its own
    /// interval before the data center is treated as down.
    pub report_grace: Duration,
    /// Run as one replica of several on etcd (`--store etcd://...`):
    /// `store` is then unused. An empty `url` is filled from the listener.
    pub ha: Option<crate::ha::Config>,
}

/// The BGP-LS speaker of `cpnd --bgp-ls`.
pub struct BgpLs {
    /// Listen address, identity, peers, timers.
    pub speaker: crate::bgp_ls::speaker::Config,
    /// The topology file's business data.
    pub business: crate::topology_file::business::Business,
}

impl Config {
    /// Defaults around a topology and a store: southbound off, open
    /// plaintext API, no metrics endpoint, no console.
    pub fn new(topology: Option<Topology>, store: Box<dyn Store>) -> Self {
        Config {
            topology,
            store,
            controller: controller::Config::default(),
            southbound: None,
            southbound_file: None,
            access_file: None,
            audit_log: None,
            rate_limit: None,
            call_timeout: Duration::from_secs(30),
            tls: None,
            allow_plaintext: false,
            metrics: None,
            console: None,
            bgp_ls: None,
            report_grace: Duration::from_secs(30),
            ha: None,
        }
    }
}

/// Why `cpnd` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The controller could not open its state.
    #[error("cannot start the controller: {0}")]
    Open(ControllerError),
    /// A file given at start (access, audit, southbound) is wrong.
    #[error("{0}")]
    Setup(String),
    /// The API must not be served as asked.
    #[error("{0}")]
    Refused(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The API server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The state could not be made durable: the controller stopped, having
    /// acknowledged nothing it did not persist. Restart from the store.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    /// etcd could not be used at start.
    #[error("etcd: {0}")]
    Replica(#[from] crate::ha::replica::ReplicaError),
    /// A task panicked.
    #[error("a task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Runs the controller daemon, serving the API on `listener`, until
/// `shutdown` resolves (calls in flight finish, the state is flushed) or
/// the controller stops on a store failure.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), DaemonError> {
    let addr = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
    let transport = match &config.tls {
        Some(t) => t.describe(),
        None if addr.ip().is_loopback() => {
            "plaintext (loopback only; use --tls-cert/--tls-key beyond)"
        }
        None if config.allow_plaintext => {
            warn!(%addr, "serving plaintext gRPC on a non-loopback address (--allow-plaintext)");
            "plaintext"
        }
        None => {
            return Err(DaemonError::Refused(format!(
                "{addr} is not a loopback address: give --tls-cert and --tls-key (or --allow-plaintext)"
            )));
        }
    };
    if let Some(console) = &config.console {
        console_transport(console, &config)?;
    }
    let (store, topology, controller_config) = (config.store, config.topology, config.controller);
    let (controller, role, replica) = match config.ha {
        None => {
            let c = tokio::task::spawn_blocking(move || {
                Controller::open(store, topology, controller_config)
            })
            .await?
            .map_err(DaemonError::Open)?;
            (c, actor::Role::Solo, None)
        }
        Some(mut ha) => {
            if ha.url.is_empty() {
                let scheme = if config.tls.is_some() {
                    "https"
                } else {
                    "http"
                };
                ha.url = format!("{scheme}://{addr}");
            }
            info!(replica = %ha.replica_id, url = %ha.url, etcd = ?ha.endpoints, "joining the cluster on etcd");
            let mut r = crate::ha::Replica::connect(ha, controller_config, topology).await?;
            let (c, role) = r.first_state().await?;
            info!(role = ?role, "replica ready");
            (c, role, Some(r))
        }
    };
    let access = access(
        &config.access_file,
        config.rate_limit,
        &config.audit_log,
        &controller,
    )?;
    let southbound = match config.southbound {
        Some(mut sb) if replica.is_some() => {
            sb.epoch = Some(replica.as_ref().expect("checked").push_epoch());
            if let Some(path) = &config.southbound_file {
                sb.bgp = crate::southbound::config::load(path, controller.topology())
                    .map_err(|e| DaemonError::Setup(e.to_string()))?;
            }
            Some(sb)
        }
        None => {
            warn!("--no-southbound: policies are not pushed to routers");
            None
        }
        Some(mut sb) => {
            if let Some(path) = &config.southbound_file {
                sb.bgp = crate::southbound::config::load(path, controller.topology())
                    .map_err(|e| DaemonError::Setup(e.to_string()))?;
            }
            Some(sb)
        }
    };
    let t = controller.topology();
    info!(
        topology = t.name(),
        routers = t.router_count(),
        links = t.link_count(),
        datacenters = t.datacenters().len(),
        policies = controller.policies().count(),
        "controller ready"
    );

    let (outbox, desired) = match southbound {
        Some(sb) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Some(tx), Some((rx, sb)))
        }
        None => (None, None),
    };
    let (stepped_tx, stepped_rx) = tokio::sync::mpsc::unbounded_channel();
    let running = actor::spawn_as(controller, outbox, role, Some(stepped_tx));
    if let Some((rx, sb)) = desired {
        tokio::spawn(crate::southbound::run(rx, running.feedback.clone(), sb));
    }
    let handle = running.handle;
    let metrics = Arc::new(Metrics::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut cluster: crate::api::cluster::Cluster = None;
    let replica_task = replica.map(|r| {
        cluster = Some(Arc::new(crate::ha::replica::ClusterView::of(&r)));
        tokio::spawn(r.run(handle.clone(), stepped_rx, stop_rx.clone()))
    });

    let mut bgp_ls = None;
    if let Some(b) = config.bgp_ls {
        let addr = b.speaker.listen;
        let listener = crate::bgp_ls::speaker::bind(&b.speaker)
            .await
            .map_err(|source| DaemonError::Listen { addr, source })?;
        info!(addr = %listener.addr, asn = b.speaker.session.asn, bgp_id = %b.speaker.session.bgp_id,
            "listening for BGP-LS");
        let (status, task) = crate::bgp_ls::speaker::spawn(
            listener,
            b.speaker,
            Arc::new(b.business),
            handle.clone(),
            stop_rx.clone(),
        );
        bgp_ls = Some((status, task));
    }
    let bgp_ls_status = bgp_ls.as_ref().map(|(s, _)| s.clone());

    let mut metrics_task = None;
    if let Some(addr) = config.metrics {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| DaemonError::Listen { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| DaemonError::Listen { addr, source })?;
        info!(url = crate::metrics::describe(local), "serving metrics");
        let (m, h, b) = (metrics.clone(), handle.clone(), bgp_ls_status.clone());
        let refresh = move || {
            let (m, h, b) = (m.clone(), h.clone(), b.clone());
            Box::pin(async move {
                if let Ok((stats, counts)) = h.stats().await {
                    m.update(&stats, &counts);
                }
                if let Ok(t) = h.topology().await {
                    m.update_reporters(&t);
                }
                if let Some(b) = b {
                    let status = b.borrow().clone();
                    m.update_bgp_ls(&status);
                }
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        };
        metrics_task = Some(tokio::spawn(crate::metrics::serve(
            listener,
            metrics.clone(),
            refresh,
            stopped(stop_rx.clone()),
        )));
    }

    let access = Arc::new(access);
    let mut console_task = None;
    if let Some(listener) = config.console {
        if let Ok(local) = listener.local_addr() {
            info!(
                url = crate::console::describe(local),
                "serving the web console"
            );
        }
        console_task = Some(tokio::spawn(crate::console::serve(
            listener,
            handle.clone(),
            access.clone(),
            stopped(stop_rx.clone()),
        )));
    }

    // Data centers' reporters that go quiet become stale, then lost.
    let last_heard = controller::freshness::LastHeard::default();
    let watchdog = tokio::spawn(controller::freshness::watchdog(
        handle.clone(),
        last_heard.clone(),
        config.report_grace,
        stop_rx.clone(),
    ));

    info!(%addr, transport, "serving gRPC");
    let options = northbound::Options {
        access,
        tls: config.tls,
        call_timeout: config.call_timeout,
        bgp_ls: bgp_ls_status,
        last_heard,
        cluster,
    };
    let mut server = tokio::spawn(northbound::serve(
        listener,
        handle,
        metrics,
        options,
        stopped(stop_rx),
    ));
    let mut task = running.task;

    // Until asked to stop, or until the controller stops by itself (its
    // store failed) or the server fails.
    let failed: Option<DaemonError> = tokio::select! {
        () = shutdown => None,
        r = &mut task => Some(match r {
            Ok(Err(e)) => DaemonError::Store(e),
            Ok(Ok(())) => DaemonError::Setup("the controller stopped".into()),
            Err(e) => DaemonError::Task(e),
        }),
        r = &mut server => Some(match r {
            Ok(Err(e)) => DaemonError::Serve(e),
            Ok(Ok(())) => DaemonError::Setup("the API server stopped".into()),
            Err(e) => DaemonError::Task(e),
        }),
    };
    if let Some(e) = failed {
        let _ = stop_tx.send(true);
        return Err(e);
    }
    info!("shutting down: finishing calls in flight");
    let _ = stop_tx.send(true);
    server.await??;
    if let Some(r) = replica_task {
        // It gives the lease up (another replica takes over at once) and
        // drops its controller handle.
        r.await?;
    }
    if let Some((_, speaker)) = bgp_ls {
        // Its sessions close with Cease; it holds a controller handle.
        speaker.await?;
    }
    if let Some(m) = metrics_task {
        // A metrics endpoint that failed to serve is not worth an error
        // at exit.
        let _ = m.await?;
    }
    if let Some(c) = console_task {
        // Likewise the console: its streams have ended with the server.
        let _ = c.await?;
    }
    // It holds a controller handle too.
    watchdog.await?;
    // Every handle is gone with the server: the controller task ends and
    // flushes.
    task.await??;
    Ok(())
}

/// Refuses a console in plaintext beyond loopback, as the gRPC API is
/// refused (tokens and session cookies would cross the network in the
/// clear), unless plaintext is allowed.
fn console_transport(
    listener: &tokio::net::TcpListener,
    config: &Config,
) -> Result<(), DaemonError> {
    let addr = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if config.allow_plaintext {
        warn!(%addr, "serving the web console in plaintext on a non-loopback address (--allow-plaintext)");
        return Ok(());
    }
    Err(DaemonError::Refused(format!(
        "--http-listen {addr} is not a loopback address and the console speaks plain HTTP: put it behind a TLS proxy on loopback (or give --allow-plaintext)"
    )))
}

/// The access rules: open, or the access file's tokens (checked against
/// the topology), with the rate limit and the audit log.
fn access(
    file: &Option<PathBuf>,
    rate: Option<f64>,
    audit_log: &Option<PathBuf>,
    controller: &Controller,
) -> Result<Access, DaemonError> {
    let access = match file {
        Some(path) => {
            let a = Access::load(path, controller.topology()).map_err(DaemonError::Setup)?;
            info!(access = %path.display(), "bearer tokens required");
            a
        }
        None => {
            warn!("no --access file: the API is open to every caller");
            Access::open()
        }
    };
    let mut access = access.with_rate(rate);
    if let Some(path) = audit_log {
        access = access.with_audit_file(path).map_err(|e| {
            DaemonError::Setup(format!("cannot open the audit log {}: {e}", path.display()))
        })?;
    }
    Ok(access)
}
