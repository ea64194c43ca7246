//! The worker on a paused tokio clock, pushing to an in-memory router
//! (`TestDriver`): nothing before `Synced`, retries with exponential backoff
//! and jitter, refusals that fail one policy only, newer versions that
//! replace queued ones, and periodic reconciliation of drift. The clock
//! only moves when every task waits, so the instants the driver records are
//! the worker's own timing, exactly.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};

use super::test_driver::{Call, TestDriver};
use super::{Job, run};
use crate::controller::outbox::{Feedback, FeedbackSender};
use crate::controller::{Southbound, SouthboundState};
use crate::proto::v1 as pb;
use crate::southbound::Config;
use crate::southbound::driver::DriverError;

/// The timer wheel's resolution: a timer may fire this much after its
/// deadline.
const TICK: Duration = Duration::from_millis(1);

fn config() -> Config {
    Config {
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        reconcile_interval: Duration::from_secs(3600),
        ..Config::default()
    }
}

fn policy(name: &str, version: u64) -> pb::SrPolicy {
    pb::SrPolicy {
        name: name.into(),
        version,
        ..Default::default()
    }
}

fn status(state: SouthboundState, detail: Option<&str>) -> Southbound {
    Southbound {
        state,
        detail: detail.map(str::to_owned),
    }
}

fn applied() -> Southbound {
    status(SouthboundState::Applied, None)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A worker for router `a1` and its in-memory router.
struct Harness {
    driver: Arc<TestDriver>,
    jobs: mpsc::UnboundedSender<Job>,
    feedback: mpsc::UnboundedReceiver<Feedback>,
    /// When the worker started.
    start: Instant,
}

fn start(driver: TestDriver, config: Config) -> Harness {
    let driver = Arc::new(driver);
    let (jobs, rx) = mpsc::unbounded_channel();
    let (feedback_tx, feedback) = FeedbackSender::channel();
    tokio::spawn(run("a1".into(), driver.clone(), config, feedback_tx, rx));
    Harness {
        driver,
        jobs,
        feedback,
        start: Instant::now(),
    }
}

impl Harness {
    fn send(&self, job: Job) {
        self.jobs.send(job).unwrap();
    }

    /// The controller wants `name` at `version` at a1.
    fn want(&self, name: &str, version: u64) {
        self.send(Job::Policy(
            name.into(),
            version,
            Some(policy(name, version)),
        ));
    }

    /// The next status fed back, however long (on the paused clock) it
    /// takes, up to a day.
    async fn status(&mut self) -> (String, u64, Southbound) {
        let day = Duration::from_secs(24 * 3600);
        match timeout(day, self.feedback.recv()).await {
            Ok(Some(Feedback::Status {
                name,
                version,
                southbound,
            })) => (name, version, southbound),
            Ok(other) => panic!("expected a status, got {other:?}"),
            Err(_) => panic!("no status within a day"),
        }
    }

    /// The statuses fed back and not read yet.
    fn statuses(&mut self) -> Vec<(String, u64, Southbound)> {
        let mut out = Vec::new();
        while let Ok(f) = self.feedback.try_recv() {
            match f {
                Feedback::Status {
                    name,
                    version,
                    southbound,
                } => out.push((name, version, southbound)),
                other => panic!("expected a status, got {other:?}"),
            }
        }
        out
    }

    /// Lets everything run until the clock reads `at` after the start.
    async fn until(&self, at: Duration) {
        sleep_until(self.start + at).await;
    }

    /// The calls made from `at` after the start on, each with its time
    /// since the start.
    fn calls_since(&self, at: Duration) -> Vec<(Duration, Call)> {
        self.driver
            .calls()
            .into_iter()
            .map(|(t, c)| (t - self.start, c))
            .filter(|(t, _)| *t >= at)
            .collect()
    }
}

/// The calls, without their times.
fn kinds(calls: &[(Duration, Call)]) -> Vec<Call> {
    calls.iter().map(|(_, c)| c.clone()).collect()
}

/// Asserts every call came at `at` (within a timer tick).
fn all_at(calls: &[(Duration, Call)], at: Duration) {
    for (t, c) in calls {
        assert!(
            *t >= at && *t <= at + TICK,
            "{c:?} at {t:?}, expected at {at:?}"
        );
    }
}

fn apply(name: &str, version: u64) -> Call {
    Call::Apply(name.into(), version)
}

#[tokio::test(start_paused = true)]
async fn nothing_is_pushed_before_synced_then_the_policy_is_applied() {
    let interval = Duration::from_secs(10);
    let mut h = start(
        TestDriver::new(),
        Config {
            reconcile_interval: interval,
            ..config()
        },
    );
    let sid = pb::LocalSid {
        sid: "fc00:a:1::".into(),
        behavior: 1,
        ..Default::default()
    };
    h.send(Job::Sids(pb::ProvisionSidsRequest {
        router: "a1".into(),
        sids: vec![sid],
        ..Default::default()
    }));
    h.want("p", 1);
    // Two reconciliation ticks pass: the worker does not even look at the
    // router, as it could take away what it has not heard of yet.
    h.until(secs(25.0)).await;
    assert_eq!(h.driver.calls(), []);
    assert_eq!(h.statuses(), []);

    h.send(Job::Synced);
    assert_eq!(h.status().await, ("p".into(), 1, applied()));
    assert_eq!(h.driver.held(), [("p".into(), 1)]);
    let calls = h.calls_since(Duration::ZERO);
    // It follows the reports, looks, provisions the SIDs, pushes: at once.
    assert_eq!(
        kinds(&calls),
        [Call::Reports, Call::List, Call::Provision, apply("p", 1)]
    );
    all_at(&calls, secs(25.0));
    assert_eq!(h.statuses(), [], "one status per version");
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried_with_exponential_backoff() {
    let config = config();
    let driver = TestDriver::new();
    driver.fail_applies(7, DriverError::transient("unreachable"));
    let mut h = start(driver, config.clone());
    h.want("p", 1);
    h.send(Job::Synced);

    // The first failure says so, once; the eighth try succeeds.
    let retrying = status(SouthboundState::Pending, Some("retrying: unreachable"));
    assert_eq!(h.status().await, ("p".into(), 1, retrying));
    assert_eq!(h.status().await, ("p".into(), 1, applied()));
    assert_eq!(h.driver.held(), [("p".into(), 1)]);

    let tries = h.driver.times(|c| *c == apply("p", 1));
    assert_eq!(tries.len(), 8);
    let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1] - w[0]).collect();
    // After failure k (from 1), the worker waits base * 2^(k-1), at most
    // the max, times a jitter of 50% to 100%.
    for (k, gap) in gaps.iter().enumerate() {
        let cap = (config.backoff_base * 2u32.pow(k as u32)).min(config.backoff_max);
        assert!(
            *gap >= cap / 2 && *gap <= cap + TICK,
            "wait {} was {gap:?}, expected {:?}..={cap:?}; all: {gaps:?}",
            k + 1,
            cap / 2
        );
    }
    // So the waits grow until they reach the max (100, 200, 400, 800 ms
    // caps: the jitter ranges do not overlap)...
    assert!(gaps[..4].windows(2).all(|w| w[0] < w[1]), "{gaps:?}");
    // ... and stay near it.
    assert!(gaps[4..].iter().all(|g| *g >= config.backoff_max / 2));
    // The agent's report stream is up: no reconciliation between tries.
    assert_eq!(h.driver.times(|c| *c == Call::List).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn without_reports_the_backoff_still_grows() {
    // A driver without reports (a BGP speaker) reconciles after every
    // transient failure; that reconciliation succeeds, and must not reset
    // the failure count (it once did: the retries of a failing apply never
    // backed off, 50-100 ms apart forever).
    let config = config();
    let driver = TestDriver::without_reports();
    driver.fail_applies(7, DriverError::transient("unreachable"));
    let mut h = start(driver, config.clone());
    h.want("p", 1);
    h.send(Job::Synced);
    let retrying = status(SouthboundState::Pending, Some("retrying: unreachable"));
    assert_eq!(h.status().await, ("p".into(), 1, retrying));
    assert_eq!(h.status().await, ("p".into(), 1, applied()));
    let tries = h.driver.times(|c| *c == apply("p", 1));
    assert_eq!(tries.len(), 8);
    let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps[4..].iter().all(|g| *g >= config.backoff_max / 2),
        "the waits never grew: {gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_policy_fails_alone_and_the_queue_goes_on() {
    let driver = TestDriver::new();
    driver.refuse("first", "3 segments exceed the MSD 2");
    let mut h = start(driver, config());
    h.want("first", 1);
    h.want("second", 1);
    h.send(Job::Synced);

    let failed = status(SouthboundState::Failed, Some("3 segments exceed the MSD 2"));
    assert_eq!(h.status().await, ("first".into(), 1, failed));
    assert_eq!(h.status().await, ("second".into(), 1, applied()));
    assert_eq!(h.driver.held(), [("second".into(), 1)]);
    // No backoff after a refusal, and no retry of it (until the next
    // reconciliation, an hour away).
    h.until(Duration::from_secs(3599)).await;
    let pushes: Vec<_> = h
        .calls_since(Duration::ZERO)
        .into_iter()
        .filter(|(_, c)| matches!(c, Call::Apply(..)))
        .collect();
    assert_eq!(kinds(&pushes), [apply("first", 1), apply("second", 1)]);
    all_at(&pushes, Duration::ZERO);
    assert_eq!(h.statuses(), []);
}

#[tokio::test(start_paused = true)]
async fn only_the_newest_version_is_pushed_when_both_wait() {
    let mut h = start(TestDriver::new(), config());
    h.want("p", 1);
    h.want("p", 2);
    h.send(Job::Synced);
    assert_eq!(h.status().await, ("p".into(), 2, applied()));
    h.until(Duration::from_secs(60)).await;
    let pushes = h.driver.times(|c| matches!(c, Call::Apply(..)));
    assert_eq!(pushes.len(), 1);
    assert!(h.driver.calls().iter().any(|(_, c)| *c == apply("p", 2)));
    assert_eq!(h.driver.held(), [("p".into(), 2)]);
    assert_eq!(h.statuses(), [], "nothing about version 1");
}

#[tokio::test(start_paused = true)]
async fn a_newer_version_replaces_the_one_waiting_for_a_retry() {
    let driver = TestDriver::new();
    driver.fail_applies(1, DriverError::transient("timed out"));
    let mut h = start(driver, config());
    h.want("p", 1);
    h.send(Job::Synced);
    let retrying = status(SouthboundState::Pending, Some("retrying: timed out"));
    assert_eq!(h.status().await, ("p".into(), 1, retrying));
    // Version 2 comes while the worker waits to retry version 1.
    h.want("p", 2);
    assert_eq!(h.status().await, ("p".into(), 2, applied()));
    let pushes: Vec<Call> = kinds(&h.calls_since(Duration::ZERO))
        .into_iter()
        .filter(|c| matches!(c, Call::Apply(..)))
        .collect();
    assert_eq!(pushes, [apply("p", 1), apply("p", 2)]);
    assert_eq!(h.driver.held(), [("p".into(), 2)]);
}

#[tokio::test(start_paused = true)]
async fn periodic_reconciliation_repairs_drift_once_synced() {
    let interval = Duration::from_secs(10);
    let driver = TestDriver::new();
    driver.hold(policy("stray", 7));
    let mut h = start(
        driver,
        Config {
            reconcile_interval: interval,
            ..config()
        },
    );
    h.want("p", 1);
    // Not synced: two ticks pass and the stray policy stays.
    h.until(secs(25.0)).await;
    assert_eq!(h.driver.held(), [("stray".into(), 7)]);
    assert_eq!(h.driver.calls(), []);

    // Synced at 25 s: the first reconciliation takes the stray away.
    h.send(Job::Synced);
    assert_eq!(h.status().await, ("p".into(), 1, applied()));
    h.until(secs(25.5)).await;
    assert_eq!(h.driver.held(), [("p".into(), 1)]);
    let calls = h.calls_since(Duration::ZERO);
    // (p was queued first, on arrival.)
    assert_eq!(
        kinds(&calls),
        [
            Call::Reports,
            Call::List,
            apply("p", 1),
            Call::Remove("stray".into())
        ]
    );
    all_at(&calls, secs(25.0));

    // At 26 s the router drifts both ways behind the worker's back.
    h.until(secs(26.0)).await;
    h.driver.hold(policy("other", 1));
    h.driver.forget("p");
    // Nothing is done until the next tick (at 30 s, on the schedule kept
    // since the start)...
    h.until(secs(29.9)).await;
    assert_eq!(h.driver.held(), [("other".into(), 1)]);
    assert_eq!(h.calls_since(secs(25.5)), []);
    // ... which repairs it.
    h.until(secs(31.0)).await;
    assert_eq!(h.driver.held(), [("p".into(), 1)]);
    let calls = h.calls_since(secs(25.5));
    assert_eq!(
        kinds(&calls),
        [Call::List, Call::Remove("other".into()), apply("p", 1)]
    );
    all_at(&calls, interval * 3);
    // The status did not change: nothing new to say.
    assert_eq!(h.statuses(), []);
    // And the tick after looks again, and finds all well.
    h.until(secs(41.0)).await;
    assert_eq!(kinds(&h.calls_since(secs(31.0))), [Call::List]);
}
