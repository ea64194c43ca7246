//! The one tokio task that owns the controller: handlers send it a command
//! with a oneshot responder and await the reply; changes are broadcast to
//! watchers in order.

use tokio::sync::{broadcast, mpsc, oneshot};

use super::{
    Change, ChangeKind, Controller, ControllerError, PolicyCounts, ResumeError, Scope, Southbound,
    SouthboundState, Stats,
};
use crate::document::{
    AnswerJson, ErrorJson, EventDoc, PolicyJson, RequestDoc, answer_json, error_json,
};
use crate::model::Topology;
use crate::southbound::{Sink, Update, desired};

type Reply<T> = oneshot::Sender<T>;

/// The backlog of changes after a resume point, the live feed, and the last
/// sequence number the watcher has (live changes up to it are skipped).
pub type Subscription = (Vec<Change>, broadcast::Receiver<Change>, u64);

/// A request to the controller task.
pub enum Command {
    /// Path query (no install): the answer, or "nothing feasible" with
    /// every data center's reason; bad input is the outer error.
    Query(
        RequestDoc,
        Scope,
        Reply<Result<Result<AnswerJson, ErrorJson>, ControllerError>>,
    ),
    /// Install a policy.
    Install(
        String,
        RequestDoc,
        Scope,
        Reply<Result<PolicyJson, ControllerError>>,
    ),
    /// Remove a policy.
    Remove(String, Scope, Reply<Result<(), ControllerError>>),
    /// One policy.
    Get(String, Scope, Reply<Result<PolicyJson, ControllerError>>),
    /// Every policy in the scope.
    List(Scope, Reply<Vec<PolicyJson>>),
    /// Apply an event.
    Event(EventDoc, Reply<Result<Vec<String>, ControllerError>>),
    /// Replace the topology.
    Replace(Box<Topology>, Reply<Result<Vec<String>, ControllerError>>),
    /// The live topology (a snapshot).
    Topology(Reply<std::sync::Arc<Topology>>),
    /// Subscribe to changes after a resume point.
    Watch(u64, Reply<Result<Subscription, ResumeError>>),
    /// Southbound status of a policy, for one version.
    Southbound(String, u64, Southbound),
    /// Counters and policy counts.
    Stats(Reply<(Stats, PolicyCounts)>),
}

/// A cheap handle to the controller task.
#[derive(Clone)]
pub struct ControllerHandle {
    tx: mpsc::Sender<Command>,
}

/// A handle that does not keep the controller task alive (for the
/// southbound, which must not hold up a shutdown).
#[derive(Clone)]
pub struct WeakControllerHandle {
    tx: mpsc::WeakSender<Command>,
}

impl WeakControllerHandle {
    /// The handle, while the task runs.
    pub fn upgrade(&self) -> Option<ControllerHandle> {
        self.tx.upgrade().map(|tx| ControllerHandle { tx })
    }
}

/// The task is gone (shutting down).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the controller is shutting down")]
pub struct Gone;

impl ControllerHandle {
    /// Sends a command built around a fresh responder and awaits the reply.
    pub async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, Gone> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    /// A handle that does not keep the task alive.
    pub fn downgrade(&self) -> WeakControllerHandle {
        WeakControllerHandle {
            tx: self.tx.downgrade(),
        }
    }

    /// Sends a command without a reply.
    pub async fn tell(&self, command: Command) -> Result<(), Gone> {
        self.tx.send(command).await.map_err(|_| Gone)
    }
}

/// Commands handled before one group commit, at most.
pub const GROUP: usize = 256;

/// Starts the task; it stops when every handle is dropped. Returns the
/// handle and the task.
///
/// Commands are handled in groups: every command already queued (up to
/// [`GROUP`]) is handled, the group's writes are committed at once, and only
/// then are the replies sent and the changes broadcast. If the commit fails,
/// the process stops: nothing of the group was acknowledged, and a restart
/// from the store is consistent.
pub fn spawn(
    mut controller: Controller,
    southbound: Option<Sink>,
) -> (ControllerHandle, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Command>(4096);
    let (changes, _) = broadcast::channel::<Change>(65_536);
    controller.defer_commits();
    if let Some(sink) = &southbound {
        push_everything(&mut controller, sink);
    }
    let task = tokio::task::spawn_blocking(move || {
        // One thread owns the state; commands run one at a time, in order.
        let mut snapshot: Option<(u64, std::sync::Arc<Topology>)> = None;
        let mut replies: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            let mut replaced = matches!(first, Command::Replace(..));
            replies.push(handle(&mut controller, first, &changes, &mut snapshot));
            while replies.len() < GROUP {
                match rx.try_recv() {
                    Ok(command) => {
                        replaced |= matches!(command, Command::Replace(..));
                        replies.push(handle(&mut controller, command, &changes, &mut snapshot))
                    }
                    Err(_) => break,
                }
            }
            if let Err(e) = controller.flush() {
                tracing::error!(error = %e, "cannot persist state; stopping so that nothing unpersisted is acknowledged");
                std::process::exit(70);
            }
            for reply in replies.drain(..) {
                reply();
            }
            let fresh = controller.drain_changes(changes.receiver_count() > 0);
            if let Some(sink) = &southbound {
                if replaced {
                    // Routers, links or data centers may have come or gone,
                    // SIDs and agents with them (events move no SID): the
                    // southbound hears everything again, as at start, so
                    // that a new router's worker knows all it should hold
                    // before it reconciles.
                    push_everything(&mut controller, sink);
                } else {
                    push_changes(&mut controller, sink, &fresh);
                }
            }
            for change in fresh {
                // No watcher is fine.
                let _ = changes.send(change);
            }
        }
        // Every handle is gone: persist what is left.
        if let Err(e) = controller.flush() {
            tracing::error!(error = %e, "cannot persist state at shutdown");
        }
    });
    (ControllerHandle { tx }, task)
}

/// Every router's SIDs and every policy's desired state (at start), then
/// the mark that the southbound now knows all it should.
fn push_everything(c: &mut Controller, sink: &Sink) {
    push_routers(c.topology(), sink);
    let names: Vec<String> = c.policies().map(|p| p.name.clone()).collect();
    push_policies(c, sink, names.iter().map(String::as_str));
    let _ = sink.send(Update::Synced);
}

/// Every router's agent and local SIDs.
fn push_routers(t: &Topology, sink: &Sink) {
    for (r, router) in t.routers() {
        let _ = sink.send(Update::Router {
            router: router.id.to_string(),
            mgmt: router.mgmt.clone(),
            sids: desired::router(t, r),
        });
    }
}

/// Desired state of the policies that changed (southbound-only changes
/// excepted), and their status set to pending.
fn push_changes(c: &mut Controller, sink: &Sink, changes: &[Change]) {
    let mut names: Vec<&str> = changes
        .iter()
        .filter(|ch| ch.kind != ChangeKind::Southbound)
        .map(|ch| ch.name.as_str())
        .collect();
    names.dedup();
    push_policies(c, sink, names.into_iter());
}

fn push_policies<'a>(c: &mut Controller, sink: &Sink, names: impl Iterator<Item = &'a str>) {
    let mut pending = Vec::new();
    for name in names {
        let t = c.topology();
        match c.policy(name) {
            None => {
                // Removed: whichever worker holds it drops it.
                let _ = sink.send(Update::Removed {
                    name: name.to_owned(),
                });
            }
            Some(p) => {
                let headend = p.request.from.clone();
                let version = p.version;
                let policy = desired::policy(t, p);
                let detail = match &policy {
                    Some(_) => format!("pushing version {version} to headend {headend}"),
                    None => format!("removing it from headend {headend} (the policy is down)"),
                };
                pending.push((name.to_owned(), version, detail));
                let _ = sink.send(Update::Policy {
                    headend,
                    name: name.to_owned(),
                    version,
                    policy,
                });
            }
        }
    }
    for (name, version, detail) in pending {
        c.set_southbound(
            &name,
            version,
            Southbound {
                state: SouthboundState::Pending,
                detail: Some(detail),
            },
        );
    }
}

fn snapshot(
    c: &Controller,
    cache: &mut Option<(u64, std::sync::Arc<Topology>)>,
) -> std::sync::Arc<Topology> {
    let generation = c.topology().generation();
    if let Some((g, t)) = cache
        && *g == generation
    {
        return t.clone();
    }
    let t = std::sync::Arc::new(c.topology().clone());
    *cache = Some((generation, t.clone()));
    t
}

/// Sends a reply later, after the group commit. A dropped responder means
/// the caller went away: nothing to do.
fn later<T: Send + 'static>(reply: Reply<T>, value: T) -> Box<dyn FnOnce() + Send> {
    Box::new(move || {
        let _ = reply.send(value);
    })
}

/// The scope covers policy `name` (one that does not exist is left to the
/// command, which says so).
fn permit_policy(c: &Controller, scope: &Scope, name: &str) -> Result<(), ControllerError> {
    match c.policy(name) {
        Some(p) => scope.permit(c.topology(), &p.request.from),
        None => Ok(()),
    }
}

fn handle(
    c: &mut Controller,
    command: Command,
    changes: &broadcast::Sender<Change>,
    cache: &mut Option<(u64, std::sync::Arc<Topology>)>,
) -> Box<dyn FnOnce() + Send> {
    match command {
        Command::Query(doc, scope, reply) => {
            let t = c.topology();
            let r = match scope
                .permit_request(t, &doc.from)
                .and_then(|()| c.query(&doc))
            {
                Ok(a) => Ok(Ok(answer_json(t, &a))),
                Err(ControllerError::NoPlacement(e)) => Ok(Err(error_json(t, &e))),
                Err(e) => Err(e),
            };
            later(reply, r)
        }
        Command::Install(name, doc, scope, reply) => {
            let r = scope
                .permit_request(c.topology(), &doc.from)
                .and_then(|()| c.install(&name, doc));
            later(reply, r)
        }
        Command::Remove(name, scope, reply) => {
            let r = permit_policy(c, &scope, &name).and_then(|()| c.remove(&name));
            later(reply, r)
        }
        Command::Get(name, scope, reply) => {
            let r = permit_policy(c, &scope, &name).and_then(|()| c.policy_json(&name));
            later(reply, r)
        }
        Command::List(scope, reply) => {
            let t = c.topology();
            let mut all = c.policies_json();
            all.retain(|p| scope.covers(t, &p.request.from));
            later(reply, all)
        }
        Command::Event(e, reply) => later(reply, c.apply_event(&e)),
        Command::Replace(t, reply) => later(reply, c.replace_topology(*t)),
        Command::Topology(reply) => later(reply, snapshot(c, cache)),
        Command::Watch(after, reply) => {
            // Changes of this group are broadcast after the flush, so a
            // subscription taken now misses none of them; the backlog holds
            // the ones before.
            let rx = changes.subscribe();
            let subscription = if after == 0 {
                Ok((Vec::new(), rx, c.last_sequence()))
            } else {
                c.changes_since(after).map(|b| {
                    let last = b.last().map_or(after, |x| x.sequence);
                    (b, rx, last)
                })
            };
            later(reply, subscription)
        }
        Command::Southbound(name, version, s) => {
            c.set_southbound(&name, version, s);
            Box::new(|| {})
        }
        Command::Stats(reply) => later(reply, (c.stats().clone(), c.policy_counts())),
    }
}
