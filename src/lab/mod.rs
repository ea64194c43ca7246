//! The SRv6 lab (`cpnctl lab`, as root): a topology built out of Linux
//! network namespaces ([`plan`] says what), with one `cpn-router --linux`
//! agent per router listening on the router's `mgmt` address (port 0: any
//! free port), so that a `cpnd` on the lab's topology file
//! (`/run/cpn-lab/topology.yaml`, with the addresses the agents got) pushes
//! real SR policies into real kernels.
//!
//! Everything the lab makes is named `cpn-…` (namespaces) or lives under
//! [`LAB_DIR`] (the topology it was built from, agents' pids, logs and
//! state files). `up` first takes down whatever a previous lab (even a
//! crashed one) left; `down` removes all of it and can be run any number of
//! times.

pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ipnetwork::Ipv6Network;
use rtnetlink::Handle;

use crate::model::Topology;
use crate::netlink::routes::{self, AGENT_PROTOCOL, LAB_PROTOCOL, MAIN_TABLE, Route};
use crate::netlink::{NetError, links, netns};
use plan::{NETNS_PREFIX, Plan, Role};

/// Where the lab keeps its files.
pub const LAB_DIR: &str = "/run/cpn-lab";

fn lab_path(rel: &str) -> PathBuf {
    Path::new(LAB_DIR).join(rel)
}

/// Why a lab command failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Netlink or a namespace.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The topology cannot be a lab.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// Anything else, said in full.
    #[error("{0}")]
    Other(String),
}

fn other(what: impl std::fmt::Display, e: impl std::fmt::Display) -> LabError {
    LabError::Other(format!("{what}: {e}"))
}

/// Connections to every namespace of a plan.
struct Handles(HashMap<String, Handle>);

impl Handles {
    fn open(p: &Plan) -> Result<Handles, NetError> {
        let mut map = HashMap::new();
        for (name, _) in &p.namespaces {
            map.insert(name.clone(), netns::connect(Some(name))?);
        }
        Ok(Handles(map))
    }

    fn get(&self, name: &str) -> &Handle {
        &self.0[name]
    }
}

/// Builds the lab of `t` from `source` (its topology file) and starts its
/// agents (`agent`: the `cpn-router` program). `say` hears of progress.
pub async fn up(
    t: &Topology,
    source: &str,
    agent: &Path,
    say: &mut dyn FnMut(&str),
) -> Result<Plan, LabError> {
    if !agent.exists() {
        return Err(LabError::Other(format!(
            "agent program {} not found (build it: cargo build --bin cpn-router)",
            agent.display()
        )));
    }
    let mut p = plan::plan(t)?;
    down(&mut |_| {}).await?;
    std::fs::create_dir_all(lab_path("logs")).map_err(|e| other(LAB_DIR, e))?;
    std::fs::create_dir_all(lab_path("agents")).map_err(|e| other(LAB_DIR, e))?;
    std::fs::write(lab_path("topology.yaml"), source).map_err(|e| other(LAB_DIR, e))?;

    say(&format!("creating {} namespaces", p.namespaces.len()));
    for (name, role) in &p.namespaces {
        netns::create(name)?;
        if let Role::Router(_) = role {
            // Routes through a link whose carrier is gone are skipped, as a
            // router's forwarding plane would.
            netns::sysctl(Some(name), "net.ipv6.conf.all.forwarding", "1")?;
            netns::sysctl(
                Some(name),
                "net.ipv6.conf.default.ignore_routes_with_linkdown",
                "1",
            )?;
            netns::sysctl(
                Some(name),
                "net.ipv6.conf.all.ignore_routes_with_linkdown",
                "1",
            )?;
        }
    }
    let handles = Handles::open(&p)?;
    for (name, _) in &p.namespaces {
        links::set_up(handles.get(name), "lo", true).await?;
    }

    say(&format!("wiring {} veth pairs", p.wires.len()));
    let root = netns::connect(None)?;
    for w in &p.wires {
        let [a, b] = &w.ends;
        links::veth(&root, (&a.netns, &a.interface), (&b.netns, &b.interface)).await?;
        let up = w
            .link
            .as_ref()
            .and_then(|l| t.link_ix(l))
            .is_none_or(|l| t.link(l).up);
        for end in &w.ends {
            let h = handles.get(&end.netns);
            links::add_address(h, &end.interface, end.addr, 64).await?;
            links::set_alias(h, &end.interface, &w.alias).await?;
            links::set_up(h, &end.interface, up).await?;
        }
    }
    for (ns, interface, addr, len) in &p.addresses {
        links::add_address(handles.get(ns), interface, *addr, *len).await?;
    }
    for (ns, via, interface) in &p.defaults {
        let h = handles.get(ns);
        let oif = links::require(h, interface).await?;
        let any = Ipv6Network::new(std::net::Ipv6Addr::UNSPECIFIED, 0).expect("0 is valid");
        routes::add_plain(h, MAIN_TABLE, any, &[(*via, oif)], LAB_PROTOCOL).await?;
    }
    for r in plan::datacenter_routes(t, &p) {
        let h = handles.get(&r.netns);
        let (via, interface) = &r.next_hops[0];
        let oif = links::require(h, interface).await?;
        routes::add_plain(h, plan::DC_TABLE, r.prefix, &[(*via, oif)], LAB_PROTOCOL).await?;
    }
    let installed = converge(t, &p, &handles).await?;
    say(&format!("installed {installed} underlay routes"));

    say(&format!("starting {} agents", p.agents.len()));
    for a in &p.agents {
        start_agent(agent, a)?;
    }
    wait_for_agents(&mut p).await?;
    std::fs::write(lab_path("topology.yaml"), effective_topology(source, &p)?)
        .map_err(|e| other(LAB_DIR, e))?;
    Ok(p)
}

/// Installs the routes of [`plan::routes`] for the topology's link states,
/// removing the lab's routes that are no longer right. Returns how many.
async fn converge(t: &Topology, p: &Plan, handles: &Handles) -> Result<usize, LabError> {
    let mut by_netns: BTreeMap<&str, Vec<&plan::PlannedRoute>> = BTreeMap::new();
    let planned = plan::routes(t, p);
    for r in &planned {
        by_netns.entry(r.netns.as_str()).or_default().push(r);
    }
    for (name, role) in &p.namespaces {
        if !matches!(role, Role::Router(_)) {
            continue;
        }
        let h = handles.get(name);
        let wanted: BTreeSet<Ipv6Network> = by_netns
            .get(name.as_str())
            .into_iter()
            .flatten()
            .map(|r| r.prefix)
            .collect();
        for (route, message) in routes::dump(h, MAIN_TABLE, LAB_PROTOCOL).await? {
            if !wanted.contains(&route.prefix()) {
                routes::delete(h, message).await?;
            }
        }
        for r in by_netns.get(name.as_str()).into_iter().flatten() {
            let mut hops = Vec::with_capacity(r.next_hops.len());
            for (via, interface) in &r.next_hops {
                hops.push((*via, links::require(h, interface).await?));
            }
            routes::add_plain(h, MAIN_TABLE, r.prefix, &hops, LAB_PROTOCOL).await?;
        }
    }
    Ok(planned.len())
}

fn start_agent(program: &Path, a: &plan::Agent) -> Result<(), LabError> {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(lab_path(&format!("logs/{}.log", a.router)))
        .map_err(|e| other("agent log", e))?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(["--linux", "--router", &a.router, "--netns", &a.netns])
        .args(["--listen", &a.listen])
        .arg("--address-file")
        .arg(address_file(&a.router))
        .args(["--dt6-table", &plan::DC_TABLE.to_string()])
        .arg("--state-file")
        .arg(lab_path(&format!("agents/{}.pb", a.router)));
    for l in &a.links {
        cmd.args(["--link", l]);
    }
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(|e| other("agent log", e))?)
        .stderr(log)
        // Its own process group: it outlives `cpnctl lab up`.
        .process_group(0)
        .spawn()
        .map_err(|e| other(format!("start {}", program.display()), e))?;
    std::fs::write(
        lab_path(&format!("agents/{}.pid", a.router)),
        child.id().to_string(),
    )
    .map_err(|e| other("agent pid", e))
}

/// Where an agent writes the address it listens on.
fn address_file(router: &str) -> PathBuf {
    lab_path(&format!("agents/{router}.addr"))
}

/// Waits until every agent listens, and takes the address each one got
/// (a `mgmt` with port 0 lets the system pick a free port).
async fn wait_for_agents(p: &mut Plan) -> Result<(), LabError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    for a in &mut p.agents {
        loop {
            if let Ok(text) = std::fs::read_to_string(address_file(&a.router))
                && tokio::net::TcpStream::connect(text.trim()).await.is_ok()
            {
                a.listen = text.trim().to_owned();
                break;
            }
            if Instant::now() > deadline {
                return Err(LabError::Other(format!(
                    "the agent of {} does not listen on {}; see {}",
                    a.router,
                    a.listen,
                    lab_path(&format!("logs/{}.log", a.router)).display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// The lab's topology file: `source` with every router's `mgmt` set to
/// where its agent listens (they differ where `mgmt` asked for port 0).
fn effective_topology(source: &str, p: &Plan) -> Result<String, LabError> {
    let mut doc: crate::topology_file::TopologyDocument =
        serde_yaml::from_str(source).map_err(|e| other("the lab's topology", e))?;
    let listen: BTreeMap<&str, &str> = p
        .agents
        .iter()
        .map(|a| (a.router.as_str(), a.listen.as_str()))
        .collect();
    let mut changed = false;
    for r in &mut doc.routers {
        if let Some(&addr) = listen.get(r.id.as_str())
            && r.mgmt.as_deref() != Some(addr)
        {
            r.mgmt = Some(addr.to_owned());
            changed = true;
        }
    }
    if !changed {
        return Ok(source.to_owned());
    }
    serde_yaml::to_string(&doc).map_err(|e| other("the lab's topology", e))
}

/// Stops the lab's agents and removes its namespaces and files; whatever a
/// previous lab left, even after a crash. Returns what it removed.
pub async fn down(say: &mut dyn FnMut(&str)) -> Result<usize, LabError> {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let mut pids = Vec::new();
    if let Ok(dir) = std::fs::read_dir(lab_path("agents")) {
        for e in dir.flatten() {
            if e.path().extension().is_some_and(|x| x == "pid")
                && let Ok(text) = std::fs::read_to_string(e.path())
                && let Ok(pid) = text.trim().parse::<i32>()
            {
                pids.push(Pid::from_raw(pid));
            }
        }
    }
    // Only our agents: a pid file outlives its process, and the number may
    // be someone else's by now.
    pids.retain(|pid| {
        pid.as_raw() > 1
            && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
                args.first().is_some_and(|a| a.ends_with(b"cpn-router"))
                    && args.iter().any(|a| *a == b"--linux")
            })
    });
    let alive = |pid: Pid| kill(pid, None).is_ok();
    for &pid in &pids {
        let _ = kill(pid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for &pid in pids.iter().filter(|p| alive(**p)) {
        let _ = kill(pid, Signal::SIGKILL);
    }
    let names: Vec<String> = ["r-", "h-", "d-"]
        .iter()
        .flat_map(|k| netns::list(&format!("{NETNS_PREFIX}{k}")))
        .collect();
    for name in &names {
        netns::delete(name)?;
    }
    if Path::new(LAB_DIR).exists() {
        std::fs::remove_dir_all(LAB_DIR).map_err(|e| other(LAB_DIR, e))?;
    }
    if !names.is_empty() || !pids.is_empty() {
        say(&format!(
            "stopped {} agents, removed {} namespaces",
            pids.len(),
            names.len()
        ));
    }
    Ok(names.len())
}

/// The topology the running lab was built from.
pub fn current() -> Result<(Topology, Plan), LabError> {
    let file = lab_path("topology.yaml");
    let text = std::fs::read_to_string(&file)
        .map_err(|_| LabError::Other("no lab is up (cpnctl lab up TOPOLOGY)".into()))?;
    let mut t = crate::topology_file::parse_str(&text, &file.display().to_string())
        .map_err(|e| LabError::Other(e.to_string()))?;
    for l in down_links() {
        if let Some(ix) = t.link_ix(&l) {
            t.link_mut(ix).up = false;
        }
    }
    let p = plan::plan(&t)?;
    Ok((t, p))
}

fn down_links() -> BTreeSet<String> {
    std::fs::read_to_string(lab_path("down-links"))
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Cuts (`up == false`) or mends a link of the running lab: both ends of
/// its wire go down (up), and the underlay reconverges as an IGP would.
/// The routers' agents see it and report it to the controller.
pub async fn set_link(link: &str, up: bool) -> Result<(), LabError> {
    let (mut t, p) = current()?;
    let wire = p
        .wires
        .iter()
        .find(|w| w.link.as_deref() == Some(link))
        .ok_or_else(|| LabError::Other(format!("no link `{link}` in the lab")))?;
    let handles = Handles::open(&p)?;
    for end in &wire.ends {
        links::set_up(handles.get(&end.netns), &end.interface, up).await?;
    }
    let mut down = down_links();
    if up {
        down.remove(link);
    } else {
        down.insert(link.to_owned());
    }
    let text: String = down.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(lab_path("down-links"), text).map_err(|e| other(LAB_DIR, e))?;
    // The wires stay as they are; only this link's state changed.
    if let Some(ix) = t.link_ix(link) {
        t.link_mut(ix).up = up;
    }
    converge(&t, &p, &handles).await?;
    Ok(())
}

/// One local SID of a lab router, with what it counted.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SidCount {
    /// The router.
    pub router: String,
    /// The SID.
    pub sid: String,
    /// Its behavior.
    pub behavior: String,
    /// Packets it processed.
    pub packets: u64,
}

/// One SR policy a lab headend holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Steering {
    /// The headend.
    pub router: String,
    /// The steered prefix.
    pub prefix: String,
    /// Its segment list.
    pub segments: Vec<String>,
}

/// What the lab's kernels hold: every agent-installed local SID with its
/// counter, and every encap route.
pub async fn status() -> Result<(Vec<SidCount>, Vec<Steering>), LabError> {
    let (_, p) = current()?;
    let mut sids = Vec::new();
    let mut steering = Vec::new();
    for (name, role) in &p.namespaces {
        let Role::Router(router) = role else { continue };
        let h = netns::connect(Some(name))?;
        for (route, _) in routes::dump(&h, MAIN_TABLE, AGENT_PROTOCOL).await? {
            match route {
                Route::Local {
                    sid,
                    action,
                    counters,
                    ..
                } => sids.push(SidCount {
                    router: router.clone(),
                    sid: sid.to_string(),
                    behavior: match action {
                        Some(routes::LocalAction::End) => "End",
                        Some(routes::LocalAction::EndX { .. }) => "End.X",
                        Some(routes::LocalAction::EndDt6 { .. }) => "End.DT6",
                        None => "?",
                    }
                    .to_owned(),
                    packets: counters.map_or(0, |c| c.packets),
                }),
                Route::Encap {
                    prefix, segments, ..
                } => steering.push(Steering {
                    router: router.clone(),
                    prefix: prefix.to_string(),
                    segments: segments.iter().map(|s| s.to_string()).collect(),
                }),
                Route::Plain { .. } => {}
            }
        }
    }
    Ok((sids, steering))
}
