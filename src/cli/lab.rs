//! `cpnctl lab`: build and take down a real SRv6 lab (network namespaces,
//! one Linux agent per router), cut and mend its links, and show what its
//! kernels hold (local SIDs with their packet counters, encap routes).

use std::path::PathBuf;

use clap::Subcommand;

use super::output::{table, thousands};
use crate::lab;

/// `cpnctl lab ...` (as root).
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Build the lab of a topology and start its agents (a previous lab is
    /// taken down first).
    Up {
        /// The topology file (every router with a `mgmt` gets an agent there).
        topology: PathBuf,
        /// The agent program (default: `cpn-router` next to `cpnctl`).
        #[arg(long)]
        agent: Option<PathBuf>,
    },
    /// Stop the agents and remove the lab (whatever a crash left, too).
    Down,
    /// Cut a link: both ends go down, the underlay reconverges, the routers'
    /// agents report it.
    LinkDown {
        /// The link id.
        link: String,
    },
    /// Mend a link cut with link-down.
    LinkUp {
        /// The link id.
        link: String,
    },
    /// Local SIDs with their packet counters, and the SR policies the
    /// headends steer traffic into.
    Status {
        /// Print JSON: {"sids": [...], "policies": [...]}.
        #[arg(long)]
        json: bool,
    },
}

fn say(line: &str) {
    eprintln!("lab: {line}");
}

/// Runs a lab command.
pub async fn run(command: LabCommand) -> anyhow::Result<()> {
    anyhow::ensure!(
        nix::unistd::geteuid().is_root(),
        "the lab makes network namespaces: run it as root"
    );
    match command {
        LabCommand::Up { topology, agent } => {
            // Before anything is made: a kernel without SRv6 would fail
            // half-way, with namespaces and agents left behind.
            crate::netlink::probe::srv6().await?;
            let text = std::fs::read_to_string(&topology)
                .map_err(|e| anyhow::anyhow!("{}: {e}", topology.display()))?;
            let t = crate::topology_file::parse_str(&text, &topology.display().to_string())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let agent = match agent {
                Some(a) => a,
                None => std::env::current_exe()?.with_file_name("cpn-router"),
            };
            let p = lab::up(&t, &text, &agent, &mut say).await?;
            let mut out = table(["what", "where"]);
            for (router, addr) in &p.hosts {
                out.add_row([
                    format!("host behind {router}"),
                    format!("{} ({addr})", lab::plan::host_netns(router)),
                ]);
                out.add_row([
                    format!("site behind {router}"),
                    format!("{} ({})", lab::plan::host_netns(router), p.sites[router]),
                ]);
            }
            for (dc, addr) in &p.datacenters {
                out.add_row([
                    format!("data center {dc}"),
                    format!("{} ({addr})", lab::plan::datacenter_netns(dc)),
                ]);
            }
            for a in &p.agents {
                out.add_row([format!("agent of {}", a.router), a.listen.clone()]);
            }
            println!("{out}");
            say(&format!(
                "up: start cpnd on {}/topology.yaml (the agents' addresses as they listen) and install policies; logs in {}/logs",
                lab::LAB_DIR,
                lab::LAB_DIR
            ));
        }
        LabCommand::Down => {
            let removed = lab::down(&mut say).await?;
            if removed == 0 {
                say("nothing to take down");
            }
        }
        LabCommand::LinkDown { link } => {
            lab::set_link(&link, false).await?;
            say(&format!("{link} is down"));
        }
        LabCommand::LinkUp { link } => {
            lab::set_link(&link, true).await?;
            say(&format!("{link} is up"));
        }
        LabCommand::Status { json } => {
            let (sids, policies) = lab::status().await?;
            if json {
                let v = serde_json::json!({"sids": sids, "policies": policies});
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let mut t = table(["router", "SID", "behavior", "packets"]);
                for s in &sids {
                    t.add_row([
                        s.router.clone(),
                        s.sid.clone(),
                        s.behavior.clone(),
                        thousands(s.packets),
                    ]);
                }
                println!("{t}");
                let mut t = table(["headend", "prefix", "segments"]);
                for p in &policies {
                    t.add_row([p.router.clone(), p.prefix.clone(), p.segments.join(", ")]);
                }
                println!("{t}");
            }
        }
    }
    Ok(())
}
