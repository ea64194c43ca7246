//! BGP messages (RFC 4271 section 4): the header and its framing, OPEN with
//! its capabilities (RFC 5492; RFC 6793 four-octet AS; RFC 4724 graceful
//! restart; RFC 9072 extended optional parameters), NOTIFICATION, KEEPALIVE
//! and ROUTE-REFRESH. UPDATE bodies are in [`super::update`].

use std::net::Ipv4Addr;

use super::update::Update;
use super::{HEADER, MAX_MESSAGE, Reader, WireError};

/// Message type codes.
pub mod kind {
    /// OPEN
    pub const OPEN: u8 = 1;
    /// UPDATE
    pub const UPDATE: u8 = 2;
    /// NOTIFICATION
    pub const NOTIFICATION: u8 = 3;
    /// KEEPALIVE
    pub const KEEPALIVE: u8 = 4;
    /// ROUTE-REFRESH (RFC 2918)
    pub const ROUTE_REFRESH: u8 = 5;
}

/// Capability codes CPN reads or writes.
pub mod cap {
    /// Multiprotocol extensions (RFC 4760).
    pub const MULTIPROTOCOL: u8 = 1;
    /// Route refresh (RFC 2918).
    pub const ROUTE_REFRESH: u8 = 2;
    /// Graceful restart (RFC 4724).
    pub const GRACEFUL_RESTART: u8 = 64;
    /// Four-octet AS numbers (RFC 6793).
    pub const FOUR_OCTET_AS: u8 = 65;
}

/// One capability of an OPEN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// An address family the speaker can carry.
    Multiprotocol {
        /// Address family.
        afi: u16,
        /// Subsequent address family.
        safi: u8,
    },
    /// The speaker's real AS number.
    FourOctetAs(u32),
    /// Graceful restart: restart flags and time, then the families with
    /// their flags. A speaker that announces it sends End-of-RIB.
    GracefulRestart {
        /// Restart flags (top 4 bits) and restart time in seconds (low 12).
        flags_and_time: u16,
        /// (AFI, SAFI, flags) per family.
        families: Vec<(u16, u8, u8)>,
    },
    /// Route refresh.
    RouteRefresh,
    /// Anything else, kept as received (RFC 5492: ignored, not refused).
    Unknown {
        /// Capability code.
        code: u8,
        /// Its value.
        value: Vec<u8>,
    },
}

impl Capability {
    fn decode(code: u8, value: &[u8]) -> Capability {
        let mut r = Reader::new(value);
        let parsed = match code {
            cap::MULTIPROTOCOL if value.len() == 4 => (|| {
                let afi = r.u16()?;
                r.u8()?;
                Some(Capability::Multiprotocol { afi, safi: r.u8()? })
            })(),
            cap::FOUR_OCTET_AS if value.len() == 4 => r.u32().map(Capability::FourOctetAs),
            cap::ROUTE_REFRESH if value.is_empty() => Some(Capability::RouteRefresh),
            cap::GRACEFUL_RESTART if value.len() >= 2 && (value.len() - 2).is_multiple_of(4) => {
                (|| {
                    let flags_and_time = r.u16()?;
                    let mut families = Vec::new();
                    while !r.is_empty() {
                        families.push((r.u16()?, r.u8()?, r.u8()?));
                    }
                    Some(Capability::GracefulRestart {
                        flags_and_time,
                        families,
                    })
                })()
            }
            _ => None,
        };
        parsed.unwrap_or_else(|| Capability::Unknown {
            code,
            value: value.to_vec(),
        })
    }

    /// Code, then value.
    fn encode(&self) -> (u8, Vec<u8>) {
        match self {
            Capability::Multiprotocol { afi, safi } => {
                let mut v = afi.to_be_bytes().to_vec();
                v.extend_from_slice(&[0, *safi]);
                (cap::MULTIPROTOCOL, v)
            }
            Capability::FourOctetAs(asn) => (cap::FOUR_OCTET_AS, asn.to_be_bytes().to_vec()),
            Capability::GracefulRestart {
                flags_and_time,
                families,
            } => {
                let mut v = flags_and_time.to_be_bytes().to_vec();
                for (afi, safi, flags) in families {
                    v.extend_from_slice(&afi.to_be_bytes());
                    v.extend_from_slice(&[*safi, *flags]);
                }
                (cap::GRACEFUL_RESTART, v)
            }
            Capability::RouteRefresh => (cap::ROUTE_REFRESH, Vec::new()),
            Capability::Unknown { code, value } => (*code, value.clone()),
        }
    }
}

/// An OPEN message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    /// BGP version; 4.
    pub version: u8,
    /// "My Autonomous System": the AS, or [`super::AS_TRANS`] when it needs
    /// four octets.
    pub my_as: u16,
    /// Proposed hold time, seconds: 0 or at least 3.
    pub hold_time: u16,
    /// BGP Identifier.
    pub bgp_id: Ipv4Addr,
    /// Capabilities, in the order received.
    pub capabilities: Vec<Capability>,
}

impl Open {
    /// The sender's AS: the four-octet capability's when present.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    /// True when the sender can carry `(afi, safi)`.
    pub fn supports(&self, afi: u16, safi: u8) -> bool {
        self.capabilities
            .contains(&Capability::Multiprotocol { afi, safi })
    }

    /// True when the sender announced graceful restart (it then sends
    /// End-of-RIB after its initial table).
    pub fn graceful_restart(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| matches!(c, Capability::GracefulRestart { .. }))
    }

    fn decode(body: &[u8]) -> Result<Open, WireError> {
        let short = || WireError::new(1, 2, "OPEN shorter than its fixed part");
        let mut r = Reader::new(body);
        let version = r.u8().ok_or_else(short)?;
        let my_as = r.u16().ok_or_else(short)?;
        let hold_time = r.u16().ok_or_else(short)?;
        let bgp_id = Ipv4Addr::from(r.u32().ok_or_else(short)?);
        let mut params_len = usize::from(r.u8().ok_or_else(short)?);
        // RFC 9072: length 255 and a first parameter of type 255 announce
        // two-byte lengths.
        let extended = params_len == 255 && r.clone().u8() == Some(255);
        if extended {
            r.u8();
            params_len = usize::from(r.u16().ok_or_else(short)?);
        }
        let malformed = || WireError::new(2, 0, "OPEN optional parameters overrun the message");
        let params = r.take(params_len).ok_or_else(malformed)?;
        if !r.is_empty() {
            return Err(WireError::new(
                1,
                2,
                "OPEN longer than its optional parameters",
            ));
        }
        let mut capabilities = Vec::new();
        let mut p = Reader::new(params);
        while !p.is_empty() {
            let kind = p.u8().ok_or_else(malformed)?;
            let len = if extended {
                p.u16().ok_or_else(malformed)?
            } else {
                u16::from(p.u8().ok_or_else(malformed)?)
            };
            let value = p.take(usize::from(len)).ok_or_else(malformed)?;
            if kind != 2 {
                return Err(WireError::new(
                    2,
                    4,
                    format!("unsupported optional parameter type {kind}"),
                ));
            }
            let mut c = Reader::new(value);
            while !c.is_empty() {
                let code = c.u8().ok_or_else(malformed)?;
                let len = c.u8().ok_or_else(malformed)?;
                let value = c.take(usize::from(len)).ok_or_else(malformed)?;
                capabilities.push(Capability::decode(code, value));
            }
        }
        Ok(Open {
            version,
            my_as,
            hold_time,
            bgp_id,
            capabilities,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let mut caps = Vec::new();
        for c in &self.capabilities {
            let (code, value) = c.encode();
            caps.push(code);
            caps.push(value.len() as u8);
            caps.extend_from_slice(&value);
        }
        out.push(self.version);
        out.extend_from_slice(&self.my_as.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.bgp_id.octets());
        if caps.is_empty() {
            out.push(0);
        } else {
            // One capabilities parameter holding them all, as gobgpd does.
            out.push(caps.len() as u8 + 2);
            out.push(2);
            out.push(caps.len() as u8);
            out.extend_from_slice(&caps);
        }
    }
}

/// A NOTIFICATION: why the sender closes the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Data.
    pub data: Vec<u8>,
}

impl Notification {
    /// What the codes mean, in words (RFC 4271 6, RFC 4486, RFC 6608).
    pub fn describe(&self) -> String {
        let code = match self.code {
            1 => "message header error",
            2 => "OPEN message error",
            3 => "UPDATE message error",
            4 => "hold timer expired",
            5 => "finite state machine error",
            6 => "cease",
            7 => "ROUTE-REFRESH message error",
            _ => "unknown error",
        };
        let sub = match (self.code, self.subcode) {
            (1, 1) => "connection not synchronized",
            (1, 2) => "bad message length",
            (1, 3) => "bad message type",
            (2, 1) => "unsupported version number",
            (2, 2) => "bad peer AS",
            (2, 3) => "bad BGP identifier",
            (2, 4) => "unsupported optional parameter",
            (2, 6) => "unacceptable hold time",
            (2, 7) => "unsupported capability",
            (3, 1) => "malformed attribute list",
            (3, 2) => "unrecognized well-known attribute",
            (3, 3) => "missing well-known attribute",
            (3, 4) => "attribute flags error",
            (3, 5) => "attribute length error",
            (3, 6) => "invalid ORIGIN attribute",
            (3, 8) => "invalid NEXT_HOP attribute",
            (3, 9) => "optional attribute error",
            (3, 10) => "invalid network field",
            (3, 11) => "malformed AS_PATH",
            (5, 1) => "unexpected message in OpenSent",
            (5, 2) => "unexpected message in OpenConfirm",
            (5, 3) => "unexpected message in Established",
            (6, 1) => "maximum number of prefixes reached",
            (6, 2) => "administrative shutdown",
            (6, 3) => "peer de-configured",
            (6, 4) => "administrative reset",
            (6, 5) => "connection rejected",
            (6, 6) => "other configuration change",
            (6, 7) => "connection collision resolution",
            (6, 8) => "out of resources",
            _ => "",
        };
        if sub.is_empty() {
            format!("{code} ({}/{})", self.code, self.subcode)
        } else {
            format!("{code}: {sub} ({}/{})", self.code, self.subcode)
        }
    }
}

/// One BGP message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// OPEN
    Open(Open),
    /// UPDATE
    Update(Box<Update>),
    /// NOTIFICATION
    Notification(Notification),
    /// KEEPALIVE
    Keepalive,
    /// ROUTE-REFRESH for (AFI, SAFI); CPN advertises nothing, so it has
    /// nothing to refresh.
    RouteRefresh {
        /// Address family.
        afi: u16,
        /// Subsequent address family.
        safi: u8,
    },
}

/// The length of the first message in `buf` once all of it has arrived:
/// `Ok(None)` while more bytes are needed; an error when the header is bad
/// (marker, length, type), which closes the session.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, WireError> {
    if buf.len() < HEADER {
        // A bad marker is reported as soon as its bytes are in.
        if buf.iter().take(16).any(|&b| b != 0xff) {
            return Err(WireError::new(1, 1, "bad marker"));
        }
        return Ok(None);
    }
    if buf[..16].iter().any(|&b| b != 0xff) {
        return Err(WireError::new(1, 1, "bad marker"));
    }
    let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
    let kind = buf[18];
    let min = match kind {
        kind::OPEN => 29,
        kind::UPDATE => 23,
        kind::NOTIFICATION => 21,
        kind::KEEPALIVE => 19,
        kind::ROUTE_REFRESH => 23,
        other => {
            return Err(
                WireError::new(1, 3, format!("bad message type {other}")).with_data(vec![other])
            );
        }
    };
    if len < min || len > MAX_MESSAGE || (kind == kind::KEEPALIVE && len != HEADER) {
        return Err(
            WireError::new(1, 2, format!("bad length {len} for message type {kind}"))
                .with_data(buf[16..18].to_vec()),
        );
    }
    Ok((buf.len() >= len).then_some(len))
}

impl Message {
    /// Decodes one whole message (header included), as [`frame`] cut it.
    pub fn decode(msg: &[u8]) -> Result<Message, WireError> {
        match frame(msg)? {
            Some(len) if len == msg.len() => {}
            _ => return Err(WireError::new(1, 2, "message cut short")),
        }
        let body = &msg[HEADER..];
        match msg[18] {
            kind::OPEN => Open::decode(body).map(Message::Open),
            kind::UPDATE => Update::decode(body).map(|u| Message::Update(Box::new(u))),
            kind::NOTIFICATION => Ok(Message::Notification(Notification {
                code: body[0],
                subcode: body[1],
                data: body[2..].to_vec(),
            })),
            kind::KEEPALIVE => Ok(Message::Keepalive),
            _ => {
                let mut r = Reader::new(body);
                let afi = r.u16().unwrap_or_default();
                r.u8();
                Ok(Message::RouteRefresh {
                    afi,
                    safi: r.u8().unwrap_or_default(),
                })
            }
        }
    }

    /// The message on the wire, header included.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let kind = match self {
            Message::Open(o) => {
                o.encode(&mut body);
                kind::OPEN
            }
            Message::Update(u) => {
                u.encode(&mut body);
                kind::UPDATE
            }
            Message::Notification(n) => {
                body.extend_from_slice(&[n.code, n.subcode]);
                body.extend_from_slice(&n.data);
                kind::NOTIFICATION
            }
            Message::Keepalive => kind::KEEPALIVE,
            Message::RouteRefresh { afi, safi } => {
                body.extend_from_slice(&afi.to_be_bytes());
                body.extend_from_slice(&[0, *safi]);
                kind::ROUTE_REFRESH
            }
        };
        with_header(kind, &body)
    }
}

/// `body` behind a header of message type `kind`.
pub fn with_header(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&((HEADER + body.len()) as u16).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
    out
}
