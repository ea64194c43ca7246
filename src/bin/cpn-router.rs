//! `cpn-router`: a router agent speaking the southbound gRPC protocol.
//! Argument parsing and wiring only.

use clap::Parser;

/// A CPN router agent: keeps SR policies and SIDs for one or more routers.
#[derive(Debug, Parser)]
#[command(name = "cpn-router", version, about)]
struct Args {
    /// Keep everything in memory (any number of virtual routers).
    #[arg(long)]
    mock: bool,
    /// Address to serve gRPC on.
    #[arg(long, default_value = "127.0.0.1:50101")]
    listen: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = args;
    anyhow::bail!("the router agent is not built yet (see the southbound issue)")
}
