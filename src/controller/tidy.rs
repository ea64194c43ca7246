//! Segment lists left to shorten. After an event that only made an
//! operator's IGP paths longer (a link or router down, a dearer metric), the
//! policies crossing that operator that the event did not cut keep segment
//! lists that still steer over exactly their paths (see
//! [`IgpMove::Longer`](super::events::IgpMove::Longer)); with fewer
//! equal-cost alternatives a shorter list may now do. Re-encoding them is an
//! improvement, not a repair, so it waits: the failure's own re-placements
//! commit first, and these are re-encoded a slice at a time when the
//! controller is otherwise idle ([`Controller::tidy`](super::Controller::tidy)).

use super::index::PolicyIndex;
use crate::model::OperatorIx;

/// Policies to re-encode, by their number in the index.
#[derive(Debug, Default)]
pub(super) struct Untidy {
    queue: Vec<u32>,
    /// Per index number: already in `queue`.
    queued: Vec<bool>,
}

impl Untidy {
    /// Queues every policy now crossing `op` (once, however often marked).
    pub fn mark(&mut self, index: &PolicyIndex, op: OperatorIx) {
        for id in index.ids_in_operator(op) {
            let i = id as usize;
            if i >= self.queued.len() {
                self.queued.resize(i + 1, false);
            }
            if !self.queued[i] {
                self.queued[i] = true;
                self.queue.push(id);
            }
        }
    }

    /// Takes up to `limit` names off the queue. A number whose policy is
    /// gone since is skipped; one given to another policy since names that
    /// one, whose re-encoding changes nothing but costs a little.
    pub fn take(&mut self, index: &PolicyIndex, limit: usize) -> Vec<String> {
        let mut names = Vec::with_capacity(limit.min(self.queue.len()));
        while names.len() < limit {
            let Some(id) = self.queue.pop() else { break };
            self.queued[id as usize] = false;
            if let Some(name) = index.name(id) {
                names.push(name.clone());
            }
        }
        names
    }

    /// Policies still queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Forgets everything queued (a standby writes nothing).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.queued.clear();
    }
}

impl super::Controller {
    /// Re-encodes up to `limit` of the policies left to shorten, committing
    /// (staging, when commits are deferred) and logging those whose segment
    /// lists changed; returns their names. A standby has nothing to tidy:
    /// its leader writes.
    pub fn tidy(&mut self, limit: usize) -> Result<Vec<String>, super::ControllerError> {
        if self.standby {
            self.untidy.clear();
            return Ok(Vec::new());
        }
        let names = self.untidy.take(&self.index, limit);
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let t = self.topology.clone();
        self.reevaluate_and_commit(t, Vec::new(), names, false)
    }

    /// Policies left to shorten (see [`Controller::tidy`](super::Controller::tidy)).
    pub fn untidy(&self) -> usize {
        self.untidy.len()
    }

    /// Tidies everything left (replays and tests: the state the controller
    /// reaches once idle); returns the names of the policies that changed.
    pub fn settle(&mut self) -> Result<Vec<String>, super::ControllerError> {
        let mut changed = Vec::new();
        while self.untidy() > 0 {
            changed.extend(self.tidy(SLICE)?);
        }
        Ok(changed)
    }
}

/// Policies re-encoded at a time: a command arriving meanwhile waits for
/// one slice (a few milliseconds), not for all of them.
pub const SLICE: usize = 2048;
