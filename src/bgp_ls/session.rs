//! One BGP session as a state machine without I/O: bytes and clock ticks
//! in, bytes to send and events out. The tokio driver (`speaker`) owns the
//! socket and the clock; tests drive it with made-up instants.
//!
//! CPN is passive and receives only: it sends OPEN when a peer connects
//! (multiprotocol BGP-LS, four-octet AS, graceful restart so that the peer
//! sends End-of-RIB), answers the peer's OPEN with KEEPALIVE, and then only
//! keeps the session alive. The hold time is the smaller of both sides'
//! (0: no keepalives and no hold timer), keepalives go every third of it.
//! What the peer sends wrong closes the session with the NOTIFICATION of
//! RFC 4271 section 6; unknown capabilities are ignored (RFC 5492).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::wire::message::{Capability, Message, Notification, Open, frame};
use super::wire::update::Update;
use super::wire::{AFI_LS, AS_TRANS, SAFI_LS, WireError};

/// How CPN presents itself to its peers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// CPN's AS number.
    pub asn: u32,
    /// CPN's BGP Identifier.
    pub bgp_id: Ipv4Addr,
    /// The hold time CPN proposes, seconds (0, or 3 and more).
    pub hold_time: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            asn: 64512,
            bgp_id: Ipv4Addr::new(192, 0, 2, 1),
            hold_time: 90,
        }
    }
}

/// How long to wait for the peer's OPEN (RFC 4271 suggests 4 minutes).
pub const OPEN_WAIT: Duration = Duration::from_secs(240);

/// Restart time announced in the graceful restart capability, seconds.
const RESTART_TIME: u16 = 120;

/// What the peer turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its AS (four-octet capability, else "My AS").
    pub asn: u32,
    /// Its BGP Identifier.
    pub bgp_id: Ipv4Addr,
    /// The negotiated hold time, seconds.
    pub hold_time: u16,
    /// It announced graceful restart: it sends End-of-RIB after its table.
    pub graceful_restart: bool,
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The NOTIFICATION CPN sent, if any.
    pub sent: Option<Notification>,
    /// The NOTIFICATION the peer sent, if any.
    pub received: Option<Notification>,
    /// In words.
    pub reason: String,
}

/// Something the driver must know.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The session is up.
    Established(Peer),
    /// An UPDATE: routes announced or withdrawn, or End-of-RIB.
    Update(Box<Update>),
    /// The session is over (after any NOTIFICATION was sent): close the
    /// socket.
    Closed(Closed),
}

/// What the driver does next, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Act on this.
    Event(Event),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    OpenSent,
    OpenConfirm,
    Established,
    Closed,
}

/// One session.
#[derive(Debug)]
pub struct Session {
    config: Config,
    state: State,
    buf: Vec<u8>,
    peer: Option<Peer>,
    /// Negotiated hold time (`None`: 0, no timer).
    hold: Option<Duration>,
    hold_deadline: Option<Instant>,
    keepalive_due: Option<Instant>,
}

impl Session {
    /// A session on a connection just accepted at `now`; the outputs send
    /// CPN's OPEN.
    pub fn new(config: Config, now: Instant) -> (Session, Vec<Output>) {
        let open = Open {
            version: 4,
            my_as: u16::try_from(config.asn).unwrap_or(AS_TRANS),
            hold_time: config.hold_time,
            bgp_id: config.bgp_id,
            capabilities: vec![
                Capability::Multiprotocol {
                    afi: AFI_LS,
                    safi: SAFI_LS,
                },
                Capability::FourOctetAs(config.asn),
                Capability::GracefulRestart {
                    flags_and_time: RESTART_TIME,
                    families: vec![(AFI_LS, SAFI_LS, 0)],
                },
            ],
        };
        let session = Session {
            config,
            state: State::OpenSent,
            buf: Vec::new(),
            peer: None,
            hold: Some(OPEN_WAIT),
            hold_deadline: Some(now + OPEN_WAIT),
            keepalive_due: None,
        };
        (session, vec![Output::Send(Message::Open(open).encode())])
    }

    /// The session's state, in RFC 4271's words.
    pub fn state(&self) -> &'static str {
        match self.state {
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
            State::Closed => "Idle",
        }
    }

    /// True once the session is over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The peer, once its OPEN was accepted.
    pub fn peer(&self) -> Option<&Peer> {
        self.peer.as_ref()
    }

    /// When [`Session::tick`] must run next at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.hold_deadline, self.keepalive_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Bytes from the peer.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if self.state == State::Closed {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        while self.state != State::Closed {
            let rest = &self.buf[at..];
            let len = match frame(rest) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => {
                    self.fail(e, &mut out);
                    break;
                }
            };
            let decoded = Message::decode(&rest[..len]);
            at += len;
            match decoded {
                Ok(m) => self.handle(m, now, &mut out),
                Err(e) => self.fail(e, &mut out),
            }
        }
        self.buf.drain(..at.min(self.buf.len()));
        out
    }

    /// The clock moved: the hold timer may have expired, a keepalive may be
    /// due.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if self.state == State::Closed {
            return out;
        }
        if self.hold_deadline.is_some_and(|d| now >= d) {
            self.fail(WireError::new(4, 0, "hold timer expired"), &mut out);
            return out;
        }
        if let (Some(due), Some(hold)) = (self.keepalive_due, self.hold)
            && now >= due
        {
            out.push(Output::Send(Message::Keepalive.encode()));
            self.keepalive_due = Some(now + keepalive_interval(hold));
        }
        out
    }

    /// Ends the session from this side (Cease, e.g. 2 administrative
    /// shutdown or 7 connection collision resolution).
    pub fn cease(&mut self, subcode: u8, reason: &str) -> Vec<Output> {
        let mut out = Vec::new();
        if self.state != State::Closed {
            self.fail(WireError::new(6, subcode, reason), &mut out);
        }
        out
    }

    /// Sends the NOTIFICATION of `e` and closes.
    fn fail(&mut self, e: WireError, out: &mut Vec<Output>) {
        let n = e.notification();
        out.push(Output::Send(Message::Notification(n.clone()).encode()));
        self.close(
            Closed {
                sent: Some(n),
                received: None,
                reason: e.reason,
            },
            out,
        );
    }

    fn close(&mut self, closed: Closed, out: &mut Vec<Output>) {
        self.state = State::Closed;
        self.hold_deadline = None;
        self.keepalive_due = None;
        self.buf = Vec::new();
        out.push(Output::Event(Event::Closed(closed)));
    }

    fn handle(&mut self, m: Message, now: Instant, out: &mut Vec<Output>) {
        if let Message::Notification(n) = m {
            let reason = format!("the peer sent {}", n.describe());
            self.close(
                Closed {
                    sent: None,
                    received: Some(n),
                    reason,
                },
                out,
            );
            return;
        }
        // Any message from the peer shows it alive.
        if let Some(hold) = self.hold {
            self.hold_deadline = Some(now + hold);
        }
        match (self.state, m) {
            (State::OpenSent, Message::Open(open)) => match self.accept(&open) {
                Ok(peer) => {
                    self.hold = (peer.hold_time > 0).then(|| secs(peer.hold_time));
                    self.hold_deadline = self.hold.map(|h| now + h);
                    self.keepalive_due = self.hold.map(|h| now + keepalive_interval(h));
                    self.peer = Some(peer);
                    self.state = State::OpenConfirm;
                    out.push(Output::Send(Message::Keepalive.encode()));
                }
                Err(e) => self.fail(e, out),
            },
            (State::OpenConfirm, Message::Keepalive) => {
                self.state = State::Established;
                let peer = self.peer.clone().expect("set with OpenConfirm");
                if peer.graceful_restart {
                    // A graceful-restart peer expects our End-of-RIB; we
                    // have nothing else to send.
                    let eor = Message::Update(Box::new(Update::end_of_rib()));
                    out.push(Output::Send(eor.encode()));
                }
                out.push(Output::Event(Event::Established(peer)));
            }
            (State::Established, Message::Keepalive) => {}
            (State::Established, Message::Update(u)) => {
                out.push(Output::Event(Event::Update(u)));
            }
            // CPN advertises nothing: nothing to refresh.
            (State::Established | State::OpenConfirm, Message::RouteRefresh { .. }) => {}
            (state, m) => {
                let subcode = match state {
                    State::OpenSent => 1,
                    State::OpenConfirm => 2,
                    _ => 3,
                };
                let what = match m {
                    Message::Open(_) => "OPEN",
                    Message::Update(_) => "UPDATE",
                    Message::Keepalive => "KEEPALIVE",
                    _ => "message",
                };
                let e =
                    WireError::new(5, subcode, format!("unexpected {what} in {}", self.state()));
                self.fail(e, out);
            }
        }
    }

    /// Checks the peer's OPEN (RFC 4271 6.2).
    fn accept(&self, open: &Open) -> Result<Peer, WireError> {
        if open.version != 4 {
            return Err(WireError::new(
                2,
                1,
                format!("BGP version {} (only 4 is spoken)", open.version),
            )
            .with_data(vec![0, 4]));
        }
        if matches!(open.hold_time, 1 | 2) {
            return Err(WireError::new(
                2,
                6,
                format!("hold time {} s (0 or at least 3)", open.hold_time),
            ));
        }
        if open.bgp_id.is_unspecified() || open.bgp_id == self.config.bgp_id {
            return Err(WireError::new(
                2,
                3,
                format!("BGP identifier {} (zero, or CPN's own)", open.bgp_id),
            ));
        }
        if !open.supports(AFI_LS, SAFI_LS) {
            return Err(WireError::new(
                2,
                7,
                "the peer does not carry BGP-LS (AFI 16388 / SAFI 71)",
            )
            .with_data(vec![1, 4, 0x40, 0x04, 0, SAFI_LS]));
        }
        Ok(Peer {
            asn: open.asn(),
            bgp_id: open.bgp_id,
            hold_time: open.hold_time.min(self.config.hold_time),
            graceful_restart: open.graceful_restart(),
        })
    }
}

fn secs(s: u16) -> Duration {
    Duration::from_secs(u64::from(s))
}

/// A third of the hold time, at least a second.
fn keepalive_interval(hold: Duration) -> Duration {
    (hold / 3).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests;
