//! The codec against bytes captured from a live gobgpd 3.10 (OPEN, node
//! and link UPDATEs, a withdrawal, End-of-RIB), against the RFC layouts,
//! and against malformed input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::attr::{EndXSid, LsAttribute, Measured, SidStructure};
use super::message::{Capability, Message, Open, frame, with_header};
use super::nlri::{Nlri, NodeDescriptor, protocol};
use super::update::Update;

/// Bytes from hex, spaces and newlines ignored.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

fn message(kind: u8, body: &str) -> Vec<u8> {
    with_header(kind, &hex(body))
}

const OPEN_GOBGP: &str = "04 fde8 005a 0a000001 1e 02 1c 0200 4904 02766d00 0104 40040047
    4104 0000fde8 0506 4004 0047 0002";

const NODE_UPDATE: &str = "0000 004d 40 01 01 00 40 02 06 02 01 0000fde8
    80 0e 2c 4004 47 04 0a000001 00
    0001 001f 02 0000000000000000 0100 0012 0200 0004 0000fde8 0203 0006 000000000001
    80 1d 0e 0402 0002 7231 040e 0004 00000000";

const LINK_UPDATE: &str = "0000 00ba 40010100 40020602010000fde8
    800e 76 4004 47 04 0a000001 00
    0002 0069 02 0000000000000000
    0100 0012 0200 0004 0000fde8 0203 0006 000000000001
    0101 0012 0200 0004 0000fde8 0203 0006 000000000002
    0102 0008 00000001 00000002
    0105 0010 fc000000000000000000000000000001
    0106 0010 fc000000000000000000000000000002
    801d 31 0447 0003 00000a
    0452 001e 0034 00 00 00 00 fc0000000001e001 0000000000000000 04e4 0004 20 10 10 00
    045a 0004 00 0003e8";

fn update(bytes: &[u8]) -> Update {
    match Message::decode(bytes).unwrap() {
        Message::Update(u) => *u,
        other => panic!("not an UPDATE: {other:?}"),
    }
}

#[test]
fn gobgpd_open_decodes_and_unknown_capabilities_are_kept() {
    let bytes = message(1, OPEN_GOBGP);
    assert_eq!(bytes.len(), 59);
    assert_eq!(frame(&bytes).unwrap(), Some(59));
    let Message::Open(open) = Message::decode(&bytes).unwrap() else {
        panic!("an OPEN")
    };
    assert_eq!(open.version, 4);
    assert_eq!(open.asn(), 65000);
    assert_eq!(open.hold_time, 90);
    assert_eq!(open.bgp_id, Ipv4Addr::new(10, 0, 0, 1));
    assert!(open.supports(16388, 71));
    assert!(!open.graceful_restart());
    assert!(open.capabilities.contains(&Capability::RouteRefresh));
    // FQDN (73) and extended next hop (5) are kept, not refused.
    assert!(
        open.capabilities
            .iter()
            .any(|c| matches!(c, Capability::Unknown { code: 73, .. }))
    );
    assert!(open.capabilities.iter().any(|c| matches!(
        c,
        Capability::Unknown { code: 5, value } if value.len() == 6
    )));
    // What it writes back reads the same.
    let again = Message::Open(open.clone()).encode();
    assert_eq!(Message::decode(&again).unwrap(), Message::Open(open));
}

#[test]
fn the_reply_gobgpd_accepted_encodes_byte_for_byte() {
    let open = Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        bgp_id: Ipv4Addr::new(10, 0, 0, 2),
        capabilities: vec![
            Capability::Multiprotocol {
                afi: 16388,
                safi: 71,
            },
            Capability::FourOctetAs(65001),
        ],
    };
    let want = message(
        1,
        "04 fde9 005a 0a000002 0e 02 0c 0104 40040047 4104 0000fde9",
    );
    assert_eq!(Message::Open(open).encode(), want);
}

#[test]
fn node_update_from_gobgpd() {
    let bytes = message(2, NODE_UPDATE);
    assert_eq!(bytes.len(), 100);
    let u = update(&bytes);
    assert_eq!(u.origin, Some(0));
    assert_eq!(u.next_hop, vec![10, 0, 0, 1]);
    let [Nlri::Node(n)] = u.reach.as_slice() else {
        panic!("one node NLRI: {:?}", u.reach)
    };
    assert_eq!(n.origin.protocol, protocol::ISIS_L2);
    assert_eq!(n.node.asn, Some(65000));
    assert_eq!(n.node.igp_router_id, Some(vec![0, 0, 0, 0, 0, 1]));
    assert_eq!(n.node.router_id_text(), "0000.0000.0001");
    assert!(!n.node.is_pseudonode());
    let a = u.attribute.as_ref().unwrap();
    assert_eq!(a.node_name.as_deref(), Some("r1"));
    assert_eq!(a.srv6_capabilities, Some(0));
    assert_eq!(a.not_understood(), 0);
    // Canonical input: the whole message writes back byte for byte.
    assert_eq!(Message::Update(Box::new(u)).encode(), bytes);
}

#[test]
fn link_update_with_srv6_end_x_and_delay_from_gobgpd() {
    let bytes = message(2, LINK_UPDATE);
    assert_eq!(bytes.len(), 209);
    let u = update(&bytes);
    let [Nlri::Link(l)] = u.reach.as_slice() else {
        panic!("one link NLRI")
    };
    assert_eq!(l.local.router_id_text(), "0000.0000.0001");
    assert_eq!(l.remote.router_id_text(), "0000.0000.0002");
    assert_eq!(l.link.ids, Some((1, 2)));
    assert_eq!(l.link.ipv6_interface, Some("fc00::1".parse().unwrap()));
    assert_eq!(l.link.ipv6_neighbor, Some("fc00::2".parse().unwrap()));
    let a = u.attribute.as_ref().unwrap();
    assert_eq!(a.igp_metric, Some(10));
    assert_eq!(
        a.delay,
        Some(Measured {
            anomalous: false,
            value: 1000
        })
    );
    assert_eq!(
        a.end_x_sids,
        vec![EndXSid {
            behavior: 52,
            flags: 0,
            algorithm: 0,
            weight: 0,
            sid: "fc00:0:1:e001::".parse().unwrap(),
            structure: Some(SidStructure {
                block: 32,
                node: 16,
                function: 16,
                argument: 0
            }),
            sub: vec![],
        }]
    );
    assert_eq!(Message::Update(Box::new(u)).encode(), bytes);
}

#[test]
fn withdrawal_and_end_of_rib() {
    let w = update(&message(
        2,
        "0000 0029 80 0f 26 4004 47 0001001f02000000000000000001000012020000040000fde802030006000000000001",
    ));
    assert!(w.reach.is_empty() && !w.end_of_rib);
    assert!(matches!(w.withdraw.as_slice(), [Nlri::Node(_)]));
    let eor_bytes = message(2, "0000 0006 80 0f 03 4004 47");
    assert_eq!(eor_bytes.len(), 29);
    let eor = update(&eor_bytes);
    assert!(eor.end_of_rib && eor.withdraw.is_empty());
    assert_eq!(
        Message::Update(Box::new(Update::end_of_rib())).encode(),
        eor_bytes
    );
    // The IPv4 marker (empty UPDATE) is not BGP-LS's.
    assert!(!update(&message(2, "0000 0000")).end_of_rib);
}

#[test]
fn header_errors_name_their_notification() {
    let mut bad_marker = message(4, "");
    bad_marker[3] = 0;
    assert_eq!(frame(&bad_marker).unwrap_err().subcode, 1);
    // A bad marker is seen before the whole header is in.
    assert_eq!(frame(&bad_marker[..5]).unwrap_err().code, 1);
    let mut long = message(4, "");
    long[17] = 20;
    let e = frame(&long).unwrap_err();
    assert_eq!((e.code, e.subcode, e.data.clone()), (1, 2, vec![0, 20]));
    let e = frame(&message(9, "")).unwrap_err();
    assert_eq!((e.code, e.subcode, e.data.clone()), (1, 3, vec![9]));
    let mut huge = message(2, "0000 0000");
    huge[16..18].copy_from_slice(&5000u16.to_be_bytes());
    assert_eq!(frame(&huge).unwrap_err().subcode, 2);
    assert_eq!(frame(&message(4, "")[..10]).unwrap(), None);
}

#[test]
fn update_errors_and_their_actions() {
    // The attribute list overruns the message: 3/1.
    let e = Message::decode(&message(2, "0000 0010 4001 0100")).unwrap_err();
    assert_eq!((e.code, e.subcode), (3, 1));
    // An attribute overruns the list: 3/1.
    let e = Message::decode(&message(2, "0000 0004 4001 0500")).unwrap_err();
    assert_eq!((e.code, e.subcode), (3, 1));
    // A BGP-LS NLRI longer than its MP_REACH: 3/9 with the attribute.
    let e = Message::decode(&message(
        2,
        "0000 0019 40010100 400200 800e 0f 4004 47 04 0a000001 00 0001 00ff 02 00",
    ))
    .unwrap_err();
    assert_eq!((e.code, e.subcode), (3, 9));
    assert_eq!(e.data[..2], [0x80, 0x0e]);
    // MP_UNREACH twice: 3/1.
    let e = Message::decode(&message(2, "0000 000c 800f 03 400447 800f 03 400447")).unwrap_err();
    assert_eq!((e.code, e.subcode), (3, 1));
    // A BGP-LS attribute whose TLV overruns it: discarded, the NLRI stay.
    let mut bytes = hex(NODE_UPDATE);
    let at = bytes.len() - 14;
    bytes[at + 3] = 0xff;
    let u = update(&with_header(2, &bytes));
    assert!(u.attribute_discarded && u.attribute.is_none());
    assert_eq!(u.reach.len(), 1);
    // No ORIGIN with MP_REACH: treat-as-withdraw.
    let mut u = update(&message(2, NODE_UPDATE));
    u.origin = None;
    let u = update(&Message::Update(Box::new(u)).encode());
    assert!(u.treated_as_withdraw && u.reach.is_empty() && u.withdraw.len() == 1);
}

#[test]
fn unknown_nlri_and_tlvs_are_kept_and_written_back() {
    let mut unknown_type = Vec::new();
    Nlri::Unknown {
        nlri_type: 5,
        body: vec![1, 2, 3],
    }
    .encode(&mut unknown_type);
    let mut node = NodeDescriptor {
        asn: Some(64500),
        igp_router_id: Some(vec![0, 0, 0, 0, 0, 7]),
        ..Default::default()
    };
    node.unknown.push(super::Tlv::new(600, vec![9]));
    let n = Nlri::Node(super::nlri::NodeNlri {
        origin: super::nlri::Origin {
            protocol: 2,
            identifier: 0,
        },
        node,
        unknown: vec![super::Tlv::new(300, vec![1])],
    });
    let mut bytes = unknown_type.clone();
    n.encode(&mut bytes);
    let back = Nlri::decode_all(&bytes).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[1], n);
    assert_eq!(back[1].unknown_tlvs(), 2);
    let mut again = Vec::new();
    for b in &back {
        b.encode(&mut again);
    }
    assert_eq!(again, bytes);

    let a = LsAttribute::decode(&hex("0402 0002 7231 0bb8 0001 ff 0447 0005 0000000001")).unwrap();
    assert_eq!(a.node_name.as_deref(), Some("r1"));
    assert_eq!(a.unknown.len(), 1, "3000 is nobody's");
    assert_eq!(a.malformed.len(), 1, "an IGP metric of 5 bytes");
    assert_eq!(LsAttribute::decode(&a.encode()).unwrap(), a);
}

#[test]
fn srv6_sid_nlri_and_prefix_nlri_round_trip() {
    let node = NodeDescriptor {
        asn: Some(64500),
        igp_router_id: Some(vec![0, 0, 0, 0, 0, 1]),
        ..Default::default()
    };
    let origin = super::nlri::Origin {
        protocol: 2,
        identifier: 0,
    };
    let sid = Nlri::Srv6Sid(super::nlri::Srv6SidNlri {
        origin,
        node: node.clone(),
        mt_id: Some(vec![2]),
        sid: "fc00:a:1::".parse().unwrap(),
        unknown: vec![],
    });
    let prefix = Nlri::Prefix(super::nlri::PrefixNlri {
        origin,
        node,
        mt_id: None,
        ospf_route_type: None,
        prefix: super::nlri::Prefix {
            addr: IpAddr::V6("fc00:a:1::".parse::<Ipv6Addr>().unwrap()),
            len: 48,
        },
        unknown: vec![],
    });
    let attr = LsAttribute {
        endpoint_behavior: Some(super::attr::EndpointBehavior {
            behavior: 1,
            flags: 0,
            algorithm: 0,
        }),
        sid_structure: Some(SidStructure {
            block: 32,
            node: 16,
            function: 16,
            argument: 0,
        }),
        ..Default::default()
    };
    let u = Update::announce(
        vec![sid.clone(), prefix.clone()],
        Some(attr.clone()),
        &[64500],
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    );
    let back = update(&Message::Update(Box::new(u)).encode());
    assert_eq!(back.reach, vec![sid, prefix]);
    assert_eq!(back.attribute, Some(attr));
    assert_eq!(back.reach[1].nlri_type(), 4);
}

#[test]
fn igp_metric_widths_and_pseudonodes() {
    let a = LsAttribute::decode(&hex("0447 0001 ff 0406 0004 0a000002")).unwrap();
    assert_eq!(a.igp_metric, Some(0x3f), "narrow metrics are 6 bits");
    assert_eq!(a.remote_router_id_v4, Some(Ipv4Addr::new(10, 0, 0, 2)));
    let psn = NodeDescriptor {
        igp_router_id: Some(vec![0, 0, 0, 0, 0, 1, 3]),
        ..Default::default()
    };
    assert!(psn.is_pseudonode());
    assert_eq!(psn.router_id_text(), "0000.0000.0001.03");
    let ospf = NodeDescriptor {
        igp_router_id: Some(vec![10, 0, 0, 1]),
        ..Default::default()
    };
    assert_eq!(ospf.router_id_text(), "10.0.0.1");
}
