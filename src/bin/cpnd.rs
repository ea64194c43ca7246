//! `cpnd`: the CPN controller daemon. Argument parsing and wiring only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cpn::daemon::{self, DaemonError, LogFormat, TlsArgs, init_logs, signal};
use cpn::store::{MemoryStore, RedbStore, Store};
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
    /// Once listening, write the bound address (`host:port`) to this file
    /// (with a port of 0 in --listen, the system picks a free one).
    #[arg(long, value_name = "FILE")]
    address_file: Option<PathBuf>,
    /// Directory of the durable state; without it, state lives in memory only.
    #[arg(long, conflicts_with = "store")]
    data_dir: Option<PathBuf>,
    /// Run as one of several replicas sharing their state in etcd:
    /// `etcd://HOST:PORT[,HOST:PORT...]` (see docs/ha.md). One replica
    /// leads; the others serve reads and answer writes UNAVAILABLE with the
    /// leader's URL.
    #[arg(long, value_name = "etcd://HOST:PORT,...")]
    store: Option<String>,
    /// This replica's id in the cluster (default: the host name and port).
    #[arg(long, value_name = "NAME", requires = "store")]
    replica_id: Option<String>,
    /// The URL other replicas and clients reach this replica's API at
    /// (default: http(s)://the --listen address).
    #[arg(long, value_name = "URL", requires = "store")]
    advertise_url: Option<String>,
    /// Key prefix of CPN's state in etcd.
    #[arg(long, default_value = "/cpn", requires = "store")]
    etcd_prefix: String,
    /// Lease TTL, seconds: a dead leader is replaced about this long after
    /// its last renewal (renewals every TTL/3).
    #[arg(long, default_value_t = 5, requires = "store")]
    lease_ttl_s: u64,
    /// CA (PEM) of etcd's certificates: speak TLS to etcd.
    #[arg(long, value_name = "FILE", requires = "store")]
    etcd_ca: Option<PathBuf>,
    /// Client certificate (PEM) for etcd.
    #[arg(long, value_name = "FILE", requires = "etcd_ca")]
    etcd_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE", requires = "etcd_cert")]
    etcd_key: Option<PathBuf>,
    /// Address to serve Prometheus metrics on (`/metrics`).
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// Address to serve the web console on (http://ADDR/): the map, the
    /// policies live, what-if path queries. Loopback only unless
    /// --allow-plaintext; the same tokens as the API (--access).
    #[arg(long, value_name = "ADDR")]
    http_listen: Option<SocketAddr>,
    /// A policy whose placement still holds moves only when the best one
    /// improves its objective by more than this fraction.
    #[arg(long, default_value_t = 0.10)]
    reopt_threshold: f64,
    /// Seconds a data center's reporter may stay silent past its own
    /// interval (when it is marked stale) before the data center is
    /// treated as down.
    #[arg(long, default_value_t = 30)]
    report_grace_s: u64,
    /// Do not push policies to routers (the API still shows them, with
    /// southbound `disabled`).
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
    /// Learn the network over BGP-LS: a passive BGP speaker listens here
    /// (port 0 picks a free port; the log says which). --topology is then
    /// the business data: operators with their AS numbers, data centers,
    /// overrides (see docs/bgp-ls.md).
    #[arg(long, value_name = "ADDR", requires = "topology")]
    bgp_ls: Option<SocketAddr>,
    /// CPN's AS number on its BGP-LS sessions.
    #[arg(long, value_name = "N", default_value_t = 64512)]
    bgp_ls_asn: u32,
    /// CPN's BGP Identifier (default: the --bgp-ls address when it is a
    /// specific IPv4 address, else 192.0.2.1).
    #[arg(long, value_name = "A.B.C.D")]
    bgp_ls_id: Option<Ipv4Addr>,
    /// Hold time CPN proposes, seconds (0, or 3 and more).
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    bgp_ls_hold_time: u16,
    /// Accept BGP-LS sessions only from this address (repeat for more;
    /// default: any peer).
    #[arg(long, value_name = "IP")]
    bgp_ls_peer: Vec<IpAddr>,
    /// A peer that sends no End-of-RIB has its table taken as complete once
    /// it sent nothing for this long, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    bgp_ls_eor_timeout: f64,
    /// Learned changes are applied at most this often, each window's changes
    /// in one re-optimization, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    bgp_ls_batch_ms: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Exit status when the store failed (EX_SOFTWARE): nothing unpersisted
/// was acknowledged; restart on the same data directory.
const EXIT_STORE: u8 = 70;

fn main() -> ExitCode {
    let args = Args::parse();
    init_logs(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            match e.downcast_ref::<DaemonError>() {
                Some(DaemonError::Store(_)) => ExitCode::from(EXIT_STORE),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..1.0).contains(&args.reopt_threshold),
        "--reopt-threshold must be in [0, 1), got {}",
        args.reopt_threshold
    );
    anyhow::ensure!(
        !matches!(args.bgp_ls_hold_time, 1 | 2),
        "--bgp-ls-hold-time must be 0 or at least 3, got {}",
        args.bgp_ls_hold_time
    );
    let mut bgp_ls = None;
    let topology = match (&args.topology, args.bgp_ls) {
        (Some(path), Some(listen)) => {
            let business = cpn::topology_file::business::load_business(path)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let initial = cpn::bgp_ls::merge::build(&Default::default(), &business, None)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .topology;
            let mut speaker = cpn::bgp_ls::speaker::Config::new(listen);
            speaker.session.asn = args.bgp_ls_asn;
            speaker.session.hold_time = args.bgp_ls_hold_time;
            if let Some(id) = args.bgp_ls_id {
                speaker.session.bgp_id = id;
            }
            speaker.peers = args.bgp_ls_peer.clone();
            speaker.eor_timeout = Duration::from_secs_f64(args.bgp_ls_eor_timeout.max(0.1));
            speaker.batch = Duration::from_millis(args.bgp_ls_batch_ms.max(1));
            bgp_ls = Some(daemon::BgpLs { speaker, business });
            Some(initial)
        }
        (Some(path), None) => {
            Some(cpn::topology_file::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        (None, _) => None,
    };
    let ha = match &args.store {
        Some(url) => Some(ha_config(&args, url)?),
        None => None,
    };
    let store: Box<dyn Store> = match (&args.data_dir, &ha) {
        (_, Some(_)) => Box::new(MemoryStore::default()),
        (Some(dir), None) => Box::new(RedbStore::open(dir)?),
        (None, None) => {
            warn!("no --data-dir: state lives in memory and is lost at exit");
            Box::new(MemoryStore::default())
        }
    };
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
    let southbound = (!args.no_southbound).then(|| cpn::southbound::Config {
        timeout: Duration::from_millis(args.push_timeout_ms),
        reconcile_interval: Duration::from_secs_f64(args.reconcile_interval.max(0.1)),
        backoff_max: Duration::from_millis(args.retry_max_ms.max(100)),
        agent_tls,
        ..Default::default()
    });
    let console = match args.http_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--http-listen)"))?,
        ),
        None => None,
    };
    let config = daemon::Config {
        controller: cpn::controller::Config {
            reopt_threshold: args.reopt_threshold,
            ..Default::default()
        },
        southbound,
        southbound_file: args.southbound.clone(),
        access_file: args.access.clone(),
        audit_log: args.audit_log.clone(),
        rate_limit: args.rate_limit,
        call_timeout: Duration::from_millis(args.call_timeout_ms.max(1)),
        tls: args.tls.server_tls()?,
        allow_plaintext: args.allow_plaintext,
        metrics: args.metrics_listen,
        console,
        bgp_ls,
        report_grace: Duration::from_secs(args.report_grace_s),
        ha,
        ..daemon::Config::new(topology, store)
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    if let Some(file) = &args.address_file {
        daemon::write_address_file(file, listener.local_addr()?)
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    daemon::run(config, listener, async {
        signal().await;
    })
    .await?;
    match (&args.data_dir, &args.store) {
        (_, Some(store)) => info!(%store, "stopped; the state is in etcd"),
        (Some(dir), None) => info!(data_dir = %dir.display(), "stopped; state is on disk"),
        (None, None) => info!("stopped; the state was in memory only"),
    }
    Ok(())
}

/// The replication settings of `--store etcd://...`.
fn ha_config(args: &Args, url: &str) -> anyhow::Result<cpn::ha::Config> {
    let tls = match &args.etcd_ca {
        None => None,
        Some(ca) => {
            let read = |p: &PathBuf| {
                std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let mut tls = tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(read(ca)?));
            if let (Some(cert), Some(key)) = (&args.etcd_cert, &args.etcd_key) {
                tls = tls.identity(tonic::transport::Identity::from_pem(
                    read(cert)?,
                    read(key)?,
                ));
            }
            Some(tls)
        }
    };
    let endpoints = cpn::ha::endpoints(url, tls.is_some()).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(args.lease_ttl_s >= 2, "--lease-ttl-s must be at least 2");
    let replica_id = match &args.replica_id {
        Some(id) => id.clone(),
        None => format!(
            "{}-{}",
            std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "cpnd".into()),
            args.listen.port()
        ),
    };
    Ok(cpn::ha::Config {
        endpoints,
        tls,
        prefix: args.etcd_prefix.clone(),
        replica_id,
        url: args.advertise_url.clone().unwrap_or_default(),
        lease_ttl: Duration::from_secs(args.lease_ttl_s),
        push_epoch: Default::default(),
    })
}
