//! The controller task's side of replication (replicas on etcd): its
//! role, the handle's replication commands (a standby's reload and
//! follow-up, a takeover, a step-down), and how the task changes role.

use super::{Actor, Command, ControllerHandle, Gone};
use crate::controller::outbox::Desired;
use crate::controller::{Controller, ControllerError, Followed};

/// What this controller task may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// The only replica (redb or memory store): it writes and pushes.
    Solo,
    /// The elected replica of several: it writes (fenced) and pushes.
    Leader,
    /// Another replica: it serves reads from what it follows, refuses
    /// writes naming the leader's API URL, and pushes nothing.
    Standby {
        /// The leader's API URL, when known.
        leader: Option<String>,
    },
}

impl ControllerHandle {
    async fn tell(&self, command: Command) -> Result<(), Gone> {
        self.tx.send(command).await.map_err(|_| Gone)
    }

    /// Replication: replaces the state and the role (a standby's reload, a
    /// takeover). Watchers keep their place when the new state continues
    /// the old one's change log.
    pub async fn reset(&self, controller: Controller, role: Role) -> Result<(), Gone> {
        self.tell(Command::Reset {
            controller: Box::new(controller),
            role,
        })
        .await
    }

    /// Replication: this standby takes over on the state it follows,
    /// writing to `store` (fenced on its epoch); answers how many policies
    /// it had to commit, once they are committed. `Gone` when the commit
    /// failed (the task is a standby again) or the task is gone.
    pub async fn promote(&self, store: Box<dyn crate::store::Store>) -> Result<usize, Gone> {
        self.ask(|reply| Command::Promote { store, reply }).await
    }

    /// Replication: takes in what the leader committed (standby).
    pub async fn follow(&self, update: Followed) -> Result<(), Gone> {
        self.tell(Command::Follow(Box::new(update))).await
    }

    /// Replication: leadership is over; become a standby. Memory may be
    /// ahead of the store until the next reset.
    pub async fn demote(&self, leader: Option<String>) -> Result<(), Gone> {
        self.tell(Command::Demote { leader }).await
    }

    /// Replication: who leads now.
    pub async fn set_leader(&self, leader: Option<String>) -> Result<(), Gone> {
        self.tell(Command::Leader(leader)).await
    }
}

impl Actor {
    /// Stops leading: writes refused, nothing pushed, nothing committed.
    pub(super) fn become_standby(&mut self, leader: Option<String>) {
        if self.role == Role::Leader
            && let Some(outbox) = &self.outbox
        {
            let _ = outbox.send(Desired::Standby);
        }
        self.role = Role::Standby { leader };
        self.c.set_store(Box::new(crate::store::ReadOnly));
        self.c.follow_southbound();
    }

    /// Takes over on the state followed (see [`Controller::take_over`]):
    /// leader from now on; routers hear everything and reconcile. The
    /// commit is the group's flush, as for any write.
    pub(super) fn promote(&mut self, store: Box<dyn crate::store::Store>) -> usize {
        let committed = match self.c.take_over(store) {
            Ok(n) => n,
            Err(e) => {
                // Deferred commits only merge: this is not reached.
                tracing::error!(error = %e, "cannot stage the takeover's writes");
                0
            }
        };
        self.role = Role::Leader;
        self.snapshot = None;
        if self.outbox.is_none() {
            self.c.disable_southbound();
        } else {
            self.push_everything();
        }
        committed
    }

    /// The refusal of a write on a standby, if this is one.
    pub(super) fn refuse_write(&self) -> Option<ControllerError> {
        match &self.role {
            Role::Standby { leader } => Some(ControllerError::NotLeader {
                leader: leader.clone(),
            }),
            _ => None,
        }
    }

    /// Takes new state (and role) from replication.
    pub(super) fn reset(&mut self, mut controller: Controller, role: Role) {
        controller.carry_log(&mut self.c);
        controller.defer_commits();
        self.c = controller;
        self.role = role;
        self.snapshot = None;
        if matches!(self.role, Role::Standby { .. }) {
            self.c.follow_southbound();
        } else if self.outbox.is_none() {
            self.c.disable_southbound();
        } else {
            // A takeover: routers hear everything again and reconcile
            // (nothing a wanted policy holds is removed).
            self.push_everything();
        }
    }
}
