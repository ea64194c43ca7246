//! `cpnctl`: the command-line client. Argument parsing and wiring only; the
//! commands live in `cpn::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cpn::cli::bench::BenchArgs;
use cpn::cli::path::PathArgs;
use cpn::cli::topology::TopologyCommand;

/// Compute-aware SRv6 path placement, from the terminal.
#[derive(Debug, Parser)]
#[command(name = "cpnctl", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with topology files (check, show, generate).
    #[command(subcommand)]
    Topology(TopologyCommand),
    /// Ask where a job should run and by which SRv6 path.
    Path(PathArgs),
    /// Measure the path engine on random queries against plain Dijkstra.
    Bench(BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Topology(command) => cpn::cli::topology::run(command).map(|()| ExitCode::SUCCESS),
        Command::Path(args) => cpn::cli::path::run(args),
        Command::Bench(args) => cpn::cli::bench::run(args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            for line in format!("{e:#}").lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(1)
        }
    }
}
