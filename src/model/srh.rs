//! The IPv6 Segment Routing Header of RFC 8754, as a headend writes it with
//! H.Encaps (RFC 8986, section 5.1): bytes, parsing, and overhead.
//!
//! ```text
//!  0                   1                   2                   3
//! | Next Header   |  Hdr Ext Len  | Routing Type=4| Segments Left |
//! |  Last Entry   |     Flags     |              Tag              |
//! |            Segment List[0] (128 bits, the LAST segment)       |
//! |                              ...                              |
//! |            Segment List[n-1] (the FIRST segment)              |
//! ```

use std::net::Ipv6Addr;

/// IPv6 routing header type of the SRH (RFC 8754, section 2).
pub const ROUTING_TYPE_SRH: u8 = 4;
/// IPv6 next-header value of an encapsulated IPv6 packet.
pub const NEXT_HEADER_IPV6: u8 = 41;
/// Bytes of the outer IPv6 header H.Encaps adds.
pub const IPV6_HEADER_LEN: usize = 40;
/// Bytes of the fixed part of an SRH.
pub const SRH_FIXED_LEN: usize = 8;
/// The most segments an SRH can hold: Hdr Ext Len counts the segment list
/// in 8-octet units in 8 bits, so 2n <= 255. (Last Entry alone would allow
/// 256; 128 segments wrote a Hdr Ext Len of 0, found by fuzzing.)
pub const MAX_SEGMENTS: usize = 127;

/// Why a segment list cannot become an SRH, or bytes are not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrhError {
    /// An SRH holds at least one segment.
    #[error("a segment list needs at least one segment")]
    Empty,
    /// Last Entry is 8 bits and Hdr Ext Len too.
    #[error("{0} segments do not fit in one SRH (at most {MAX_SEGMENTS})")]
    TooLong(usize),
    /// Fewer bytes than the header says.
    #[error("SRH truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes the header announces.
        need: usize,
        /// Bytes given.
        have: usize,
    },
    /// The routing type is not 4.
    #[error("routing type {0} is not an SRH (4)")]
    NotSrh(u8),
    /// Hdr Ext Len, Last Entry and Segments Left disagree.
    #[error("inconsistent SRH: {0}")]
    Inconsistent(&'static str),
}

/// A decoded SRH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srh {
    /// Protocol of what follows the SRH.
    pub next_header: u8,
    /// Index of the active segment in `segment_list`.
    pub segments_left: u8,
    /// Flags byte (no flags are defined by RFC 8754).
    pub flags: u8,
    /// Tag field.
    pub tag: u16,
    /// Segment List[0..n], in wire order: `[0]` is the last segment.
    pub segment_list: Vec<Ipv6Addr>,
}

impl Srh {
    /// The SRH a headend pushes for `segments` (in travel order: first segment
    /// first), before any of them is processed.
    pub fn for_segments(segments: &[Ipv6Addr], next_header: u8) -> Result<Srh, SrhError> {
        if segments.is_empty() {
            return Err(SrhError::Empty);
        }
        if segments.len() > MAX_SEGMENTS {
            return Err(SrhError::TooLong(segments.len()));
        }
        Ok(Srh {
            next_header,
            segments_left: (segments.len() - 1) as u8,
            flags: 0,
            tag: 0,
            segment_list: segments.iter().rev().copied().collect(),
        })
    }

    /// The segments in travel order (first segment first).
    pub fn segments(&self) -> Vec<Ipv6Addr> {
        self.segment_list.iter().rev().copied().collect()
    }

    /// Wire bytes: 8 + 16n.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.segment_list.len();
        let mut out = Vec::with_capacity(srh_len(n));
        out.push(self.next_header);
        out.push((2 * n) as u8); // Hdr Ext Len: 8-octet units after the first 8
        out.push(ROUTING_TYPE_SRH);
        out.push(self.segments_left);
        out.push((n - 1) as u8); // Last Entry
        out.push(self.flags);
        out.extend_from_slice(&self.tag.to_be_bytes());
        for sid in &self.segment_list {
            out.extend_from_slice(&sid.octets());
        }
        out
    }

    /// Parses an SRH from the start of `bytes` (TLVs after the segment list are
    /// skipped). Checks the routing type and that the length fields agree.
    pub fn parse(bytes: &[u8]) -> Result<Srh, SrhError> {
        if bytes.len() < SRH_FIXED_LEN {
            return Err(SrhError::Truncated {
                need: SRH_FIXED_LEN,
                have: bytes.len(),
            });
        }
        let total = SRH_FIXED_LEN + 8 * usize::from(bytes[1]);
        if bytes.len() < total {
            return Err(SrhError::Truncated {
                need: total,
                have: bytes.len(),
            });
        }
        if bytes[2] != ROUTING_TYPE_SRH {
            return Err(SrhError::NotSrh(bytes[2]));
        }
        let n = usize::from(bytes[4]) + 1;
        if srh_len(n) > total {
            return Err(SrhError::Inconsistent("Last Entry beyond Hdr Ext Len"));
        }
        if usize::from(bytes[3]) >= n {
            return Err(SrhError::Inconsistent("Segments Left beyond Last Entry"));
        }
        let segment_list = bytes[SRH_FIXED_LEN..srh_len(n)]
            .chunks_exact(16)
            .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).expect("chunk of 16")))
            .collect();
        Ok(Srh {
            next_header: bytes[0],
            segments_left: bytes[3],
            flags: bytes[5],
            tag: u16::from_be_bytes([bytes[6], bytes[7]]),
            segment_list,
        })
    }
}

/// Bytes of an SRH carrying `n` segments: 8 + 16n.
pub fn srh_len(n: usize) -> usize {
    SRH_FIXED_LEN + 16 * n
}

/// Bytes H.Encaps adds to every packet for `n` segments: 40 + 8 + 16n.
pub fn encap_overhead(n: usize) -> usize {
    IPV6_HEADER_LEN + srh_len(n)
}

/// Bytes H.Encaps.Red (RFC 8986 5.2) adds for `n` SRH entries: the first
/// entry travels only in the outer destination address, so one entry needs
/// no SRH at all (40 bytes), and `n` entries an SRH of `n - 1`.
pub fn encap_red_overhead(n: usize) -> usize {
    match n {
        0 | 1 => IPV6_HEADER_LEN,
        _ => IPV6_HEADER_LEN + srh_len(n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn two_segments_encode_to_hand_computed_bytes() {
        // Travel order: first fc00:a:2::, then fc00:b:3:d000::
        let srh =
            Srh::for_segments(&[a("fc00:a:2::"), a("fc00:b:3:d000::")], NEXT_HEADER_IPV6).unwrap();
        let bytes = srh.to_bytes();
        #[rustfmt::skip]
        let expected: Vec<u8> = vec![
            41, 4, 4, 1,      // next header IPv6, hdr ext len 2*2, type 4, segments left 1
            1, 0, 0, 0,       // last entry 1, flags 0, tag 0
            // Segment List[0] = the last segment, fc00:b:3:d000::
            0xfc, 0x00, 0x00, 0x0b, 0x00, 0x03, 0xd0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
            // Segment List[1] = the first segment, fc00:a:2::
            0xfc, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), srh_len(2));
    }

    #[test]
    fn one_segment_has_zero_segments_left() {
        let bytes = Srh::for_segments(&[a("2001:db8::1")], 59)
            .unwrap()
            .to_bytes();
        assert_eq!(&bytes[..8], &[59, 2, 4, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[8..], &a("2001:db8::1").octets());
    }

    #[test]
    fn parse_inverts_encode() {
        let segs: Vec<Ipv6Addr> = (1..=5u16)
            .map(|i| Ipv6Addr::new(0xfc00, i, 0, 0, 0, 0, 0, 0))
            .collect();
        let srh = Srh::for_segments(&segs, NEXT_HEADER_IPV6).unwrap();
        let back = Srh::parse(&srh.to_bytes()).unwrap();
        assert_eq!(back, srh);
        assert_eq!(back.segments(), segs);
        assert_eq!(back.segments_left, 4);
    }

    #[test]
    fn bad_bytes_are_refused() {
        assert_eq!(Srh::for_segments(&[], 41), Err(SrhError::Empty));
        // Hdr Ext Len 2n must fit in 8 bits: 127 segments at most (the
        // fuzzer found 128 written as Hdr Ext Len 0).
        assert_eq!(
            Srh::for_segments(&vec![Ipv6Addr::LOCALHOST; 128], 41),
            Err(SrhError::TooLong(128))
        );
        let widest = Srh::for_segments(&vec![Ipv6Addr::LOCALHOST; 127], 41).unwrap();
        let bytes = widest.to_bytes();
        assert_eq!((bytes[1], bytes.len()), (254, 8 + 16 * 127));
        assert_eq!(Srh::parse(&bytes), Ok(widest));
        assert!(matches!(
            Srh::parse(&[41, 2, 4]),
            Err(SrhError::Truncated { .. })
        ));
        let mut bytes = Srh::for_segments(&[Ipv6Addr::LOCALHOST], 41)
            .unwrap()
            .to_bytes();
        bytes[2] = 0;
        assert_eq!(Srh::parse(&bytes), Err(SrhError::NotSrh(0)));
        bytes[2] = 4;
        bytes[3] = 1; // segments left 1 with a single segment
        assert!(matches!(Srh::parse(&bytes), Err(SrhError::Inconsistent(_))));
        bytes[3] = 0;
        bytes[4] = 3; // last entry 3 in a 1-segment header
        assert!(matches!(Srh::parse(&bytes), Err(SrhError::Inconsistent(_))));
    }

    #[test]
    fn overhead_is_40_plus_8_plus_16n() {
        assert_eq!(encap_overhead(1), 64);
        assert_eq!(encap_overhead(3), 96);
        assert_eq!(encap_overhead(10), 208);
    }

    #[test]
    fn reduced_encapsulation_drops_the_first_entry_from_the_srh() {
        assert_eq!(encap_red_overhead(1), 40);
        assert_eq!(encap_red_overhead(2), 40 + 8 + 16);
        assert_eq!(encap_red_overhead(3), 40 + 8 + 32);
    }
}
