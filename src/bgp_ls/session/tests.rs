//! The session state machine driven with made-up instants: the handshake
//! with gobgpd's own OPEN, timers, and every way a peer can get it wrong.

use std::time::{Duration, Instant};

use super::*;
use crate::bgp_ls::wire::message::with_header;
use crate::bgp_ls::wire::tests::hex;

const GOBGP_OPEN: &str = "04 fde8 005a 0a000001 1e 02 1c 0200 4904 02766d00 0104 40040047
    4104 0000fde8 0506 4004 0047 0002";

fn sent(out: &[Output]) -> Vec<Message> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(b) => Some(Message::decode(b).unwrap()),
            Output::Event(_) => None,
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<Event> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            Output::Send(_) => None,
        })
        .collect()
}

fn notification(out: &[Output]) -> (u8, u8) {
    match sent(out).last() {
        Some(Message::Notification(n)) => (n.code, n.subcode),
        other => panic!("no NOTIFICATION sent: {other:?}"),
    }
}

/// A session brought to Established with gobgpd's OPEN.
fn established(t0: Instant) -> Session {
    let (mut s, out) = Session::new(Config::default(), t0);
    let Message::Open(ours) = &sent(&out)[0] else {
        panic!("OPEN first")
    };
    assert!(ours.supports(16388, 71) && ours.graceful_restart());
    assert_eq!(ours.asn(), 64512);
    let out = s.receive(&with_header(1, &hex(GOBGP_OPEN)), t0);
    assert_eq!(sent(&out), vec![Message::Keepalive]);
    assert_eq!(s.state(), "OpenConfirm");
    let out = s.receive(&Message::Keepalive.encode(), t0);
    assert_eq!(s.state(), "Established");
    assert_eq!(
        events(&out),
        vec![Event::Established(Peer {
            asn: 65000,
            bgp_id: "10.0.0.1".parse().unwrap(),
            hold_time: 90,
            graceful_restart: false,
        })]
    );
    s
}

#[test]
fn handshake_with_gobgpd_open_in_pieces() {
    let t0 = Instant::now();
    let (mut s, _) = Session::new(Config::default(), t0);
    let open = with_header(1, &hex(GOBGP_OPEN));
    // Bytes arrive one at a time: nothing happens until the message is whole.
    for b in &open[..open.len() - 1] {
        assert!(s.receive(std::slice::from_ref(b), t0).is_empty());
    }
    let out = s.receive(&open[open.len() - 1..], t0);
    assert_eq!(sent(&out), vec![Message::Keepalive]);
    drop(established(t0));
}

#[test]
fn keepalives_every_third_of_the_hold_time_and_hold_expiry() {
    let t0 = Instant::now();
    let mut s = established(t0);
    assert_eq!(s.deadline(), Some(t0 + Duration::from_secs(30)));
    let out = s.tick(t0 + Duration::from_secs(30));
    assert_eq!(sent(&out), vec![Message::Keepalive]);
    // The peer's keepalive at 60 s holds the session to 150 s.
    s.receive(&Message::Keepalive.encode(), t0 + Duration::from_secs(60));
    assert!(
        s.tick(t0 + Duration::from_secs(149))
            .iter()
            .all(|o| !matches!(o, Output::Event(Event::Closed(_))))
    );
    let out = s.tick(t0 + Duration::from_secs(150));
    assert_eq!(notification(&out), (4, 0));
    assert!(s.is_closed());
    assert!(s.tick(t0 + Duration::from_secs(500)).is_empty());
}

#[test]
fn no_open_in_time_expires_the_open_wait() {
    let t0 = Instant::now();
    let (mut s, _) = Session::new(Config::default(), t0);
    assert_eq!(s.deadline(), Some(t0 + OPEN_WAIT));
    assert_eq!(notification(&s.tick(t0 + OPEN_WAIT)), (4, 0));
}

#[test]
fn hold_time_zero_means_no_timers() {
    let t0 = Instant::now();
    let (mut s, _) = Session::new(Config::default(), t0);
    let mut open = hex(GOBGP_OPEN);
    open[3] = 0;
    open[4] = 0;
    s.receive(&with_header(1, &open), t0);
    s.receive(&Message::Keepalive.encode(), t0);
    assert_eq!(s.state(), "Established");
    assert_eq!(s.deadline(), None);
}

#[test]
fn bad_opens_get_the_right_notification() {
    let t0 = Instant::now();
    let try_open = |edit: &dyn Fn(&mut Vec<u8>)| {
        let (mut s, _) = Session::new(Config::default(), t0);
        let mut open = hex(GOBGP_OPEN);
        edit(&mut open);
        let out = s.receive(&with_header(1, &open), t0);
        assert!(s.is_closed());
        notification(&out)
    };
    assert_eq!(try_open(&|o| o[0] = 3), (2, 1));
    assert_eq!(try_open(&|o| o[4] = 2), (2, 6), "hold time 2");
    assert_eq!(try_open(&|o| o[5..9].copy_from_slice(&[0; 4])), (2, 3));
    // No BGP-LS in the multiprotocol capability: 2/7.
    assert_eq!(try_open(&|o| o[23] = 1), (2, 7));
    // An optional parameter other than capabilities: 2/4.
    assert_eq!(try_open(&|o| o[10] = 9), (2, 4));
}

#[test]
fn peer_with_graceful_restart_gets_our_end_of_rib() {
    let t0 = Instant::now();
    let (mut s, _) = Session::new(Config::default(), t0);
    let mut open = Open {
        version: 4,
        my_as: 65000,
        hold_time: 9,
        bgp_id: "10.0.0.1".parse().unwrap(),
        capabilities: vec![
            Capability::Multiprotocol {
                afi: 16388,
                safi: 71,
            },
            Capability::GracefulRestart {
                flags_and_time: 120,
                families: vec![(16388, 71, 0)],
            },
        ],
    };
    s.receive(&Message::Open(open.clone()).encode(), t0);
    let out = s.receive(&Message::Keepalive.encode(), t0);
    let Some(Message::Update(eor)) = sent(&out).first().cloned() else {
        panic!("End-of-RIB sent")
    };
    assert!(eor.end_of_rib);
    // Hold 9 (theirs is smaller): keepalives every 3 s.
    assert_eq!(s.peer().unwrap().hold_time, 9);
    assert_eq!(s.deadline(), Some(t0 + Duration::from_secs(3)));
    open.hold_time = 0;
}

#[test]
fn updates_flow_and_malformed_ones_close_with_3_x() {
    let t0 = Instant::now();
    let mut s = established(t0);
    let eor = Message::Update(Box::new(Update::end_of_rib())).encode();
    let out = s.receive(&eor, t0);
    assert!(matches!(events(&out).as_slice(), [Event::Update(u)] if u.end_of_rib));
    // Two messages in one read, the second malformed: the first goes
    // through, then 3/1 and the session closes.
    let mut two = eor.clone();
    two.extend_from_slice(&with_header(2, &hex("0000 0010 4001 0100")));
    let out = s.receive(&two, t0);
    assert_eq!(notification(&out), (3, 1));
    let ev = events(&out);
    assert!(matches!(ev[0], Event::Update(_)));
    assert!(matches!(&ev[1], Event::Closed(c) if c.sent.as_ref().is_some_and(|n| n.code == 3)));
    assert!(s.is_closed());
    // Nothing after the close.
    assert!(s.receive(&eor, t0).is_empty());
}

#[test]
fn wrong_messages_for_the_state_are_fsm_errors() {
    let t0 = Instant::now();
    let (mut s, _) = Session::new(Config::default(), t0);
    let eor = Message::Update(Box::new(Update::end_of_rib())).encode();
    assert_eq!(notification(&s.receive(&eor, t0)), (5, 1));
    let mut s = established(t0);
    let open = with_header(1, &hex(GOBGP_OPEN));
    assert_eq!(notification(&s.receive(&open, t0)), (5, 3));
}

#[test]
fn a_notification_from_the_peer_closes_quietly() {
    let t0 = Instant::now();
    let mut s = established(t0);
    let n = Message::Notification(Notification {
        code: 6,
        subcode: 3,
        data: vec![],
    });
    let out = s.receive(&n.encode(), t0);
    assert!(sent(&out).is_empty());
    let Ok([Event::Closed(c)]) = <[Event; 1]>::try_from(events(&out)) else {
        panic!("one close")
    };
    assert_eq!(c.received.map(|n| (n.code, n.subcode)), Some((6, 3)));
    assert!(c.reason.contains("peer de-configured"));
}

#[test]
fn header_errors_and_cease() {
    let t0 = Instant::now();
    let mut s = established(t0);
    let mut bad = Message::Keepalive.encode();
    bad[0] = 0;
    assert_eq!(notification(&s.receive(&bad, t0)), (1, 1));
    let mut s = established(t0);
    assert_eq!(notification(&s.cease(2, "shutting down")), (6, 2));
    assert!(s.cease(2, "again").is_empty());
}
