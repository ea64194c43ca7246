//! Leader election on an etcd lease, and the leader's own deadline.
//!
//! Each replica holds one lease (`--lease-ttl-s`, default 5 s) and renews
//! it every TTL/3. Campaigning is one transaction: "if the leader key does
//! not exist, create it on my lease" (`create_revision == 0`); the winner's
//! **epoch** is the key's create revision. Every write of the leader
//! compares that revision (fencing), so a deposed leader's writes fail.
//!
//! A leader does not count on etcd to tell it that it was deposed: etcd may
//! extend a lease across its own leader changes, and a paused process hears
//! nothing. The leader acts only until its **deadline**, two thirds of the
//! TTL after the last renewal etcd confirmed (measured from when that
//! renewal was sent): it stops before the lease can have expired, so two
//! replicas never act as leader at once as far as etcd's lease goes, and a
//! write that slips past the deadline check is still fenced.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::client::{Etcd, EtcdError, created_at, put, read};
use super::layout::{Layout, Member};
use crate::proto::etcd::etcdserverpb as pb;

/// A lease this replica holds, and until when it may act on it.
#[derive(Debug)]
pub struct Lease {
    /// The lease id.
    pub id: i64,
    /// Its TTL.
    pub ttl: Duration,
    deadline: Mutex<Instant>,
    lost: std::sync::atomic::AtomicBool,
}

impl Lease {
    /// True while the lease is certainly alive: renewed within two thirds
    /// of its TTL, and not reported gone.
    pub fn valid(&self) -> bool {
        !self.lost.load(std::sync::atomic::Ordering::SeqCst)
            && Instant::now() < *self.deadline.lock().expect("lease lock")
    }

    /// When the lease stops being certainly alive, unless renewed.
    pub fn deadline(&self) -> Instant {
        *self.deadline.lock().expect("lease lock")
    }

    /// Marks the lease gone (etcd said so, or this replica gave it up).
    pub fn lose(&self) {
        self.lost.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// True once the lease is known gone.
    pub fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn renewed(&self, sent: Instant, ttl_s: i64) {
        let safe = Duration::from_millis((ttl_s.max(0) as u64) * 1000 * 2 / 3);
        let mut d = self.deadline.lock().expect("lease lock");
        *d = (*d).max(sent + safe);
    }
}

/// A lease kept alive by a task of its own; dropping it stops the renewals.
pub struct Session {
    /// The lease.
    pub lease: Arc<Lease>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Session {
    /// Grants a lease of `ttl` and keeps it alive every TTL/3.
    pub async fn open(etcd: &Etcd, ttl: Duration) -> Result<Session, EtcdError> {
        let sent = Instant::now();
        let (id, granted) = etcd.grant(ttl.as_secs().max(1) as i64).await?;
        let lease = Arc::new(Lease {
            id,
            ttl: Duration::from_secs(granted.max(1) as u64),
            deadline: Mutex::new(sent),
            lost: false.into(),
        });
        lease.renewed(sent, granted);
        let task = tokio::spawn(keep_alive(etcd.clone(), lease.clone()));
        Ok(Session { lease, task })
    }
}

/// Renews `lease` every TTL/3 until it is lost, reopening the stream when
/// it breaks; each confirmed renewal moves the deadline.
async fn keep_alive(etcd: Etcd, lease: Arc<Lease>) {
    let period = lease.ttl / 3;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream: Option<(_, tonic::Streaming<pb::LeaseKeepAliveResponse>)> = None;
    loop {
        tick.tick().await;
        if lease.is_lost() {
            return;
        }
        let sent = Instant::now();
        let renewal = match &mut stream {
            None => match etcd.keep_alive(lease.id).await {
                // Opening the stream sends the first renewal.
                Ok((tx, mut rx)) => {
                    let first = tokio::time::timeout(period, rx.message()).await;
                    stream = Some((tx, rx));
                    first
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot renew the etcd lease");
                    continue;
                }
            },
            Some((tx, rx)) => {
                if tx
                    .send(pb::LeaseKeepAliveRequest { id: lease.id })
                    .await
                    .is_err()
                {
                    stream = None;
                    continue;
                }
                tokio::time::timeout(period, rx.message()).await
            }
        };
        match renewal {
            Ok(Ok(Some(r))) => {
                if r.ttl <= 0 {
                    tracing::warn!(lease = lease.id, "etcd says the lease has expired");
                    lease.lose();
                    return;
                }
                lease.renewed(sent, r.ttl);
            }
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => {
                tracing::warn!(lease = lease.id, "no lease renewal from etcd");
                // A late answer on this stream would be taken for the next
                // renewal's: start a new stream.
                stream = None;
            }
        }
    }
}

/// The outcome of one campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Campaign {
    /// This replica leads, at this epoch.
    Won {
        /// The leader key's create revision.
        epoch: i64,
    },
    /// Another replica leads (or its key has not expired yet).
    Lost {
        /// Who, and since which epoch.
        leader: Option<(Member, i64)>,
    },
}

/// Campaigns once: creates the leader key on `lease` if it does not exist.
pub async fn campaign(
    etcd: &Etcd,
    layout: &Layout,
    me: &Member,
    lease: &Lease,
) -> Result<Campaign, EtcdError> {
    let key = layout.leader();
    let value = serde_json::to_vec(me).expect("a member encodes");
    let r = etcd
        .txn(pb::TxnRequest {
            compare: vec![created_at(key.clone(), 0)],
            success: vec![put(key.clone(), value, lease.id)],
            failure: vec![read(key)],
        })
        .await?;
    if r.succeeded {
        let epoch = r.header.map_or(0, |h| h.revision);
        return Ok(Campaign::Won { epoch });
    }
    let leader = r
        .responses
        .into_iter()
        .find_map(|op| match op.response {
            Some(pb::response_op::Response::ResponseRange(range)) => range.kvs.into_iter().next(),
            _ => None,
        })
        .and_then(|kv| {
            serde_json::from_slice::<Member>(&kv.value)
                .ok()
                .map(|m| (m, kv.create_revision))
        });
    Ok(Campaign::Lost { leader })
}

/// Gives leadership up at once (shutdown, or stepping down while etcd still
/// answers): ends the lease, so that its keys go and another replica wins
/// the next campaign without waiting for the TTL.
pub async fn resign(etcd: &Etcd, lease: &Lease) {
    lease.lose();
    if let Err(e) = etcd.revoke(lease.id).await {
        tracing::warn!(error = %e, "cannot end the lease; it expires by itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_is_two_thirds_of_the_ttl_after_the_renewal_was_sent() {
        let now = Instant::now();
        let lease = Lease {
            id: 1,
            ttl: Duration::from_secs(6),
            deadline: Mutex::new(now),
            lost: false.into(),
        };
        lease.renewed(now, 6);
        assert!(lease.valid());
        tokio::time::advance(Duration::from_millis(3999)).await;
        assert!(lease.valid());
        tokio::time::advance(Duration::from_millis(2)).await;
        assert!(!lease.valid(), "past 2/3 of the TTL without a renewal");
        lease.renewed(Instant::now(), 6);
        assert!(lease.valid());
        lease.lose();
        assert!(!lease.valid());
    }
}
