//! The mock back end: any number of virtual routers in memory. It enforces
//! what a real headend would (SIDs inside the locator, known behaviors, the
//! MSD, versions), records every operation in order (so tests can check
//! make-before-break), and injects faults on request (failures, delays, a
//! lower MSD).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnetwork::Ipv6Network;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::broadcast;
use tonic::Status;

use super::checks;
use crate::proto::v1 as pb;

/// Faults to inject.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Probability that a call fails with UNAVAILABLE.
    pub fail_rate: f64,
    /// Delay before answering each call.
    pub delay: Duration,
    /// Refuse policies with more segments than this, whatever the router's MSD.
    pub reject_msd: Option<u32>,
    /// Seed of the fault dice.
    pub seed: u64,
}

#[derive(Debug, Default)]
struct RouterState {
    locator: Option<Ipv6Network>,
    msd: u32,
    sids: Vec<pb::LocalSid>,
    policies: BTreeMap<String, pb::SrPolicy>,
}

#[derive(Debug)]
struct State {
    routers: HashMap<String, RouterState>,
    history: Vec<pb::MockOperation>,
    rng: ChaCha8Rng,
}

/// The mock agent; clones share state.
#[derive(Clone)]
pub struct MockAgent {
    state: Arc<Mutex<State>>,
    faults: Faults,
    reports: broadcast::Sender<pb::RouterReport>,
}

impl MockAgent {
    /// A mock with no routers yet.
    pub fn new(faults: Faults) -> Self {
        MockAgent {
            state: Arc::new(Mutex::new(State {
                routers: HashMap::new(),
                history: Vec::new(),
                rng: ChaCha8Rng::seed_from_u64(faults.seed),
            })),
            faults,
            reports: broadcast::channel(4096).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits the injected delay, then fails with the injected probability.
    pub async fn faults(&self) -> Result<(), Status> {
        if !self.faults.delay.is_zero() {
            tokio::time::sleep(self.faults.delay).await;
        }
        if self.faults.fail_rate > 0.0 {
            let roll: f64 = self.lock().rng.random_range(0.0..1.0);
            if roll < self.faults.fail_rate {
                return Err(Status::unavailable("injected failure (--fail-rate)"));
            }
        }
        Ok(())
    }

    fn record(state: &mut State, router: &str, kind: &str, name: &str, version: u64) {
        let sequence = state.history.len() as u64 + 1;
        state.history.push(pb::MockOperation {
            sequence,
            router: router.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
            version,
        });
    }

    /// Replaces a router's local SIDs.
    pub fn provision(&self, r: pb::ProvisionSidsRequest) -> Result<(), Status> {
        let locator = checks::provision(&r)?;
        let mut st = self.lock();
        let router = st.routers.entry(r.router.clone()).or_default();
        router.locator = Some(locator);
        router.msd = r.msd;
        router.sids = r.sids;
        Self::record(&mut st, &r.router, "provision", "", 0);
        Ok(())
    }

    /// Installs or replaces a policy; returns the version held.
    pub fn apply(&self, r: pb::ApplyPolicyRequest) -> Result<u64, Status> {
        let router_id = r.router.clone();
        let (policy, _) = checks::policy(r)?;
        let mut st = self.lock();
        let Some(router) = st.routers.get_mut(&router_id) else {
            return Err(Status::failed_precondition(format!(
                "router {router_id} is not provisioned"
            )));
        };
        let limit = self
            .faults
            .reject_msd
            .map_or(router.msd, |m| m.min(router.msd));
        checks::depth(&policy, limit, &router_id)?;
        if let Some(held) = router.policies.get(&policy.name)
            && held.version >= policy.version
        {
            return Ok(held.version);
        }
        let (name, version) = (policy.name.clone(), policy.version);
        // Replaced in place: the headend is never without the policy.
        router.policies.insert(name.clone(), policy);
        Self::record(&mut st, &router_id, "apply", &name, version);
        Ok(version)
    }

    /// Removes a policy (no-op when absent).
    pub fn remove(&self, r: pb::RemoveRouterPolicyRequest) -> Result<(), Status> {
        let mut st = self.lock();
        let removed = st
            .routers
            .get_mut(&r.router)
            .and_then(|x| x.policies.remove(&r.name));
        if removed.is_some() {
            Self::record(&mut st, &r.router, "remove", &r.name, 0);
        }
        Ok(())
    }

    /// What a router holds.
    pub fn list(&self, router: &str) -> pb::ListStateResponse {
        let st = self.lock();
        match st.routers.get(router) {
            None => pb::ListStateResponse {
                known: false,
                ..Default::default()
            },
            Some(r) => pb::ListStateResponse {
                policies: r.policies.values().cloned().collect(),
                sids: r.sids.clone(),
                known: true,
            },
        }
    }

    /// Every operation so far.
    pub fn history(&self) -> Vec<pb::MockOperation> {
        self.lock().history.clone()
    }

    /// Reports, as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<pb::RouterReport> {
        self.reports.subscribe()
    }

    /// Makes a router report something.
    pub fn inject(&self, report: pb::RouterReport) {
        let _ = self.reports.send(report);
    }

    /// Forgets everything, as a restarted agent would (tests).
    pub fn forget(&self) {
        self.lock().routers.clear();
    }
}

#[tonic::async_trait]
impl super::Backend for MockAgent {
    async fn provision_sids(&self, r: pb::ProvisionSidsRequest) -> Result<(), Status> {
        self.faults().await?;
        self.provision(r)
    }

    async fn apply_policy(&self, r: pb::ApplyPolicyRequest) -> Result<u64, Status> {
        self.faults().await?;
        self.apply(r)
    }

    async fn remove_policy(&self, r: pb::RemoveRouterPolicyRequest) -> Result<(), Status> {
        self.faults().await?;
        self.remove(r)
    }

    async fn list_state(&self, router: &str) -> Result<pb::ListStateResponse, Status> {
        self.faults().await?;
        Ok(self.list(router))
    }

    fn reports(&self) -> broadcast::Receiver<pb::RouterReport> {
        self.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provision(agent: &MockAgent, router: &str, msd: u32) {
        agent
            .provision(pb::ProvisionSidsRequest {
                router: router.into(),
                locator: "fc00:a:1::/48".into(),
                msd,
                sids: vec![pb::LocalSid {
                    sid: "fc00:a:1::".into(),
                    behavior: pb::SidBehavior::End as i32,
                    ..Default::default()
                }],
                csid_block: String::new(),
            })
            .unwrap();
    }

    fn policy(name: &str, version: u64, segments: usize) -> pb::ApplyPolicyRequest {
        pb::ApplyPolicyRequest {
            router: "r1".into(),
            policy: Some(pb::SrPolicy {
                name: name.into(),
                version,
                segments: (0..segments)
                    .map(|i| pb::PolicySegment {
                        sid: format!("fc00:b:{i}::"),
                        behavior: pb::SidBehavior::End as i32,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_headend_enforces_msd_versions_and_locators() {
        let agent = MockAgent::new(Faults::default());
        assert_eq!(
            agent.apply(policy("p", 1, 1)).unwrap_err().code(),
            tonic::Code::FailedPrecondition
        );
        provision(&agent, "r1", 3);
        assert_eq!(agent.apply(policy("p", 2, 3)).unwrap(), 2);
        assert!(
            agent
                .apply(policy("p", 3, 4))
                .unwrap_err()
                .message()
                .contains("4 segments exceed the MSD 3")
        );
        // An older version is a no-op that reports what is held.
        assert_eq!(agent.apply(policy("p", 1, 1)).unwrap(), 2);
        assert_eq!(agent.list("r1").policies[0].version, 2);
        let outside = pb::ProvisionSidsRequest {
            router: "r1".into(),
            locator: "fc00:a:1::/48".into(),
            msd: 3,
            sids: vec![pb::LocalSid {
                sid: "fc00:a:2::".into(),
                behavior: 1,
                ..Default::default()
            }],
            csid_block: String::new(),
        };
        assert!(
            agent
                .provision(outside)
                .unwrap_err()
                .message()
                .contains("outside locator")
        );
        let kinds: Vec<String> = agent.history().into_iter().map(|o| o.kind).collect();
        assert_eq!(kinds, ["provision", "apply"]);
    }

    #[test]
    fn micro_sids_need_their_block_and_a_behavior_that_takes_the_flavor() {
        let agent = MockAgent::new(Faults::default());
        let f3216 = Some(pb::SidStructure {
            locator_block_bits: 32,
            locator_node_bits: 16,
            function_bits: 0,
            argument_bits: 80,
        });
        let next_csid = vec![pb::SidFlavor::NextCsid as i32];
        let sid = |sid: &str, behavior: pb::SidBehavior, flavors: &[i32]| pb::LocalSid {
            sid: sid.into(),
            behavior: behavior as i32,
            flavors: flavors.to_vec(),
            structure: f3216,
            ..Default::default()
        };
        let request = |sids: Vec<pb::LocalSid>| pb::ProvisionSidsRequest {
            router: "r1".into(),
            locator: "fc00:a:1::/48".into(),
            msd: 3,
            sids,
            csid_block: "fc00::/32".into(),
        };
        let good = vec![
            sid("fc00:0:100::", pb::SidBehavior::End, &next_csid),
            sid("fc00:0:e001::", pb::SidBehavior::EndX, &next_csid),
            sid("fc00:0:e000::", pb::SidBehavior::EndDt6, &[]),
        ];
        agent.provision(request(good.clone())).unwrap();
        assert_eq!(
            agent.list("r1").sids,
            good,
            "held as provisioned, flavors too"
        );
        let refused = |sids, why: &str| {
            let e = agent.provision(request(sids)).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            assert!(e.message().contains(why), "{}", e.message());
        };
        refused(
            vec![sid("fc00:0:e000::", pb::SidBehavior::EndDt6, &next_csid)],
            "only End and End.X take the next-csid flavor",
        );
        refused(
            vec![sid("fc01:0:100::", pb::SidBehavior::End, &next_csid)],
            "outside the csid_block fc00::/32",
        );
        let mut bare = sid("fc00:0:100::", pb::SidBehavior::End, &next_csid);
        bare.structure = None;
        refused(vec![bare], "outside locator");
        let mut odd = sid("fc00:0:100::", pb::SidBehavior::End, &next_csid);
        odd.structure.as_mut().unwrap().locator_node_bits = 12;
        refused(vec![odd], "whole bytes");
        // What was refused changed nothing.
        assert_eq!(agent.list("r1").sids, good);
    }

    #[test]
    fn reject_msd_lowers_the_limit() {
        let agent = MockAgent::new(Faults {
            reject_msd: Some(2),
            ..Faults::default()
        });
        provision(&agent, "r1", 10);
        assert!(agent.apply(policy("p", 1, 3)).is_err());
        assert!(agent.apply(policy("p", 1, 2)).is_ok());
    }
}
