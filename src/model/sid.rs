//! SRv6 SIDs: deterministic allocation from each router's locator, and lookup
//! both ways (SID -> meaning, meaning -> SID).
//!
//! Every SID is `locator | function << (128 - locator_len - 16)`: a 16-bit
//! function field right after the locator. Functions:
//!
//! | behavior | function | one per |
//! |---|---|---|
//! | End     | `0x0000`         | router |
//! | End.X   | `0xe001 + k`     | adjacency, `k` = rank of the link id among the router's links |
//! | End.DT6 | `0xd000 + k`     | attached data center, `k` = rank of its id among them (into the data center's table) |
//! | End.DT6 | `0xe000`         | router (into its main table: where traffic pinned to the router leaves the SR domain) |
//!
//! So `fc00:a:2::/48` gives End `fc00:a:2::`, first End.X `fc00:a:2:e001::`,
//! first data center End.DT6 `fc00:a:2:d000::` and the router's own End.DT6
//! `fc00:a:2:e000::`, the same for the same file every time.
//!
//! SIDs the network advertises (learned over BGP-LS: a router's End SID,
//! an adjacency's End.X SID) are given, not allocated: they are taken as
//! they are, and allocation steps around them (the next free function of
//! the same range). Lookups stay O(1) both ways.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use ipnetwork::Ipv6Network;

use super::datacenter::DatacenterIx;
use super::topology::{LinkIx, RouterIx};

/// An SRv6 endpoint behavior, with its IANA codepoint (RFC 8986, section 10.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
pub enum Behavior {
    /// End: the node segment of a router (codepoint 1).
    End = 1,
    /// End.X: cross one layer-3 adjacency (codepoint 5).
    EndX = 5,
    /// End.DT6: decapsulate and look up the inner packet in a table (codepoint 18).
    EndDt6 = 18,
}

impl Behavior {
    /// Every behavior CPN allocates.
    pub const ALL: [Behavior; 3] = [Behavior::End, Behavior::EndX, Behavior::EndDt6];

    /// The IANA "SRv6 Endpoint Behaviors" codepoint.
    pub fn codepoint(self) -> u16 {
        self as u16
    }

    /// The behavior with this codepoint, if CPN knows it.
    pub fn from_codepoint(codepoint: u16) -> Option<Behavior> {
        Behavior::ALL
            .into_iter()
            .find(|b| b.codepoint() == codepoint)
    }

    /// The name used by RFC 8986 and in answers: `End`, `End.X`, `End.DT6`.
    pub fn name(self) -> &'static str {
        match self {
            Behavior::End => "End",
            Behavior::EndX => "End.X",
            Behavior::EndDt6 => "End.DT6",
        }
    }
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Behavior {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Behavior::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown SRv6 behavior `{s}`, expected End, End.X or End.DT6"))
    }
}

/// What a SID means at its router; the variant fixes the behavior.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SidFunction {
    /// The router's node SID.
    End,
    /// Cross `link` away from the owning router.
    EndX {
        /// The adjacency's link.
        link: LinkIx,
    },
    /// Decapsulate and look the inner packet up: in the table of
    /// `datacenter`, or (`None`) in the owning router's main table.
    EndDt6 {
        /// The data center behind the owning router, if any.
        datacenter: Option<DatacenterIx>,
    },
}

impl SidFunction {
    /// The endpoint behavior this function has.
    pub fn behavior(self) -> Behavior {
        match self {
            SidFunction::End => Behavior::End,
            SidFunction::EndX { .. } => Behavior::EndX,
            SidFunction::EndDt6 { .. } => Behavior::EndDt6,
        }
    }
}

/// One allocated SID and its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sid {
    /// The SID as an IPv6 address.
    pub addr: Ipv6Addr,
    /// The router whose locator it comes from.
    pub router: RouterIx,
    /// What the router does with it.
    pub function: SidFunction,
}

impl Sid {
    /// The endpoint behavior of this SID.
    pub fn behavior(&self) -> Behavior {
        self.function.behavior()
    }
}

/// How a SID's bits divide (RFC 8986 3.1): locator block, locator node,
/// function, argument, in bits. Carried with a segment so that a headend or
/// a BGP speaker can tell the parts apart (RFC 9830's SID structure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SidStructure {
    /// Locator block length.
    pub block_bits: u8,
    /// Locator node length.
    pub node_bits: u8,
    /// Function length.
    pub function_bits: u8,
    /// Argument length.
    pub argument_bits: u8,
}

impl SidStructure {
    /// The structure of the SIDs of `locator`: the whole locator as the
    /// block, then the 16-bit function, no argument.
    pub fn of_locator(locator: Ipv6Network) -> Self {
        SidStructure {
            block_bits: locator.prefix(),
            node_bits: 0,
            function_bits: 16,
            argument_bits: 0,
        }
    }
}

/// First End.X function value.
const END_X_BASE: u16 = 0xe001;
/// First End.DT6 function value of the data centers.
const END_DT6_BASE: u16 = 0xd000;
/// The function of a router's own End.DT6 (into its main table).
const END_DT6_OWN: u16 = 0xe000;
/// How many End.X SIDs fit before the function field runs out of its range.
pub const MAX_ADJACENCIES: usize = (0xffff - END_X_BASE as usize) + 1;
/// How many data center End.DT6 SIDs one router can hold in its range.
pub const MAX_DATACENTERS_PER_ROUTER: usize = (END_DT6_OWN - END_DT6_BASE) as usize;

/// The address of function `function` in `locator`.
pub fn sid_in_locator(locator: Ipv6Network, function: u16) -> Ipv6Addr {
    let shift = 128 - u32::from(locator.prefix()) - 16;
    Ipv6Addr::from(u128::from(locator.network()) | (u128::from(function) << shift))
}

/// Every SID of a topology, addressable both ways.
#[derive(Clone, Debug, Default)]
pub struct SidTable {
    end: Vec<Ipv6Addr>,
    /// Per router: its own End.DT6.
    own_dt6: Vec<Ipv6Addr>,
    /// Per link: `[End.X owned by end a, End.X owned by end b]`.
    end_x: Vec<[Ipv6Addr; 2]>,
    dt6: HashMap<(RouterIx, DatacenterIx), Ipv6Addr>,
    by_addr: HashMap<Ipv6Addr, Sid>,
    /// Link endpoints `(a, b)`, to pick the side of an End.X.
    ends: Vec<(RouterIx, RouterIx)>,
    /// The SIDs that were given (learned from the network), not allocated.
    given: HashSet<Ipv6Addr>,
}

/// What allocation needs to know about one router.
pub(crate) struct RouterSids<'a> {
    pub locator: Ipv6Network,
    /// Links of this router, sorted by link id.
    pub links: &'a [LinkIx],
    /// Attached data centers, sorted by id.
    pub datacenters: &'a [DatacenterIx],
    /// The End SID the network gave it, if any (checked: inside the
    /// locator, unique).
    pub end: Option<Ipv6Addr>,
}

impl SidTable {
    /// Allocates every SID. `routers` is indexed by router, `link_ends` and
    /// `given_end_x` (End.X SIDs the network gave, per side) by link.
    /// Given SIDs are taken as they are; the others are allocated by the
    /// table in the module documentation, moving on to the next free
    /// function of the same range where a given SID already holds one.
    /// Callers guarantee the per-router counts fit (see [`MAX_ADJACENCIES`]).
    pub(crate) fn allocate(
        routers: &[RouterSids<'_>],
        link_ends: &[(RouterIx, RouterIx)],
        given_end_x: &[[Option<Ipv6Addr>; 2]],
    ) -> Self {
        let mut table = SidTable {
            end: vec![Ipv6Addr::UNSPECIFIED; routers.len()],
            own_dt6: Vec::with_capacity(routers.len()),
            end_x: vec![[Ipv6Addr::UNSPECIFIED; 2]; link_ends.len()],
            dt6: HashMap::new(),
            by_addr: HashMap::with_capacity(2 * routers.len() + 2 * link_ends.len()),
            ends: link_ends.to_vec(),
            given: HashSet::new(),
        };
        // What the network gave first, so that allocation steps around it.
        for (r, spec) in routers.iter().enumerate() {
            if let Some(end) = spec.end {
                let router = RouterIx::new(r);
                table.end[r] = end;
                table.given.insert(end);
                table.insert(end, router, SidFunction::End);
            }
        }
        for (l, sides) in given_end_x.iter().enumerate() {
            let (a, b) = link_ends[l];
            for (side, owner) in [(0, a), (1, b)] {
                if let Some(addr) = sides[side] {
                    table.end_x[l][side] = addr;
                    table.given.insert(addr);
                    let link = LinkIx::new(l);
                    table.insert(addr, owner, SidFunction::EndX { link });
                }
            }
        }
        for (r, spec) in routers.iter().enumerate() {
            let router = RouterIx::new(r);
            if spec.end.is_none() {
                let end = table.free(spec.locator, 0, (0, END_DT6_BASE - 1));
                table.end[r] = end;
                table.insert(end, router, SidFunction::End);
            }
            let own = table.free(spec.locator, END_DT6_OWN, (END_DT6_OWN, END_DT6_OWN));
            table.own_dt6.push(own);
            table.insert(own, router, SidFunction::EndDt6 { datacenter: None });
            for (k, &link) in spec.links.iter().enumerate() {
                let side = usize::from(link_ends[link.index()].0 != router);
                let has = given_end_x
                    .get(link.index())
                    .is_some_and(|g| g[side].is_some());
                if has {
                    continue;
                }
                let want = END_X_BASE.saturating_add(k as u16);
                let addr = table.free(spec.locator, want, (END_X_BASE, u16::MAX));
                table.end_x[link.index()][side] = addr;
                table.insert(addr, router, SidFunction::EndX { link });
            }
            for (k, &datacenter) in spec.datacenters.iter().enumerate() {
                let want = END_DT6_BASE + k as u16;
                let addr = table.free(spec.locator, want, (END_DT6_BASE, END_DT6_OWN - 1));
                table.dt6.insert((router, datacenter), addr);
                let function = SidFunction::EndDt6 {
                    datacenter: Some(datacenter),
                };
                table.insert(addr, router, function);
            }
        }
        table
    }

    /// Function `want` of `locator` when free, else the next free one in
    /// `range` (wrapping), else in the whole function space. Without given
    /// SIDs the first try always succeeds.
    fn free(&self, locator: Ipv6Network, want: u16, range: (u16, u16)) -> Ipv6Addr {
        let addr = sid_in_locator(locator, want);
        if !self.by_addr.contains_key(&addr) {
            return addr;
        }
        let (lo, hi) = range;
        let in_range = (want..=hi).chain(lo..want.max(lo));
        in_range
            .chain(0..=u16::MAX)
            .map(|f| sid_in_locator(locator, f))
            .find(|a| !self.by_addr.contains_key(a))
            .unwrap_or(addr)
    }

    /// True when `addr` was given (learned from the network), not
    /// allocated.
    pub fn is_given(&self, addr: Ipv6Addr) -> bool {
        self.given.contains(&addr)
    }

    /// The End SID of `router` when it was given.
    pub fn given_end(&self, router: RouterIx) -> Option<Ipv6Addr> {
        let end = self.end(router);
        self.is_given(end).then_some(end)
    }

    /// The End.X SIDs of `link` (owned by end a, end b) that were given.
    pub fn given_end_x(&self, link: LinkIx) -> [Option<Ipv6Addr>; 2] {
        self.end_x
            .get(link.index())
            .map_or([None, None], |s| s.map(|a| self.is_given(a).then_some(a)))
    }

    fn insert(&mut self, addr: Ipv6Addr, router: RouterIx, function: SidFunction) {
        self.by_addr.insert(
            addr,
            Sid {
                addr,
                router,
                function,
            },
        );
    }

    /// The node (End) SID of a router.
    pub fn end(&self, router: RouterIx) -> Ipv6Addr {
        self.end[router.index()]
    }

    /// The End.X SID `router` owns for crossing `link`; `None` if the router is
    /// not an end of the link.
    pub fn end_x(&self, router: RouterIx, link: LinkIx) -> Option<Ipv6Addr> {
        let (a, b) = *self.ends.get(link.index())?;
        let sids = self.end_x[link.index()];
        if router == a {
            Some(sids[0])
        } else if router == b {
            Some(sids[1])
        } else {
            None
        }
    }

    /// The End.DT6 SID of `router` into `datacenter`; `None` if the data center
    /// is not attached to that router.
    pub fn end_dt6(&self, router: RouterIx, datacenter: DatacenterIx) -> Option<Ipv6Addr> {
        self.dt6.get(&(router, datacenter)).copied()
    }

    /// The router's own End.DT6 SID: decapsulation into its main table,
    /// the last segment of every path pinned to the router.
    pub fn own_dt6(&self, router: RouterIx) -> Ipv6Addr {
        self.own_dt6[router.index()]
    }

    /// What a SID means, if it is one of this topology's.
    pub fn lookup(&self, addr: Ipv6Addr) -> Option<&Sid> {
        self.by_addr.get(&addr)
    }

    /// Every SID of one router, in address order.
    pub fn of_router(&self, router: RouterIx) -> Vec<Sid> {
        let mut sids: Vec<Sid> = self
            .by_addr
            .values()
            .filter(|s| s.router == router)
            .copied()
            .collect();
        sids.sort_by_key(|s| s.addr);
        sids
    }

    /// How many SIDs there are in all.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// True when the topology has no SIDs (never, for a valid topology).
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_field_follows_the_locator() {
        let loc: Ipv6Network = "fc00:a:2::/48".parse().unwrap();
        assert_eq!(
            sid_in_locator(loc, 0),
            "fc00:a:2::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            sid_in_locator(loc, 0xe001),
            "fc00:a:2:e001::".parse::<Ipv6Addr>().unwrap()
        );
        let loc64: Ipv6Network = "2001:db8:1:2::/64".parse().unwrap();
        assert_eq!(
            sid_in_locator(loc64, 0xd000),
            "2001:db8:1:2:d000::".parse::<Ipv6Addr>().unwrap()
        );
        let loc16: Ipv6Network = "fc00::/16".parse().unwrap();
        assert_eq!(
            sid_in_locator(loc16, 0xe002),
            "fc00:e002::".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn behaviors_carry_rfc8986_codepoints() {
        assert_eq!(Behavior::End.codepoint(), 1);
        assert_eq!(Behavior::EndX.codepoint(), 5);
        assert_eq!(Behavior::EndDt6.codepoint(), 18);
        assert_eq!(Behavior::from_codepoint(18), Some(Behavior::EndDt6));
        assert_eq!(Behavior::from_codepoint(2), None);
        assert_eq!("End.X".parse::<Behavior>(), Ok(Behavior::EndX));
        assert!("End.DT4".parse::<Behavior>().is_err());
    }
}
