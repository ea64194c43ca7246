//! One task per router: the router's ordered queue of pushes, with timeouts,
//! retries with exponential backoff and jitter, idempotent versioned pushes,
//! and reconciliation (on every (re)connection, after any failure, and
//! periodically) that repairs drift both ways: missing or stale policies are
//! pushed, unknown ones removed, SIDs re-provisioned.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::StreamExt;
use tracing::{debug, warn};

use super::driver::{DriverError, RouterDriver};
use super::{Config, Feedback};
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
}

struct Worker {
    router: String,
    driver: Arc<dyn RouterDriver>,
    config: Config,
    feedback: Feedback,
    sids: Option<pb::ProvisionSidsRequest>,
    desired: BTreeMap<String, pb::SrPolicy>,
    /// Policies to take away, with the version the removal answers.
    absent: BTreeMap<String, u64>,
    /// Names whose desired state has not been pushed yet, in arrival order.
    queue: VecDeque<String>,
    queued: BTreeSet<String>,
    /// Versions the router acknowledged.
    applied: BTreeMap<String, u64>,
    /// A full reconciliation is due before the next push.
    resync: bool,
    failures: u32,
    rng: ChaCha8Rng,
}

/// Runs the worker of `router` until its job channel closes.
pub async fn run(
    router: String,
    driver: Arc<dyn RouterDriver>,
    config: Config,
    feedback: Feedback,
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
        resync: true,
        failures: 0,
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let mut next_reconcile = Instant::now() + w.config.reconcile_interval;
    let mut retry_at: Option<Instant> = None;
    let (report_tx, mut report_rx) = mpsc::unbounded_channel::<()>();
    let mut watching = false;
    loop {
        let work_due = retry_at.is_none() && (w.resync || !w.queue.is_empty());
        if work_due {
            if !watching {
                watching = w.watch_reports(report_tx.clone()).await;
            }
            match w.step().await {
                Ok(()) => {
                    w.failures = 0;
                }
                Err(e) => {
                    w.failures += 1;
                    w.resync = true;
                    watching = false;
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
            Some(()) = report_rx.recv() => {
                // The report stream ended: the agent went away.
                watching = false;
                w.resync = true;
            }
        }
    }
}

impl Worker {
    fn take(&mut self, job: Job) {
        match job {
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
                if self.queued.insert(name.clone()) {
                    self.queue.push_back(name);
                }
            }
        }
    }

    fn backoff(&mut self) -> Duration {
        let exp =
            self.config.backoff_base.as_secs_f64() * 2f64.powi(self.failures.min(20) as i32 - 1);
        let capped = exp.min(self.config.backoff_max.as_secs_f64());
        Duration::from_secs_f64(capped * self.rng.random_range(0.5..1.5))
    }

    fn report(&self, name: &str, version: u64, state: SouthboundState, detail: Option<String>) {
        self.feedback
            .status(name, version, Southbound { state, detail });
    }

    /// One unit of work: a full resync, or the next queued push.
    async fn step(&mut self) -> Result<(), DriverError> {
        if self.resync {
            self.reconcile().await?;
            self.resync = false;
            return Ok(());
        }
        let Some(name) = self.queue.front().cloned() else {
            return Ok(());
        };
        let result = self.push(&name).await;
        if let Err(e) = &result
            && let Some(p) = self.desired.get(&name)
        {
            self.report(
                &name,
                p.version,
                SouthboundState::Failed,
                Some(format!("{} (retrying)", e.message)),
            );
        }
        result?;
        self.queue.pop_front();
        self.queued.remove(&name);
        Ok(())
    }

    /// Makes the router hold the desired state of one policy.
    async fn push(&mut self, name: &str) -> Result<(), DriverError> {
        match self.desired.get(name).cloned() {
            Some(p) => {
                let held = self.driver.apply(&self.router, &p).await?;
                self.applied.insert(name.to_owned(), held);
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
        if let Some(version) = self.absent.remove(name)
            && version > 0
        {
            let detail = "nothing held at the headend (the policy is down)".to_owned();
            self.report(name, version, SouthboundState::Applied, Some(detail));
        }
    }

    /// Compares what the router holds with what it should, and repairs both
    /// ways; queued pushes are settled by it.
    async fn reconcile(&mut self) -> Result<(), DriverError> {
        let state = self.driver.list(&self.router).await?;
        if let Some(sids) = &self.sids
            && (!state.known || state.sids != sids.sids)
        {
            self.driver.provision(sids).await?;
        }
        let held: BTreeMap<String, u64> = state
            .policies
            .iter()
            .map(|p| (p.name.clone(), p.version))
            .collect();
        let mut repaired = 0;
        for (name, version) in &held {
            if !self.desired.contains_key(name) {
                self.driver.remove(&self.router, name).await?;
                debug!(router = %self.router, policy = %name, version, "removed a policy CPN does not want");
                repaired += 1;
            }
        }
        let desired: Vec<pb::SrPolicy> = self.desired.values().cloned().collect();
        for p in desired {
            match held.get(&p.name) {
                Some(&v) if v == p.version => {}
                Some(&v) if v > p.version => {
                    // The router is ahead of us (our state was lost): start over.
                    self.driver.remove(&self.router, &p.name).await?;
                    self.driver.apply(&self.router, &p).await?;
                    repaired += 1;
                }
                _ => {
                    self.driver.apply(&self.router, &p).await?;
                    repaired += 1;
                }
            }
            self.applied.insert(p.name.clone(), p.version);
            self.report(&p.name, p.version, SouthboundState::Applied, None);
        }
        self.applied.retain(|n, _| self.desired.contains_key(n));
        let absent: Vec<String> = self.absent.keys().cloned().collect();
        for name in absent {
            self.settle_absent(&name);
        }
        self.queue.clear();
        self.queued.clear();
        if repaired > 0 {
            warn!(router = %self.router, repaired, "repaired drift between the router and the controller");
        }
        Ok(())
    }

    /// Follows the router's reports; `ended` is told when the stream ends.
    async fn watch_reports(&mut self, ended: mpsc::UnboundedSender<()>) -> bool {
        let Ok(Some(mut stream)) = self.driver.reports(&self.router).await else {
            return false;
        };
        let feedback = self.feedback.clone();
        tokio::spawn(async move {
            while let Some(Ok(report)) = stream.next().await {
                feedback.report(report);
            }
            let _ = ended.send(());
        });
        true
    }
}
