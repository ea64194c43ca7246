//! The durable store: one redb file, `cpn.redb`, in the data directory.
//! Every commit is a redb write transaction with immediate durability, so an
//! operation the API acknowledged survives a crash.
//!
//! Policies live in `policies`, by name. A large commit (an event that moved
//! tens of thousands of policies) would rewrite a page for nearly every
//! policy it changes there, their names being spread over the whole table;
//! it goes instead to `journal`, appended in order, a page per few policies.
//! Later small commits fold the journal into `policies`, oldest first, a
//! slice each, and write there themselves only once it is empty. Reading
//! applies the journal over `policies`, in order.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{Batch, PolicyRecord, Store, StoreError, Stored};

const POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("policies");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Policy writes in commit order: the name's length (4 bytes, little
/// endian), the name, then the record (none for a removal).
const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
/// A commit of this many policy writes or more goes to the journal.
const JOURNAL_FROM: usize = 1024;
/// Journal entries a small commit folds into `policies`.
const FOLD: usize = 4096;
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
        txn.open_table(JOURNAL).map_err(err)?;
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
        let decode = |name: &str, bytes: &[u8]| -> Result<PolicyRecord, StoreError> {
            serde_json::from_slice(bytes).map_err(|e| StoreError(format!("policy {name}: {e}")))
        };
        let mut policies = Vec::new();
        for entry in table.iter().map_err(err)? {
            let (name, value) = entry.map_err(err)?;
            policies.push(decode(name.value(), value.value())?);
        }
        // The journal's last word on each policy it names, over the table.
        let mut latest = BTreeMap::new();
        let journal = txn.open_table(JOURNAL).map_err(err)?;
        for entry in journal.iter().map_err(err)? {
            let (key, value) = entry.map_err(err)?;
            let (name, record) = unframe(value.value())
                .ok_or_else(|| StoreError(format!("journal entry {}: malformed", key.value())))?;
            let record = record.map(|bytes| decode(name, bytes)).transpose()?;
            latest.insert(name.to_owned(), record);
        }
        if !latest.is_empty() {
            policies.retain(|p| !latest.contains_key(&p.name));
            policies.extend(latest.into_values().flatten());
            policies.sort_by(|a, b| a.name.cmp(&b.name));
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
            let mut journal = txn.open_table(JOURNAL).map_err(err)?;
            let small = batch.policies.len() < JOURNAL_FROM;
            if small {
                fold(&mut journal, &mut table, FOLD)?;
            }
            if small && journal.is_empty().map_err(err)? {
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
            } else {
                let next = match journal.last().map_err(err)? {
                    Some((k, _)) => k.value() + 1,
                    None => 0,
                };
                for (key, (name, p)) in (next..).zip(&batch.policies) {
                    let record = p
                        .as_ref()
                        .map(serde_json::to_vec)
                        .transpose()
                        .map_err(err)?;
                    let bytes = frame(name, record.as_deref());
                    journal.insert(key, bytes.as_slice()).map_err(err)?;
                }
            }
        }
        txn.commit().map_err(err)
    }
}

/// A journal entry: a policy's name, and its record or none (removed).
fn frame(name: &str, record: Option<&[u8]>) -> Vec<u8> {
    let record = record.unwrap_or_default();
    let mut bytes = Vec::with_capacity(4 + name.len() + record.len());
    bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(record);
    bytes
}

/// The name and the record (none for a removal) of a journal entry.
fn unframe(bytes: &[u8]) -> Option<(&str, Option<&[u8]>)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let name = std::str::from_utf8(bytes.get(4..4 + len)?).ok()?;
    let record = &bytes[4 + len..];
    Some((name, (!record.is_empty()).then_some(record)))
}

/// Moves up to `limit` of the oldest journal entries into `policies`.
fn fold(
    journal: &mut redb::Table<u64, &[u8]>,
    table: &mut redb::Table<&str, &[u8]>,
    limit: usize,
) -> Result<(), StoreError> {
    for _ in 0..limit {
        let Some((key, value)) = journal.pop_first().map_err(err)? else {
            break;
        };
        let (name, record) = unframe(value.value())
            .ok_or_else(|| StoreError(format!("journal entry {}: malformed", key.value())))?;
        match record {
            Some(bytes) => table.insert(name, bytes).map_err(err)?,
            None => table.remove(name).map_err(err)?,
        };
    }
    Ok(())
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

    /// Large commits go through the journal and small ones fold it: after
    /// every commit, and after reopening, the store reads back exactly
    /// what a plain map of the same writes holds.
    #[test]
    fn the_journal_reads_back_as_if_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RedbStore::open(dir.path()).unwrap();
        let mut model: BTreeMap<String, PolicyRecord> = BTreeMap::new();
        let mut sequence = 0;
        let mut commit = |s: &mut RedbStore, puts: Vec<(String, u64)>, deletes: Vec<String>| {
            sequence += 1;
            let mut batch = Batch {
                sequence,
                ..Default::default()
            };
            for (name, version) in puts {
                let mut r = record(&name);
                r.version = version;
                model.insert(name, r.clone());
                batch.put(r);
            }
            for name in deletes {
                model.remove(&name);
                batch.delete(&name);
            }
            s.commit(&batch).unwrap();
            let stored = s.load().unwrap();
            assert_eq!(stored.sequence, sequence);
            assert_eq!(stored.policies, model.values().cloned().collect::<Vec<_>>());
        };
        let names = |from: usize, to: usize, version: u64| {
            (from..to)
                .map(move |i| (format!("p{i:05}"), version))
                .collect::<Vec<_>>()
        };
        // Small: written in place.
        commit(&mut s, names(0, 10, 1), vec![]);
        // Large (over one fold): journaled, a removal of an in-place one too.
        let big = FOLD + 1000;
        commit(&mut s, names(5, big, 2), vec!["p00001".into()]);
        // Small, the journal not empty after folding one slice: journaled,
        // over names still in the journal and in place.
        commit(
            &mut s,
            names(big - 3, big + 2, 3),
            vec!["p00002".into(), "p00100".into()],
        );
        // The journal empties; the next small commit writes in place.
        commit(&mut s, vec![], vec![]);
        commit(&mut s, names(3, 6, 4), vec![format!("p{:05}", big - 1)]);
        drop(s);
        let s = RedbStore::open(dir.path()).unwrap();
        assert_eq!(
            s.load().unwrap().policies,
            model.values().cloned().collect::<Vec<_>>()
        );
        let txn = s.db.begin_read().unwrap();
        assert!(txn.open_table(JOURNAL).unwrap().is_empty().unwrap());
    }
}
