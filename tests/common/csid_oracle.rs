//! An independent model of compressed SRv6 (RFC 9800 NEXT-C-SID) for
//! tests: SRH entries replayed the way the Linux kernel processes them
//! (look the address up; the owner of the active micro-SID shifts the rest
//! left by LNFL bits and zero-fills; a zero argument means ordinary SRH
//! processing), and the fewest entries a path can take, by exhaustive
//! search. Written from the documented micro-SID layout (docs/topology.md),
//! not from the engine's code.

use std::net::Ipv6Addr;

use cpn::model::{DatacenterIx, LinkIx, OperatorIx, RouterIx, Topology};

use super::oracle::{INF, IgpView};

/// What an address means at the router that looks it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    End,
    EndX(LinkIx),
    Dt6(Option<DatacenterIx>),
}

/// A block as bits: (network, LBL, LNFL).
fn block_of(t: &Topology, op: OperatorIx) -> Option<(u128, u32, u32)> {
    let c = t.operator(op).csid?;
    Some((
        u128::from(c.block.network()),
        u32::from(c.block.prefix()),
        u32::from(c.lnfl),
    ))
}

/// True when router `r` takes micro-SIDs.
pub fn compressed(t: &Topology, r: RouterIx) -> bool {
    t.router(r).usid.is_some() && t.operator(t.router(r).operator).csid.is_some()
}

/// Micro-SIDs per container of router `r`'s block.
pub fn per_container(t: &Topology, r: RouterIx) -> usize {
    let (_, lbl, lnfl) = block_of(t, t.router(r).operator).expect("compressed router");
    ((128 - lbl) / lnfl) as usize
}

/// The operator whose block holds `addr`, with the active micro-SID and
/// the address after a shift (`None`: the argument is zero).
fn in_block(t: &Topology, addr: Ipv6Addr) -> Option<(OperatorIx, u32, Option<Ipv6Addr>)> {
    let bits = u128::from(addr);
    for (i, _) in t.operators().iter().enumerate() {
        let op = OperatorIx(i as u16);
        let Some((net, lbl, lnfl)) = block_of(t, op) else {
            continue;
        };
        let block_mask = !(u128::MAX >> lbl);
        if bits & block_mask != net {
            continue;
        }
        let rest = bits & !block_mask;
        let active = (rest >> (128 - lbl - lnfl)) as u32;
        let after = 128 - lbl - lnfl;
        let argument = if after == 0 {
            0
        } else {
            rest & (u128::MAX >> (128 - after))
        };
        let next =
            (argument != 0).then(|| Ipv6Addr::from(net | ((argument << lnfl) & !block_mask)));
        return Some((op, active, next));
    }
    None
}

/// Resolves a micro-SID value of `op`'s block looked up at `cur`.
fn micro_meaning(
    t: &Topology,
    op: OperatorIx,
    value: u32,
    cur: RouterIx,
) -> Result<(RouterIx, Meaning), String> {
    let (_, _, lnfl) = block_of(t, op).expect("a block");
    let space = 1u64 << lnfl;
    let local = (space / 8 * 7) as u32;
    let dc_base = (space / 16 * 15) as u32;
    if value != 0 && value < local {
        let owner = t
            .routers()
            .find(|(_, r)| r.operator == op && r.usid.map(|u| u.0) == Some(value))
            .map(|(ix, _)| ix)
            .ok_or(format!("no router has node micro-SID {value:#x}"))?;
        return Ok((owner, Meaning::End));
    }
    // Local: only the router the packet is at can own it.
    if t.router(cur).operator != op || !compressed(t, cur) {
        return Err(format!(
            "local micro-SID {value:#x} looked up at {}, outside its block",
            t.router(cur).id
        ));
    }
    let meaning = if value == local {
        Meaning::Dt6(None)
    } else if value < dc_base {
        let rank = (value - local - 1) as usize;
        let adj = t.adjacencies(cur).get(rank).ok_or("no such uA")?;
        Meaning::EndX(adj.link)
    } else {
        let rank = (value - dc_base) as usize;
        Meaning::Dt6(Some(
            *t.datacenters_at(cur).get(rank).ok_or("no such uDT6")?,
        ))
    };
    Ok((cur, meaning))
}

/// Routers and links a packet visited, and the table it left the SR
/// domain into (a data center's, or `None`: the router's own).
pub type Replayed = (Vec<RouterIx>, Vec<LinkIx>, Option<DatacenterIx>);

/// Replays SRH entries (travel order) from `headend` as the kernel would;
/// the routers and links visited and the data center decapsulated into.
pub fn replay_entries(
    view: &IgpView<'_>,
    headend: RouterIx,
    entries: &[Ipv6Addr],
) -> Result<Replayed, String> {
    let t = view.t;
    let mut cur = headend;
    let mut routers = vec![cur];
    let mut links = Vec::new();
    let mut index = 0;
    let mut da = *entries.first().ok_or("no entries")?;
    for _ in 0..1000 {
        let (owner, meaning, next) = match in_block(t, da) {
            Some((op, value, next)) => {
                let (owner, meaning) = micro_meaning(t, op, value, cur)?;
                (owner, meaning, next)
            }
            None => {
                let sid = t.sids().lookup(da).ok_or(format!("{da} is nobody's SID"))?;
                let meaning = match sid.function {
                    cpn::model::SidFunction::End => Meaning::End,
                    cpn::model::SidFunction::EndX { link } => Meaning::EndX(link),
                    cpn::model::SidFunction::EndDt6 { datacenter } => Meaning::Dt6(datacenter),
                };
                (sid.router, meaning, None)
            }
        };
        walk(view, cur, owner, &mut routers, &mut links)?;
        cur = owner;
        match meaning {
            Meaning::End => {}
            Meaning::EndX(l) => {
                let (a, b) = t.link_ends(l);
                cur = if a == cur { b } else { a };
                links.push(l);
                routers.push(cur);
            }
            Meaning::Dt6(dc) => {
                if next.is_some() || index + 1 != entries.len() {
                    return Err("End.DT6 with segments left: the kernel drops it".into());
                }
                return Ok((routers, links, dc));
            }
        }
        match next {
            Some(n) => da = n,
            None => {
                index += 1;
                da = *entries
                    .get(index)
                    .ok_or("End or End.X with Segments Left 0 delivers to the router itself")?;
            }
        }
    }
    Err("replay does not end".into())
}

/// The packet follows the unique IGP shortest path from `cur` to `to`.
fn walk(
    view: &IgpView<'_>,
    cur: RouterIx,
    to: RouterIx,
    routers: &mut Vec<RouterIx>,
    links: &mut Vec<LinkIx>,
) -> Result<(), String> {
    let t = view.t;
    if cur == to {
        return Ok(());
    }
    let (c, r) = (cur.index(), to.index());
    if t.router(cur).operator != t.router(to).operator
        || view.igp.dist[c][r] >= INF
        || view.igp.count[c][r] != 1
    {
        return Err(format!(
            "no unique IGP path {} -> {}",
            t.router(cur).id,
            t.router(to).id
        ));
    }
    let mut back = Vec::new();
    let mut v = to;
    while v != cur {
        let step = t
            .adjacencies(v)
            .iter()
            .find(|a| {
                let l = t.link(a.link);
                let u = a.router.index();
                l.up && t.router(a.router).up
                    && t.router(a.router).operator == t.router(cur).operator
                    && view.igp.dist[c][u] < INF
                    && view.igp.dist[c][u] + u64::from(l.igp) == view.igp.dist[c][v.index()]
            })
            .copied()
            .ok_or("broken IGP walk")?;
        back.push((step.link, v));
        v = step.router;
    }
    for (l, r) in back.into_iter().rev() {
        links.push(l);
        routers.push(r);
    }
    Ok(())
}

/// One item of a flat list: a micro-SID of a block, or a full SID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Micro(OperatorIx, usize),
    Full,
}

/// SRH entries of a flat list: runs of micro-SIDs of one block packed
/// `per container`, every full SID an entry of its own.
fn packed(items: &[Item]) -> usize {
    let mut entries = 0;
    let mut run: Option<(OperatorIx, usize, usize)> = None;
    for &it in items {
        match it {
            Item::Full => {
                run = None;
                entries += 1;
            }
            Item::Micro(op, room) => match run {
                Some((o, used, r)) if o == op && used < r => run = Some((o, used + 1, r)),
                _ => {
                    entries += 1;
                    run = Some((op, 1, room));
                }
            },
        }
    }
    entries
}

/// The fewest SRH entries steering onto `routers` (joined by `links`) and
/// decapsulating at the endpoint: every flat list of steps tried
/// (branch and bound on the entries so far).
pub fn min_entries(view: &IgpView<'_>, routers: &[RouterIx], links: &[LinkIx]) -> usize {
    let mut best = usize::MAX;
    let mut items = Vec::new();
    search(view, routers, links, 0, &mut items, &mut best);
    best
}

fn search(
    view: &IgpView<'_>,
    routers: &[RouterIx],
    links: &[LinkIx],
    i: usize,
    items: &mut Vec<Item>,
    best: &mut usize,
) {
    let t = view.t;
    let k = routers.len() - 1;
    if packed(items) >= *best {
        return;
    }
    let micro = |r: RouterIx| Item::Micro(t.router(r).operator, per_container(t, r));
    let try_item = |item: Item, next: Option<usize>, items: &mut Vec<Item>, best: &mut usize| {
        items.push(item);
        match next {
            None => *best = (*best).min(packed(items)),
            Some(j) => search(view, routers, links, j, items, best),
        }
        items.pop();
    };
    // Decapsulate: uDT6 at the endpoint, or a full End.DT6 reaching it.
    if i == k && compressed(t, routers[k]) {
        try_item(micro(routers[k]), None, items, best);
    }
    if i == k || view.end_ok(routers, links, i, k) {
        try_item(Item::Full, None, items, best);
    }
    for j in i + 1..=k {
        if view.end_ok(routers, links, i, j) {
            if compressed(t, routers[j]) {
                try_item(micro(routers[j]), Some(j), items, best);
            }
            try_item(Item::Full, Some(j), items, best);
        }
    }
    if i < k && compressed(t, routers[i]) {
        try_item(micro(routers[i]), Some(i + 1), items, best);
    }
    for r in i..k {
        if r == i || view.end_ok(routers, links, i, r) {
            try_item(Item::Full, Some(r + 1), items, best);
        }
    }
}
