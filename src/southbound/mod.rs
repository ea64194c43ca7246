//! Southbound: installed policies reach the routers and stay there. The
//! controller task sends desired state (each router's SIDs, each policy at
//! its headend); a worker per router pushes it through a `RouterDriver`
//! with retries and reconciliation, and sends back southbound status per
//! policy and the routers' reports (a link down is an event like any other).

pub mod bgp;
pub mod config;
pub mod desired;
pub mod driver;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::controller::Southbound;
use crate::controller::actor::{Command, ControllerHandle, WeakControllerHandle};
use crate::document::{EventDoc, SetLinkDoc};
use crate::proto::v1 as pb;
use bgp::BgpDriver;
use driver::{AgentDriver, RouterDriver};
pub use worker::Job;

/// Desired state for the routers, from the controller task.
#[derive(Debug)]
pub enum Update {
    /// A router, its agent's address (if it has one) and its local SIDs.
    Router {
        /// Router id.
        router: String,
        /// Agent address `host:port`.
        mgmt: Option<String>,
        /// Its local SIDs and facts.
        sids: pb::ProvisionSidsRequest,
    },
    /// Everything the routers should hold has been sent once (at start):
    /// workers may now reconcile, and take away what is not wanted.
    Synced,
    /// A policy was removed: whichever router holds it drops it.
    Removed {
        /// Policy name.
        name: String,
    },
    /// A policy's desired state at its headend (`None`: the headend should
    /// not hold it).
    Policy {
        /// Headend router id.
        headend: String,
        /// Policy name.
        name: String,
        /// The policy's version (status is reported for it).
        version: u64,
        /// The SR policy.
        policy: Option<pb::SrPolicy>,
    },
}

/// Where the controller task sends desired state.
pub type Sink = mpsc::UnboundedSender<Update>;

/// Timing of pushes.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Timeout of each call to a router.
    pub timeout: Duration,
    /// First retry delay; doubles per failure (with jitter).
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// How often each router is reconciled even when all seems well.
    pub reconcile_interval: Duration,
    /// BGP speakers and the headends reached through them (the others are
    /// reached through their agents).
    pub bgp: Vec<bgp::Speaker>,
    /// TLS to the agents (`None`: plaintext).
    pub agent_tls: Option<crate::tls::ClientTls>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(5),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            reconcile_interval: Duration::from_secs(30),
            bgp: Vec::new(),
            agent_tls: None,
        }
    }
}

/// What workers send back to the controller.
#[derive(Clone)]
pub struct Feedback {
    controller: WeakControllerHandle,
}

impl Feedback {
    /// A policy's southbound status for one version.
    fn status(&self, name: &str, version: u64, status: Southbound) {
        let Some(c) = self.controller.upgrade() else {
            return;
        };
        let name = name.to_owned();
        tokio::spawn(async move {
            let _ = c.tell(Command::Southbound(name, version, status)).await;
        });
    }

    /// A router's report, as an event.
    fn report(&self, report: pb::RouterReport) {
        let event = match report.report {
            Some(pb::router_report::Report::LinkState(l)) => {
                if l.up {
                    EventDoc::LinkUp(l.link)
                } else {
                    EventDoc::LinkDown(l.link)
                }
            }
            Some(pb::router_report::Report::LinkMetrics(m)) => EventDoc::SetLink(SetLinkDoc {
                id: m.link,
                latency_us: m.latency_us,
                used_mbps: m.used_mbps,
                jitter_us: m.jitter_us,
                loss_ppm: m.loss_ppm,
                ..Default::default()
            }),
            Some(pb::router_report::Report::Error(e)) => {
                warn!(router = %report.router, error = %e, "router reports an error");
                return;
            }
            None => return,
        };
        info!(router = %report.router, ?event, "router report");
        let Some(c) = self.controller.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            if let Ok(Err(e)) = c.ask(|r| Command::Event(event, r)).await {
                warn!(error = %e, "a router's report was refused");
            }
        });
    }
}

/// Runs the southbound until `updates` closes: routes desired state to one
/// worker per router (agents at the same address share one connection).
pub async fn run(
    mut updates: mpsc::UnboundedReceiver<Update>,
    controller: ControllerHandle,
    config: Config,
) {
    // Weak: the southbound must not keep the controller task alive.
    let feedback = Feedback {
        controller: controller.downgrade(),
    };
    drop(controller);
    // Per router: its worker's driver (the agent's address or the speaker's)
    // and the worker.
    let mut workers: HashMap<String, (String, mpsc::UnboundedSender<Job>)> = HashMap::new();
    let mut drivers: HashMap<String, Arc<dyn RouterDriver>> = HashMap::new();
    // Headends reached through a BGP speaker: one driver per speaker.
    let mut through_bgp: HashMap<String, (String, Arc<dyn RouterDriver>)> = HashMap::new();
    for speaker in &config.bgp {
        match BgpDriver::new(speaker.clone(), config.timeout) {
            Ok(d) => {
                let d: Arc<dyn RouterDriver> = Arc::new(d);
                for router in speaker.headends.keys() {
                    through_bgp.insert(router.clone(), (format!("bgp {}", speaker.api), d.clone()));
                }
                info!(speaker = %speaker.api, headends = speaker.headends.len(), "pushing SR policies through a BGP speaker");
            }
            Err(e) => warn!(speaker = %speaker.api, error = %e, "cannot use this BGP speaker"),
        }
    }
    while let Some(update) = updates.recv().await {
        match update {
            Update::Synced => {
                for (_, tx) in workers.values() {
                    let _ = tx.send(Job::Synced);
                }
            }
            Update::Router { router, mgmt, sids } => {
                let mgmt = match (through_bgp.get(&router), mgmt) {
                    (Some(d), _) => Err(d.clone()),
                    (None, Some(mgmt)) => Ok(mgmt),
                    // No agent: its policies say so (see Update::Policy).
                    (None, None) => {
                        workers.remove(&router);
                        continue;
                    }
                };
                let key = match &mgmt {
                    Err((key, _)) => key.clone(),
                    Ok(mgmt) => mgmt.clone(),
                };
                let driver = match mgmt {
                    Err((_, bgp)) => bgp,
                    Ok(mgmt) => match drivers.get(&mgmt) {
                        Some(d) => d.clone(),
                        None => {
                            match AgentDriver::new(&mgmt, config.timeout, config.agent_tls.as_ref())
                            {
                                Ok(d) => {
                                    let d: Arc<dyn RouterDriver> = Arc::new(d);
                                    drivers.insert(mgmt.clone(), d.clone());
                                    d
                                }
                                Err(e) => {
                                    warn!(%router, %mgmt, error = %e, "cannot use this agent address");
                                    continue;
                                }
                            }
                        }
                    },
                };
                // A new router, or one whose agent moved: a new worker (the
                // old one ends with its channel). It reconciles once the
                // controller has sent all it wants (Update::Synced).
                if workers.get(&router).is_none_or(|(k, _)| *k != key) {
                    let (tx, rx) = mpsc::unbounded_channel();
                    tokio::spawn(worker::run(
                        router.clone(),
                        driver,
                        config.clone(),
                        feedback.clone(),
                        rx,
                    ));
                    workers.insert(router.clone(), (key, tx));
                }
                let _ = workers[&router].1.send(Job::Sids(sids));
            }
            Update::Removed { name } => {
                for (_, tx) in workers.values() {
                    let _ = tx.send(Job::Forget(name.clone()));
                }
            }
            Update::Policy {
                headend,
                name,
                version,
                policy,
            } => match workers.get(&headend) {
                Some((_, tx)) => {
                    let _ = tx.send(Job::Policy(name, version, policy));
                }
                None => {
                    let detail =
                        format!("headend {headend} has no mgmt address: no agent to push to");
                    let state = crate::controller::SouthboundState::Pending;
                    feedback.status(
                        &name,
                        version,
                        Southbound {
                            state,
                            detail: Some(detail),
                        },
                    );
                }
            },
        }
    }
}
