//! `cpn-router`: a router agent speaking the southbound gRPC protocol.
//! Argument parsing and wiring only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cpn::daemon::{LogFormat, TlsArgs, init_logs, signal};
use cpn::router::linux::{LinuxAgent, LinuxConfig, parse_link};
use cpn::router::mock::{Faults, MockAgent};
use tracing::info;

/// A CPN router agent: keeps SR policies and local SIDs for one or more
/// routers (`--mock`), or programs one router's Linux SRv6 data plane
/// (`--linux`).
#[derive(Debug, Parser)]
#[command(name = "cpn-router", version, about)]
struct Args {
    /// Keep everything in memory, for any number of virtual routers.
    #[arg(long, conflicts_with = "linux")]
    mock: bool,
    /// Program the Linux kernel (seg6 and seg6local routes over netlink) of one router.
    #[arg(long)]
    linux: bool,
    /// Address to serve gRPC on (port 0 picks a free port; the log says which).
    #[arg(long, default_value = "127.0.0.1:50101")]
    listen: SocketAddr,
    /// Once listening, write the bound address (`host:port`) to this file:
    /// with `--listen HOST:0` the system picks a free port, and whoever
    /// started the agent reads it here.
    #[arg(long, value_name = "FILE")]
    address_file: Option<PathBuf>,
    /// Linux: the router this agent is (requests for others are refused).
    #[arg(long, required_if_eq("linux", "true"))]
    router: Option<String>,
    /// Linux: the router's network namespace (default: the agent's own).
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
    /// Linux: one of the router's links, LINK=INTERFACE,NEXTHOP (End.X SIDs
    /// cross it to NEXTHOP; its interface's state is reported). Repeat per link.
    #[arg(long = "link", value_name = "LINK=IF,NEXTHOP", value_parser = parse_link)]
    links: Vec<(String, cpn::router::linux::Adjacency)>,
    /// Linux: interface End and End.DT6 SIDs are bound to (a veth pair is
    /// created in the namespace when missing).
    #[arg(long, default_value = "cpnsid0")]
    sid_device: String,
    /// Linux: routing table a data center's End.DT6 looks decapsulated packets
    /// up in (the router's own End.DT6 always uses the main table, 254).
    #[arg(long, default_value_t = 254)]
    dt6_table: u32,
    /// Linux: state file (policy names and versions), default /run/cpn-router/ROUTER.pb.
    #[arg(long)]
    state_file: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsArgs,
    /// Serve beyond loopback without checking who calls (plaintext, or TLS
    /// without --tls-client-ca); refused otherwise: whoever reaches the
    /// agent programs the router.
    #[arg(long)]
    allow_unauthenticated: bool,
    /// Mock: fraction of calls that fail with UNAVAILABLE (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Mock: delay before every answer, milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Mock: refuse policies with more segments than this, whatever the router's MSD.
    #[arg(long)]
    reject_msd: Option<u32>,
    /// Mock: seed of the fault dice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever RUST_BACKTRACE says.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logs(args.log_format);
    anyhow::ensure!(
        args.mock || args.linux,
        "choose a back end: --mock keeps policies in memory, --linux programs the kernel"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.fail_rate),
        "--fail-rate must be between 0 and 1"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if args.linux {
            // Before anything is made or bound: one line naming what the
            // kernel lacks.
            cpn::netlink::probe::srv6().await?;
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        if let Some(file) = &args.address_file {
            cpn::daemon::write_address_file(file, addr)?;
        }
        let tls = args.tls.server_tls()?;
        let transport = tls.as_ref().map_or("plaintext", |t| t.describe());
        let authenticated = tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        if !addr.ip().is_loopback() && !authenticated {
            anyhow::ensure!(
                args.allow_unauthenticated,
                "{addr} is not a loopback address: whoever reaches it would program the router; \
                 give --tls-cert, --tls-key and --tls-client-ca (mutual TLS), or --allow-unauthenticated"
            );
            tracing::warn!(%addr, transport, "serving beyond loopback without client authentication");
        }
        if args.linux {
            let router = args.router.expect("clap requires --router with --linux");
            let mut config = LinuxConfig::new(&router);
            config.netns = args.netns;
            config.links = args.links.into_iter().collect();
            config.sid_device = args.sid_device;
            config.dt6_table = args.dt6_table;
            if let Some(f) = args.state_file {
                config.state_file = f;
            }
            let netns = config.netns.clone().unwrap_or_else(|| "(own)".into());
            let agent = LinuxAgent::start(config)
                .await
                .with_context(|| format!("cannot program router {router}"))?;
            info!(%addr, %router, %netns, transport, "serving the Linux router agent");
            let gone = agent.gone();
            let stop = async move {
                tokio::select! {
                    () = signal() => {}
                    () = gone => {}
                }
            };
            cpn::router::server::serve(listener, agent, tls.as_ref(), stop).await?;
        } else {
            let agent = MockAgent::new(Faults {
                fail_rate: args.fail_rate,
                delay: Duration::from_millis(args.delay_ms),
                reject_msd: args.reject_msd,
                seed: args.seed,
            });
            info!(%addr, fail_rate = args.fail_rate, delay_ms = args.delay_ms, transport, "serving the mock router agent");
            cpn::router::server::serve_mock(listener, agent, tls.as_ref(), signal()).await?;
        }
        info!("stopped");
        Ok(())
    })
}
