//! The BGP and BGP-LS wire format, sans I/O: bytes in, typed messages out,
//! and back. Nothing here reads a socket or a clock.
//!
//! - [`message`]: the 19-byte header, OPEN with its capabilities,
//!   NOTIFICATION, KEEPALIVE (RFC 4271, RFC 5492, RFC 6793, RFC 4724);
//! - [`update`]: UPDATE with MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760),
//!   End-of-RIB, and the error actions of RFC 7606;
//! - [`nlri`]: BGP-LS NLRI (RFC 9552 node, link, prefix; RFC 9514 SRv6 SID)
//!   and their descriptor TLVs;
//! - [`attr`]: the BGP-LS attribute (type 29) and its TLVs, RFC 8571 delay
//!   and loss and RFC 9514 SRv6 TLVs included.
//!
//! Decoding never panics: every read is checked, and a malformed message
//! becomes a [`WireError`] carrying the NOTIFICATION to send. What the
//! decoder does not understand (TLVs, NLRI types, capabilities) is kept raw
//! and counted, never an error (RFC 9552 5.1). Encoders write canonical
//! forms (descriptor TLVs in ascending order): decoding what they write gives
//! the same value back.

pub mod attr;
pub mod message;
pub mod nlri;
pub mod update;

#[cfg(test)]
pub(crate) mod tests;

/// Address family identifier of BGP-LS (RFC 9552).
pub const AFI_LS: u16 = 16388;
/// Subsequent address family identifier of BGP-LS.
pub const SAFI_LS: u8 = 71;
/// Largest message without the Extended Message capability (RFC 4271).
pub const MAX_MESSAGE: usize = 4096;
/// The BGP header: marker, length, type.
pub const HEADER: usize = 19;
/// AS_TRANS (RFC 6793): "My AS" of an OPEN whose AS does not fit in 16 bits.
pub const AS_TRANS: u16 = 23456;

/// A message that cannot be accepted, and the NOTIFICATION that says so
/// (RFC 4271 section 6).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (NOTIFICATION {code}/{subcode})")]
pub struct WireError {
    /// Error code (1 header, 2 OPEN, 3 UPDATE, 4 hold timer, 5 FSM, 6 cease).
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// The data field of the NOTIFICATION.
    pub data: Vec<u8>,
    /// What was wrong, for logs and status.
    pub reason: String,
}

impl WireError {
    /// An error with an empty data field.
    pub fn new(code: u8, subcode: u8, reason: impl Into<String>) -> Self {
        WireError {
            code,
            subcode,
            data: Vec::new(),
            reason: reason.into(),
        }
    }

    /// The same error with `data` in the NOTIFICATION.
    pub fn with_data(mut self, data: Vec<u8>) -> Self {
        self.data = data;
        self
    }

    /// The NOTIFICATION that reports it.
    pub fn notification(&self) -> message::Notification {
        message::Notification {
            code: self.code,
            subcode: self.subcode,
            data: self.data.clone(),
        }
    }
}

/// A TLV as found on the wire: type and value. What the decoder does not
/// understand is kept in this form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tlv {
    /// The type code.
    pub kind: u16,
    /// The value bytes.
    pub value: Vec<u8>,
}

impl Tlv {
    /// A TLV of `kind` holding `value`.
    pub fn new(kind: u16, value: impl Into<Vec<u8>>) -> Self {
        Tlv {
            kind,
            value: value.into(),
        }
    }

    /// Appends the TLV (4-byte header, then the value) to `out`. Values
    /// longer than 65,535 bytes cannot be written; callers never build them
    /// (a message is at most 4,096 bytes).
    pub fn write(&self, out: &mut Vec<u8>) {
        put_tlv(out, self.kind, &self.value);
    }
}

/// Appends a TLV of `kind` with `value` to `out`.
pub fn put_tlv(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(value.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// A checked cursor over bytes: every read returns `None` instead of
/// panicking when the bytes run out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| b.try_into().ok())
    }
}

/// A TLV whose length runs past its container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overrun {
    /// The type of the TLV that overran (0 when even its header was cut).
    pub kind: u16,
}

/// The TLVs of `buf`, back to back: `(type, value)` each, or [`Overrun`]
/// (and nothing after it) when a length runs past the end.
pub(crate) fn tlvs(buf: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8]), Overrun>> {
    let mut r = Reader::new(buf);
    let mut broken = false;
    std::iter::from_fn(move || {
        if broken || r.is_empty() {
            return None;
        }
        let item = (|| {
            let kind = r.u16().ok_or(Overrun { kind: 0 })?;
            let len = r.u16().ok_or(Overrun { kind })?;
            let value = r.take(usize::from(len)).ok_or(Overrun { kind })?;
            Ok((kind, value))
        })();
        broken = item.is_err();
        Some(item)
    })
}

/// A fixed-size value: `Some` when `v` has exactly `N` bytes.
pub(crate) fn exact<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    v.try_into().ok()
}

/// An unsigned big-endian number of 1 to 4 bytes (IGP metrics are 1, 2 or
/// 3 bytes wide; TE metrics 3 or 4).
pub(crate) fn be_uint(v: &[u8]) -> Option<u32> {
    if v.is_empty() || v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}
