//! UPDATE messages for BGP-LS (RFC 4271 4.3, RFC 4760): path attributes,
//! MP_REACH_NLRI / MP_UNREACH_NLRI of AFI 16388 / SAFI 71, the BGP-LS
//! attribute, End-of-RIB (RFC 4724 2), and the error actions of RFC 7606:
//!
//! - lengths that do not add up (withdrawn routes, the attribute list, an
//!   attribute past the list), or MP_REACH / MP_UNREACH present twice:
//!   session reset, NOTIFICATION 3/1 (malformed attribute list);
//! - an MP_REACH / MP_UNREACH of BGP-LS whose NLRI do not parse: session
//!   reset, NOTIFICATION 3/9 (optional attribute error) with the attribute
//!   as data (RFC 4271 6.3) — the only family on the session cannot be
//!   disabled alone;
//! - a BGP-LS attribute whose TLVs overrun it: attribute discard (the NLRI
//!   stay, without attributes);
//! - ORIGIN missing or malformed, or AS_PATH missing, with MP_REACH:
//!   treat-as-withdraw.
//!
//! Other families' NLRI (none is negotiated) are ignored.

use super::attr::LsAttribute;
use super::nlri::Nlri;
use super::{AFI_LS, Reader, SAFI_LS, WireError};

/// Path attribute type codes.
pub mod attr_type {
    /// ORIGIN
    pub const ORIGIN: u8 = 1;
    /// AS_PATH
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP
    pub const NEXT_HOP: u8 = 3;
    /// LOCAL_PREF
    pub const LOCAL_PREF: u8 = 5;
    /// MP_REACH_NLRI
    pub const MP_REACH: u8 = 14;
    /// MP_UNREACH_NLRI
    pub const MP_UNREACH: u8 = 15;
    /// BGP-LS attribute
    pub const BGP_LS: u8 = 29;
}

/// What an UPDATE said about BGP-LS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// NLRI announced (MP_REACH_NLRI), sharing [`Update::attribute`].
    pub reach: Vec<Nlri>,
    /// The next hop of MP_REACH_NLRI, as sent.
    pub next_hop: Vec<u8>,
    /// NLRI withdrawn (MP_UNREACH_NLRI), and announced ones treated as
    /// withdrawn.
    pub withdraw: Vec<Nlri>,
    /// The BGP-LS attribute.
    pub attribute: Option<LsAttribute>,
    /// ORIGIN.
    pub origin: Option<u8>,
    /// AS_PATH, as sent.
    pub as_path: Option<Vec<u8>>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// An End-of-RIB marker for BGP-LS.
    pub end_of_rib: bool,
    /// A BGP-LS attribute was dropped (its TLVs overran it).
    pub attribute_discarded: bool,
    /// The announced NLRI were treated as withdrawn (ORIGIN or AS_PATH
    /// missing or malformed).
    pub treated_as_withdraw: bool,
    /// Routes of another family were ignored.
    pub other_family: bool,
}

fn malformed(reason: impl Into<String>) -> WireError {
    WireError::new(3, 1, reason)
}

impl Update {
    /// Reads an UPDATE body (after the header).
    pub fn decode(body: &[u8]) -> Result<Update, WireError> {
        let mut r = Reader::new(body);
        let withdrawn_len = r
            .u16()
            .ok_or_else(|| malformed("no withdrawn routes length"))?;
        let withdrawn = r.take(usize::from(withdrawn_len)).ok_or_else(|| {
            malformed(format!(
                "withdrawn routes length {withdrawn_len} overruns the message"
            ))
        })?;
        let attrs_len = r
            .u16()
            .ok_or_else(|| malformed("no path attribute length"))?;
        let attrs = r.take(usize::from(attrs_len)).ok_or_else(|| {
            malformed(format!(
                "path attribute length {attrs_len} overruns the message"
            ))
        })?;
        let mut u = Update {
            other_family: !withdrawn.is_empty() || !r.is_empty(),
            ..Default::default()
        };
        let mut seen = [false; 256];
        let mut a = Reader::new(attrs);
        let mut only_unreach = true;
        let mut unreach_empty_ls = false;
        let mut origin_bad = false;
        while !a.is_empty() {
            let flags = a.u8().ok_or_else(|| malformed("attribute header cut"))?;
            let kind = a.u8().ok_or_else(|| malformed("attribute header cut"))?;
            let len = if flags & 0x10 != 0 {
                a.u16()
            } else {
                a.u8().map(u16::from)
            }
            .ok_or_else(|| malformed("attribute length cut"))?;
            let value = a.take(usize::from(len)).ok_or_else(|| {
                malformed(format!(
                    "attribute {kind} of length {len} overruns the attribute list"
                ))
            })?;
            if seen[usize::from(kind)] {
                if matches!(kind, attr_type::MP_REACH | attr_type::MP_UNREACH) {
                    return Err(malformed(format!("attribute {kind} twice")));
                }
                // RFC 7606 3(g): keep the first.
                continue;
            }
            seen[usize::from(kind)] = true;
            only_unreach &= kind == attr_type::MP_UNREACH;
            let whole = || {
                let mut v = vec![flags, kind];
                if flags & 0x10 != 0 {
                    v.extend_from_slice(&len.to_be_bytes());
                } else {
                    v.push(len as u8);
                }
                v.extend_from_slice(value);
                v
            };
            let bad_mp = |reason: String| WireError::new(3, 9, reason).with_data(whole());
            match kind {
                attr_type::ORIGIN => match value {
                    [o] if *o <= 2 => u.origin = Some(*o),
                    _ => origin_bad = true,
                },
                attr_type::AS_PATH => u.as_path = Some(value.to_vec()),
                attr_type::LOCAL_PREF => {
                    u.local_pref = super::exact::<4>(value).map(u32::from_be_bytes)
                }
                attr_type::MP_REACH => {
                    let mut m = Reader::new(value);
                    let cut = || bad_mp("MP_REACH_NLRI cut short".into());
                    let afi = m.u16().ok_or_else(cut)?;
                    let safi = m.u8().ok_or_else(cut)?;
                    let nh_len = m.u8().ok_or_else(cut)?;
                    let nh = m.take(usize::from(nh_len)).ok_or_else(cut)?;
                    m.u8().ok_or_else(cut)?;
                    if (afi, safi) == (AFI_LS, SAFI_LS) {
                        u.next_hop = nh.to_vec();
                        u.reach = Nlri::decode_all(m.rest())
                            .map_err(|e| bad_mp(format!("MP_REACH_NLRI: {e}")))?;
                    } else {
                        u.other_family = true;
                    }
                }
                attr_type::MP_UNREACH => {
                    let mut m = Reader::new(value);
                    let cut = || bad_mp("MP_UNREACH_NLRI cut short".into());
                    let afi = m.u16().ok_or_else(cut)?;
                    let safi = m.u8().ok_or_else(cut)?;
                    if (afi, safi) == (AFI_LS, SAFI_LS) {
                        let rest = m.rest();
                        unreach_empty_ls = rest.is_empty();
                        u.withdraw = Nlri::decode_all(rest)
                            .map_err(|e| bad_mp(format!("MP_UNREACH_NLRI: {e}")))?;
                    } else {
                        u.other_family = true;
                    }
                }
                attr_type::BGP_LS => match LsAttribute::decode(value) {
                    Ok(attr) => u.attribute = Some(attr),
                    Err(_) => u.attribute_discarded = true,
                },
                _ => {}
            }
        }
        u.end_of_rib = only_unreach && unreach_empty_ls && seen[usize::from(attr_type::MP_UNREACH)];
        if !u.reach.is_empty() && (origin_bad || u.origin.is_none() || u.as_path.is_none()) {
            u.treated_as_withdraw = true;
            let reach = std::mem::take(&mut u.reach);
            u.withdraw.extend(reach);
            u.attribute = None;
        }
        Ok(u)
    }

    /// Writes the body: ORIGIN, AS_PATH, LOCAL_PREF, MP_REACH_NLRI,
    /// MP_UNREACH_NLRI, BGP-LS attribute, as present.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut attrs = Vec::new();
        if let Some(o) = self.origin {
            put_attr(&mut attrs, 0x40, attr_type::ORIGIN, &[o]);
        }
        if let Some(p) = &self.as_path {
            put_attr(&mut attrs, 0x40, attr_type::AS_PATH, p);
        }
        if let Some(lp) = self.local_pref {
            put_attr(&mut attrs, 0x40, attr_type::LOCAL_PREF, &lp.to_be_bytes());
        }
        if !self.reach.is_empty() {
            let mut v = AFI_LS.to_be_bytes().to_vec();
            v.push(SAFI_LS);
            v.push(self.next_hop.len() as u8);
            v.extend_from_slice(&self.next_hop);
            v.push(0);
            for n in &self.reach {
                n.encode(&mut v);
            }
            put_attr(&mut attrs, 0x80, attr_type::MP_REACH, &v);
        }
        if !self.withdraw.is_empty() || self.end_of_rib {
            let mut v = AFI_LS.to_be_bytes().to_vec();
            v.push(SAFI_LS);
            for n in &self.withdraw {
                n.encode(&mut v);
            }
            put_attr(&mut attrs, 0x80, attr_type::MP_UNREACH, &v);
        }
        if let Some(a) = &self.attribute {
            put_attr(&mut attrs, 0x80, attr_type::BGP_LS, &a.encode());
        }
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        out.extend_from_slice(&attrs);
    }

    /// An announcement of `nlri` with `attribute` (ORIGIN IGP, the AS_PATH
    /// `as_path` of four-octet ASNs, next hop `next_hop`).
    pub fn announce(
        nlri: Vec<Nlri>,
        attribute: Option<LsAttribute>,
        as_path: &[u32],
        next_hop: std::net::IpAddr,
    ) -> Update {
        Update {
            reach: nlri,
            next_hop: match next_hop {
                std::net::IpAddr::V4(a) => a.octets().to_vec(),
                std::net::IpAddr::V6(a) => a.octets().to_vec(),
            },
            attribute,
            origin: Some(0),
            as_path: Some(as_path_bytes(as_path)),
            ..Default::default()
        }
    }

    /// A withdrawal of `nlri`.
    pub fn withdrawal(nlri: Vec<Nlri>) -> Update {
        Update {
            withdraw: nlri,
            ..Default::default()
        }
    }

    /// The End-of-RIB marker of BGP-LS.
    pub fn end_of_rib() -> Update {
        Update {
            end_of_rib: true,
            ..Default::default()
        }
    }
}

/// One AS_SEQUENCE of four-octet ASNs (empty path: no segment).
pub fn as_path_bytes(asns: &[u32]) -> Vec<u8> {
    let mut v = Vec::new();
    for chunk in asns.chunks(255) {
        v.push(2);
        v.push(chunk.len() as u8);
        for a in chunk {
            v.extend_from_slice(&a.to_be_bytes());
        }
    }
    v
}

/// Appends a path attribute, with the extended-length flag when the value
/// needs it.
fn put_attr(out: &mut Vec<u8>, flags: u8, kind: u8, value: &[u8]) {
    if value.len() > 255 {
        out.extend_from_slice(&[flags | 0x10, kind]);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&[flags, kind, value.len() as u8]);
    }
    out.extend_from_slice(value);
}
