//! Outcomes of state-changing calls that carried a client's request id, so
//! that a retry (the first reply was lost) gets the first call's outcome
//! instead of doing the work twice or failing (a second removal would be
//! NOT_FOUND, a second event applied twice). Only successes are kept: a
//! call that failed changed nothing and may simply run again. The last
//! [`KEPT`] ids of each kind of call are kept, in memory, while the
//! controller runs.

use std::collections::{HashMap, VecDeque};

use super::Scope;
use super::view::{EventOutcome, Installed};

/// Ids kept per kind of call.
pub const KEPT: usize = 10_000;

/// The kinds of call with request ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// InstallPolicy.
    Install,
    /// RemovePolicy.
    Remove,
    /// ApplyEvent.
    Event,
}

/// A call's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An install.
    Installed(Box<Installed>),
    /// A removal, with its sequence number.
    Removed(u64),
    /// An event.
    Event(EventOutcome),
}

/// Who asked: ids are the client's own, so the same id from callers of
/// different scopes are different calls.
type Key = (CallKind, String, String);

/// The remembered outcomes.
#[derive(Debug, Default)]
pub struct Retries {
    outcomes: HashMap<Key, Outcome>,
    order: HashMap<CallKind, VecDeque<Key>>,
}

fn key(kind: CallKind, scope: &Scope, id: &str) -> Key {
    let who = match scope {
        Scope::All => String::new(),
        Scope::Operator(op) => op.clone(),
    };
    (kind, who, id.to_owned())
}

impl Retries {
    /// The outcome of an earlier call with this id, if kept.
    pub fn recall(&self, kind: CallKind, scope: &Scope, id: &str) -> Option<&Outcome> {
        self.outcomes.get(&key(kind, scope, id))
    }

    /// Keeps a call's outcome (forgetting the oldest of its kind past
    /// [`KEPT`]).
    pub fn remember(&mut self, kind: CallKind, scope: &Scope, id: &str, outcome: Outcome) {
        let k = key(kind, scope, id);
        if self.outcomes.insert(k.clone(), outcome).is_some() {
            return;
        }
        let order = self.order.entry(kind).or_default();
        order.push_back(k);
        if order.len() > KEPT
            && let Some(old) = order.pop_front()
        {
            self.outcomes.remove(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_ids_per_kind_and_caller() {
        let mut r = Retries::default();
        let all = Scope::All;
        let op = Scope::Operator("op-a".into());
        r.remember(CallKind::Remove, &all, "x", Outcome::Removed(7));
        assert_eq!(
            r.recall(CallKind::Remove, &all, "x"),
            Some(&Outcome::Removed(7))
        );
        assert_eq!(
            r.recall(CallKind::Remove, &op, "x"),
            None,
            "another caller's id"
        );
        assert_eq!(
            r.recall(CallKind::Event, &all, "x"),
            None,
            "another kind of call"
        );
        for i in 0..KEPT {
            r.remember(
                CallKind::Remove,
                &all,
                &format!("n{i}"),
                Outcome::Removed(1),
            );
        }
        assert_eq!(
            r.recall(CallKind::Remove, &all, "x"),
            None,
            "the oldest is forgotten"
        );
        assert!(r.recall(CallKind::Remove, &all, "n0").is_some());
    }
}
