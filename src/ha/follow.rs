//! A standby's hot copy: read the state under the prefix at one revision,
//! hand it to the controller task, then watch the prefix from the next
//! revision and hand over what each watch response brings. When etcd says
//! the history was compacted, read everything again.
//!
//! When this replica wins an election at epoch E (the leader key's create
//! revision), the follower is told E and ends once it has taken in every
//! revision up to E: everything the old leader wrote (its fenced writes all
//! precede E), including a group it left half-written. The replica then
//! takes over on that state.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use super::client::{Etcd, EtcdError};
use super::layout::{self, Key, Layout};
use super::{Status, store};
use crate::controller::actor::{ControllerHandle, Role};
use crate::controller::{self, Controller, Followed};
use crate::proto::etcd::mvccpb::event::EventType;
use crate::store::{Batch, ReadOnly, Store, StoreError, Stored};
use crate::topology_file::TopologyDocument;

/// How long to wait before reading again after a failure.
const RETRY: Duration = Duration::from_millis(300);

/// Drops every write: a standby opens its controller on a snapshot
/// through it (re-checking every policy writes nothing).
struct Discard;

impl Store for Discard {
    fn load(&self) -> Result<Stored, StoreError> {
        Ok(Stored::default())
    }
    fn commit(&mut self, _: &Batch) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The topology a standby follows: the document and the routers down.
pub type FollowedTopology = (TopologyDocument, Vec<String>);

/// A controller on the state under the prefix now, writing nothing; the
/// topology it holds, and the revision it reflects. `None` while etcd holds
/// no topology yet.
pub async fn standby_state(
    etcd: &Etcd,
    layout: &Layout,
    config: &controller::Config,
) -> Result<Option<(Controller, FollowedTopology, i64)>, EtcdError> {
    let (stored, revision) = store::load(etcd, layout).await?;
    let Some(doc) = stored.topology.clone() else {
        return Ok(None);
    };
    let topology = (doc, stored.down_routers.clone());
    let snapshot = store::Preloaded::new(stored, Discard);
    let config = config.clone();
    let opened =
        tokio::task::spawn_blocking(move || Controller::open(Box::new(snapshot), None, config))
            .await
            .map_err(|e| EtcdError::Refused(e.to_string()))?
            .map_err(|e| EtcdError::Refused(format!("the state in etcd does not load: {e}")))?;
    let mut c = opened;
    c.set_store(Box::new(ReadOnly));
    Ok(Some((c, topology, revision)))
}

/// How following ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The controller task is gone.
    Gone,
    /// Every revision up to the one asked for is taken in.
    CaughtUp,
}

/// Keeps the controller task a hot copy of the leader's state until
/// aborted (shutdown), or until it has taken in every revision up to the
/// one `until` names (a takeover). `first` is state already handed over
/// (at start), with its revision.
pub async fn run(
    etcd: Etcd,
    layout: Layout,
    handle: ControllerHandle,
    status: Arc<Status>,
    config: controller::Config,
    mut first: Option<(FollowedTopology, i64)>,
    mut until: watch::Receiver<Option<i64>>,
) -> Ended {
    loop {
        let (mut topology, revision) = match first.take() {
            Some(s) => s,
            None => match standby_state(&etcd, &layout, &config).await {
                Ok(Some((c, topology, revision))) => {
                    let role = Role::Standby {
                        leader: status.leader_url(),
                    };
                    if handle.reset(c, role).await.is_err() {
                        return Ended::Gone;
                    }
                    (topology, revision)
                }
                Ok(None) => {
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "standby cannot read the state from etcd");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            },
        };
        status.revision.store(revision, Ordering::SeqCst);
        match tail(&etcd, &layout, &handle, &status, &mut topology, &mut until).await {
            Watch::Ended(ended) => return ended,
            Watch::Reload => continue,
        }
    }
}

/// How a watch ended.
enum Watch {
    /// Following is over.
    Ended(Ended),
    /// The history was compacted: read everything again.
    Reload,
}

/// Follows the prefix from the revision after `status.revision`,
/// reconnecting when the stream breaks, until `until` is reached.
async fn tail(
    etcd: &Etcd,
    layout: &Layout,
    handle: &ControllerHandle,
    status: &Status,
    topology: &mut (TopologyDocument, Vec<String>),
    until: &mut watch::Receiver<Option<i64>>,
) -> Watch {
    // What the leader committed since its last group ended: a group split
    // into several transactions is taken in whole, when its last one (the
    // one that writes the sequence) arrives, so that no placement is
    // re-checked against half of a group.
    let mut update = Followed::default();
    let mut topology_changed = false;
    // The newest revision seen in any event (taken in or waiting in
    // `update`).
    let mut seen = status.revision.load(Ordering::SeqCst);
    loop {
        let from = status.revision.load(Ordering::SeqCst) + 1;
        let (_keep, mut stream) = match etcd.watch_prefix(&layout.root(), from).await {
            Ok(w) => w,
            Err(EtcdError::Compacted(_)) => return Watch::Reload,
            Err(e) => {
                tracing::warn!(error = %e, "standby cannot watch etcd");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        loop {
            let wanted = *until.borrow_and_update();
            if let Some(epoch) = wanted
                && seen.max(status.revision.load(Ordering::SeqCst)) >= epoch
            {
                // Everything the old leader wrote is here: a group it left
                // half-written is taken in as it stands.
                if std::mem::take(&mut topology_changed) {
                    update.topology = Some(topology.clone());
                }
                if !update.is_empty() && handle.follow(update).await.is_err() {
                    return Watch::Ended(Ended::Gone);
                }
                status.revision.fetch_max(seen, Ordering::SeqCst);
                return Watch::Ended(Ended::CaughtUp);
            }
            // Both are cancel safe: a message not returned stays in the
            // stream.
            let r = tokio::select! {
                m = stream.message() => match m {
                    Ok(Some(r)) => r,
                    Ok(None) | Err(_) => break,
                },
                changed = until.changed() => {
                    if changed.is_err() {
                        return Watch::Ended(Ended::Gone);
                    }
                    continue;
                }
            };
            if r.compact_revision > 0 {
                tracing::info!(
                    compacted = r.compact_revision,
                    "etcd compacted the history this standby needs; reading everything again"
                );
                return Watch::Reload;
            }
            if r.canceled {
                break;
            }
            let mut last = 0;
            let mut group_ended = false;
            for e in &r.events {
                let Some(kv) = &e.kv else { continue };
                last = last.max(kv.mod_revision);
                seen = seen.max(kv.mod_revision);
                let put = e.r#type == EventType::Put as i32;
                let decoded = match layout.classify(&kv.key) {
                    Key::Policy(name) => {
                        let record = if put {
                            layout::decode(kv).map(Some)
                        } else {
                            Ok(None)
                        };
                        record.map(|r| {
                            update.policies.insert(name, r);
                        })
                    }
                    Key::Topology if put => layout::decode(kv).map(|d| {
                        topology.0 = d;
                        topology_changed = true;
                    }),
                    Key::Down if put => layout::decode(kv).map(|d| {
                        topology.1 = d;
                        topology_changed = true;
                    }),
                    Key::Log if put => layout::decode_log(kv).map(|l| update.log.extend(l)),
                    Key::Sequence if put => {
                        group_ended = true;
                        Ok(())
                    }
                    _ => Ok(()),
                };
                if let Err(e) = decoded {
                    tracing::error!(error = %e, "a value in etcd does not decode; reading everything again");
                    return Watch::Reload;
                }
            }
            if !group_ended {
                if r.events.is_empty() && update.is_empty() && !topology_changed {
                    // A progress notice: everything up to its revision is
                    // taken in.
                    let upto = r.header.map_or(0, |h| h.revision);
                    status.revision.fetch_max(upto, Ordering::SeqCst);
                }
                continue;
            }
            if std::mem::take(&mut topology_changed) {
                update.topology = Some(topology.clone());
            }
            let whole = std::mem::take(&mut update);
            if !whole.is_empty() && handle.follow(whole).await.is_err() {
                return Watch::Ended(Ended::Gone);
            }
            // A response with events may be behind the header's revision
            // (more events follow): the last event's is what is taken in.
            status.revision.fetch_max(last, Ordering::SeqCst);
        }
        tokio::time::sleep(RETRY).await;
    }
}
