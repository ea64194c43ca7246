//! The controller task's side of the southbound: what it puts in the
//! outbox (every router's SIDs and every policy's desired state, or only
//! what changed), and each pushed policy marked pending until its push is
//! reported. Standbys push nothing.

use super::{Actor, Role};
use crate::controller::outbox::Desired;
use crate::controller::{Change, ChangeKind, Southbound, SouthboundState, desired};

impl Actor {
    pub(super) fn send(&self, desired: Desired) {
        if matches!(self.role, Role::Standby { .. }) {
            return;
        }
        if let Some(outbox) = &self.outbox {
            // A reader that has gone away is the southbound shutting down.
            let _ = outbox.send(desired);
        }
    }

    /// Every router's SIDs and every policy's desired state, then the mark
    /// that the readers now know all they should.
    pub(super) fn push_everything(&mut self) {
        if self.outbox.is_none() || matches!(self.role, Role::Standby { .. }) {
            return;
        }
        let t = self.c.topology();
        for (r, _) in t.routers() {
            self.send(Desired::Router(desired::router(t, r)));
        }
        let names: Vec<String> = self.c.policies().map(|p| p.name.clone()).collect();
        self.push_policies(names.iter().map(String::as_str));
        self.send(Desired::Synced);
    }

    /// Desired state of the policies that changed (southbound-only changes
    /// excepted).
    pub(super) fn push_changes(&mut self, changes: &[Change]) {
        if self.outbox.is_none() || matches!(self.role, Role::Standby { .. }) {
            return;
        }
        let mut names: Vec<&str> = changes
            .iter()
            .filter(|ch| ch.kind != ChangeKind::Southbound)
            .map(|ch| ch.name.as_str())
            .collect();
        names.dedup();
        self.push_policies(names.into_iter());
    }

    /// Desired state of `names`, each marked pending until its push is
    /// reported.
    pub(super) fn push_policies<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        let mut pending = Vec::new();
        for name in names {
            let t = self.c.topology();
            let Some(p) = self.c.policy(name) else {
                // Removed: whichever reader holds it drops it.
                self.send(Desired::Removed {
                    name: name.to_owned(),
                });
                continue;
            };
            let headend = p.request.from.clone();
            let policy = desired::policy(t, p);
            let detail = match &policy {
                Some(_) => format!("pushing version {} to headend {headend}", p.version),
                None => format!("removing it from headend {headend} (the policy is down)"),
            };
            pending.push((name.to_owned(), p.version, detail));
            self.send(Desired::Policy {
                headend,
                name: name.to_owned(),
                version: p.version,
                policy,
            });
        }
        for (name, version, detail) in pending {
            let status = Southbound {
                state: SouthboundState::Pending,
                detail: Some(detail),
            };
            self.c.set_southbound(&name, version, status);
        }
    }
}
