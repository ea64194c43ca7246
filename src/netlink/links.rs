//! Interfaces: veth wires between namespaces, admin state, aliases, IPv6
//! addresses, and which interfaces are up (admin up and carrier).

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;

use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};
use rtnetlink::packet_route::link::{InfoData, InfoVeth, LinkAttribute, LinkFlags};
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth};
use tokio_stream::StreamExt;

use super::{NetError, NetResult, netns};

/// Creates a veth wire with end `a.1` in namespace `a.0` and end `b.1` in
/// namespace `b.0`, in one request through `root` (a connection outside
/// both).
pub async fn veth(root: &Handle, a: (&str, &str), b: (&str, &str)) -> NetResult<()> {
    let what = format!("veth {}:{} -- {}:{}", a.0, a.1, b.0, b.1);
    let open = |ns: &str| File::open(netns::path(ns)).map_err(|e| NetError::new(&what, e));
    let (fa, fb) = (open(a.0)?, open(b.0)?);
    let peer = LinkMessageBuilder::<LinkUnspec>::new()
        .name(b.1.to_owned())
        .setns_by_fd(fb.as_raw_fd())
        .build();
    let message = LinkMessageBuilder::<LinkVeth>::new(a.1, b.1)
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
        .setns_by_fd(fa.as_raw_fd())
        .build();
    root.link()
        .add(message)
        .execute()
        .await
        .map_err(|e| NetError::new(&what, e))
    // The namespace files stay open until the kernel has taken the request.
}

/// Creates a veth pair `name`/`peer` inside the namespace of `h`.
pub async fn veth_local(h: &Handle, name: &str, peer: &str) -> NetResult<()> {
    h.link()
        .add(LinkVeth::new(name, peer).build())
        .execute()
        .await
        .map_err(|e| NetError::new(format!("veth {name}/{peer}"), e))
}

/// Deletes interface `name` (a veth takes its peer with it).
pub async fn delete(h: &Handle, name: &str) -> NetResult<()> {
    let ix = require(h, name).await?;
    h.link()
        .del(ix)
        .execute()
        .await
        .map_err(|e| NetError::new(format!("delete {name}"), e))
}

/// The index of interface `name`, if it exists.
pub async fn index(h: &Handle, name: &str) -> NetResult<Option<u32>> {
    let mut links = h.link().get().match_name(name.to_owned()).execute();
    match links.next().await {
        Some(Ok(l)) => Ok(Some(l.header.index)),
        // ENODEV: no such interface.
        Some(Err(rtnetlink::Error::NetlinkError(e))) if e.raw_code() == -19 => Ok(None),
        Some(Err(e)) => Err(NetError::new(format!("interface {name}"), e)),
        None => Ok(None),
    }
}

/// The index of interface `name`; an error naming it if it does not exist.
pub async fn require(h: &Handle, name: &str) -> NetResult<u32> {
    index(h, name)
        .await?
        .ok_or_else(|| NetError::msg(format!("no interface {name}")))
}

/// Sets interface `name` administratively up or down.
pub async fn set_up(h: &Handle, name: &str, up: bool) -> NetResult<()> {
    let ix = require(h, name).await?;
    let b = LinkUnspec::new_with_index(ix);
    let message = if up { b.up() } else { b.down() }.build();
    h.link()
        .set(message)
        .execute()
        .await
        .map_err(|e| NetError::new(format!("set {name} {}", if up { "up" } else { "down" }), e))
}

/// Sets the alias (a description) of interface `name`.
pub async fn set_alias(h: &Handle, name: &str, alias: &str) -> NetResult<()> {
    let ix = require(h, name).await?;
    h.link()
        .set(LinkUnspec::new_with_index(ix).alias(alias).build())
        .execute()
        .await
        .map_err(|e| NetError::new(format!("alias of {name}"), e))
}

/// Every interface by name: whether it carries traffic (admin up and
/// carrier), and its alias.
pub async fn states(h: &Handle) -> NetResult<BTreeMap<String, (bool, Option<String>)>> {
    let mut out = BTreeMap::new();
    let mut links = h.link().get().execute();
    while let Some(l) = links.next().await {
        let l = l.map_err(|e| NetError::new("list interfaces", e))?;
        let up =
            l.header.flags.contains(LinkFlags::Up) && l.header.flags.contains(LinkFlags::LowerUp);
        let mut name = None;
        let mut alias = None;
        for a in l.attributes {
            match a {
                LinkAttribute::IfName(n) => name = Some(n),
                LinkAttribute::IfAlias(s) => alias = Some(s),
                _ => {}
            }
        }
        if let Some(name) = name {
            out.insert(name, (up, alias));
        }
    }
    Ok(out)
}

/// Packets received so far, by interface name.
pub async fn rx_packets(h: &Handle) -> NetResult<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let mut links = h.link().get().execute();
    while let Some(l) = links.next().await {
        let l = l.map_err(|e| NetError::new("list interfaces", e))?;
        let mut name = None;
        let mut rx = 0;
        for a in l.attributes {
            match a {
                LinkAttribute::IfName(n) => name = Some(n),
                LinkAttribute::Stats64(s) => rx = s.rx_packets,
                _ => {}
            }
        }
        if let Some(name) = name {
            out.insert(name, rx);
        }
    }
    Ok(out)
}

/// Adds an IPv6 address to interface `name`, usable at once (no duplicate
/// address detection).
pub async fn add_address(h: &Handle, name: &str, addr: Ipv6Addr, prefix: u8) -> NetResult<()> {
    let ix = require(h, name).await?;
    let mut request = h.address().add(ix, IpAddr::V6(addr), prefix);
    request
        .message_mut()
        .attributes
        .push(AddressAttribute::Flags(AddressFlags::Nodad));
    request
        .replace()
        .execute()
        .await
        .map_err(|e| NetError::new(format!("address {addr}/{prefix} on {name}"), e))
}
