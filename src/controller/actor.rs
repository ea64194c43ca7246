//! The one tokio task that owns the controller: handlers send it a command
//! with a oneshot responder and await the reply; changes are broadcast to
//! watchers in order.

use tokio::sync::{broadcast, mpsc, oneshot};

use super::{Change, Controller, ControllerError, ResumeError, Southbound, Stats};
use crate::document::{EventDoc, PolicyJson, RequestDoc};
use crate::engine::PathAnswer;
use crate::model::Topology;

type Reply<T> = oneshot::Sender<T>;

/// The backlog of changes after a resume point, and the live feed.
pub type Subscription = (Vec<Change>, broadcast::Receiver<Change>);

/// A request to the controller task.
pub enum Command {
    /// Path query (no install).
    Query(
        RequestDoc,
        Reply<Result<(PathAnswer, std::sync::Arc<Topology>), ControllerError>>,
    ),
    /// Install a policy.
    Install(
        String,
        RequestDoc,
        Reply<Result<PolicyJson, ControllerError>>,
    ),
    /// Remove a policy.
    Remove(String, Reply<Result<(), ControllerError>>),
    /// One policy.
    Get(String, Reply<Result<PolicyJson, ControllerError>>),
    /// Every policy.
    List(Reply<Vec<PolicyJson>>),
    /// Apply an event.
    Event(EventDoc, Reply<Result<Vec<String>, ControllerError>>),
    /// Replace the topology.
    Replace(Box<Topology>, Reply<Result<Vec<String>, ControllerError>>),
    /// The live topology (a snapshot).
    Topology(Reply<std::sync::Arc<Topology>>),
    /// Subscribe to changes after a resume point.
    Watch(u64, Reply<Result<Subscription, ResumeError>>),
    /// Southbound status of a policy.
    Southbound(String, Southbound),
    /// Counters and policy counts (up, down).
    Stats(Reply<(Stats, usize, usize)>),
}

/// A cheap handle to the controller task.
#[derive(Clone)]
pub struct ControllerHandle {
    tx: mpsc::Sender<Command>,
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

    /// Sends a command without a reply.
    pub async fn tell(&self, command: Command) -> Result<(), Gone> {
        self.tx.send(command).await.map_err(|_| Gone)
    }
}

/// Starts the task; it stops when every handle is dropped. Returns the
/// handle and the task.
pub fn spawn(mut controller: Controller) -> (ControllerHandle, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Command>(1024);
    let (changes, _) = broadcast::channel::<Change>(65_536);
    let task = tokio::task::spawn_blocking(move || {
        // One thread owns the state; commands run one at a time, in order.
        let mut snapshot: Option<(u64, std::sync::Arc<Topology>)> = None;
        while let Some(command) = rx.blocking_recv() {
            handle(&mut controller, command, &changes, &mut snapshot);
            for change in controller.drain_changes() {
                // No watcher is fine.
                let _ = changes.send(change);
            }
        }
    });
    (ControllerHandle { tx }, task)
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

fn handle(
    c: &mut Controller,
    command: Command,
    changes: &broadcast::Sender<Change>,
    cache: &mut Option<(u64, std::sync::Arc<Topology>)>,
) {
    // A dropped responder means the caller went away: nothing to do.
    match command {
        Command::Query(doc, reply) => {
            let r = c.query(&doc).map(|a| (a, snapshot(c, cache)));
            let _ = reply.send(r);
        }
        Command::Install(name, doc, reply) => {
            let _ = reply.send(c.install(&name, doc));
        }
        Command::Remove(name, reply) => {
            let _ = reply.send(c.remove(&name));
        }
        Command::Get(name, reply) => {
            let _ = reply.send(c.policy_json(&name));
        }
        Command::List(reply) => {
            let _ = reply.send(c.policies_json());
        }
        Command::Event(e, reply) => {
            let _ = reply.send(c.apply_event(&e));
        }
        Command::Replace(t, reply) => {
            let _ = reply.send(c.replace_topology(*t));
        }
        Command::Topology(reply) => {
            let _ = reply.send(snapshot(c, cache));
        }
        Command::Watch(after, reply) => {
            // Subscribe before reading the backlog: nothing falls between.
            let rx = changes.subscribe();
            let backlog = if after == 0 {
                Ok(Vec::new())
            } else {
                c.changes_since(after)
            };
            let _ = reply.send(backlog.map(|b| (b, rx)));
        }
        Command::Southbound(name, s) => c.set_southbound(&name, s),
        Command::Stats(reply) => {
            let (up, down) = c.policy_counts();
            let _ = reply.send((c.stats().clone(), up, down));
        }
    }
}
