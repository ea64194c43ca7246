//! Compressed SRv6 SIDs (RFC 9800, NEXT-C-SID flavor, "micro-SIDs"): an
//! operator's Locator-Block, each router's node micro-SID in it, and the
//! local micro-SIDs (adjacencies, decapsulation) allocated deterministically.
//!
//! A container is one 128-bit address: the block (`LBL` bits) followed by up
//! to `(128 - LBL) / LNFL` micro-SIDs of `LNFL` bits each, the active one
//! first, zero-filled after the last. A router that owns the active
//! micro-SID shifts the rest left by `LNFL` bits and looks the address up
//! again; when nothing is left (the argument is zero) it processes the SRH
//! as usual.
//!
//! Micro-SID values of a block of `LNFL = n` bits:
//!
//! | range | meaning |
//! |---|---|
//! | `1 .. 7/8 * 2^n` | node micro-SIDs (uN), global: routed to their router |
//! | `7/8 * 2^n` | the router's own uDT6 (decapsulation into its main table) |
//! | `7/8 * 2^n + 1 + k` | uA of the router's `k`-th link (links in id order) |
//! | `15/16 * 2^n + k` | uDT6 into the `k`-th attached data center (ids in order) |
//!
//! With the default `LNFL` 16 that is uN `0x0001..0xdfff`, own uDT6
//! `0xe000`, uA from `0xe001`, data center uDT6 from `0xf000`. Local
//! values mean something only at their router, so a uA or uDT6 is only ever
//! the active micro-SID of a packet that is already at that router.

use std::fmt;
use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use super::datacenter::DatacenterIx;
use super::topology::{LinkIx, RouterIx, Topology};

/// Default Locator-Node + Function length (LNFL), bits.
pub const DEFAULT_LNFL: u8 = 16;

/// The value of one micro-SID (at most 32 bits: CPN allows LNFL 8..=32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroSid(pub u32);

impl fmt::Display for MicroSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// An operator's NEXT-C-SID Locator-Block and micro-SID length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CsidBlock {
    /// The Locator-Block; its length is the LBL.
    pub block: Ipv6Network,
    /// Locator-Node + Function length, bits.
    pub lnfl: u8,
}

impl CsidBlock {
    /// The Locator-Block length, bits.
    pub fn lbl(&self) -> u8 {
        self.block.prefix()
    }

    /// How many micro-SIDs one container holds.
    pub fn per_container(&self) -> usize {
        usize::from(128 - self.lbl()) / usize::from(self.lnfl.max(1))
    }

    /// How many distinct values a micro-SID has.
    pub fn space(&self) -> u64 {
        1u64 << self.lnfl
    }

    /// First local value (the router's own uDT6); node micro-SIDs are below.
    pub fn local_base(&self) -> u32 {
        (self.space() / 8 * 7) as u32
    }

    /// First data center uDT6 value; uA values lie between the own uDT6
    /// and this.
    pub fn datacenter_base(&self) -> u32 {
        (self.space() / 16 * 15) as u32
    }

    /// How many uA values a router has.
    pub fn max_adjacencies(&self) -> usize {
        (self.datacenter_base() - self.local_base() - 1) as usize
    }

    /// How many data center uDT6 values a router has.
    pub fn max_datacenters(&self) -> usize {
        (self.space() - u64::from(self.datacenter_base())) as usize
    }

    /// True when `v` can be a node micro-SID (uN) of this block.
    pub fn is_node_value(&self, v: MicroSid) -> bool {
        v.0 != 0 && v.0 < self.local_base()
    }

    /// The container carrying `csids` in order (the first one active),
    /// zero-filled after the last. Callers keep `csids.len()` within
    /// [`per_container`](Self::per_container).
    pub fn container(&self, csids: &[MicroSid]) -> Ipv6Addr {
        let mut bits = u128::from(self.block.network());
        let mut shift = 128 - u32::from(self.lbl());
        for c in csids {
            shift -= u32::from(self.lnfl);
            bits |= u128::from(c.0) << shift;
        }
        Ipv6Addr::from(bits)
    }

    /// The address of one micro-SID alone (what its router installs).
    pub fn address(&self, csid: MicroSid) -> Ipv6Addr {
        self.container(&[csid])
    }

    /// The prefix a router installs for `csid`: block + micro-SID.
    pub fn prefix(&self, csid: MicroSid) -> Ipv6Network {
        Ipv6Network::new(self.address(csid), self.lbl() + self.lnfl).expect("LBL + LNFL <= 128")
    }

    /// The active micro-SID of `addr` when it lies in this block.
    pub fn active(&self, addr: Ipv6Addr) -> Option<MicroSid> {
        if !self.block.contains(addr) {
            return None;
        }
        let shift = 128 - u32::from(self.lbl()) - u32::from(self.lnfl);
        let mask = (1u128 << self.lnfl) - 1;
        Some(MicroSid(((u128::from(addr) >> shift) & mask) as u32))
    }

    /// The address after its router consumed the active micro-SID: the
    /// rest shifted left by LNFL, zero-filled; `None` when the argument
    /// (everything after the active micro-SID) is zero, i.e. the container
    /// is done and the SRH decides what comes next.
    pub fn next(&self, addr: Ipv6Addr) -> Option<Ipv6Addr> {
        let lbl = u32::from(self.lbl());
        let after = 128 - lbl - u32::from(self.lnfl);
        let arg_mask = if after == 0 {
            0
        } else {
            u128::MAX >> (128 - after)
        };
        let bits = u128::from(addr);
        let argument = bits & arg_mask;
        if argument == 0 {
            return None;
        }
        let block_mask = !(u128::MAX >> lbl);
        Some(Ipv6Addr::from(
            (bits & block_mask) | ((argument << self.lnfl) & !block_mask),
        ))
    }

    /// The uDT6 of a router into its own main table.
    pub fn own_dt6(&self) -> MicroSid {
        MicroSid(self.local_base())
    }

    /// The uA of a router's `rank`-th link (links in id order).
    pub fn adjacency(&self, rank: usize) -> MicroSid {
        MicroSid(self.local_base() + 1 + rank as u32)
    }

    /// The uDT6 into a router's `rank`-th attached data center.
    pub fn datacenter(&self, rank: usize) -> MicroSid {
        MicroSid(self.datacenter_base() + rank as u32)
    }
}

/// A router's compressed SIDs, when it takes part in NEXT-C-SID.
impl Topology {
    /// The block `router` uses micro-SIDs in: its operator's, when the
    /// operator declares one and the router has a node micro-SID.
    pub fn csid_block(&self, router: RouterIx) -> Option<&CsidBlock> {
        let r = self.router(router);
        r.usid?;
        self.operator(r.operator).csid.as_ref()
    }

    /// The router's node micro-SID (uN), when it supports compression.
    pub fn usid_end(&self, router: RouterIx) -> Option<MicroSid> {
        self.csid_block(router)?;
        self.router(router).usid
    }

    /// The uA `router` owns for crossing `link`.
    pub fn usid_end_x(&self, router: RouterIx, link: LinkIx) -> Option<MicroSid> {
        let block = self.csid_block(router)?;
        let rank = self
            .adjacencies(router)
            .iter()
            .position(|a| a.link == link)?;
        Some(block.adjacency(rank))
    }

    /// The uDT6 of `router`: into `datacenter` when given (one of its
    /// attached data centers), else into its main table.
    pub fn usid_dt6(&self, router: RouterIx, datacenter: Option<DatacenterIx>) -> Option<MicroSid> {
        let block = self.csid_block(router)?;
        match datacenter {
            None => Some(block.own_dt6()),
            Some(dc) => {
                let rank = self.datacenters_at(router).iter().position(|&d| d == dc)?;
                Some(block.datacenter(rank))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f3216() -> CsidBlock {
        CsidBlock {
            block: "fc00::/32".parse().unwrap(),
            lnfl: 16,
        }
    }

    #[test]
    fn f3216_packs_six_micro_sids_in_the_documented_ranges() {
        let b = f3216();
        assert_eq!(b.per_container(), 6);
        assert_eq!(b.local_base(), 0xe000);
        assert_eq!(b.adjacency(0), MicroSid(0xe001));
        assert_eq!(b.datacenter(2), MicroSid(0xf002));
        assert_eq!(b.max_adjacencies(), 0xfff);
        assert_eq!(b.max_datacenters(), 0x1000);
        assert!(b.is_node_value(MicroSid(0x300)) && !b.is_node_value(MicroSid(0xe000)));
        let c = b.container(&[MicroSid(0x200), MicroSid(0x300), MicroSid(0xe001)]);
        assert_eq!(c, "fc00:0:200:300:e001::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(b.prefix(MicroSid(0x300)).to_string(), "fc00:0:300::/48");
    }

    #[test]
    fn next_shifts_by_lnfl_and_stops_at_a_zero_argument() {
        let b = f3216();
        let c = b.container(&[MicroSid(0x200), MicroSid(0x300), MicroSid(0x306)]);
        assert_eq!(b.active(c), Some(MicroSid(0x200)));
        let c = b.next(c).unwrap();
        assert_eq!(c, "fc00:0:300:306::".parse::<Ipv6Addr>().unwrap());
        let c = b.next(c).unwrap();
        assert_eq!(b.active(c), Some(MicroSid(0x306)));
        assert_eq!(b.next(c), None);
        let full: Vec<MicroSid> = (1..=6).map(MicroSid).collect();
        let mut c = b.container(&full);
        for want in 2..=6 {
            c = b.next(c).unwrap();
            assert_eq!(b.active(c), Some(MicroSid(want)));
        }
        assert_eq!(b.next(c), None);
        assert_eq!(b.active("fc01::".parse().unwrap()), None);
    }

    #[test]
    fn other_block_and_length_pairs_work() {
        let b = CsidBlock {
            block: "fc00:0:1::/48".parse().unwrap(),
            lnfl: 32,
        };
        assert_eq!(b.per_container(), 2);
        let c = b.container(&[MicroSid(7), MicroSid(9)]);
        assert_eq!(c, "fc00:0:1:0:7:0:9:0".parse::<Ipv6Addr>().unwrap());
        assert_eq!(b.active(b.next(c).unwrap()), Some(MicroSid(9)));
        let b = CsidBlock {
            block: "fc00::/64".parse().unwrap(),
            lnfl: 16,
        };
        assert_eq!(b.per_container(), 4);
        assert_eq!(
            b.next(b.container(&[MicroSid(1); 4])).map(|a| b.active(a)),
            Some(Some(MicroSid(1)))
        );
    }
}
