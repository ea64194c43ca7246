//! One replica's life. As a standby it follows the state (hot copy) and
//! campaigns every [`CAMPAIGN_EVERY`]; when it wins, it stops following,
//! opens the controller on the state in etcd through the fenced store
//! (every policy re-checked against the topology read, changes committed
//! under its epoch), hands it to the controller task as leader, and the
//! task pushes everything to routers (they reconcile; nothing a wanted
//! policy holds is removed). As a leader it steps down when its lease
//! deadline passes without a renewal, or when a commit fails (fenced, or
//! etcd out of reach): the task refuses writes at once, the lease is given
//! up when etcd answers, and the state is read again as a standby.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::client::{Etcd, EtcdError, put};
use super::election::{Campaign, Session, campaign, resign};
use super::follow::{self, standby_state};
use super::store::{EtcdStore, Fence, Preloaded};
use super::{Config, Layout, Member, Status};
use crate::controller::actor::{ControllerHandle, Role};
use crate::controller::{self, Controller, ControllerError};
use crate::model::Topology;
use crate::proto::etcd::etcdserverpb as pb;

/// How often a standby campaigns (a read when someone leads): a dead
/// leader is replaced within the lease TTL plus this.
pub const CAMPAIGN_EVERY: Duration = Duration::from_millis(200);
/// How long to wait before trying etcd again.
const RETRY: Duration = Duration::from_millis(500);

/// Why a replica could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// etcd did not answer or refused.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// The controller could not open on the state.
    #[error("cannot open the controller: {0}")]
    Open(ControllerError),
}

/// A replica of the controller on etcd.
pub struct Replica {
    etcd: Etcd,
    layout: Layout,
    ttl: Duration,
    session: Option<Session>,
    status: Arc<Status>,
    controller: controller::Config,
    initial: Option<Topology>,
    /// State handed to the task at start, for the follower to continue.
    first: Option<(follow::FollowedTopology, i64)>,
    /// The epoch pushes carry: set on taking over, never lowered.
    push_epoch: crate::southbound::PushEpoch,
}

impl Replica {
    /// Connects to etcd and registers this replica; waits for etcd as long
    /// as it takes (a replica started while etcd is down, has no quorum or
    /// stalls, e.g. in a defragmentation, joins when it answers), saying
    /// so in the log.
    pub async fn connect(
        config: Config,
        controller: controller::Config,
        initial: Option<Topology>,
    ) -> Result<Replica, ReplicaError> {
        let etcd = Etcd::connect(&config.endpoints, config.tls.clone())?;
        let me = Member {
            id: config.replica_id.clone(),
            url: config.url.clone(),
        };
        let mut replica = Replica {
            etcd,
            layout: Layout::new(&config.prefix),
            ttl: config.lease_ttl,
            session: None,
            status: Arc::new(Status::new(me)),
            controller,
            initial,
            first: None,
            push_epoch: config.push_epoch.clone(),
        };
        let mut waiting = Waiting::new();
        loop {
            match replica.open_session().await {
                Ok(()) => return Ok(replica),
                Err(e) => waiting.retry(&e).await?,
            }
        }
    }

    /// The epoch pushes to routers carry.
    pub fn push_epoch(&self) -> crate::southbound::PushEpoch {
        self.push_epoch.clone()
    }

    /// What this replica knows, for status calls.
    pub fn status(&self) -> Arc<Status> {
        self.status.clone()
    }

    /// The etcd client and layout (status calls list the replicas).
    pub fn etcd(&self) -> (Etcd, Layout) {
        (self.etcd.clone(), self.layout.clone())
    }

    /// A new lease, kept alive, with this replica registered on it.
    async fn open_session(&mut self) -> Result<(), EtcdError> {
        self.session = None;
        let session = Session::open(&self.etcd, self.ttl).await?;
        let me = serde_json::to_vec(&self.status.me).expect("a member encodes");
        self.etcd
            .txn(pb::TxnRequest {
                success: vec![put(
                    self.layout.replica(&self.status.me.id),
                    me,
                    session.lease.id,
                )],
                ..Default::default()
            })
            .await?;
        self.session = Some(session);
        Ok(())
    }

    /// The state to start the controller task with: as leader when this
    /// replica wins the first campaign, else as a standby (waiting until
    /// etcd holds a topology).
    pub async fn first_state(&mut self) -> Result<(Controller, Role), ReplicaError> {
        let mut waiting = Waiting::new();
        loop {
            match self.try_first_state().await {
                Ok(Some(first)) => return Ok(first),
                Ok(None) => {
                    tracing::info!("no topology in etcd yet: waiting for the leader to write one");
                    tokio::time::sleep(RETRY).await;
                }
                Err(ReplicaError::Etcd(e)) => {
                    waiting.retry(&e).await?;
                    if !self.session.as_ref().is_some_and(|s| s.lease.valid()) {
                        // The lease may have expired while etcd stalled.
                        if let Err(e) = self.open_session().await {
                            tracing::debug!(error = %e, "no etcd lease yet");
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One try at [`Replica::first_state`]: `None` while etcd holds no
    /// topology.
    async fn try_first_state(&mut self) -> Result<Option<(Controller, Role)>, ReplicaError> {
        let Some(lease) = self.session.as_ref().map(|s| s.lease.clone()) else {
            return Err(EtcdError::Unreachable("no lease yet".into()).into());
        };
        match campaign(&self.etcd, &self.layout, &self.status.me, &lease).await? {
            Campaign::Won { epoch } => {
                let c = self.open_leader(epoch).await?;
                Ok(Some((c, Role::Leader)))
            }
            Campaign::Lost { leader } => {
                self.status.set_leader(leader, false);
                let Some((c, topology, revision)) =
                    standby_state(&self.etcd, &self.layout, &self.controller).await?
                else {
                    return Ok(None);
                };
                self.first = Some((topology, revision));
                let leader = self.status.leader_url();
                Ok(Some((c, Role::Standby { leader })))
            }
        }
    }

    /// The controller on the state in etcd (read again), writing under
    /// `epoch`. On failure leadership is given up (the lease ended).
    async fn open_leader(&mut self, epoch: i64) -> Result<Controller, ReplicaError> {
        let opened = self.read_and_open(epoch).await;
        if opened.is_err() {
            self.give_up().await;
        }
        opened
    }

    async fn read_and_open(&mut self, epoch: i64) -> Result<Controller, ReplicaError> {
        let store = self.fenced(epoch);
        // Read here, where an outage is an etcd error to wait out, not a
        // controller error.
        let (stored, revision) = super::store::load(&self.etcd, &self.layout).await?;
        self.status.revision.fetch_max(revision, Ordering::SeqCst);
        let store = Preloaded::new(stored, store);
        let (initial, config) = (self.initial.clone(), self.controller.clone());
        let c =
            tokio::task::spawn_blocking(move || Controller::open(Box::new(store), initial, config))
                .await
                .map_err(|e| ReplicaError::Etcd(EtcdError::Refused(e.to_string())))?
                .map_err(ReplicaError::Open)?;
        tracing::info!(
            epoch,
            policies = c.policies().count(),
            "leading: state read from etcd and every policy re-checked"
        );
        Ok(c)
    }

    /// Runs this replica until `stop` turns true: leads or follows, and
    /// changes role as elections go. `stepped_down` hears the controller
    /// task step down by itself (a failed commit).
    pub async fn run(
        mut self,
        handle: ControllerHandle,
        mut stepped_down: mpsc::UnboundedReceiver<()>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut leading = self.status.leading();
        loop {
            if leading && !self.lead(&handle, &mut stepped_down, &mut stop).await {
                return;
            }
            let Some(won) = self.stand_by(&handle, &mut stop).await else {
                return;
            };
            // Step-downs reported before this term are stale.
            while stepped_down.try_recv().is_ok() {}
            leading = match won.caught_up {
                follow::Ended::CaughtUp => self.take_over(&handle, won.epoch).await,
                follow::Ended::Gone => match self.open_leader(won.epoch).await {
                    Ok(c) => {
                        if handle.reset(c, Role::Leader).await.is_err() {
                            return;
                        }
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot take over; giving leadership up");
                        false
                    }
                },
            };
        }
    }

    /// Takes over on the state this standby followed up to `epoch`:
    /// nothing is read again. True when leading.
    async fn take_over(&mut self, handle: &ControllerHandle, epoch: i64) -> bool {
        let started = tokio::time::Instant::now();
        let store = self.fenced(epoch);
        match handle.promote(Box::new(store)).await {
            Ok(committed) => {
                tracing::info!(
                    epoch,
                    committed,
                    took_ms = started.elapsed().as_millis() as u64,
                    "leading: took over on the state followed"
                );
                true
            }
            Err(_) => {
                tracing::error!(epoch, "cannot commit the takeover; giving leadership up");
                self.give_up().await;
                false
            }
        }
    }

    /// The store this replica writes to as leader of `epoch` (fenced on
    /// it); from now on pushes carry the epoch and status says it leads.
    fn fenced(&mut self, epoch: i64) -> EtcdStore {
        let lease = self.session.as_ref().expect("a session").lease.clone();
        self.status
            .set_leader(Some((self.status.me.clone(), epoch)), true);
        self.push_epoch
            .0
            .fetch_max(epoch, std::sync::atomic::Ordering::SeqCst);
        EtcdStore::new(
            self.etcd.clone(),
            self.layout.clone(),
            Fence { epoch, lease },
            self.status.revision.clone(),
        )
    }

    /// Leads until the deadline passes, a commit fails, or `stop`; false
    /// when stopped.
    async fn lead(
        &mut self,
        handle: &ControllerHandle,
        stepped_down: &mut mpsc::UnboundedReceiver<()>,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let lease = self.session.as_ref().expect("a session").lease.clone();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(lease.deadline()) => {
                    if !lease.valid() {
                        tracing::warn!(lease = lease.id, "lease not renewed in time: stepping down");
                        let _ = handle.demote(None).await;
                        break;
                    }
                }
                Some(()) = stepped_down.recv() => break,
                _ = stop.changed() => {
                    resign(&self.etcd, &lease).await;
                    return false;
                }
            }
        }
        self.give_up().await;
        true
    }

    /// Gives the lease up (when etcd answers) and forgets it.
    async fn give_up(&mut self) {
        self.status.set_leader(None, false);
        if let Some(s) = self.session.take() {
            resign(&self.etcd, &s.lease).await;
        }
    }

    /// Follows the leader and campaigns until this replica wins (its epoch,
    /// and whether the follower took in everything up to it) or is stopped
    /// (`None`).
    async fn stand_by(
        &mut self,
        handle: &ControllerHandle,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Won> {
        let (until_tx, until) = watch::channel(None);
        let mut follower = tokio::spawn(follow::run(
            self.etcd.clone(),
            self.layout.clone(),
            handle.clone(),
            self.status.clone(),
            self.controller.clone(),
            self.first.take(),
            until,
        ));
        let stop_following = |f: tokio::task::JoinHandle<follow::Ended>| async move {
            f.abort();
            let _ = f.await;
        };
        let mut known = self.status.leader();
        loop {
            tokio::select! {
                _ = stop.changed() => {
                    stop_following(follower).await;
                    if let Some(s) = self.session.take() {
                        resign(&self.etcd, &s.lease).await;
                    }
                    return None;
                }
                () = tokio::time::sleep(CAMPAIGN_EVERY) => {}
            }
            let lease = match &self.session {
                Some(s) if s.lease.valid() => s.lease.clone(),
                _ => {
                    if let Err(e) = self.open_session().await {
                        tracing::debug!(error = %e, "no etcd lease yet");
                    }
                    continue;
                }
            };
            match campaign(&self.etcd, &self.layout, &self.status.me, &lease).await {
                Ok(Campaign::Won { epoch }) => {
                    tracing::info!(epoch, "won the election");
                    let _ = until_tx.send(Some(epoch));
                    // The follower takes in what the old leader wrote last;
                    // if it cannot within the lease, everything is read
                    // again instead.
                    let caught_up = match tokio::time::timeout(self.ttl, &mut follower).await {
                        Ok(Ok(ended)) => ended,
                        Ok(Err(_)) => follow::Ended::Gone,
                        Err(_) => {
                            tracing::warn!(
                                epoch,
                                "the follower did not catch up in time; reading the state again"
                            );
                            stop_following(follower).await;
                            follow::Ended::Gone
                        }
                    };
                    return Some(Won { epoch, caught_up });
                }
                Ok(Campaign::Lost { leader }) => {
                    let now = leader.as_ref().map(|l| l.0.clone());
                    if now != known {
                        known = now.clone();
                        tracing::info!(leader = ?now.as_ref().map(|m| &m.id), "leader");
                        let _ = handle.set_leader(now.map(|m| m.url)).await;
                    }
                    self.status.set_leader(leader, false);
                }
                Err(e) => tracing::debug!(error = %e, "cannot campaign"),
            }
        }
    }
}

/// An election won.
struct Won {
    epoch: i64,
    /// `CaughtUp` when the state followed includes every revision up to
    /// the epoch; else it must be read again.
    caught_up: follow::Ended,
}

/// A replica waiting for etcd at start: every failure is logged with how
/// long it has waited; only a refusal (not an outage) ends the wait.
struct Waiting {
    since: tokio::time::Instant,
}

impl Waiting {
    fn new() -> Waiting {
        Waiting {
            since: tokio::time::Instant::now(),
        }
    }

    /// Waits before the next try when `e` is an outage; else gives it back.
    async fn retry(&mut self, e: &EtcdError) -> Result<(), ReplicaError> {
        if !matches!(e, EtcdError::Unreachable(_)) {
            return Err(e.clone().into());
        }
        tracing::warn!(
            error = %e,
            waited_s = self.since.elapsed().as_secs(),
            "waiting for etcd"
        );
        tokio::time::sleep(RETRY).await;
        Ok(())
    }
}

/// Answers cluster status calls for this replica.
pub struct ClusterView {
    etcd: Etcd,
    layout: Layout,
    status: Arc<Status>,
}

impl ClusterView {
    /// The view of `replica`.
    pub fn of(replica: &Replica) -> ClusterView {
        ClusterView {
            etcd: replica.etcd.clone(),
            layout: replica.layout.clone(),
            status: replica.status.clone(),
        }
    }
}

impl crate::api::cluster::ClusterInfo for ClusterView {
    fn report(
        &self,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = crate::proto::v1::GetClusterStatusResponse>
                + Send
                + '_,
        >,
    > {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            let s = &self.status;
            let leader = s.leader();
            let members = match self.etcd.range_prefix(&self.layout.replicas(), 0).await {
                Ok((kvs, _)) => kvs
                    .iter()
                    .filter_map(|kv| serde_json::from_slice::<Member>(&kv.value).ok())
                    .map(|m| crate::proto::v1::ClusterMember {
                        id: m.id,
                        url: m.url,
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            crate::proto::v1::GetClusterStatusResponse {
                replica: Some(crate::proto::v1::ReplicaStatus {
                    id: s.me.id.clone(),
                    url: s.me.url.clone(),
                    role: if s.leading() { "leader" } else { "standby" }.into(),
                    epoch: s.epoch.load(Ordering::SeqCst),
                    revision: s.revision.load(Ordering::SeqCst),
                    leader_id: leader.as_ref().map(|m| m.id.clone()).unwrap_or_default(),
                    leader_url: leader.map(|m| m.url).unwrap_or_default(),
                }),
                members,
                replicated: true,
            }
        })
    }
}
