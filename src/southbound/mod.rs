//! Southbound: installed policies reach the routers and stay there. It reads
//! the controller's outbox (each router's SIDs, each policy at its headend),
//! converts it to the southbound protocol, and a worker per router pushes it
//! through a `RouterDriver` with retries and reconciliation. Push status and
//! the routers' reports (a link down is an event like any other) go back
//! through the controller's one ordered feedback channel.

pub mod bgp;
pub mod config;
pub mod driver;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::controller::outbox::{Desired, Feedback, FeedbackSender};
use crate::controller::{Southbound, SouthboundState};
use crate::document::{EventDoc, SetLinkDoc};
use crate::proto::convert::{local_sids_to_pb, sr_policy_to_pb};
use crate::proto::v1 as pb;
use bgp::BgpDriver;
use driver::{AgentDriver, RouterDriver};
pub use worker::Job;

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
    /// The leader's epoch, sent with every push to an agent (replicas on
    /// etcd; `None` on one machine): agents refuse a push older than the
    /// newest epoch they have seen.
    pub epoch: Option<PushEpoch>,
}

/// The epoch a leader pushes under, shared with the replication layer that
/// sets it when this replica takes over (and leaves it when it steps down,
/// so that a deposed leader's late pushes carry its old epoch).
#[derive(Clone, Debug, Default)]
pub struct PushEpoch(pub Arc<std::sync::atomic::AtomicI64>);

impl PushEpoch {
    /// The epoch now (0: none yet).
    pub fn get(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl PartialEq for PushEpoch {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The metadata key of the epoch on pushes to agents.
pub const EPOCH_METADATA: &str = "cpn-epoch";

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(5),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            reconcile_interval: Duration::from_secs(30),
            bgp: Vec::new(),
            agent_tls: None,
            epoch: None,
        }
    }
}

/// A router's report, as the event it means (`None`: nothing to act on).
fn report_event(report: pb::RouterReport) -> Option<EventDoc> {
    match report.report? {
        pb::router_report::Report::LinkState(l) => Some(if l.up {
            EventDoc::LinkUp(l.link)
        } else {
            EventDoc::LinkDown(l.link)
        }),
        pb::router_report::Report::LinkMetrics(m) => Some(EventDoc::SetLink(SetLinkDoc {
            id: m.link,
            latency_us: m.latency_us,
            used_mbps: m.used_mbps,
            jitter_us: m.jitter_us,
            loss_ppm: m.loss_ppm,
            ..Default::default()
        })),
        pb::router_report::Report::Error(e) => {
            warn!(router = %report.router, error = %e, "router reports an error");
            None
        }
    }
}

/// Runs the southbound until the outbox closes: routes desired state to
/// one worker per router (agents at the same address share one
/// connection); workers answer through `feedback`.
pub async fn run(
    mut outbox: mpsc::UnboundedReceiver<Desired>,
    feedback: FeedbackSender,
    config: Config,
) {
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
    while let Some(desired) = outbox.recv().await {
        match desired {
            Desired::Synced => {
                for (_, tx) in workers.values() {
                    let _ = tx.send(Job::Synced);
                }
            }
            Desired::Standby => {
                // Each worker ends with its channel; routers keep what they
                // hold (the new leader reconciles them).
                workers.clear();
            }
            Desired::Router(sids) => {
                let (router, mgmt) = (sids.router.clone(), sids.mgmt.clone());
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
                            match AgentDriver::new(
                                &mgmt,
                                config.timeout,
                                config.agent_tls.as_ref(),
                                config.epoch.clone(),
                            ) {
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
                let _ = workers[&router].1.send(Job::Sids(local_sids_to_pb(&sids)));
            }
            Desired::Removed { name } => {
                for (_, tx) in workers.values() {
                    let _ = tx.send(Job::Forget(name.clone()));
                }
            }
            Desired::Policy {
                headend,
                name,
                version,
                policy,
            } => match workers.get(&headend) {
                Some((_, tx)) => {
                    let policy = policy.as_ref().map(sr_policy_to_pb);
                    let _ = tx.send(Job::Policy(name, version, policy));
                }
                None => {
                    let detail =
                        format!("headend {headend} has no mgmt address: no agent to push to");
                    feedback.send(Feedback::Status {
                        name,
                        version,
                        southbound: Southbound {
                            state: SouthboundState::Pending,
                            detail: Some(detail),
                        },
                    });
                }
            },
        }
    }
}
