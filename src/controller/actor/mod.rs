//! The one task that owns the controller. Callers hold a
//! [`ControllerHandle`] whose methods send a command with a oneshot
//! responder and await the reply; commands run one at a time, in order, in
//! groups that share one durable commit; changes are broadcast to watchers
//! in order, and desired state goes to the outbox.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

mod push;
mod replication;

pub use replication::Role;

use super::outbox::{Feedback, FeedbackSender, Outbox};
use super::{
    CallKind, Change, Controller, ControllerError, EventOutcome, Filter, Followed, Installed,
    Outcome, Page, PolicyCounts, ResumeError, Retries, Scope, Stats,
};
use crate::document::{AnswerJson, ErrorJson, EventDoc, PolicyJson, RequestDoc, answer_json};
use crate::model::Topology;
use crate::store::StoreError;

type Reply<T> = oneshot::Sender<T>;

/// The backlog of changes after a resume point, the live feed, and the last
/// sequence number the watcher has (live changes up to it are skipped).
pub type Subscription = (Vec<Change>, broadcast::Receiver<Change>, u64);

/// A path query's outcome: the answer, or "nothing feasible" with every
/// data center's reason.
pub type QueryOutcome = Result<AnswerJson, ErrorJson>;

/// A request to the controller task.
enum Command {
    Query {
        request: RequestDoc,
        scope: Scope,
        reply: Reply<Result<QueryOutcome, ControllerError>>,
    },
    Install {
        name: String,
        request: RequestDoc,
        scope: Scope,
        request_id: Option<String>,
        reply: Reply<Result<Installed, ControllerError>>,
    },
    Remove {
        name: String,
        scope: Scope,
        request_id: Option<String>,
        reply: Reply<Result<u64, ControllerError>>,
    },
    Get {
        name: String,
        scope: Scope,
        reply: Reply<Result<PolicyJson, ControllerError>>,
    },
    Failback {
        name: String,
        scope: Scope,
        reply: Reply<Result<(PolicyJson, u64), ControllerError>>,
    },
    List {
        scope: Scope,
        filter: Filter,
        after: Option<String>,
        size: usize,
        reply: Reply<Page>,
    },
    Event {
        event: EventDoc,
        request_id: Option<String>,
        reply: Reply<Result<EventOutcome, ControllerError>>,
    },
    Events {
        events: Vec<EventDoc>,
        reply: Reply<Result<EventOutcome, ControllerError>>,
    },
    Replace {
        topology: Box<Topology>,
        reply: Reply<Result<Vec<String>, ControllerError>>,
    },
    Topology {
        reply: Reply<Arc<Topology>>,
    },
    Watch {
        after: Resume,
        reply: Reply<Result<Subscription, ResumeError>>,
    },
    Stats {
        reply: Reply<(Stats, PolicyCounts)>,
    },
    /// From the readers of the outbox, in the order they sent it.
    Feedback(Feedback),
    /// Replication (etcd store): new state and role (a standby's reload,
    /// a takeover).
    Reset {
        controller: Box<Controller>,
        role: Role,
    },
    /// Replication: what the leader committed, for a standby.
    Follow(Box<Followed>),
    /// Replication: this standby takes over on the state it follows,
    /// writing to `store`; answers how many policies it committed.
    Promote {
        store: Box<dyn crate::store::Store>,
        reply: Reply<usize>,
    },
    /// Replication: this replica's leadership is over.
    Demote {
        leader: Option<String>,
    },
    /// Replication: who leads now (a standby names it to writers).
    Leader(Option<String>),
}

impl Command {
    /// A replication command: handled in a group of its own.
    fn is_replication(&self) -> bool {
        matches!(
            self,
            Command::Reset { .. }
                | Command::Follow(_)
                | Command::Promote { .. }
                | Command::Demote { .. }
                | Command::Leader(_)
        )
    }
}

/// Where a watch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// With the next change.
    Now,
    /// After this sequence number.
    After(u64),
    /// With the oldest change kept.
    Oldest,
}

/// A cheap handle to the controller task; the task stops when every handle
/// is dropped.
#[derive(Clone)]
pub struct ControllerHandle {
    tx: mpsc::Sender<Command>,
    topology_changes: watch::Receiver<u64>,
}

/// The task is gone (shutting down, or stopped by a store failure).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the controller is shutting down")]
pub struct Gone;

impl ControllerHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, Gone> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    /// Answers a path query on the live network (reservations included).
    pub async fn query(
        &self,
        request: RequestDoc,
        scope: Scope,
    ) -> Result<Result<QueryOutcome, ControllerError>, Gone> {
        self.ask(|reply| Command::Query {
            request,
            scope,
            reply,
        })
        .await
    }

    /// Installs a policy; acknowledged once it is durable. With a request
    /// id, a retry gets the first call's outcome.
    pub async fn install(
        &self,
        name: String,
        request: RequestDoc,
        scope: Scope,
        request_id: Option<String>,
    ) -> Result<Result<Installed, ControllerError>, Gone> {
        self.ask(|reply| Command::Install {
            name,
            request,
            scope,
            request_id,
            reply,
        })
        .await
    }

    /// Removes a policy; acknowledged once it is durable. With a request
    /// id, a retry gets the first call's outcome.
    pub async fn remove(
        &self,
        name: String,
        scope: Scope,
        request_id: Option<String>,
    ) -> Result<Result<u64, ControllerError>, Gone> {
        self.ask(|reply| Command::Remove {
            name,
            scope,
            request_id,
            reply,
        })
        .await
    }

    /// Fails a policy back from its standby's data center; acknowledged
    /// once durable, with the policy as placed and the change's sequence.
    pub async fn failback(
        &self,
        name: String,
        scope: Scope,
    ) -> Result<Result<(PolicyJson, u64), ControllerError>, Gone> {
        self.ask(|reply| Command::Failback { name, scope, reply })
            .await
    }

    /// One policy.
    pub async fn get(
        &self,
        name: String,
        scope: Scope,
    ) -> Result<Result<PolicyJson, ControllerError>, Gone> {
        self.ask(|reply| Command::Get { name, scope, reply }).await
    }

    /// A page of the policies in the scope that `filter` admits, by name,
    /// after `after`, at most `size` (0: the default page).
    pub async fn list(
        &self,
        scope: Scope,
        filter: Filter,
        after: Option<String>,
        size: usize,
    ) -> Result<Page, Gone> {
        self.ask(|reply| Command::List {
            scope,
            filter,
            after,
            size,
            reply,
        })
        .await
    }

    /// Every policy in the scope, by name (all pages).
    pub async fn list_all(&self, scope: Scope) -> Result<Vec<PolicyJson>, Gone> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .list(scope.clone(), Filter::default(), after, super::MAX_PAGE)
                .await?;
            all.extend(page.policies);
            match page.next_after {
                Some(a) => after = Some(a),
                None => return Ok(all),
            }
        }
    }

    /// Applies an event; the policies it changed and the changes'
    /// sequence numbers. With a request id, a retry gets the first call's
    /// outcome.
    pub async fn event(
        &self,
        event: EventDoc,
        request_id: Option<String>,
    ) -> Result<Result<EventOutcome, ControllerError>, Gone> {
        self.ask(|reply| Command::Event {
            event,
            request_id,
            reply,
        })
        .await
    }

    /// Applies several events at once, all or none, with one
    /// re-optimization; the policies they changed.
    pub async fn events(
        &self,
        events: Vec<EventDoc>,
    ) -> Result<Result<EventOutcome, ControllerError>, Gone> {
        self.ask(|reply| Command::Events { events, reply }).await
    }

    /// Replaces the topology; the names of the policies it changed.
    pub async fn replace(
        &self,
        topology: Topology,
    ) -> Result<Result<Vec<String>, ControllerError>, Gone> {
        self.ask(|reply| Command::Replace {
            topology: Box::new(topology),
            reply,
        })
        .await
    }

    /// The live topology (a snapshot, shared until it changes).
    pub async fn topology(&self) -> Result<Arc<Topology>, Gone> {
        self.ask(|reply| Command::Topology { reply }).await
    }

    /// Subscribes to changes from a resume point.
    pub async fn watch(&self, after: Resume) -> Result<Result<Subscription, ResumeError>, Gone> {
        self.ask(|reply| Command::Watch { after, reply }).await
    }

    /// A counter that moves whenever the topology changes (events, loads,
    /// reservations, a replacement), published after the change is
    /// committed: for readers that redraw the network (the console). Read
    /// [`topology`](Self::topology) after it moves.
    pub fn topology_changes(&self) -> watch::Receiver<u64> {
        self.topology_changes.clone()
    }

    /// Counters and policy counts.
    pub async fn stats(&self) -> Result<(Stats, PolicyCounts), Gone> {
        self.ask(|reply| Command::Stats { reply }).await
    }
}

/// Commands handled before one group commit, at most.
pub const GROUP: usize = 256;

/// The running controller task.
pub struct Running {
    /// Its handle.
    pub handle: ControllerHandle,
    /// Where the readers of the outbox send feedback.
    pub feedback: FeedbackSender,
    /// The task: it ends when every handle is gone (`Ok`), or when a
    /// group's writes could not be made durable (`Err`: nothing of that
    /// group was acknowledged, and only a restart from the store is
    /// consistent, so the caller should stop).
    pub task: tokio::task::JoinHandle<Result<(), StoreError>>,
}

/// Starts the task on `controller`, writing desired state to `outbox` (none:
/// nothing is pushed, and policies say so).
///
/// Commands are handled in groups: every command already queued (up to
/// [`GROUP`]) is handled, the group's writes are committed at once, and only
/// then are the replies sent, the changes broadcast and the desired state
/// written to the outbox.
pub fn spawn(controller: Controller, outbox: Option<Outbox>) -> Running {
    spawn_as(controller, outbox, Role::Solo, None)
}

/// Starts the task of one replica of several (etcd store) in `role`. When
/// the leader's commit fails (fenced by a newer leader, or etcd is
/// unreachable) it steps down by itself and says so on `stepped_down`;
/// nothing of that group is acknowledged.
pub fn spawn_as(
    mut controller: Controller,
    outbox: Option<Outbox>,
    role: Role,
    stepped_down: Option<mpsc::UnboundedSender<()>>,
) -> Running {
    let (tx, mut rx) = mpsc::channel::<Command>(4096);
    let (feedback_tx, mut feedback_rx) = mpsc::unbounded_channel::<Feedback>();
    // Feedback joins the commands in the order it was sent; a weak sender,
    // so that it does not keep the task alive.
    let weak = tx.downgrade();
    tokio::spawn(async move {
        while let Some(f) = feedback_rx.recv().await {
            let Some(tx) = weak.upgrade() else { return };
            if tx.send(Command::Feedback(f)).await.is_err() {
                return;
            }
        }
    });
    let (changes, _) = broadcast::channel::<Change>(65_536);
    let (topology_tx, topology_changes) = watch::channel(0u64);
    controller.defer_commits();
    if matches!(role, Role::Standby { .. }) {
        controller.follow_southbound();
    } else if outbox.is_none() {
        controller.disable_southbound();
    }
    let task = tokio::task::spawn_blocking(move || {
        let mut actor = Actor {
            c: controller,
            changes,
            outbox,
            snapshot: None,
            retries: Retries::default(),
            topology_tx,
            topology_seen: (0, 0),
            role,
            stepped_down,
        };
        actor.push_everything();
        actor.run(&mut rx)
    });
    Running {
        handle: ControllerHandle {
            tx,
            topology_changes,
        },
        feedback: FeedbackSender(feedback_tx),
        task,
    }
}

struct Actor {
    c: Controller,
    changes: broadcast::Sender<Change>,
    outbox: Option<Outbox>,
    /// The last topology snapshot handed out, and its generation.
    snapshot: Option<((u64, u64), Arc<Topology>)>,
    /// Outcomes of calls with request ids.
    retries: Retries,
    /// Moves when the topology changes.
    topology_tx: watch::Sender<u64>,
    /// The topology last published: its instance and generation.
    topology_seen: (u64, u64),
    /// What it may do.
    role: Role,
    /// Told when a leader steps down by itself.
    stepped_down: Option<mpsc::UnboundedSender<()>>,
}

impl Actor {
    fn run(&mut self, rx: &mut mpsc::Receiver<Command>) -> Result<(), StoreError> {
        let mut replies: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
        // A replication command (a role or state change) is a group of its
        // own: writes handled before it are committed, or refused, with the
        // store they were handled under.
        let mut carried: Option<Command> = None;
        loop {
            let first = match carried.take() {
                Some(c) => c,
                None => match rx.try_recv() {
                    Ok(c) => c,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) if self.c.untidy() > 0 => {
                        // Idle: shorten one slice of the segment lists a
                        // failure left longer than needed.
                        if let Err(e) = self.c.tidy(super::tidy::SLICE) {
                            tracing::warn!(error = %e, "cannot re-encode segment lists");
                        }
                        self.finish(&mut replies, false)?;
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => match rx.blocking_recv() {
                        Some(c) => c,
                        None => break,
                    },
                },
            };
            let alone = first.is_replication();
            let mut replaced = matches!(first, Command::Replace { .. });
            replies.push(self.handle(first));
            while !alone && replies.len() < GROUP {
                match rx.try_recv() {
                    Ok(command) if command.is_replication() => {
                        carried = Some(command);
                        break;
                    }
                    Ok(command) => {
                        replaced |= matches!(command, Command::Replace { .. });
                        replies.push(self.handle(command));
                    }
                    Err(_) => break,
                }
            }
            self.finish(&mut replies, replaced)?;
        }
        // Every handle is gone: persist what is left.
        self.c.flush().inspect_err(|e| {
            tracing::error!(error = %e, "cannot persist state at shutdown");
        })
    }

    /// Ends a group: commits its writes, then replies, pushes what changed
    /// (everything after a replacement) and tells watchers. A leader that
    /// cannot commit steps down, its group unacknowledged; any other replica
    /// stops.
    fn finish(
        &mut self,
        replies: &mut Vec<Box<dyn FnOnce() + Send>>,
        replaced: bool,
    ) -> Result<(), StoreError> {
        if let Err(e) = self.c.flush() {
            if self.role == Role::Leader {
                // Fenced by a newer leader, or etcd is out of reach:
                // nothing of this group is acknowledged (the replies are
                // dropped), and this replica stops leading; its state is
                // reloaded from etcd as a standby.
                tracing::error!(error = %e, "cannot commit to etcd; stepping down");
                replies.clear();
                // Nor are its changes: watchers must not see them.
                let _ = self.c.drain_changes(false);
                self.become_standby(None);
                if let Some(tx) = &self.stepped_down {
                    let _ = tx.send(());
                }
                return Ok(());
            }
            tracing::error!(error = %e, "cannot persist state; stopping so that nothing unpersisted is acknowledged");
            return Err(e);
        }
        for reply in replies.drain(..) {
            reply();
        }
        let fresh = self.c.drain_changes(self.changes.receiver_count() > 0);
        if replaced {
            // Routers, links or data centers may have come or gone, SIDs
            // and agents with them (events move no SID): the outbox hears
            // everything again, as at start, so that a new router's reader
            // knows all it should hold before it reconciles.
            self.push_everything();
        } else {
            self.push_changes(&fresh);
        }
        for change in fresh {
            // No watcher is fine.
            let _ = self.changes.send(change);
        }
        self.publish_topology();
        Ok(())
    }

    /// Moves the topology counter if the topology changed since it last
    /// moved (a replacement is another instance).
    fn publish_topology(&mut self) {
        let t = self.c.topology();
        let seen = (t.igp_key().0, t.generation());
        if seen != self.topology_seen {
            self.topology_seen = seen;
            self.topology_tx.send_modify(|n| *n += 1);
        }
    }

    fn snapshot(&mut self) -> Arc<Topology> {
        // A replaced topology starts its generations again: the instance
        // tells it apart.
        let t = self.c.topology();
        let generation = (t.igp_key().0, t.generation());
        if let Some((g, t)) = &self.snapshot
            && *g == generation
        {
            return t.clone();
        }
        let t = Arc::new(self.c.topology().clone());
        self.snapshot = Some((generation, t.clone()));
        t
    }

    /// The scope covers policy `name` (one that does not exist is left to
    /// the command, which says so).
    fn permit_policy(&self, scope: &Scope, name: &str) -> Result<(), ControllerError> {
        match self.c.policy(name) {
            Some(p) => scope.permit(self.c.topology(), &p.request.from),
            None => Ok(()),
        }
    }

    /// Runs a state-changing call once per request id: a retry with an id
    /// already seen gets the first call's outcome.
    fn once(
        &mut self,
        kind: CallKind,
        scope: &Scope,
        request_id: Option<String>,
        call: impl FnOnce(&mut Self) -> Result<Outcome, ControllerError>,
    ) -> Result<Outcome, ControllerError> {
        let id = request_id.filter(|id| !id.is_empty());
        if let Some(id) = &id
            && let Some(o) = self.retries.recall(kind, scope, id)
        {
            return Ok(o.clone());
        }
        let outcome = call(self)?;
        if let Some(id) = &id {
            self.retries.remember(kind, scope, id, outcome.clone());
        }
        Ok(outcome)
    }

    /// Handles one command; returns what sends its reply after the commit.
    fn handle(&mut self, command: Command) -> Box<dyn FnOnce() + Send> {
        if let Some(refusal) = self.refuse_write() {
            match command {
                Command::Install { reply, .. } => return later(reply, Err(refusal)),
                Command::Remove { reply, .. } => return later(reply, Err(refusal)),
                Command::Failback { reply, .. } => return later(reply, Err(refusal)),
                Command::Event { reply, .. } | Command::Events { reply, .. } => {
                    return later(reply, Err(refusal));
                }
                Command::Replace { reply, .. } => return later(reply, Err(refusal)),
                Command::Feedback(Feedback::Report { router, .. }) => {
                    tracing::debug!(%router, "a router's report reached a standby; ignored");
                    return Box::new(|| {});
                }
                other => return self.handle_any(other),
            }
        }
        self.handle_any(command)
    }

    /// Handles one command a standby may handle too (and, on a leader or a
    /// sole replica, every command).
    fn handle_any(&mut self, command: Command) -> Box<dyn FnOnce() + Send> {
        let c = &mut self.c;
        match command {
            Command::Reset { controller, role } => {
                self.reset(*controller, role);
                Box::new(|| {})
            }
            Command::Follow(update) => {
                if let Err(e) = c.follow(*update) {
                    tracing::error!(error = %e, "cannot take in the leader's state");
                }
                Box::new(|| {})
            }
            Command::Promote { store, reply } => {
                let committed = self.promote(store);
                later(reply, committed)
            }
            Command::Demote { leader } => {
                if self.role == Role::Leader {
                    tracing::warn!("leadership lost: now a standby");
                }
                self.become_standby(leader);
                Box::new(|| {})
            }
            Command::Leader(leader) => {
                if let Role::Standby { leader: l } = &mut self.role {
                    *l = leader;
                }
                Box::new(|| {})
            }
            Command::Query {
                request,
                scope,
                reply,
            } => {
                let t = c.topology();
                let r = match scope
                    .permit_request(t, &request.from)
                    .and_then(|()| c.query(&request))
                {
                    Ok(a) => Ok(Ok(answer_json(t, &a))),
                    Err(ControllerError::NoPlacement(e)) => Ok(Err(e)),
                    Err(e) => Err(e),
                };
                later(reply, r)
            }
            Command::Install {
                name,
                request,
                scope,
                request_id,
                reply,
            } => {
                let r = self.once(CallKind::Install, &scope, request_id, |a| {
                    scope
                        .permit_request(a.c.topology(), &request.from)
                        .and_then(|()| a.c.install(&name, request))
                        .map(|i| Outcome::Installed(Box::new(i)))
                });
                later(
                    reply,
                    r.map(|o| match o {
                        Outcome::Installed(i) => *i,
                        _ => unreachable!("an install's outcome"),
                    }),
                )
            }
            Command::Remove {
                name,
                scope,
                request_id,
                reply,
            } => {
                let r = self.once(CallKind::Remove, &scope, request_id, |a| {
                    a.permit_policy(&scope, &name)
                        .and_then(|()| a.c.remove(&name))
                        .map(Outcome::Removed)
                });
                later(
                    reply,
                    r.map(|o| match o {
                        Outcome::Removed(seq) => seq,
                        _ => unreachable!("a removal's outcome"),
                    }),
                )
            }
            Command::Failback { name, scope, reply } => {
                let r = self.permit_policy(&scope, &name).and_then(|()| {
                    let sequence = self.c.failback(&name)?;
                    Ok((self.c.policy_json(&name)?, sequence))
                });
                later(reply, r)
            }
            Command::Get { name, scope, reply } => {
                let r = self
                    .permit_policy(&scope, &name)
                    .and_then(|()| self.c.policy_json(&name));
                later(reply, r)
            }
            Command::List {
                scope,
                filter,
                after,
                size,
                reply,
            } => later(reply, c.list(&scope, &filter, after.as_deref(), size)),
            Command::Event {
                event,
                request_id,
                reply,
            } => {
                let r = self.once(CallKind::Event, &Scope::All, request_id, |a| {
                    a.c.apply_event(&event).map(Outcome::Event)
                });
                later(
                    reply,
                    r.map(|o| match o {
                        Outcome::Event(e) => e,
                        _ => unreachable!("an event's outcome"),
                    }),
                )
            }
            Command::Events { events, reply } => later(reply, c.apply_events(&events)),
            Command::Replace { topology, reply } => later(reply, c.replace_topology(*topology)),
            Command::Topology { reply } => later(reply, self.snapshot()),
            Command::Watch { after, reply } => {
                // Changes of this group are broadcast after the flush, so a
                // subscription taken now misses none of them; the backlog
                // holds the ones before.
                let rx = self.changes.subscribe();
                let after = match after {
                    Resume::Now => None,
                    Resume::After(n) => Some(n),
                    Resume::Oldest => Some(c.oldest_sequence().saturating_sub(1)),
                };
                let subscription = match after {
                    None => Ok((Vec::new(), rx, c.last_sequence())),
                    Some(after) => c.changes_since(after).map(|b| {
                        let last = b.last().map_or(after, |x| x.sequence);
                        (b, rx, last)
                    }),
                };
                later(reply, subscription)
            }
            Command::Stats { reply } => later(reply, (c.stats().clone(), c.policy_counts())),
            Command::Feedback(Feedback::Status {
                name,
                version,
                southbound,
            }) => {
                c.set_southbound(&name, version, southbound);
                Box::new(|| {})
            }
            Command::Feedback(Feedback::Report { router, event }) => {
                tracing::info!(%router, ?event, "router report");
                if let Err(e) = c.apply_event(&event) {
                    tracing::warn!(%router, error = %e, "a router's report was refused");
                }
                Box::new(|| {})
            }
        }
    }
}

/// Sends a reply later, after the group commit. A dropped responder means
/// the caller went away: nothing to do.
fn later<T: Send + 'static>(reply: Reply<T>, value: T) -> Box<dyn FnOnce() + Send> {
    Box::new(move || {
        let _ = reply.send(value);
    })
}
