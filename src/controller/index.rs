//! Which policies use which link, router, pool and operator, so that an event
//! re-optimizes the affected policies and only those. Policies are numbered
//! inside the index (four bytes per entry, not a name), so that indexing
//! 100,000 policies costs little memory.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

// Policy numbers are ours, not an attacker's: a fast hash, not SipHash.
use rustc_hash::{FxHashMap, FxHashSet};

use super::policy::{Policy, PolicyState};
use crate::model::{DatacenterIx, LinkIx, OperatorIx, PoolKind, RouterIx, Topology};

/// Policies by what they use (primary, backup and standby paths).
#[derive(Debug, Default)]
pub struct PolicyIndex {
    ids: HashMap<String, u32>,
    names: Vec<String>,
    free: Vec<u32>,
    by_link: FxHashMap<LinkIx, FxHashSet<u32>>,
    by_router: FxHashMap<RouterIx, FxHashSet<u32>>,
    by_pool: FxHashMap<(DatacenterIx, PoolKind), FxHashSet<u32>>,
    by_operator: FxHashMap<OperatorIx, FxHashSet<u32>>,
    down: BTreeSet<String>,
    /// Up, but without the backup their protection asks for, or the
    /// standby they ask for.
    unprotected: BTreeSet<String>,
}

/// What one policy uses, each list sorted and without repeats.
struct Uses {
    links: Vec<LinkIx>,
    routers: Vec<RouterIx>,
    pools: Vec<(DatacenterIx, PoolKind)>,
    operators: Vec<OperatorIx>,
}

fn uses(t: &Topology, p: &Policy) -> Option<Uses> {
    let PolicyState::Up { answer, .. } = &p.state else {
        return None;
    };
    let mut u = Uses {
        links: Vec::new(),
        routers: Vec::new(),
        pools: Vec::new(),
        operators: Vec::new(),
    };
    let standby = answer.standby.as_ref().and_then(|s| s.placement.as_ref());
    for placement in std::iter::once(&answer.primary)
        .chain(answer.backup.as_ref())
        .chain(standby)
    {
        u.links.extend(&placement.links);
        u.routers.extend(&placement.path);
        u.operators
            .extend(placement.path.iter().map(|&r| t.router(r).operator));
        if let (Some(dc), Some(kind)) = (placement.datacenter, placement.pool) {
            u.pools.push((dc, kind));
        }
    }
    u.links.sort_unstable();
    u.links.dedup();
    u.routers.sort_unstable();
    u.routers.dedup();
    u.pools.sort_unstable();
    u.pools.dedup();
    u.operators.sort_unstable();
    u.operators.dedup();
    Some(u)
}

fn lacks_backup(p: &Policy) -> bool {
    let protected = p
        .request
        .protection
        .is_some_and(|x| x != crate::engine::Protection::None);
    let lacks_standby = p
        .request
        .standby
        .is_some_and(|s| s != crate::engine::Standby::None)
        && p.answer().is_some_and(|a| {
            a.standby
                .as_ref()
                .and_then(|s| s.placement.as_ref())
                .is_none()
        });
    (protected && p.answer().is_some_and(|a| a.backup.is_none())) || lacks_standby
}

type ById<K> = FxHashMap<K, FxHashSet<u32>>;

fn insert<K: Hash + Eq + Copy>(map: &mut ById<K>, keys: &[K], id: u32) {
    for k in keys {
        map.entry(*k).or_default().insert(id);
    }
}

fn remove<K: Hash + Eq + Copy>(map: &mut ById<K>, keys: &[K], id: u32) {
    for k in keys {
        if let Some(set) = map.get_mut(k) {
            set.remove(&id);
            if set.is_empty() {
                map.remove(k);
            }
        }
    }
}

/// Moves `id` from the keys of `old` to those of `new` (both sorted),
/// leaving the keys in both alone: a re-placed policy mostly keeps its
/// operators and many of its routers, and their sets are the largest.
fn shift<K: Hash + Ord + Copy>(map: &mut ById<K>, old: &[K], new: &[K], id: u32) {
    let gone: Vec<K> = old
        .iter()
        .filter(|k| new.binary_search(k).is_err())
        .copied()
        .collect();
    let came: Vec<K> = new
        .iter()
        .filter(|k| old.binary_search(k).is_err())
        .copied()
        .collect();
    remove(map, &gone, id);
    insert(map, &came, id);
}

impl PolicyIndex {
    /// Indexes a policy as it is now.
    pub fn add(&mut self, t: &Topology, p: &Policy) {
        let Some(u) = uses(t, p) else {
            self.down.insert(p.name.clone());
            return;
        };
        if lacks_backup(p) {
            self.unprotected.insert(p.name.clone());
        }
        let id = match self.ids.get(&p.name) {
            Some(&id) => id,
            None => {
                let id = self.free.pop().unwrap_or(self.names.len() as u32);
                if id as usize == self.names.len() {
                    self.names.push(p.name.clone());
                } else {
                    self.names[id as usize] = p.name.clone();
                }
                self.ids.insert(p.name.clone(), id);
                id
            }
        };
        insert(&mut self.by_link, &u.links, id);
        insert(&mut self.by_router, &u.routers, id);
        insert(&mut self.by_pool, &u.pools, id);
        insert(&mut self.by_operator, &u.operators, id);
    }

    /// Forgets a policy as it was indexed.
    pub fn remove(&mut self, t: &Topology, p: &Policy) {
        let Some(u) = uses(t, p) else {
            self.down.remove(&p.name);
            return;
        };
        self.unprotected.remove(&p.name);
        let Some(id) = self.ids.remove(&p.name) else {
            return;
        };
        remove(&mut self.by_link, &u.links, id);
        remove(&mut self.by_router, &u.routers, id);
        remove(&mut self.by_pool, &u.pools, id);
        remove(&mut self.by_operator, &u.operators, id);
        self.names[id as usize].clear();
        self.free.push(id);
    }

    /// Re-indexes a policy that was indexed as `old` and is now `new`.
    pub fn replace(&mut self, t: &Topology, old: &Policy, new: &Policy) {
        let id = self.ids.get(&old.name).copied();
        let (Some(id), Some(a), Some(b)) = (id, uses(t, old), uses(t, new)) else {
            self.remove(t, old);
            self.add(t, new);
            return;
        };
        if lacks_backup(new) {
            self.unprotected.insert(new.name.clone());
        } else {
            self.unprotected.remove(&new.name);
        }
        shift(&mut self.by_link, &a.links, &b.links, id);
        shift(&mut self.by_router, &a.routers, &b.routers, id);
        shift(&mut self.by_pool, &a.pools, &b.pools, id);
        shift(&mut self.by_operator, &a.operators, &b.operators, id);
    }

    fn named<'a>(&'a self, ids: Option<&'a FxHashSet<u32>>) -> impl Iterator<Item = &'a String> {
        ids.into_iter()
            .flatten()
            .map(|&id| &self.names[id as usize])
    }

    /// Policies whose paths use the link (in no set order).
    pub fn on_link(&self, l: LinkIx) -> impl Iterator<Item = &String> {
        self.named(self.by_link.get(&l))
    }

    /// Policies whose paths use the router.
    pub fn on_router(&self, r: RouterIx) -> impl Iterator<Item = &String> {
        self.named(self.by_router.get(&r))
    }

    /// Policies placed in the pool.
    pub fn in_pool(&self, dc: DatacenterIx, kind: PoolKind) -> impl Iterator<Item = &String> {
        self.named(self.by_pool.get(&(dc, kind)))
    }

    /// Policies whose paths cross the operator's routers.
    pub fn in_operator(&self, op: OperatorIx) -> impl Iterator<Item = &String> {
        self.named(self.by_operator.get(&op))
    }

    /// The index numbers of the policies whose paths cross the operator's
    /// routers (see [`PolicyIndex::name`]).
    pub fn ids_in_operator(&self, op: OperatorIx) -> impl Iterator<Item = u32> + '_ {
        self.by_operator.get(&op).into_iter().flatten().copied()
    }

    /// The policy an index number stands for now, if any.
    pub fn name(&self, id: u32) -> Option<&String> {
        self.names.get(id as usize).filter(|n| !n.is_empty())
    }

    /// Policies that wait for something to be freed: down, or up without
    /// the backup their protection asks for.
    pub fn waiting(&self) -> impl Iterator<Item = &String> {
        self.down.iter().chain(self.unprotected.iter())
    }
}
