//! The Linux back end (`cpn-router --linux`): one router, the kernel's SRv6
//! data plane, programmed over netlink inside the router's network
//! namespace.
//!
//! - Local SIDs are seg6local routes: End and End.DT6 bound to the SID
//!   device, End.X bound to the link's interface with the neighbor as next
//!   hop; all count packets. A data center's End.DT6 looks the inner packet
//!   up in [`LinuxConfig::dt6_table`]; the router's own End.DT6 (no data
//!   center) in the main table, where traffic pinned to the router leaves
//!   the SR domain.
//! - Micro-SIDs (RFC 9800) are seg6local routes of block + node + function
//!   bits; End and End.X carry the NEXT-C-SID flavor, read back after
//!   programming to confirm the kernel kept it.
//! - A policy at the headend is a seg6 encapsulation route (H.Encaps, or
//!   H.Encaps.Red for a compressed list) for its destination prefix. The kernel steers by destination, so one
//!   policy per destination: a second is refused, naming the first.
//! - State changes only once the kernel has taken them: a failed push
//!   leaves the agent as it was, so the retry does the work again.
//! - Every route carries protocol [`AGENT_PROTOCOL`]: the agent never
//!   touches another's.
//! - The kernel keeps routes, not names: names and versions go to a state
//!   file, written after every change and checked against the kernel when
//!   listing (a policy whose route is gone is not reported, so it is pushed
//!   again; a route of the agent's that no policy explains is reported as
//!   `kernel:PREFIX`, so that reconciliation removes it).
//! - The links' interfaces are watched; a change of their state is reported
//!   (a link down is an event for the controller).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::Duration;

use ipnetwork::Ipv6Network;
use prost::Message;
use rtnetlink::Handle;
use tokio::sync::{Mutex, broadcast};
use tonic::Status;
use tracing::{info, warn};

use super::{Backend, checks};
use crate::netlink::routes::{self, AGENT_PROTOCOL, LocalAction, MAIN_TABLE, NextCsid, Route};
use crate::netlink::{NetError, links, netns};
use crate::proto::v1 as pb;

/// Prefix of the names of routes the agent holds but no policy explains.
const KERNEL_PREFIX: &str = "kernel:";

/// One of the router's links, as the agent reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjacency {
    /// The interface on the link.
    pub interface: String,
    /// The neighbor's address on the link (End.X next hop).
    pub next_hop: Ipv6Addr,
}

/// A local SID route as the agent wants it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WantedLocal {
    prefix: Ipv6Network,
    action: LocalAction,
    next_csid: Option<NextCsid>,
    oif: u32,
}

/// How the agent is set up.
#[derive(Clone, Debug, PartialEq)]
pub struct LinuxConfig {
    /// The router it is.
    pub router: String,
    /// Its network namespace (`None`: the agent's own).
    pub netns: Option<String>,
    /// Its links by link id.
    pub links: BTreeMap<String, Adjacency>,
    /// Interface End and End.DT6 SIDs and encap routes are bound to; created
    /// (a veth pair inside the namespace) when missing.
    pub sid_device: String,
    /// Table a data center's End.DT6 looks the decapsulated packet up in
    /// (the router's own End.DT6 uses the main table).
    pub dt6_table: u32,
    /// Where names and versions are kept.
    pub state_file: PathBuf,
    /// How often the links' interfaces are looked at.
    pub watch_interval: Duration,
}

impl LinuxConfig {
    /// Defaults for `router`: SID device `cpnsid0`, End.DT6 into the main
    /// table, state in `/run/cpn-router/ROUTER.pb`, links looked at every
    /// 200 ms.
    pub fn new(router: &str) -> LinuxConfig {
        LinuxConfig {
            router: router.to_owned(),
            netns: None,
            links: BTreeMap::new(),
            sid_device: "cpnsid0".to_owned(),
            dt6_table: MAIN_TABLE,
            state_file: PathBuf::from(format!("/run/cpn-router/{router}.pb")),
            watch_interval: Duration::from_millis(200),
        }
    }
}

/// The agent.
pub struct LinuxAgent {
    config: LinuxConfig,
    handle: Handle,
    /// A netlink socket of the link watcher's own: the kernel refuses a
    /// second dump on a socket while one runs (EBUSY).
    watch_handle: Handle,
    state: Mutex<pb::LinuxAgentState>,
    reports: broadcast::Sender<pb::RouterReport>,
    /// Set when the router's namespace is gone (the lab was taken down).
    gone: tokio::sync::watch::Sender<bool>,
}

/// A netlink failure as router.proto wants it: what the kernel refuses
/// as it stands is INVALID_ARGUMENT (cpnd fails the policy); anything else
/// UNAVAILABLE (cpnd retries).
fn internal(e: NetError) -> Status {
    if e.refused {
        Status::invalid_argument(e.message)
    } else {
        Status::unavailable(e.message)
    }
}

impl LinuxAgent {
    /// Connects to the router's namespace, makes sure the SID device is
    /// there, reads the state file, and starts watching the links.
    pub async fn start(config: LinuxConfig) -> Result<std::sync::Arc<LinuxAgent>, NetError> {
        let handle = netns::connect(config.netns.as_deref())?;
        if links::index(&handle, &config.sid_device).await?.is_none() {
            let peer = format!("{}p", config.sid_device);
            links::veth_local(&handle, &config.sid_device, &peer).await?;
            links::set_up(&handle, &peer, true).await?;
        }
        links::set_up(&handle, &config.sid_device, true).await?;
        let state = match std::fs::read(&config.state_file) {
            Ok(bytes) => pb::LinuxAgentState::decode(bytes.as_slice()).map_err(|e| {
                NetError::new(format!("state file {}", config.state_file.display()), e)
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => pb::LinuxAgentState::default(),
            Err(e) => {
                return Err(NetError::new(
                    format!("state file {}", config.state_file.display()),
                    e,
                ));
            }
        };
        let watch_handle = netns::connect(config.netns.as_deref())?;
        let agent = std::sync::Arc::new(LinuxAgent {
            config,
            handle,
            watch_handle,
            state: Mutex::new(state),
            reports: broadcast::channel(1024).0,
            gone: tokio::sync::watch::channel(false).0,
        });
        tokio::spawn(watch_links(std::sync::Arc::downgrade(&agent)));
        Ok(agent)
    }

    /// Resolves when the router's namespace is gone: nothing is left to
    /// program, and the agent should stop.
    pub fn gone(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.gone.subscribe();
        async move {
            let _ = rx.wait_for(|g| *g).await;
        }
    }

    fn mine(&self, router: &str) -> Result<(), Status> {
        if router == self.config.router {
            Ok(())
        } else {
            // Refused (not "unknown router, provision it"): retrying here
            // cannot help; the topology's mgmt address is wrong.
            Err(Status::invalid_argument(format!(
                "this agent serves router {}, not {router}",
                self.config.router
            )))
        }
    }

    fn save(&self, state: &pb::LinuxAgentState) -> Result<(), Status> {
        let file = &self.config.state_file;
        let write = || -> std::io::Result<()> {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, state.encode_to_vec())?;
            std::fs::rename(tmp, file)
        };
        write().map_err(|e| Status::unavailable(format!("state file {}: {e}", file.display())))
    }

    async fn oif(&self, interface: &str) -> Result<u32, Status> {
        links::require(&self.handle, interface)
            .await
            .map_err(internal)
    }

    /// The kernel route a local SID needs: its prefix (a /128, or a
    /// micro-SID's block + node + function bits), behavior, NEXT-C-SID
    /// flavor and interface.
    async fn local_route(&self, s: &pb::LocalSid) -> Result<WantedLocal, Status> {
        let sid = checks::parse_sid(&s.sid, "sid")?;
        let prefix_len = s.structure.as_ref().map_or(128, checks::micro_prefix_len);
        let prefix = Ipv6Network::new(sid, prefix_len as u8)
            .map_err(|_| Status::invalid_argument(format!("SID {sid}: bad length {prefix_len}")))?;
        let next_csid = s
            .flavors
            .contains(&i32::from(pb::SidFlavor::NextCsid))
            .then(|| {
                s.structure.as_ref().map(|st| NextCsid {
                    block_bits: st.locator_block_bits as u8,
                    node_function_bits: (st.locator_node_bits + st.function_bits) as u8,
                })
            })
            .flatten();
        let (action, interface) = match pb::SidBehavior::try_from(s.behavior) {
            Ok(pb::SidBehavior::EndX) => {
                let a = self.config.links.get(&s.link).ok_or_else(|| {
                    Status::invalid_argument(format!(
                        "End.X {sid}: link `{}` is not one of this agent's (--link)",
                        s.link
                    ))
                })?;
                (
                    LocalAction::EndX {
                        next_hop: a.next_hop,
                    },
                    a.interface.as_str(),
                )
            }
            Ok(pb::SidBehavior::EndDt6) => (
                LocalAction::EndDt6 {
                    table: if s.datacenter.is_empty() {
                        MAIN_TABLE
                    } else {
                        self.config.dt6_table
                    },
                },
                self.config.sid_device.as_str(),
            ),
            _ => (LocalAction::End, self.config.sid_device.as_str()),
        };
        Ok(WantedLocal {
            prefix,
            action,
            next_csid,
            oif: self.oif(interface).await?,
        })
    }

    /// Reads the local SIDs back: a kernel that accepts the NEXT-C-SID
    /// flavor on a behavior it cannot apply it to drops it silently, and
    /// a micro-SID without it would not shift its container.
    async fn confirm_flavors(
        &self,
        wanted: &HashMap<Ipv6Network, WantedLocal>,
    ) -> Result<(), Status> {
        let held: HashMap<Ipv6Network, Option<NextCsid>> = self
            .dump()
            .await?
            .into_iter()
            .filter_map(|(r, _)| match r {
                Route::Local { next_csid, .. } => Some((r.prefix(), next_csid)),
                _ => None,
            })
            .collect();
        for (prefix, w) in wanted {
            if w.next_csid.is_some() && held.get(prefix) != Some(&w.next_csid) {
                return Err(Status::invalid_argument(format!(
                    "the kernel holds {prefix} ({:?}) without the next-csid flavor: it needs Linux 6.1 for End, about 6.5 for End.X",
                    w.action
                )));
            }
        }
        Ok(())
    }

    async fn dump(
        &self,
    ) -> Result<Vec<(Route, rtnetlink::packet_route::route::RouteMessage)>, Status> {
        routes::dump(&self.handle, MAIN_TABLE, AGENT_PROTOCOL)
            .await
            .map_err(internal)
    }

    /// Makes the kernel's route for `prefix` follow the policy leading
    /// there (or removes it when none does).
    async fn steer(&self, state: &pb::LinuxAgentState, prefix: Ipv6Network) -> Result<(), Status> {
        match steering(&state.policies, prefix) {
            Some(p) => {
                let segments: Vec<Ipv6Addr> = p
                    .segments
                    .iter()
                    .map(|s| checks::parse_sid(&s.sid, "segment"))
                    .collect::<Result<_, _>>()?;
                let oif = self.oif(&self.config.sid_device).await?;
                let reduced = reduced_encapsulation(p);
                routes::add_encap_mode(
                    &self.handle,
                    prefix,
                    &segments,
                    reduced,
                    oif,
                    AGENT_PROTOCOL,
                )
                .await
                .map_err(internal)
            }
            None => {
                for (route, message) in self.dump().await? {
                    if matches!(route, Route::Encap { .. }) && route.prefix() == prefix {
                        routes::delete(&self.handle, message)
                            .await
                            .map_err(internal)?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// True when the policy asks for H.Encaps.Red.
fn reduced_encapsulation(p: &pb::SrPolicy) -> bool {
    p.encapsulation == i32::from(pb::Encapsulation::HEncapsRed)
}

/// The policy that steers `prefix` (there is at most one).
fn steering(policies: &[pb::SrPolicy], prefix: Ipv6Network) -> Option<&pb::SrPolicy> {
    policies
        .iter()
        .find(|p| p.destination.parse::<Ipv6Network>() == Ok(prefix))
}

fn destination(p: &pb::SrPolicy) -> Result<Ipv6Network, Status> {
    p.destination.parse().map_err(|_| {
        Status::invalid_argument(format!(
            "policy {}: destination `{}` is not an IPv6 prefix",
            p.name, p.destination
        ))
    })
}

#[tonic::async_trait]
impl Backend for std::sync::Arc<LinuxAgent> {
    async fn provision_sids(&self, r: pb::ProvisionSidsRequest) -> Result<(), Status> {
        self.mine(&r.router)?;
        checks::provision(&r)?;
        let mut wanted = HashMap::new();
        for s in &r.sids {
            let w = self.local_route(s).await?;
            wanted.insert(w.prefix, w);
        }
        let mut state = self.state.lock().await;
        // Keep what is right (its counters with it), replace the rest.
        let mut held = HashMap::new();
        for (route, message) in self.dump().await? {
            let prefix = route.prefix();
            if let Route::Local {
                action,
                oif,
                next_csid,
                ..
            } = route
            {
                match wanted.get(&prefix) {
                    Some(w)
                        if action == Some(w.action)
                            && oif == Some(w.oif)
                            && next_csid == w.next_csid =>
                    {
                        held.insert(prefix, ());
                    }
                    Some(_) => {}
                    None => routes::delete(&self.handle, message)
                        .await
                        .map_err(internal)?,
                }
            }
        }
        for (prefix, w) in &wanted {
            if !held.contains_key(prefix) {
                routes::add_local_flavored(
                    &self.handle,
                    *prefix,
                    w.action,
                    w.next_csid,
                    w.oif,
                    AGENT_PROTOCOL,
                )
                .await
                .map_err(internal)?;
            }
        }
        self.confirm_flavors(&wanted).await?;
        info!(router = %r.router, sids = r.sids.len(), "local SIDs provisioned");
        let mut next = state.clone();
        next.provisioned = Some(r);
        self.save(&next)?;
        *state = next;
        Ok(())
    }

    async fn apply_policy(&self, r: pb::ApplyPolicyRequest) -> Result<u64, Status> {
        self.mine(&r.router)?;
        let (policy, _) = checks::policy(r)?;
        let prefix = destination(&policy)?;
        let mut state = self.state.lock().await;
        let Some(provisioned) = &state.provisioned else {
            return Err(Status::failed_precondition(format!(
                "router {} is not provisioned",
                self.config.router
            )));
        };
        checks::depth(&policy, provisioned.msd, &self.config.router)?;
        let old = state.policies.iter().position(|p| p.name == policy.name);
        if let Some(i) = old
            && state.policies[i].version >= policy.version
        {
            return Ok(state.policies[i].version);
        }
        if let Some(other) = steering(&state.policies, prefix)
            && other.name != policy.name
        {
            return Err(Status::invalid_argument(format!(
                "{prefix} is steered at {} by policy {} already (the kernel steers by destination)",
                self.config.router, other.name
            )));
        }
        let version = policy.version;
        let mut next = state.clone();
        let before = old.map(|i| next.policies[i].destination.clone());
        match old {
            Some(i) => next.policies[i] = policy.clone(),
            None => next.policies.push(policy.clone()),
        }
        // Make (the new route replaces the old in one step), then break (a
        // destination the policy left).
        self.steer(&next, prefix).await?;
        if let Some(before) = before.and_then(|d| d.parse::<Ipv6Network>().ok())
            && before != prefix
        {
            self.steer(&next, before).await?;
        }
        self.save(&next)?;
        *state = next;
        info!(policy = %policy.name, version, %prefix, segments = policy.segments.len(), "policy applied");
        Ok(version)
    }

    async fn remove_policy(&self, r: pb::RemoveRouterPolicyRequest) -> Result<(), Status> {
        self.mine(&r.router)?;
        let mut state = self.state.lock().await;
        if let Some(prefix) = r.name.strip_prefix(KERNEL_PREFIX) {
            let prefix = prefix
                .parse()
                .map_err(|_| Status::invalid_argument(format!("no such route {prefix}")))?;
            return self.steer(&state, prefix).await;
        }
        let Some(i) = state.policies.iter().position(|p| p.name == r.name) else {
            return Ok(());
        };
        let mut next = state.clone();
        let gone = next.policies.remove(i);
        if let Ok(prefix) = gone.destination.parse() {
            self.steer(&next, prefix).await?;
        }
        self.save(&next)?;
        *state = next;
        info!(policy = %r.name, "policy removed");
        Ok(())
    }

    async fn list_state(&self, router: &str) -> Result<pb::ListStateResponse, Status> {
        self.mine(router)?;
        let mut state = self.state.lock().await;
        let kernel = self.dump().await?;
        let encaps: HashMap<Ipv6Network, (&Vec<Ipv6Addr>, bool)> = kernel
            .iter()
            .filter_map(|(r, _)| match r {
                Route::Encap {
                    prefix,
                    segments,
                    reduced,
                } => Some((*prefix, (segments, *reduced))),
                _ => None,
            })
            .collect();
        // Every policy must find its route there.
        let lost: Vec<String> = state
            .policies
            .iter()
            .filter(|p| {
                let Ok(prefix) = p.destination.parse::<Ipv6Network>() else {
                    return true;
                };
                let want: Vec<Option<Ipv6Addr>> =
                    p.segments.iter().map(|s| s.sid.parse().ok()).collect();
                encaps.get(&prefix).is_none_or(|(held, reduced)| {
                    held.iter().map(|a| Some(*a)).collect::<Vec<_>>() != want
                        || *reduced != reduced_encapsulation(p)
                })
            })
            .map(|p| p.name.clone())
            .collect();
        if !lost.is_empty() {
            warn!(policies = ?lost, "the kernel no longer holds these policies' routes");
            state.policies.retain(|p| !lost.contains(&p.name));
            self.save(&state)?;
        }
        let explained: Vec<Ipv6Network> = state
            .policies
            .iter()
            .filter_map(|p| p.destination.parse().ok())
            .collect();
        let mut policies = state.policies.clone();
        for prefix in encaps.keys().filter(|p| !explained.contains(p)) {
            policies.push(pb::SrPolicy {
                name: format!("{KERNEL_PREFIX}{prefix}"),
                destination: prefix.to_string(),
                ..Default::default()
            });
        }
        // SIDs: as provisioned, if the kernel still has every one.
        let locals: HashMap<Ipv6Addr, ()> = kernel
            .iter()
            .filter_map(|(r, _)| match r {
                Route::Local { sid, .. } => Some((*sid, ())),
                _ => None,
            })
            .collect();
        let (known, sids) = match &state.provisioned {
            None => (false, Vec::new()),
            Some(p) => {
                let intact = p.sids.iter().all(|s| {
                    s.sid
                        .parse()
                        .is_ok_and(|a: Ipv6Addr| locals.contains_key(&a))
                });
                (true, if intact { p.sids.clone() } else { Vec::new() })
            }
        };
        Ok(pb::ListStateResponse {
            policies,
            sids,
            known,
        })
    }

    fn reports(&self) -> broadcast::Receiver<pb::RouterReport> {
        self.reports.subscribe()
    }
}

/// Looks at the links' interfaces every `watch_interval` and reports every
/// change of state (and, at start, the links that are down). Ends with the
/// agent.
async fn watch_links(agent: std::sync::Weak<LinuxAgent>) {
    let mut last: HashMap<String, bool> = HashMap::new();
    let mut failing = false;
    loop {
        let Some(a) = agent.upgrade() else { return };
        let interval = a.config.watch_interval;
        if let Some(ns) = &a.config.netns
            && !netns::exists(ns)
        {
            warn!(netns = %ns, "the router's network namespace is gone");
            let _ = a.gone.send(true);
            return;
        }
        match links::states(&a.watch_handle).await {
            Ok(states) => {
                failing = false;
                for (link, adj) in &a.config.links {
                    let up = states.get(&adj.interface).is_some_and(|s| s.0);
                    let changed = match last.insert(link.clone(), up) {
                        Some(was) => was != up,
                        None => !up,
                    };
                    if changed {
                        info!(%link, interface = %adj.interface, up, "link state changed");
                        let _ = a.reports.send(pb::RouterReport {
                            router: a.config.router.clone(),
                            report: Some(pb::router_report::Report::LinkState(
                                pb::LinkStateReport {
                                    link: link.clone(),
                                    up,
                                },
                            )),
                        });
                    }
                }
            }
            Err(e) if !failing => {
                failing = true;
                warn!(error = %e, "cannot read the interfaces");
            }
            Err(_) => {}
        }
        drop(a);
        tokio::time::sleep(interval).await;
    }
}

/// Reads `LINK=INTERFACE,NEXTHOP` (the `--link` option).
pub fn parse_link(s: &str) -> Result<(String, Adjacency), String> {
    let bad =
        || format!("--link `{s}`: expected LINK=INTERFACE,NEXTHOP (e.g. a1-a2=w1,fd00:1ab:1::2)");
    let (link, rest) = s.split_once('=').ok_or_else(bad)?;
    let (interface, next_hop) = rest.split_once(',').ok_or_else(bad)?;
    let next_hop = next_hop.parse().map_err(|_| bad())?;
    if link.is_empty() || interface.is_empty() {
        return Err(bad());
    }
    Ok((
        link.to_owned(),
        Adjacency {
            interface: interface.to_owned(),
            next_hop,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_options_parse() {
        let (link, a) = parse_link("a1-a2=w1,fd00:1ab:1::2").unwrap();
        assert_eq!(link, "a1-a2");
        assert_eq!(a.interface, "w1");
        assert_eq!(a.next_hop, "fd00:1ab:1::2".parse::<Ipv6Addr>().unwrap());
        assert!(parse_link("a1-a2=w1").is_err());
        assert!(parse_link("a1-a2=w1,not-an-address").is_err());
        assert!(parse_link("=w1,fd00::1").is_err());
    }
}
