//! What the BGP-LS tests share, written without CPN's codec so that they
//! check it: the lab encoded as BGP-LS routes by hand (TLV by TLV, as RFC
//! 9552, 8571 and 9514 lay them out), a raw BGP peer over TCP, the business
//! file of the lab.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv6Addr, TcpStream};
use std::time::Duration;

use cpn::model::{LinkIx, LinkKind, RouterIx, Topology};

/// The gobgpd binary (the test checked it is there).
pub fn gobgpd_binary() -> std::path::PathBuf {
    [
        "/usr/bin/gobgpd",
        "/usr/sbin/gobgpd",
        "/usr/local/bin/gobgpd",
    ]
    .into_iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.is_file())
    .unwrap_or_else(|| "gobgpd".into())
}

/// The lab topology, parsed.
pub fn lab() -> Topology {
    cpn::topology_file::load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap()
}

/// The lab's business data: operators with AS numbers, data centers,
/// cities, regions and MSDs as overrides; no routers, no links.
pub fn lab_business() -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
        .unwrap();
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let map = doc.as_mapping_mut().unwrap();
    let routers = map.remove("routers").unwrap();
    map.remove("links");
    let overrides: Vec<serde_yaml::Value> = routers
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| {
            let mut o = serde_yaml::Mapping::new();
            for k in ["id", "city", "region", "msd"] {
                if let Some(v) = r.get(k) {
                    o.insert(k.into(), v.clone());
                }
            }
            o.into()
        })
        .collect();
    let mut over = serde_yaml::Mapping::new();
    over.insert("routers".into(), overrides.into());
    map.insert("overrides".into(), over.into());
    serde_yaml::to_string(&doc).unwrap()
}

/// A TLV: type, length, value.
pub fn tlv(t: u16, v: &[u8]) -> Vec<u8> {
    let mut out = t.to_be_bytes().to_vec();
    out.extend_from_slice(&(v.len() as u16).to_be_bytes());
    out.extend_from_slice(v);
    out
}

/// An NLRI: type, length, Protocol-ID, Identifier 0, descriptor TLVs.
pub fn nlri(kind: u16, protocol: u8, tlvs: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![protocol];
    body.extend_from_slice(&0u64.to_be_bytes());
    body.extend(tlvs.concat());
    tlv(kind, &body)
}

/// The AS of a lab router.
pub fn asn(t: &Topology, r: RouterIx) -> u32 {
    t.operator(t.router(r).operator).asn.unwrap()
}

/// IS-IS system id 0000.0000.00NN, NN = rank + 1.
pub fn sysid(r: RouterIx) -> [u8; 6] {
    [0, 0, 0, 0, 0, r.index() as u8 + 1]
}

/// IPv4 router id (and BGP router id) 10.0.0.NN.
pub fn router_id(r: RouterIx) -> [u8; 4] {
    [10, 0, 0, r.index() as u8 + 1]
}

/// Node descriptors of an IS-IS node: AS (512), IGP router id (515).
pub fn igp_node(t: &Topology, r: RouterIx) -> Vec<u8> {
    [tlv(512, &asn(t, r).to_be_bytes()), tlv(515, &sysid(r))].concat()
}

/// Node descriptors of a BGP node (RFC 9086): AS (512), BGP router id (516).
pub fn bgp_node(t: &Topology, r: RouterIx) -> Vec<u8> {
    [tlv(512, &asn(t, r).to_be_bytes()), tlv(516, &router_id(r))].concat()
}

/// The End.X SID the "network" gives `r` for crossing `l`: function
/// 0xe100 + 2 * link rank + side, not what CPN would allocate.
pub fn end_x(t: &Topology, r: RouterIx, l: LinkIx) -> Ipv6Addr {
    let (a, _) = t.link_ends(l);
    let f = 0xe100 + 2 * l.index() as u128 + u128::from(a != r);
    Ipv6Addr::from(u128::from(t.router(r).locator.network()) | (f << 64))
}

/// One route: NLRI, attribute, and what it is.
#[derive(Clone, Debug)]
pub struct Route {
    pub nlri: Vec<u8>,
    pub attr: Vec<u8>,
    pub what: String,
}

/// A link direction's route, from `from` across `l`; `latency` replaces
/// the link's.
pub fn link_route(t: &Topology, l: LinkIx, from: RouterIx, latency: Option<u64>) -> Route {
    let link = t.link(l);
    let to = t.other_end(l, from);
    let (a, _) = t.link_ends(l);
    let ids = if from == a {
        (2 * l.index() as u32 + 1, 2 * l.index() as u32 + 2)
    } else {
        (2 * l.index() as u32 + 2, 2 * l.index() as u32 + 1)
    };
    let peering = t.link_kind(l) == LinkKind::Peering;
    let (protocol, local, remote) = if peering {
        (7, bgp_node(t, from), bgp_node(t, to))
    } else {
        (2, igp_node(t, from), igp_node(t, to))
    };
    let mut link_ids = ids.0.to_be_bytes().to_vec();
    link_ids.extend_from_slice(&ids.1.to_be_bytes());
    let n = nlri(
        2,
        protocol,
        &[tlv(256, &local), tlv(257, &remote), tlv(258, &link_ids)],
    );
    let bytes_per_s = |mbps: u64| ((mbps as f64 * 125_000.0) as f32).to_be_bytes();
    let u24 = |v: u64| {
        let b = (v as u32).to_be_bytes();
        [0, b[1], b[2], b[3]]
    };
    let mut attr = vec![
        tlv(1095, &link.igp.to_be_bytes()[1..]),
        tlv(1092, &link.te.to_be_bytes()),
        tlv(1089, &bytes_per_s(link.bandwidth_mbps)),
        tlv(1114, &u24(latency.unwrap_or(link.latency_us))),
    ];
    if link.jitter_us > 0 {
        attr.push(tlv(1116, &u24(link.jitter_us)));
    }
    if link.loss_ppm > 0 {
        // Units of 0.000003 %: ppm * 100 / 3.
        attr.push(tlv(1117, &u24((link.loss_ppm * 100 + 1) / 3)));
    }
    if link.used_mbps > 0 {
        attr.push(tlv(1120, &bytes_per_s(link.used_mbps)));
    }
    if !link.srlg.is_empty() {
        let v: Vec<u8> = link.srlg.iter().flat_map(|s| s.to_be_bytes()).collect();
        attr.push(tlv(1096, &v));
    }
    // End.X (behavior 5), flags 0, algorithm 0, weight 0, reserved, SID,
    // and a SID Structure sub-TLV (block = locator, function 16).
    let mut endx = vec![0, 5, 0, 0, 0, 0];
    endx.extend_from_slice(&end_x(t, from, l).octets());
    endx.extend(tlv(1252, &[48, 0, 16, 0]));
    attr.push(tlv(1106, &endx));
    Route {
        nlri: n,
        attr: attr.concat(),
        what: format!("link {} from {}", link.id, t.router(from).id),
    }
}

/// The whole lab, as a route reflector would send it: nodes, locators,
/// both directions of every link (peering links as BGP EPE links).
pub fn lab_routes(t: &Topology) -> Vec<Route> {
    let mut out = Vec::new();
    for (r, router) in t.routers() {
        let name = router.id.as_str();
        let attr = [
            tlv(1026, name.as_bytes()),
            tlv(1028, &router_id(r)),
            tlv(1038, &[0, 0, 0, 0]),
        ]
        .concat();
        out.push(Route {
            nlri: nlri(1, 2, &[tlv(256, &igp_node(t, r))]),
            attr,
            what: format!("node {name}"),
        });
        let mut prefix = vec![48u8];
        prefix.extend_from_slice(&router.locator.network().octets()[..6]);
        out.push(Route {
            nlri: nlri(4, 2, &[tlv(256, &igp_node(t, r)), tlv(265, &prefix)]),
            attr: tlv(1162, &[0, 0, 0, 0, 0, 0, 0, 0]),
            what: format!("locator of {name}"),
        });
    }
    for (l, _) in t.links() {
        let (a, b) = t.link_ends(l);
        out.push(link_route(t, l, a, None));
        out.push(link_route(t, l, b, None));
    }
    out
}

/// A BGP message: marker, length, type, body.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

fn attribute(flags: u8, kind: u8, value: &[u8]) -> Vec<u8> {
    if value.len() > 255 {
        let mut a = vec![flags | 0x10, kind];
        a.extend_from_slice(&(value.len() as u16).to_be_bytes());
        a.extend_from_slice(value);
        a
    } else {
        [vec![flags, kind, value.len() as u8], value.to_vec()].concat()
    }
}

fn update_body(attrs: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    b
}

/// An UPDATE announcing `nlri` with BGP-LS attribute `ls` from AS 65100.
pub fn announce(nlri: &[u8], ls: &[u8]) -> Vec<u8> {
    let mut mp = vec![0x40, 0x04, 71, 4, 10, 0, 0, 100, 0];
    mp.extend_from_slice(nlri);
    let attrs = [
        attribute(0x40, 1, &[0]),
        attribute(0x40, 2, &[2, 1, 0, 0, 0xfe, 0x4c]),
        attribute(0x80, 14, &mp),
        attribute(0x80, 29, ls),
    ]
    .concat();
    message(2, &update_body(&attrs))
}

/// An UPDATE withdrawing `nlri`.
pub fn withdraw(nlri: &[u8]) -> Vec<u8> {
    let mut mp = vec![0x40, 0x04, 71];
    mp.extend_from_slice(nlri);
    message(2, &update_body(&attribute(0x80, 15, &mp)))
}

/// The End-of-RIB of BGP-LS.
pub fn end_of_rib() -> Vec<u8> {
    withdraw(&[])
}

/// A raw BGP peer (AS 65100, id 10.9.9.9) over TCP.
pub struct RawPeer {
    pub stream: TcpStream,
}

impl RawPeer {
    /// Connects and brings the session up: OPEN (BGP-LS, four-octet AS),
    /// the controller's OPEN and KEEPALIVE, our KEEPALIVE.
    pub fn connect(addr: &str) -> RawPeer {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut p = RawPeer { stream };
        let caps = [
            vec![1, 4, 0x40, 0x04, 0, 71],
            vec![65, 4, 0, 0, 0xfe, 0x4c],
            vec![200, 2, 7, 7], // a capability nobody knows: ignored
        ]
        .concat();
        let mut open = vec![4, 0xfe, 0x4c, 0, 90, 10, 9, 9, 9, caps.len() as u8 + 2, 2];
        open.push(caps.len() as u8);
        open.extend_from_slice(&caps);
        p.send(&message(1, &open));
        let (kind, _) = p.read();
        assert_eq!(kind, 1, "the controller's OPEN");
        let (kind, _) = p.read();
        assert_eq!(kind, 4, "its KEEPALIVE");
        p.send(&message(4, &[]));
        p
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next message: type and body.
    pub fn read(&mut self) -> (u8, Vec<u8>) {
        let mut head = [0u8; 19];
        self.stream.read_exact(&mut head).unwrap();
        let len = usize::from(u16::from_be_bytes([head[16], head[17]]));
        let mut body = vec![0u8; len - 19];
        self.stream.read_exact(&mut body).unwrap();
        (head[18], body)
    }

    /// Reads until a NOTIFICATION (skipping keepalives): its code and
    /// subcode; then the connection must close.
    pub fn notification(&mut self) -> (u8, u8) {
        loop {
            let (kind, body) = self.read();
            if kind == 3 {
                let mut rest = Vec::new();
                let n = self.stream.read_to_end(&mut rest).unwrap_or(0);
                assert_eq!(n, 0, "the connection closes after the NOTIFICATION");
                return (body[0], body[1]);
            }
        }
    }
}
