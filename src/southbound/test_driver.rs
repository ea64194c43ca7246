//! A router in memory behind `RouterDriver`, for the worker's tests: it
//! holds policies and SIDs like an agent, answers every call at once (so a
//! paused clock only moves when the worker waits), records each call with
//! the tokio instant it came at, and fails the calls it is told to fail.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use tokio::time::Instant;

use crate::proto::v1 as pb;
use crate::southbound::driver::{DriverError, Reports, RouterDriver, RouterState};

/// One call the worker made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Reports,
    List,
    Provision,
    Apply(String, u64),
    Remove(String),
}

#[derive(Default)]
struct Router {
    held: BTreeMap<String, pb::SrPolicy>,
    sids: Vec<pb::LocalSid>,
    known: bool,
    calls: Vec<(Instant, Call)>,
    /// The errors the next apply calls fail with, one per call.
    apply_errors: VecDeque<DriverError>,
    /// Policies whose every apply is refused, with the refusal.
    refused: BTreeMap<String, String>,
}

/// The driver of one in-memory router.
pub struct TestDriver {
    /// Whether it has reports (a stream that never says anything), like an
    /// agent, or none, like a BGP speaker.
    reports: bool,
    router: Mutex<Router>,
}

impl TestDriver {
    /// A router that knows nothing yet, with reports.
    pub fn new() -> TestDriver {
        TestDriver {
            reports: true,
            router: Mutex::default(),
        }
    }

    /// A router without reports.
    pub fn without_reports() -> TestDriver {
        TestDriver {
            reports: false,
            ..TestDriver::new()
        }
    }

    /// The next `n` applies fail with `error`.
    pub fn fail_applies(&self, n: usize, error: DriverError) {
        let mut r = self.router.lock().unwrap();
        r.apply_errors.extend(std::iter::repeat_n(error, n));
    }

    /// Every apply of `name` is refused with `message`.
    pub fn refuse(&self, name: &str, message: &str) {
        let mut r = self.router.lock().unwrap();
        r.refused.insert(name.to_owned(), message.to_owned());
    }

    /// The router gets `policy` behind the controller's back.
    pub fn hold(&self, policy: pb::SrPolicy) {
        let mut r = self.router.lock().unwrap();
        r.held.insert(policy.name.clone(), policy);
    }

    /// The router loses `name` behind the controller's back.
    pub fn forget(&self, name: &str) {
        self.router.lock().unwrap().held.remove(name);
    }

    /// What the router holds: name and version.
    pub fn held(&self) -> Vec<(String, u64)> {
        let r = self.router.lock().unwrap();
        r.held
            .values()
            .map(|p| (p.name.clone(), p.version))
            .collect()
    }

    /// Every call so far, with when it came.
    pub fn calls(&self) -> Vec<(Instant, Call)> {
        self.router.lock().unwrap().calls.clone()
    }

    /// The instants of the calls `which` accepts.
    pub fn times(&self, which: impl Fn(&Call) -> bool) -> Vec<Instant> {
        let calls = self.calls();
        calls
            .iter()
            .filter(|(_, c)| which(c))
            .map(|(t, _)| *t)
            .collect()
    }

    fn record(&self, call: Call) -> std::sync::MutexGuard<'_, Router> {
        let mut r = self.router.lock().unwrap();
        r.calls.push((Instant::now(), call));
        r
    }
}

#[tonic::async_trait]
impl RouterDriver for TestDriver {
    async fn provision(&self, sids: &pb::ProvisionSidsRequest) -> Result<(), DriverError> {
        let mut r = self.record(Call::Provision);
        r.sids = sids.sids.clone();
        r.known = true;
        Ok(())
    }

    async fn apply(&self, _router: &str, policy: &pb::SrPolicy) -> Result<u64, DriverError> {
        let mut r = self.record(Call::Apply(policy.name.clone(), policy.version));
        if let Some(e) = r.apply_errors.pop_front() {
            return Err(e);
        }
        if let Some(message) = r.refused.get(&policy.name) {
            return Err(DriverError::refused(message.clone()));
        }
        // Like an agent: an older or equal version is a no-op.
        let held = r.held.entry(policy.name.clone()).or_insert(policy.clone());
        if held.version < policy.version {
            *held = policy.clone();
        }
        Ok(held.version)
    }

    async fn remove(&self, _router: &str, name: &str) -> Result<(), DriverError> {
        let mut r = self.record(Call::Remove(name.to_owned()));
        r.held.remove(name);
        Ok(())
    }

    async fn list(
        &self,
        _router: &str,
        _wanted: &BTreeMap<String, pb::SrPolicy>,
    ) -> Result<RouterState, DriverError> {
        let r = self.record(Call::List);
        Ok(RouterState {
            policies: r.held.values().cloned().collect(),
            sids: r.sids.clone(),
            known: r.known,
        })
    }

    async fn reports(&self, _router: &str) -> Result<Option<Reports>, DriverError> {
        drop(self.record(Call::Reports));
        Ok(self
            .reports
            .then(|| Box::pin(tokio_stream::pending()) as Reports))
    }
}
