//! The replay scenario format (shared/spec/scenario.md, version 1) as serde
//! types: a topology, then steps, each one action with an optional
//! expectation.

use serde::{Deserialize, Serialize};

use crate::document::{EventDoc, RequestDoc};

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Must be 1.
    pub version: u32,
    /// The story's name.
    pub name: String,
    /// Free text: what the story shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The topology file, relative to the scenario file.
    pub topology: String,
    /// The steps, in order.
    pub steps: Vec<StepDoc>,
}

/// `install:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallDoc {
    /// Policy name.
    pub name: String,
    /// Path request.
    pub request: RequestDoc,
}

/// `check_policy:`, `remove:` and `failback:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameDoc {
    /// Policy name.
    pub name: String,
}

/// One step as written: exactly one action key, and an optional `expect`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDoc {
    /// A path query; nothing is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<RequestDoc>,
    /// Install a policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<InstallDoc>,
    /// An event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventDoc>,
    /// Look at an installed policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_policy: Option<NameDoc>,
    /// Remove a policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove: Option<NameDoc>,
    /// Fail a policy back from its standby's data center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failback: Option<NameDoc>,
    /// What must be true after the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Free text shown in the replay output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a step's answer (or policy) must show; unset fields are not checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The chosen data center (`null` for a router destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,
    /// The pool kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// The last router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Routers, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<String>>,
    /// Links, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// Path latency, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// Sum of IGP metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub igp: Option<u64>,
    /// Sum of TE metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub te: Option<u64>,
    /// Number of segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_count: Option<usize>,
    /// The SRH entries of a compressed list, in order (`[]`: uncompressed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<String>>,
    /// The backup's routers (`[]` for no backup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_path: Option<Vec<String>>,
    /// `up` or `down` (installs and checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The standby data center (`""`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<String>,
    /// The data center a policy failed over from (`""`: it has not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_over_from: Option<String>,
    /// Text the reason a policy is down must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Text the error must contain (the step must fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Text one of the answer's notes must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Policies an event must have changed, exactly (sorted by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<Vec<String>>,
}

/// One step's action.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `query:`
    Query(RequestDoc),
    /// `install:`
    Install(InstallDoc),
    /// `event:`
    Event(EventDoc),
    /// `check_policy:`
    CheckPolicy(String),
    /// `remove:`
    Remove(String),
    /// `failback:`
    Failback(String),
}

impl StepDoc {
    /// The step's one action, or what is wrong with it.
    pub fn action(&self) -> Result<Action, String> {
        let mut found = Vec::new();
        found.extend(self.query.clone().map(Action::Query));
        found.extend(self.install.clone().map(Action::Install));
        found.extend(self.event.clone().map(Action::Event));
        found.extend(
            self.check_policy
                .as_ref()
                .map(|n| Action::CheckPolicy(n.name.clone())),
        );
        found.extend(self.remove.as_ref().map(|n| Action::Remove(n.name.clone())));
        found.extend(
            self.failback
                .as_ref()
                .map(|n| Action::Failback(n.name.clone())),
        );
        const ACTIONS: &str = "query, install, event, check_policy, remove, failback";
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err(format!("a step needs one of {ACTIONS}")),
            n => Err(format!("a step has {n} actions; give one of {ACTIONS}")),
        }
    }
}
