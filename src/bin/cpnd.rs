//! `cpnd`: the CPN controller daemon. Argument parsing and wiring only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use cpn::api::access::Access;
use cpn::controller::actor::{self, Command};
use cpn::controller::{Config, Controller};
use cpn::daemon::{LogFormat, TlsArgs, init_logs, signal};
use cpn::metrics::Metrics;
use cpn::store::{MemoryStore, RedbStore, Store};
use tokio::sync::watch;
use tracing::{info, warn};

/// The CPN controller: topology, compute-aware SRv6 policies, southbound pushes.
#[derive(Debug, Parser)]
#[command(name = "cpnd", version, about)]
struct Args {
    /// The topology file to start from (used when the data directory holds no topology yet).
    #[arg(long)]
    topology: Option<PathBuf>,
    /// Address to serve gRPC on (port 0 picks a free port; the log says which).
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Directory of the durable state; without it, state lives in memory only.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to serve Prometheus metrics on (`/metrics`).
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// A policy whose placement still holds moves only when the best one
    /// improves its objective by more than this fraction.
    #[arg(long, default_value_t = 0.10)]
    reopt_threshold: f64,
    /// Do not push policies to routers (the API still shows them, southbound pending).
    #[arg(long)]
    no_southbound: bool,
    /// Southbound file: headends reached through BGP speakers (GoBGP) instead
    /// of their agents (see the README).
    #[arg(long, value_name = "FILE")]
    southbound: Option<PathBuf>,
    /// Timeout of each call to a router agent, milliseconds.
    #[arg(long, default_value_t = 5000)]
    push_timeout_ms: u64,
    /// Longest wait between retries to an unreachable router agent,
    /// milliseconds (retries start at 100 ms and double, with jitter).
    #[arg(long, default_value_t = 10_000)]
    retry_max_ms: u64,
    /// How often every router is reconciled with the controller, seconds.
    #[arg(long, default_value_t = 30.0)]
    reconcile_interval: f64,
    /// Access file: bearer tokens (SHA-256) and their roles; without it the
    /// API is open.
    #[arg(long, value_name = "FILE")]
    access: Option<PathBuf>,
    /// Append every state-changing call (who, what, result) to this file,
    /// as JSON lines (it is always logged too).
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Calls a second each token may make (bursts of one second's worth).
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Longest a northbound call may take, milliseconds.
    #[arg(long, default_value_t = 30_000)]
    call_timeout_ms: u64,
    #[command(flatten)]
    tls: TlsArgs,
    /// Serve plaintext on a non-loopback address (refused otherwise).
    #[arg(long)]
    allow_plaintext: bool,
    /// Speak TLS to router agents, checking their certificates against this CA.
    #[arg(long, value_name = "FILE")]
    agent_ca: Option<PathBuf>,
    /// Certificate (PEM) cpnd shows agents that require one (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "agent_ca")]
    agent_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE", requires = "agent_ca")]
    agent_key: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logs(args.log_format);
    anyhow::ensure!(
        (0.0..1.0).contains(&args.reopt_threshold),
        "--reopt-threshold must be in [0, 1), got {}",
        args.reopt_threshold
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let initial = match &args.topology {
        Some(path) => {
            Some(cpn::topology_file::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        None => None,
    };
    let store: Box<dyn Store> = match &args.data_dir {
        Some(dir) => Box::new(RedbStore::open(dir)?),
        None => {
            warn!("no --data-dir: state lives in memory and is lost at exit");
            Box::new(MemoryStore::default())
        }
    };
    let config = Config {
        reopt_threshold: args.reopt_threshold,
        ..Config::default()
    };
    let controller = tokio::task::spawn_blocking(move || Controller::open(store, initial, config))
        .await?
        .context("cannot start the controller")?;
    let tls = args.tls.server_tls()?;
    let agent_tls = match &args.agent_ca {
        Some(ca) => Some(cpn::tls::ClientTls {
            ca: ca.clone(),
            identity: cpn::tls::KeyPair::from_options(
                args.agent_cert.clone(),
                args.agent_key.clone(),
                "--agent-cert/--agent-key",
            )?,
        }),
        None => None,
    };
    let access = match &args.access {
        Some(path) => {
            let a =
                Access::load(path, controller.topology()).map_err(|e| anyhow::anyhow!("{e}"))?;
            info!(access = %path.display(), "bearer tokens required");
            a
        }
        None => {
            warn!("no --access file: the API is open to every caller");
            Access::open()
        }
    };
    let mut access = access.with_rate(args.rate_limit);
    if let Some(path) = &args.audit_log {
        access = access
            .with_audit_file(path)
            .with_context(|| format!("cannot open the audit log {}", path.display()))?;
    }
    let bgp = match &args.southbound {
        Some(path) => cpn::southbound::config::load(path, controller.topology())
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Vec::new(),
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
    let (sink, updates) = if args.no_southbound {
        warn!("--no-southbound: policies are not pushed to routers");
        (None, None)
    } else {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Some(tx), Some(rx))
    };
    let (handle, task) = actor::spawn(controller, sink);
    if let Some(updates) = updates {
        let config = cpn::southbound::Config {
            timeout: std::time::Duration::from_millis(args.push_timeout_ms),
            reconcile_interval: std::time::Duration::from_secs_f64(
                args.reconcile_interval.max(0.1),
            ),
            backoff_max: std::time::Duration::from_millis(args.retry_max_ms.max(100)),
            bgp,
            agent_tls,
            ..Default::default()
        };
        tokio::spawn(cpn::southbound::run(updates, handle.clone(), config));
    }
    let metrics = Arc::new(Metrics::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let mut metrics_task = None;
    if let Some(addr) = args.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        info!(
            url = cpn::metrics::describe(listener.local_addr()?),
            "serving metrics"
        );
        let (m, h) = (metrics.clone(), handle.clone());
        let refresh = move || {
            let (m, h) = (m.clone(), h.clone());
            Box::pin(async move {
                if let Ok((stats, counts)) = h.ask(Command::Stats).await {
                    m.update(&stats, &counts);
                }
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        };
        metrics_task = Some(tokio::spawn(cpn::metrics::serve(
            listener,
            metrics.clone(),
            refresh,
            stopped(stop_rx.clone()),
        )));
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let transport = match &tls {
        Some(t) => t.describe(),
        None if addr.ip().is_loopback() => {
            "plaintext (loopback only; use --tls-cert/--tls-key beyond)"
        }
        None if args.allow_plaintext => {
            warn!(%addr, "serving plaintext gRPC on a non-loopback address (--allow-plaintext)");
            "plaintext"
        }
        None => anyhow::bail!(
            "{addr} is not a loopback address: give --tls-cert and --tls-key (or --allow-plaintext)"
        ),
    };
    info!(%addr, transport, "serving gRPC");
    let options = cpn::api::server::Options {
        access: Arc::new(access),
        tls,
        call_timeout: std::time::Duration::from_millis(args.call_timeout_ms.max(1)),
    };
    let server = tokio::spawn(cpn::api::server::serve_with(
        listener,
        handle,
        metrics,
        options,
        stopped(stop_rx),
    ));

    signal().await;
    info!("shutting down: finishing calls in flight");
    let _ = stop_tx.send(true);
    server.await??;
    if let Some(m) = metrics_task {
        m.await??;
    }
    // Every handle is gone with the server: the controller task ends.
    task.await?;
    match &args.data_dir {
        Some(dir) => info!(data_dir = %dir.display(), "stopped; state is on disk"),
        None => info!("stopped; the state was in memory only"),
    }
    Ok(())
}
