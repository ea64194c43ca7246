//! The prefixes policies steer into: behind a data center (its service
//! prefix) or behind a router (the site a policy pinned to the router is
//! for). Declared in the topology, or derived from the id, so that they
//! never move when something else is added or removed.

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

/// Whose prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A data center's: derived ones lie in `fddc::/16`.
    Datacenter,
    /// A router's: derived ones lie in `fded::/16`.
    Router,
}

/// The prefix of something that declares none: `fddc:H:H:H::/64` for a
/// data center, `fded:H:H:H::/64` for a router, where `H:H:H` is the low 48
/// bits of the 64-bit FNV-1a hash of the id. Unique local addresses
/// (RFC 4193) outside the locators the examples use, so the IGP never
/// carries them; two ids with the same hash (about one chance in 100,000
/// among 50,000 ids) are refused at load, asking for a declared `prefix`.
pub fn derived_prefix(kind: Kind, id: &str) -> Ipv6Network {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let first = match kind {
        Kind::Datacenter => 0xfddc,
        Kind::Router => 0xfded,
    };
    let addr = Ipv6Addr::new(
        first,
        (hash >> 32) as u16,
        (hash >> 16) as u16,
        hash as u16,
        0,
        0,
        0,
        0,
    );
    Ipv6Network::new(addr, 64).expect("64 is a valid length")
}
