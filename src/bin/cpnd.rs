//! `cpnd`: the CPN controller daemon. Argument parsing and wiring only.

use std::path::PathBuf;

use clap::Parser;

/// The CPN controller: topology, compute-aware SRv6 policies, southbound pushes.
#[derive(Debug, Parser)]
#[command(name = "cpnd", version, about)]
struct Args {
    /// The topology file to start from.
    #[arg(long)]
    topology: Option<PathBuf>,
    /// Address to serve gRPC on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = args;
    anyhow::bail!("the controller daemon is not built yet (see the controller issue)")
}
