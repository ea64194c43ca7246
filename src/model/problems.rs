//! What can be wrong with a topology, and where: the places (list, item,
//! field) and problems the checks report, every one at once.

use std::fmt;

use ipnetwork::Ipv6Network;

use super::csid::MicroSid;
use super::datacenter::PoolKind;
use super::sid::{MAX_ADJACENCIES, MAX_DATACENTERS_PER_ROUTER};

/// The list of a topology an item comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// `operators`
    Operators,
    /// `routers`
    Routers,
    /// `links`
    Links,
    /// `datacenters`
    Datacenters,
}

impl Section {
    /// The key of this list in a topology document.
    pub fn key(self) -> &'static str {
        match self {
            Section::Operators => "operators",
            Section::Routers => "routers",
            Section::Links => "links",
            Section::Datacenters => "datacenters",
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Section::Operators => "operator",
            Section::Routers => "router",
            Section::Links => "link",
            Section::Datacenters => "datacenter",
        }
    }
}

/// Where a problem is: an item (by list and position as given) and a field
/// path inside it (`"operator"`, `"pools[1].tflops"`), or a whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The list.
    pub section: Section,
    /// Position in the list as given; `None` for the list itself.
    pub index: Option<usize>,
    /// The item's id, when it has one.
    pub id: Option<String>,
    /// Field path inside the item; empty for the whole item.
    pub field: String,
}

impl Place {
    /// The path of this place in a document: `routers[3].operator`.
    pub fn path(&self) -> String {
        let mut path = self.section.key().to_owned();
        if let Some(i) = self.index {
            path.push_str(&format!("[{i}]"));
        }
        if !self.field.is_empty() {
            path.push('.');
            path.push_str(&self.field);
        }
        path
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} `{}` ({})", self.section.noun(), id, self.path()),
            None => f.write_str(&self.path()),
        }
    }
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Problem {
    /// A list that needs at least one item has none.
    #[error("at least one {0} is required")]
    Empty(&'static str),
    /// An id used twice.
    #[error("duplicate id `{id}`, first used by {first}")]
    DuplicateId {
        /// The id.
        id: String,
        /// Where it was first defined.
        first: Box<Place>,
    },
    /// A reference to something that does not exist.
    #[error("unknown {kind} `{id}`")]
    Unknown {
        /// "operator", "router".
        kind: &'static str,
        /// The id referred to.
        id: String,
    },
    /// A link from a router to itself.
    #[error("link from router `{0}` to itself")]
    SelfLoop(String),
    /// A locator whose length is outside 16..=64.
    #[error("locator {0} has length /{1}, expected /16 to /64")]
    LocatorLength(Ipv6Network, u8),
    /// A locator with bits set past its length.
    #[error("locator {0} has bits set after its prefix length (did you mean {1}?)")]
    LocatorHostBits(Ipv6Network, Ipv6Network),
    /// Two routers' locators overlap.
    #[error("locator {locator} overlaps locator {other_locator} of router `{other}`")]
    LocatorOverlap {
        /// This router's locator.
        locator: Ipv6Network,
        /// The other router.
        other: String,
        /// Its locator.
        other_locator: Ipv6Network,
    },
    /// A number outside its allowed range.
    #[error("{value} {rule}")]
    OutOfRange {
        /// The value as given.
        value: String,
        /// What it must be, e.g. "must be >= 1".
        rule: String,
    },
    /// One of a pair of fields that go together, without the other.
    #[error("`{given}` needs `{missing}` (give both or neither)")]
    Unpaired {
        /// The field given.
        given: &'static str,
        /// The one missing.
        missing: &'static str,
    },
    /// A router named twice in one data center's `attach`.
    #[error("router `{0}` attached twice")]
    DuplicateAttach(String),
    /// Two pools of the same kind in one data center.
    #[error("second `{0}` pool: a data center has at most one pool of each kind")]
    DuplicatePoolKind(PoolKind),
    /// More links than a locator's function space has End.X SIDs for.
    #[error(
        "router has {0} links, more than the {MAX_ADJACENCIES} End.X SIDs its locator can give"
    )]
    TooManyAdjacencies(usize),
    /// A data center prefix whose length is outside 32..=128.
    #[error("prefix {0} has length /{1}, expected /32 to /128")]
    PrefixLength(Ipv6Network, u8),
    /// A data center prefix with bits set past its length.
    #[error("prefix {0} has bits set after its prefix length (did you mean {1}?)")]
    PrefixHostBits(Ipv6Network, Ipv6Network),
    /// A data center prefix that overlaps a locator or another data
    /// center's prefix (one address would mean two things).
    #[error("prefix {prefix}{} overlaps {other}{}",
        if *derived { " (derived from the id)" } else { "" },
        if *derived { "; declare a `prefix` for it" } else { "" })]
    PrefixOverlap {
        /// This data center's prefix.
        prefix: Ipv6Network,
        /// True when it was derived from the id, not declared.
        derived: bool,
        /// What it overlaps: "locator X of router `r`", "prefix Y of data
        /// center `d`".
        other: String,
    },
    /// More data centers on one router than End.DT6 SIDs.
    #[error(
        "router has {0} data centers, more than the {MAX_DATACENTERS_PER_ROUTER} End.DT6 SIDs its locator can give"
    )]
    TooManyDatacenters(usize),
    /// A given SID outside its router's locator.
    #[error("SID {sid} is outside the router's locator {locator}")]
    SidOutsideLocator {
        /// The SID.
        sid: std::net::Ipv6Addr,
        /// The locator.
        locator: Ipv6Network,
    },
    /// A NEXT-C-SID block the kernel cannot take, or that cannot compress.
    #[error("NEXT-C-SID block {block} with lnfl {lnfl}: {rule}")]
    CsidBlockForm {
        /// The block as given.
        block: Ipv6Network,
        /// The micro-SID length as given.
        lnfl: u8,
        /// What it must be.
        rule: &'static str,
    },
    /// A NEXT-C-SID block overlapping a locator or another block.
    #[error("NEXT-C-SID block {block} overlaps {other}")]
    CsidBlockOverlap {
        /// This operator's block.
        block: Ipv6Network,
        /// What it overlaps: "locator X of router `r`", "block Y of operator `o`".
        other: String,
    },
    /// A node micro-SID used by two routers of one block.
    #[error("micro-SID {usid} is also the micro-SID of router `{first}` in block {block}")]
    DuplicateUsid {
        /// The micro-SID.
        usid: MicroSid,
        /// The router that has it first.
        first: String,
        /// The block.
        block: Ipv6Network,
    },
    /// A router with a micro-SID whose operator runs no compression.
    #[error("router has a micro-SID but operator `{0}` declares no `next_csid` block")]
    UsidWithoutBlock(String),
    /// A SID given twice.
    #[error("SID {sid} is also given by {first}")]
    DuplicateSid {
        /// The SID.
        sid: std::net::Ipv6Addr,
        /// Where it was first given.
        first: String,
    },
}

/// One reason a topology is refused, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct BuildError {
    /// Where.
    pub place: Place,
    /// What.
    pub problem: Problem,
}

/// Every reason a topology is refused, in the order of the input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct BuildErrors(pub Vec<BuildError>);

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
