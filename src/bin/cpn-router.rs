//! `cpn-router`: a router agent speaking the southbound gRPC protocol.
//! Argument parsing and wiring only.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cpn::daemon::{LogFormat, init_logs, signal};
use cpn::router::mock::{Faults, MockAgent};
use tracing::info;

/// A CPN router agent: keeps SR policies and local SIDs for one or more routers.
#[derive(Debug, Parser)]
#[command(name = "cpn-router", version, about)]
struct Args {
    /// Keep everything in memory, for any number of virtual routers.
    #[arg(long)]
    mock: bool,
    /// Address to serve gRPC on (port 0 picks a free port; the log says which).
    #[arg(long, default_value = "127.0.0.1:50101")]
    listen: SocketAddr,
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

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logs(args.log_format);
    anyhow::ensure!(
        args.mock,
        "choose a back end: --mock keeps policies in memory (real data planes are further back ends)"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.fail_rate),
        "--fail-rate must be between 0 and 1"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let agent = MockAgent::new(Faults {
            fail_rate: args.fail_rate,
            delay: Duration::from_millis(args.delay_ms),
            reject_msd: args.reject_msd,
            seed: args.seed,
        });
        info!(%addr, fail_rate = args.fail_rate, delay_ms = args.delay_ms, "serving the mock router agent");
        cpn::router::server::serve_mock(listener, agent, signal()).await?;
        info!("stopped");
        Ok(())
    })
}
