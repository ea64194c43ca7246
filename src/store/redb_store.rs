//! The durable store: one redb file, `cpn.redb`, in the data directory.
//! Every commit is a redb write transaction with immediate durability, so an
//! operation the API acknowledged survives a crash.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{Batch, PolicyRecord, Store, StoreError, Stored};

const POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("policies");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const TOPOLOGY_KEY: &str = "topology";
const DOWN_ROUTERS_KEY: &str = "down_routers";
const SEQUENCE_KEY: &str = "sequence";
/// redb page cache size.
const CACHE_BYTES: usize = 32 * 1024 * 1024;
/// The database file inside the data directory.
pub const FILE_NAME: &str = "cpn.redb";

/// State in `<data-dir>/cpn.redb`.
pub struct RedbStore {
    db: Database,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl RedbStore {
    /// Opens (or creates) the store in `dir`, creating the directory.
    pub fn open(dir: &Path) -> Result<RedbStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        let path = dir.join(FILE_NAME);
        // A bounded page cache: the store is written far more than read.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| StoreError(format!("{}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(err)?;
        txn.open_table(POLICIES).map_err(err)?;
        txn.open_table(META).map_err(err)?;
        txn.commit().map_err(err)?;
        Ok(RedbStore { db })
    }
}

impl Store for RedbStore {
    fn load(&self) -> Result<Stored, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let meta = txn.open_table(META).map_err(err)?;
        let get = |key: &str| -> Result<Option<Vec<u8>>, StoreError> {
            Ok(meta.get(key).map_err(err)?.map(|v| v.value().to_vec()))
        };
        let topology = match get(TOPOLOGY_KEY)? {
            Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(err)?),
            None => None,
        };
        let down_routers = match get(DOWN_ROUTERS_KEY)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(err)?,
            None => Vec::new(),
        };
        let sequence = match get(SEQUENCE_KEY)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(err)?,
            None => 0,
        };
        let table = txn.open_table(POLICIES).map_err(err)?;
        let mut policies = Vec::new();
        for entry in table.iter().map_err(err)? {
            let (name, value) = entry.map_err(err)?;
            let record: PolicyRecord = serde_json::from_slice(value.value())
                .map_err(|e| StoreError(format!("policy {}: {e}", name.value())))?;
            policies.push(record);
        }
        Ok(Stored {
            topology,
            down_routers,
            policies,
            sequence,
        })
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(err)?;
        {
            let mut meta = txn.open_table(META).map_err(err)?;
            if let Some((topology, down)) = &batch.topology {
                let bytes = serde_json::to_vec(topology).map_err(err)?;
                meta.insert(TOPOLOGY_KEY, bytes.as_slice()).map_err(err)?;
                let bytes = serde_json::to_vec(down).map_err(err)?;
                meta.insert(DOWN_ROUTERS_KEY, bytes.as_slice())
                    .map_err(err)?;
            }
            let bytes = serde_json::to_vec(&batch.sequence).map_err(err)?;
            meta.insert(SEQUENCE_KEY, bytes.as_slice()).map_err(err)?;
            let mut table = txn.open_table(POLICIES).map_err(err)?;
            for (name, p) in &batch.policies {
                match p {
                    Some(p) => {
                        let bytes = serde_json::to_vec(p).map_err(err)?;
                        table.insert(name.as_str(), bytes.as_slice()).map_err(err)?;
                    }
                    None => {
                        table.remove(name.as_str()).map_err(err)?;
                    }
                }
            }
        }
        txn.commit().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{PathRecord, StateRecord};
    use super::*;

    fn record(name: &str) -> PolicyRecord {
        PolicyRecord {
            name: name.into(),
            request: crate::document::parse_request("{from: a1, to: b3}").unwrap(),
            state: StateRecord::Up {
                primary: PathRecord {
                    datacenter: None,
                    path: vec!["a1".into(), "b3".into()],
                    links: vec!["a1-b3".into()],
                },
                backup: None,
                standby: None,
            },
            notes: vec![],
            version: 1,
            order: 7,
            created_unix_ms: None,
            updated_unix_ms: None,
            failed_over_from: None,
        }
    }

    #[test]
    fn commits_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = RedbStore::open(dir.path()).unwrap();
            assert_eq!(s.load().unwrap(), Stored::default());
            let mut batch = Batch {
                sequence: 2,
                ..Default::default()
            };
            batch.put(record("p1"));
            batch.put(record("p2"));
            s.commit(&batch).unwrap();
            let mut delete = Batch {
                sequence: 3,
                ..Default::default()
            };
            delete.delete("p1");
            s.commit(&delete).unwrap();
        }
        let s = RedbStore::open(dir.path()).unwrap();
        let stored = s.load().unwrap();
        assert_eq!(stored.sequence, 3);
        assert_eq!(stored.policies, vec![record("p2")]);
    }
}
