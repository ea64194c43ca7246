//! `cpnctl`: the command-line client. Argument parsing and wiring only; the
//! commands live in `cpn::cli`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use cpn::cli::bench::BenchArgs;
use cpn::cli::client::Target;
use cpn::cli::load::LoadArgs;
use cpn::cli::online::{EventArgs, Failure, PolicyCommand};
use cpn::cli::path::PathArgs;
use cpn::cli::topology::TopologyCommand;

/// Compute-aware SRv6 path placement, from the terminal.
#[derive(Debug, Parser)]
#[command(name = "cpnctl", version, about, propagate_version = true)]
struct Cli {
    /// The controller, e.g. http://127.0.0.1:50051 (for online commands);
    /// several replicas as URL1,URL2,... (the leader is used when it
    /// answers, else the first replica that does).
    #[arg(long, global = true, env = "CPN_SERVER")]
    server: Option<String>,
    /// Bearer token for a controller with an access file.
    #[arg(long, global = true, env = "CPN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// CA certificate (PEM) of the controller, for https:// servers.
    #[arg(long, global = true, env = "CPN_CA", value_name = "FILE")]
    ca: Option<std::path::PathBuf>,
    /// Client certificate (PEM), for a controller that requires one (mutual TLS).
    #[arg(long, global = true, env = "CPN_CERT", value_name = "FILE")]
    cert: Option<std::path::PathBuf>,
    /// Its private key (PEM).
    #[arg(long, global = true, env = "CPN_KEY", value_name = "FILE")]
    key: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Topology files (check, show, generate), or the live topology with --server.
    Topology(TopologyArgs),
    /// Ask where a job should run and by which SRv6 path (offline with
    /// --topology, or the controller with --server).
    Path(PathArgs),
    /// Install, list, show, remove and watch policies (needs --server).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// What the controller learns over BGP-LS (needs --server).
    #[command(subcommand, name = "bgp-ls")]
    BgpLs(cpn::cli::bgp_ls::BgpLsCommand),
    /// The replicas of a controller on etcd: leader, epoch, lag (needs
    /// --server).
    #[command(subcommand)]
    Cluster(cpn::cli::cluster::ClusterCommand),
    /// Apply one event to the controller's network (needs --server).
    Event(EventArgs),
    /// A data center's side: report its pools once, or keep reporting
    /// them from a Prometheus endpoint (needs --server).
    #[command(subcommand)]
    Dc(cpn::cli::dc::DcCommand),
    /// Measure the path engine on random queries against plain Dijkstra.
    Bench(BenchArgs),
    /// Drive the controller with concurrent clients (queries, installs,
    /// removals) and report throughput and latency (needs --server).
    Load(LoadArgs),
    /// Replay a scenario (what-if story) and check every expectation:
    /// exit 0 when all hold, 1 otherwise.
    Replay {
        /// The scenario file (YAML).
        file: std::path::PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A real SRv6 lab in network namespaces (as root): up, down,
    /// link-down, link-up, status.
    #[command(subcommand)]
    Lab(cpn::cli::lab::LabCommand),
    /// Print shell completions: `cpnctl completions bash > /etc/bash_completion.d/cpnctl`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct TopologyArgs {
    #[command(subcommand)]
    command: Option<TopologyCommand>,
    /// With --server and no subcommand: the live topology in the topology
    /// file format, as JSON.
    #[arg(long)]
    json: bool,
    /// With --server and no subcommand: list every router and link with
    /// its source (file, BGP-LS peer), however many there are.
    #[arg(long)]
    sources: bool,
}

fn needs_server(server: Option<Target>, what: &str) -> anyhow::Result<Target> {
    server.ok_or_else(|| {
        Failure {
            code: 1,
            message: format!(
                "{what} talks to the controller: give --server URL (or set CPN_SERVER)"
            ),
        }
        .into()
    })
}

async fn online(cli: Cli) -> anyhow::Result<ExitCode> {
    let server = cli.server.map(|url| Target {
        url,
        ca: cli.ca,
        cert: cli.cert,
        key: cli.key,
        token: cli.token,
    });
    match cli.command {
        Command::Topology(TopologyArgs {
            command: None,
            json,
            sources,
        }) => {
            cpn::cli::online::topology(
                &needs_server(server, "`cpnctl topology` without a subcommand")?,
                json,
                sources,
            )
            .await
        }
        Command::BgpLs(command) => {
            cpn::cli::bgp_ls::run(&needs_server(server, "`cpnctl bgp-ls`")?, command).await
        }
        Command::Path(args) => cpn::cli::online::path(&server.expect("online"), args).await,
        Command::Policy(command) => {
            cpn::cli::online::policy(&needs_server(server, "`cpnctl policy`")?, command).await
        }
        Command::Load(args) => {
            let server = needs_server(server, "`cpnctl load`")?;
            let json = args.json;
            let report = cpn::cli::load::run(&server, args).await?;
            cpn::cli::load::print(&report, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cluster(command) => {
            cpn::cli::cluster::run(&needs_server(server, "`cpnctl cluster`")?, command).await
        }
        Command::Event(args) => {
            cpn::cli::online::event(&needs_server(server, "`cpnctl event`")?, args).await
        }
        Command::Dc(cpn::cli::dc::DcCommand::Report(args)) => {
            cpn::cli::dc::report(&needs_server(server, "`cpnctl dc report`")?, args).await
        }
        Command::Dc(cpn::cli::dc::DcCommand::Reporter(args)) => {
            cpn::cli::dc::reporter(&needs_server(server, "`cpnctl dc reporter`")?, args).await
        }
        _ => unreachable!("offline commands are run before"),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Topology(TopologyArgs {
            command: Some(command),
            ..
        }) => cpn::cli::topology::run(command).map(|()| ExitCode::SUCCESS),
        Command::Path(args) if cli.server.is_none() || args.topology.is_some() => {
            cpn::cli::path::run(args)
        }
        Command::Bench(args) => cpn::cli::bench::run(args).map(|()| ExitCode::SUCCESS),
        Command::Replay { file, json } => {
            let report = cpn::replay::run_file(&file)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", cpn::replay::render(&report));
            }
            Ok(if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Lab(command) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(cpn::cli::lab::run(command))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "cpnctl", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(online(cli))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            let code = e.downcast_ref::<Failure>().map_or(1, |f| f.code);
            for line in format!("{e:#}").lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(code)
        }
    }
}
