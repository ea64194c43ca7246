//! High availability on etcd: several `cpnd` replicas share one state in
//! etcd (`cpnd --store etcd://HOST:PORT,...`); one leads (elected on an
//! etcd lease), writes (fenced on its epoch), pushes to routers and
//! re-optimizes; the others are standbys that keep a hot copy by watching
//! the prefix, serve reads, and answer writes `UNAVAILABLE` with the
//! leader's URL (metadata `cpn-leader`).
//!
//! - [`client`]: the etcd v3 calls, over the client generated from etcd's
//!   protos
//! - [`layout`]: the keys under the prefix
//! - [`election`]: the lease, its renewal and deadline, the campaign
//! - [`store`]: the fenced etcd store the leader's controller writes to
//! - [`follow`]: a standby's snapshot and watch
//! - [`replica`]: one replica's life: standby, leader, standby again
//!
//! Why not a consensus of CPN's own: etcd is proven, and the controller
//! already commits in groups through one store trait; only the store and
//! the role change.

pub mod client;
pub mod election;
pub mod follow;
pub mod layout;
pub mod replica;
pub mod store;

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use client::{Etcd, EtcdError};
pub use layout::{Layout, Member};
pub use replica::Replica;

/// How a replica reaches etcd and presents itself.
#[derive(Clone, Debug)]
pub struct Config {
    /// etcd client URLs (`http://HOST:PORT`).
    pub endpoints: Vec<String>,
    /// TLS to etcd: CA, and an optional client certificate and key.
    pub tls: Option<tonic::transport::ClientTlsConfig>,
    /// The key prefix (`--etcd-prefix`).
    pub prefix: String,
    /// This replica's id (`--replica-id`).
    pub replica_id: String,
    /// This replica's API URL, as others and clients reach it.
    pub url: String,
    /// The lease TTL (`--lease-ttl-s`): a dead leader is replaced about
    /// this long after it stopped renewing.
    pub lease_ttl: Duration,
    /// Set to this replica's epoch when it takes over; pushes to routers
    /// carry it (the southbound reads it).
    pub push_epoch: crate::southbound::PushEpoch,
}

/// The store URL form `etcd://HOST:PORT[,HOST:PORT...]` as client URLs
/// (`http://`, or `https://` when `tls`).
pub fn endpoints(store: &str, tls: bool) -> Result<Vec<String>, String> {
    let rest = store
        .strip_prefix("etcd://")
        .ok_or_else(|| format!("--store {store}: expected etcd://HOST:PORT[,HOST:PORT...]"))?;
    let scheme = if tls { "https" } else { "http" };
    let list: Vec<String> = rest
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("{scheme}://{}", s.trim_end_matches('/')))
        .collect();
    if list.is_empty() {
        return Err(format!("--store {store}: no etcd endpoint"));
    }
    Ok(list)
}

/// What one replica knows about itself and the cluster, for status calls.
#[derive(Debug)]
pub struct Status {
    /// This replica.
    pub me: Member,
    /// Leading now.
    leading: std::sync::atomic::AtomicBool,
    /// The current leader's epoch (0: none known).
    pub epoch: AtomicI64,
    /// The etcd revision this replica's memory reflects.
    pub revision: std::sync::Arc<AtomicI64>,
    leader: Mutex<Option<Member>>,
}

impl Status {
    /// A standby that knows no leader yet.
    pub fn new(me: Member) -> Status {
        Status {
            me,
            leading: false.into(),
            epoch: AtomicI64::new(0),
            revision: Default::default(),
            leader: Mutex::new(None),
        }
    }

    /// True while this replica leads.
    pub fn leading(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// The leader as last seen, and its epoch.
    pub fn leader(&self) -> Option<Member> {
        self.leader.lock().expect("status lock").clone()
    }

    /// The leader's API URL as last seen.
    pub fn leader_url(&self) -> Option<String> {
        self.leader().map(|m| m.url)
    }

    /// Records who leads (this replica when `leading`).
    pub fn set_leader(&self, leader: Option<(Member, i64)>, leading: bool) {
        self.leading.store(leading, Ordering::SeqCst);
        self.epoch
            .store(leader.as_ref().map_or(0, |l| l.1), Ordering::SeqCst);
        *self.leader.lock().expect("status lock") = leader.map(|l| l.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_name_every_member() {
        assert_eq!(
            endpoints("etcd://127.0.0.1:2379,127.0.0.1:22379", false).unwrap(),
            ["http://127.0.0.1:2379", "http://127.0.0.1:22379"]
        );
        assert_eq!(endpoints("etcd://h:1", true).unwrap(), ["https://h:1"]);
        assert!(endpoints("redb:///x", false).is_err());
        assert!(endpoints("etcd://", false).is_err());
    }
}
