//! The controller's policies as users see them: one policy as JSON, and
//! pages of them, filtered, with the change sequence they reflect. Also the
//! outcomes of the operations that change policies.

use super::{Controller, Policy, PolicyState, Scope, SouthboundState, desired};
use crate::document::{PolicyJson, SrPolicyJson, placement_json, rejections_json, rfc3339};
use crate::model::Topology;

/// What an install did.
#[derive(Clone, Debug, PartialEq)]
pub struct Installed {
    /// The policy (as installed, with the explanation of its placement; or
    /// as it stands, when it already was).
    pub policy: PolicyJson,
    /// False when a policy of that name and request already existed.
    pub created: bool,
    /// The install's change sequence number (0 when nothing changed).
    pub sequence: u64,
}

/// What an event did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventOutcome {
    /// The policies that changed.
    pub affected: Vec<String>,
    /// The sequence numbers of the changes, first and last; `None` when no
    /// policy changed.
    pub sequences: Option<(u64, u64)>,
}

/// Which policies a listing wants (every filter must hold; `None`: any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Headend router id.
    pub headend: Option<String>,
    /// Operator of the headend.
    pub operator: Option<String>,
    /// Data center of the placement.
    pub datacenter: Option<String>,
    /// Up (true) or down (false).
    pub up: Option<bool>,
    /// Southbound state.
    pub southbound: Option<SouthboundState>,
}

/// Most policies one page holds when the caller does not say.
pub const DEFAULT_PAGE: usize = 1_000;
/// Most policies one page may hold.
pub const MAX_PAGE: usize = 10_000;

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The policies, by name.
    pub policies: Vec<PolicyJson>,
    /// The name the next page starts after; `None` on the last page.
    pub next_after: Option<String>,
    /// The change sequence this page reflects.
    pub sequence: u64,
}

impl Filter {
    fn admits(&self, t: &Topology, p: &Policy) -> bool {
        let headend = &p.request.from;
        let dc = p
            .answer()
            .and_then(|a| a.primary.datacenter)
            .map(|d| t.datacenter(d).id.as_str());
        let operator = t
            .router_ix(headend)
            .map(|r| t.operator(t.router(r).operator).id.as_str());
        self.headend.as_ref().is_none_or(|h| h == headend)
            && self.operator.as_deref().is_none_or(|o| operator == Some(o))
            && self.datacenter.as_deref().is_none_or(|d| dc == Some(d))
            && self.up.is_none_or(|up| up == p.is_up())
            && self.southbound.is_none_or(|s| s == p.southbound.state)
    }
}

impl Controller {
    /// One page of the policies in `scope` that `filter` admits: up to
    /// `size` (0: [`DEFAULT_PAGE`], at most [`MAX_PAGE`]) whose names come
    /// after `after`, by name.
    pub fn list(&self, scope: &Scope, filter: &Filter, after: Option<&str>, size: usize) -> Page {
        use std::ops::Bound;
        let size = match size {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let t = self.topology();
        let start = match after {
            Some(a) => Bound::Excluded(a.to_owned()),
            None => Bound::Unbounded,
        };
        let mut policies = Vec::new();
        let mut next_after = None;
        for (name, p) in self.policies.range::<String, _>((start, Bound::Unbounded)) {
            if !(scope.covers(t, &p.request.from) && filter.admits(t, p)) {
                continue;
            }
            if policies.len() == size {
                next_after = policies.last().map(|l: &PolicyJson| l.name.clone());
                break;
            }
            let _ = name;
            policies.push(policy_json(t, p));
        }
        Page {
            policies,
            next_after,
            sequence: self.last_sequence(),
        }
    }
}

/// The JSON form of a policy. `rejected` is empty: a policy keeps its
/// placement, not the explanation of it, which only the install reply (and
/// `cpnctl path` with the same request) gives. 100,000 policies would
/// otherwise hold ~300 MB of reasons.
pub fn policy_json(t: &Topology, p: &Policy) -> PolicyJson {
    let headend = p.request.from.clone();
    let (state, reason) = match &p.state {
        PolicyState::Up { .. } => ("up", None),
        PolicyState::Down { reason } => ("down", Some(reason.clone())),
    };
    let answer = p.answer();
    let primary = answer.map(|a| placement_json(t, &headend, &a.primary));
    PolicyJson {
        name: p.name.clone(),
        state: state.to_owned(),
        reason,
        southbound: p.southbound.state.as_str().to_owned(),
        southbound_detail: p.southbound.detail.clone(),
        version: p.version,
        headend: headend.clone(),
        datacenter: primary.as_ref().and_then(|x| x.datacenter.clone()),
        pool: primary.as_ref().and_then(|x| x.pool.clone()),
        endpoint: primary.as_ref().map(|x| x.endpoint.clone()),
        path: primary.as_ref().map(|x| x.path.clone()).unwrap_or_default(),
        links: primary
            .as_ref()
            .map(|x| x.links.clone())
            .unwrap_or_default(),
        segments: primary
            .as_ref()
            .map(|x| x.segments.clone())
            .unwrap_or_default(),
        compression: primary.as_ref().and_then(|x| x.compression.clone()),
        containers: primary.as_ref().and_then(|x| x.containers.clone()),
        metrics: primary.map(|x| x.metrics),
        backup: answer
            .and_then(|a| a.backup.as_ref())
            .map(|b| placement_json(t, &headend, b)),
        standby: answer
            .and_then(|a| a.standby.as_ref())
            .and_then(|s| s.placement.as_ref())
            .map(|s| placement_json(t, &headend, s)),
        rejected: answer
            .map(|a| rejections_json(t, &a.rejected))
            .unwrap_or_default(),
        notes: answer.map(|a| a.notes.clone()).unwrap_or_default(),
        request: p.request.clone(),
        sr_policy: desired::policy(t, p).map(|sr| SrPolicyJson {
            color: sr.color,
            endpoint: sr.endpoint.to_string(),
            steering_prefix: sr.destination.to_string(),
            binding_sid: sr.binding_sid.to_string(),
            preference: sr.preference,
            distinguisher: sr.distinguisher,
        }),
        created_at: Some(rfc3339(p.times.created)),
        updated_at: Some(rfc3339(p.times.updated)),
        checked_at: Some(rfc3339(p.times.checked)),
        failed_over_from: p.failed_over_from.clone(),
    }
}
