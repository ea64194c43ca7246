//! One task per router: the router's ordered queue of pushes, with timeouts,
//! retries with exponential backoff and jitter, idempotent versioned pushes,
//! and reconciliation (on every reconnection, when the router lost its state,
//! and periodically) that finds drift both ways and queues its repair:
//! missing or stale policies are pushed, unknown ones removed, SIDs
//! re-provisioned.
//!
//! A refused push (say, more segments than the router's MSD) fails that
//! policy only; the queue goes on. A transient failure retries the same call.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::StreamExt;
use tracing::{debug, warn};

use super::driver::{DriverError, Failure, RouterDriver};
use super::{Config, report_event};
use crate::controller::outbox::{Feedback, FeedbackSender};
use crate::controller::{Southbound, SouthboundState};
use crate::proto::v1 as pb;

/// What the worker is told.
pub enum Job {
    /// The router's local SIDs.
    Sids(pb::ProvisionSidsRequest),
    /// A policy's desired state at this headend for one version (`None`:
    /// absent).
    Policy(String, u64, Option<pb::SrPolicy>),
    /// A policy was removed: drop it if this router has it.
    Forget(String),
    /// The worker knows every policy its router should hold: it may
    /// reconcile (before that, what the router holds but the worker has
    /// not heard of yet would be taken away).
    Synced,
}

/// What one step of the worker did.
enum Step {
    /// Reconciled with the router.
    Reconciled,
    /// Pushed (or refused) the first queued policy.
    Pushed,
    /// Nothing to do.
    Idle,
}

/// Whether the worker follows the router's reports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Not yet, or the stream ended: subscribe before the next push.
    Off,
    /// A task forwards the reports.
    On,
    /// The driver has no reports: reconnections are not seen, so every
    /// transient failure is followed by a reconciliation.
    Unsupported,
}

struct Worker {
    router: String,
    driver: Arc<dyn RouterDriver>,
    config: Config,
    feedback: FeedbackSender,
    sids: Option<pb::ProvisionSidsRequest>,
    desired: BTreeMap<String, pb::SrPolicy>,
    /// Policies to take away, with the version the removal answers.
    absent: BTreeMap<String, u64>,
    /// Names whose desired state has not been pushed yet, in arrival order.
    queue: VecDeque<String>,
    queued: BTreeSet<String>,
    /// Versions the router acknowledged.
    applied: BTreeMap<String, u64>,
    /// The last status sent per policy, so that each is sent once.
    reported: HashMap<String, (u64, Southbound)>,
    /// A reconciliation is due before the next push.
    resync: bool,
    /// Every desired policy has arrived once (see `Job::Synced`); nothing
    /// is pushed before.
    synced: bool,
    watch: Watch,
    /// The task forwarding the reports (ends with the worker).
    watcher: Option<tokio::task::AbortHandle>,
    failures: u32,
    rng: ChaCha8Rng,
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(w) = &self.watcher {
            w.abort();
        }
    }
}

/// Runs the worker of `router` until its job channel closes.
pub async fn run(
    router: String,
    driver: Arc<dyn RouterDriver>,
    config: Config,
    feedback: FeedbackSender,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let seed = router
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut w = Worker {
        router,
        driver,
        config,
        feedback,
        sids: None,
        desired: BTreeMap::new(),
        absent: BTreeMap::new(),
        queue: VecDeque::new(),
        queued: BTreeSet::new(),
        applied: BTreeMap::new(),
        reported: HashMap::new(),
        resync: true,
        synced: false,
        watch: Watch::Off,
        watcher: None,
        failures: 0,
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let mut next_reconcile = Instant::now() + w.config.reconcile_interval;
    let mut retry_at: Option<Instant> = None;
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<()>();
    loop {
        let work_due = w.synced && retry_at.is_none() && (w.resync || !w.queue.is_empty());
        if work_due {
            w.follow_reports(&ended_tx).await;
            match w.step().await {
                // Only a push that went through ends a run of failures: a
                // reconciliation between retries (drivers without reports
                // reconcile after every failure) must not reset the backoff.
                Ok(Step::Pushed) => w.failures = 0,
                Ok(Step::Reconciled | Step::Idle) => {}
                Err(e) => {
                    w.waiting(&e);
                    w.failures += 1;
                    if e.failure == Failure::LostState || w.watch == Watch::Unsupported {
                        w.resync = true;
                    }
                    let delay = w.backoff();
                    debug!(router = %w.router, error = %e, retry_in_ms = delay.as_millis() as u64, "push failed");
                    retry_at = Some(Instant::now() + delay);
                }
            }
            // Take new jobs between pushes, without waiting.
            while let Ok(job) = jobs.try_recv() {
                w.take(job);
            }
            continue;
        }
        let wake = retry_at.unwrap_or(next_reconcile).min(next_reconcile);
        tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => w.take(job),
                None => return,
            },
            () = tokio::time::sleep_until(wake) => {
                if retry_at.is_some_and(|t| t <= Instant::now()) {
                    retry_at = None;
                }
                if next_reconcile <= Instant::now() {
                    w.resync = true;
                    next_reconcile = Instant::now() + w.config.reconcile_interval;
                }
            }
            Some(()) = ended_rx.recv() => {
                // The report stream ended: the agent went away, and may come
                // back without its state.
                w.watch = Watch::Off;
                w.resync = true;
            }
        }
    }
}

impl Worker {
    fn take(&mut self, job: Job) {
        match job {
            Job::Synced => self.synced = true,
            Job::Sids(s) => {
                self.sids = Some(s);
                self.resync = true;
            }
            Job::Forget(name) => {
                if self.desired.contains_key(&name) || self.applied.contains_key(&name) {
                    // No status to report: the policy is gone.
                    self.take(Job::Policy(name, 0, None));
                }
            }
            Job::Policy(name, version, policy) => {
                match policy {
                    Some(p) => {
                        self.absent.remove(&name);
                        self.desired.insert(name.clone(), p);
                    }
                    None => {
                        self.desired.remove(&name);
                        self.absent.insert(name.clone(), version);
                    }
                }
                self.enqueue(name);
            }
        }
    }

    fn enqueue(&mut self, name: String) {
        if self.queued.insert(name.clone()) {
            self.queue.push_back(name);
        }
    }

    fn backoff(&mut self) -> Duration {
        let exp =
            self.config.backoff_base.as_secs_f64() * 2f64.powi(self.failures.min(20) as i32 - 1);
        let capped = exp.min(self.config.backoff_max.as_secs_f64());
        // Half fixed, half random: workers spread out, and never wait longer
        // than the cap.
        Duration::from_secs_f64(capped * self.rng.random_range(0.5..=1.0))
    }

    /// Sends a policy's status, unless it was the last one sent.
    fn report(&mut self, name: &str, version: u64, state: SouthboundState, detail: Option<String>) {
        let status = Southbound { state, detail };
        if self.reported.get(name) == Some(&(version, status.clone())) {
            return;
        }
        self.feedback.send(Feedback::Status {
            name: name.to_owned(),
            version,
            southbound: status.clone(),
        });
        self.reported.insert(name.to_owned(), (version, status));
    }

    /// Every queued policy waits on a failure that will be retried.
    fn waiting(&mut self, e: &DriverError) {
        let detail = format!("retrying: {}", e.message);
        let queued: Vec<(String, u64)> = self
            .queue
            .iter()
            .filter_map(|n| self.desired.get(n).map(|p| (n.clone(), p.version)))
            .collect();
        for (name, version) in queued {
            self.report(
                &name,
                version,
                SouthboundState::Pending,
                Some(detail.clone()),
            );
        }
    }

    /// One unit of work: a reconciliation, or the next queued push.
    async fn step(&mut self) -> Result<Step, DriverError> {
        if self.resync {
            self.reconcile().await?;
            self.resync = false;
            return Ok(Step::Reconciled);
        }
        let Some(name) = self.queue.front().cloned() else {
            return Ok(Step::Idle);
        };
        match self.push(&name).await {
            Ok(()) => {}
            Err(e) if e.failure == Failure::Refused => {
                if let Some(p) = self.desired.get(&name) {
                    let version = p.version;
                    warn!(router = %self.router, policy = %name, version, error = %e, "the router refused the policy");
                    self.report(&name, version, SouthboundState::Failed, Some(e.message));
                }
            }
            Err(e) => return Err(e),
        }
        self.queue.pop_front();
        self.queued.remove(&name);
        Ok(Step::Pushed)
    }

    /// Makes the router hold the desired state of one policy.
    async fn push(&mut self, name: &str) -> Result<(), DriverError> {
        match self.desired.get(name).cloned() {
            Some(p) => {
                let held = self.driver.apply(&self.router, &p).await?;
                if held > p.version {
                    // The router holds a newer version than ours (our state
                    // was lost): start over from our version.
                    self.driver.remove(&self.router, name).await?;
                    self.driver.apply(&self.router, &p).await?;
                }
                self.applied.insert(name.to_owned(), p.version);
                self.report(name, p.version, SouthboundState::Applied, None);
            }
            None => {
                self.driver.remove(&self.router, name).await?;
                self.applied.remove(name);
                self.settle_absent(name);
            }
        }
        Ok(())
    }

    /// A policy the headend must not hold is gone from it.
    fn settle_absent(&mut self, name: &str) {
        let Some(version) = self.absent.remove(name) else {
            return;
        };
        if version > 0 {
            let detail = "nothing held at the headend (the policy is down)".to_owned();
            self.report(name, version, SouthboundState::Applied, Some(detail));
        } else {
            self.reported.remove(name);
        }
    }

    /// Compares what the router holds with what it should, re-provisions
    /// its SIDs if needed, and queues the repair of every difference.
    async fn reconcile(&mut self) -> Result<(), DriverError> {
        let state = self.driver.list(&self.router, &self.desired).await?;
        if let Some(sids) = &self.sids
            && (!state.known || state.sids != sids.sids)
        {
            self.driver.provision(sids).await?;
        }
        let held: BTreeMap<&str, u64> = state
            .policies
            .iter()
            .map(|p| (p.name.as_str(), p.version))
            .collect();
        let mut drift = Vec::new();
        for (&name, &version) in &held {
            if !self.desired.contains_key(name) {
                debug!(router = %self.router, policy = %name, version, "the router holds a policy CPN does not want");
                drift.push(name.to_owned());
            }
        }
        let mut settled = Vec::new();
        for (name, p) in &self.desired {
            if held.get(name.as_str()) == Some(&p.version) {
                settled.push((name.clone(), p.version));
            } else {
                drift.push(name.clone());
            }
        }
        for (name, version) in settled {
            self.applied.insert(name.clone(), version);
            self.report(&name, version, SouthboundState::Applied, None);
        }
        let absent: Vec<String> = self
            .absent
            .keys()
            .filter(|n| !held.contains_key(n.as_str()))
            .cloned()
            .collect();
        for name in absent {
            self.settle_absent(&name);
        }
        self.applied.retain(|n, _| held.contains_key(n.as_str()));
        let repairs = drift.iter().filter(|n| !self.queued.contains(*n)).count();
        if repairs > 0 {
            warn!(router = %self.router, repairs, "the router drifted from the controller: repairing");
        }
        for name in drift {
            self.enqueue(name);
        }
        // What is queued but already right is settled above: drop it.
        let needs_push = |n: &String| match self.desired.get(n) {
            Some(p) => held.get(n.as_str()) != Some(&p.version),
            None => held.contains_key(n.as_str()),
        };
        self.queue.retain(needs_push);
        self.queued = self.queue.iter().cloned().collect();
        Ok(())
    }

    /// Subscribes to the router's reports when not yet following them; a
    /// task forwards them and says when the stream ends.
    async fn follow_reports(&mut self, ended: &mpsc::UnboundedSender<()>) {
        if self.watch != Watch::Off {
            return;
        }
        match self.driver.reports(&self.router).await {
            Ok(Some(mut stream)) => {
                let feedback = self.feedback.clone();
                let ended = ended.clone();
                let task = tokio::spawn(async move {
                    while let Some(Ok(report)) = stream.next().await {
                        let router = report.router.clone();
                        if let Some(event) = report_event(report) {
                            feedback.send(Feedback::Report { router, event });
                        }
                    }
                    let _ = ended.send(());
                });
                if let Some(old) = self.watcher.replace(task.abort_handle()) {
                    old.abort();
                }
                self.watch = Watch::On;
            }
            Ok(None) => self.watch = Watch::Unsupported,
            Err(_) => {}
        }
    }
}

#[cfg(test)]
#[path = "test_driver.rs"]
mod test_driver;

#[cfg(test)]
#[path = "worker_tests.rs"]
mod tests;
