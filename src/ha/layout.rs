//! Where CPN keeps its state in etcd, under one prefix (`--etcd-prefix`,
//! default `/cpn`):
//!
//! ```text
//! PREFIX/leader              the leader: {"id", "url"}, on its lease;
//!                            its create revision is the leader's epoch
//! PREFIX/replicas/ID         every live replica: {"id", "url"}, on its lease
//! PREFIX/state/topology      the live topology (topology file format, JSON)
//! PREFIX/state/down          routers that are down (JSON list)
//! PREFIX/state/sequence      the last change sequence number
//! PREFIX/state/log           the changes the last commit logged (JSON list):
//!                            standbys read every version of it by watching
//! PREFIX/state/policies/NAME one policy record (JSON)
//! ```
//!
//! Values are JSON, as in the redb store, so that `etcdctl get` shows them.

use serde::{Deserialize, Serialize};

use crate::proto::etcd::mvccpb::KeyValue;
use crate::store::{LogRecord, PolicyRecord, StoreError, Stored};

/// A replica as registered: its id and the URL of its API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// `--replica-id`.
    pub id: String,
    /// Its northbound API URL (`http://HOST:PORT`).
    pub url: String,
}

/// The keys under one prefix.
#[derive(Clone, Debug)]
pub struct Layout {
    root: String,
}

/// What a key under the prefix is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// The leader key.
    Leader,
    /// A registered replica.
    Replica,
    /// The topology document.
    Topology,
    /// The routers that are down.
    Down,
    /// The last sequence number.
    Sequence,
    /// The changes of the last commit.
    Log,
    /// A policy, by name.
    Policy(String),
    /// Something else (left alone).
    Other,
}

impl Layout {
    /// The keys under `prefix` (a trailing `/` is added when missing).
    pub fn new(prefix: &str) -> Layout {
        let mut root = prefix.trim_end_matches('/').to_owned();
        root.push('/');
        Layout { root }
    }

    fn key(&self, rest: &str) -> Vec<u8> {
        format!("{}{rest}", self.root).into_bytes()
    }

    /// Every key of CPN's.
    pub fn root(&self) -> Vec<u8> {
        self.root.clone().into_bytes()
    }

    /// The leader key.
    pub fn leader(&self) -> Vec<u8> {
        self.key("leader")
    }

    /// Every registered replica.
    pub fn replicas(&self) -> Vec<u8> {
        self.key("replicas/")
    }

    /// One replica's registration.
    pub fn replica(&self, id: &str) -> Vec<u8> {
        self.key(&format!("replicas/{id}"))
    }

    /// Every key of the controller's state.
    pub fn state(&self) -> Vec<u8> {
        self.key("state/")
    }

    /// The topology document.
    pub fn topology(&self) -> Vec<u8> {
        self.key("state/topology")
    }

    /// The routers that are down.
    pub fn down(&self) -> Vec<u8> {
        self.key("state/down")
    }

    /// The last sequence number.
    pub fn sequence(&self) -> Vec<u8> {
        self.key("state/sequence")
    }

    /// The changes of the last commit.
    pub fn log(&self) -> Vec<u8> {
        self.key("state/log")
    }

    /// One policy.
    pub fn policy(&self, name: &str) -> Vec<u8> {
        self.key(&format!("state/policies/{name}"))
    }

    /// What `key` is.
    pub fn classify(&self, key: &[u8]) -> Key {
        let Some(rest) = std::str::from_utf8(key)
            .ok()
            .and_then(|k| k.strip_prefix(self.root.as_str()))
        else {
            return Key::Other;
        };
        match rest {
            "leader" => Key::Leader,
            "state/topology" => Key::Topology,
            "state/down" => Key::Down,
            "state/sequence" => Key::Sequence,
            "state/log" => Key::Log,
            _ if rest.starts_with("replicas/") => Key::Replica,
            _ => match rest.strip_prefix("state/policies/") {
                Some(name) => Key::Policy(name.to_owned()),
                None => Key::Other,
            },
        }
    }
}

/// A JSON value read from etcd.
pub fn decode<T: serde::de::DeserializeOwned>(kv: &KeyValue) -> Result<T, StoreError> {
    serde_json::from_slice(&kv.value)
        .map_err(|e| StoreError(format!("{}: {e}", String::from_utf8_lossy(&kv.key))))
}

/// The changes of one commit, as read back.
pub fn decode_log(kv: &KeyValue) -> Result<Vec<LogRecord>, StoreError> {
    decode(kv)
}

/// Decodes the state keys among `kvs` into `stored` (a page at a time).
pub fn take_into(stored: &mut Stored, layout: &Layout, kvs: &[KeyValue]) -> Result<(), StoreError> {
    for kv in kvs {
        match layout.classify(&kv.key) {
            Key::Topology => stored.topology = Some(decode(kv)?),
            Key::Down => stored.down_routers = decode(kv)?,
            Key::Sequence => stored.sequence = decode(kv)?,
            Key::Policy(_) => stored.policies.push(decode::<PolicyRecord>(kv)?),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_told_apart() {
        let l = Layout::new("/cpn/");
        assert_eq!(l.policy("p1"), b"/cpn/state/policies/p1".to_vec());
        assert_eq!(l.classify(&l.policy("p1")), Key::Policy("p1".into()));
        assert_eq!(l.classify(&l.leader()), Key::Leader);
        assert_eq!(l.classify(&l.replica("a")), Key::Replica);
        assert_eq!(l.classify(&l.log()), Key::Log);
        assert_eq!(l.classify(b"/other/leader"), Key::Other);
    }
}
