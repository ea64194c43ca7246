//! Which policies use which link, router, pool and operator, so that an event
//! re-optimizes the affected policies and only those.

use std::collections::{BTreeSet, HashMap};

use super::policy::{Policy, PolicyState};
use crate::model::{DatacenterIx, LinkIx, OperatorIx, PoolKind, RouterIx, Topology};

/// Policies by what they use (primary and backup paths).
#[derive(Debug, Default)]
pub struct PolicyIndex {
    by_link: HashMap<LinkIx, BTreeSet<String>>,
    by_router: HashMap<RouterIx, BTreeSet<String>>,
    by_pool: HashMap<(DatacenterIx, PoolKind), BTreeSet<String>>,
    by_operator: HashMap<OperatorIx, BTreeSet<String>>,
    down: BTreeSet<String>,
}

impl PolicyIndex {
    /// Indexes a policy as it is now.
    pub fn add(&mut self, t: &Topology, p: &Policy) {
        self.each(t, p, |set, name| {
            set.insert(name.to_owned());
        });
    }

    /// Forgets a policy as it was indexed.
    pub fn remove(&mut self, t: &Topology, p: &Policy) {
        self.each(t, p, |set, name| {
            set.remove(name);
        });
    }

    fn each(&mut self, t: &Topology, p: &Policy, mut f: impl FnMut(&mut BTreeSet<String>, &str)) {
        match &p.state {
            PolicyState::Down { .. } => f(&mut self.down, &p.name),
            PolicyState::Up { answer, .. } => {
                for placement in std::iter::once(&answer.primary).chain(answer.backup.as_ref()) {
                    for &l in &placement.links {
                        f(self.by_link.entry(l).or_default(), &p.name);
                    }
                    for &r in &placement.path {
                        f(self.by_router.entry(r).or_default(), &p.name);
                        f(
                            self.by_operator.entry(t.router(r).operator).or_default(),
                            &p.name,
                        );
                    }
                    if let (Some(dc), Some(kind)) = (placement.datacenter, placement.pool) {
                        f(self.by_pool.entry((dc, kind)).or_default(), &p.name);
                    }
                }
            }
        }
    }

    /// Policies whose paths use the link.
    pub fn on_link(&self, l: LinkIx) -> impl Iterator<Item = &String> {
        self.by_link.get(&l).into_iter().flatten()
    }

    /// Policies whose paths use the router.
    pub fn on_router(&self, r: RouterIx) -> impl Iterator<Item = &String> {
        self.by_router.get(&r).into_iter().flatten()
    }

    /// Policies placed in the pool.
    pub fn in_pool(&self, dc: DatacenterIx, kind: PoolKind) -> impl Iterator<Item = &String> {
        self.by_pool.get(&(dc, kind)).into_iter().flatten()
    }

    /// Policies whose paths cross the operator's routers.
    pub fn in_operator(&self, op: OperatorIx) -> impl Iterator<Item = &String> {
        self.by_operator.get(&op).into_iter().flatten()
    }

    /// Policies that are down.
    pub fn down(&self) -> impl Iterator<Item = &String> {
        self.down.iter()
    }
}
