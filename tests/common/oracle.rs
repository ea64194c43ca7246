//! Independent re-implementations of the spec's rules for tests: IGP
//! distances and shortest-path counts, minimal segment lists, and a replay of
//! a segment list over the IGP view. Written without the engine's code, so
//! that the engine is checked against something else.

use cpn::engine::Segment;
use cpn::model::{Behavior, LinkIx, RouterIx, Topology};

/// Shortest IGP distances and path counts (saturating at 2) inside each
/// operator, over up links between up routers: Floyd-Warshall, then counts.
pub struct Igp {
    pub dist: Vec<Vec<u64>>,
    pub count: Vec<Vec<u8>>,
}

pub const INF: u64 = u64::MAX / 4;

pub fn igp_tables(t: &Topology) -> Igp {
    let n = t.router_count();
    let op = |r: usize| t.router(RouterIx::new(r)).operator;
    let up = |r: usize| t.router(RouterIx::new(r)).up;
    let mut dist = vec![vec![INF; n]; n];
    for (r, row) in dist.iter_mut().enumerate() {
        if up(r) {
            row[r] = 0;
        }
    }
    let intra: Vec<(usize, usize, u64)> = t
        .links()
        .filter(|(ix, l)| {
            let (a, b) = t.link_ends(*ix);
            l.up && up(a.index()) && up(b.index()) && op(a.index()) == op(b.index())
        })
        .map(|(ix, l)| {
            let (a, b) = t.link_ends(ix);
            (a.index(), b.index(), u64::from(l.igp))
        })
        .collect();
    for &(a, b, w) in &intra {
        dist[a][b] = dist[a][b].min(w);
        dist[b][a] = dist[b][a].min(w);
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if dist[i][k] + dist[k][j] < dist[i][j] {
                    dist[i][j] = dist[i][k] + dist[k][j];
                }
            }
        }
    }
    let mut count = vec![vec![0u8; n]; n];
    for c in 0..n {
        let mut order: Vec<usize> = (0..n).filter(|&v| dist[c][v] < INF).collect();
        order.sort_by_key(|&v| dist[c][v]);
        for &v in &order {
            if v == c {
                count[c][v] = 1;
                continue;
            }
            let mut k = 0u32;
            for &(a, b, w) in &intra {
                for (u, x) in [(a, b), (b, a)] {
                    if x == v && dist[c][u] < INF && dist[c][u] + w == dist[c][v] {
                        k += u32::from(count[c][u]);
                    }
                }
            }
            count[c][v] = k.min(2) as u8;
        }
    }
    Igp { dist, count }
}

/// The IGP view of a topology, for checking segment lists.
pub struct IgpView<'a> {
    pub t: &'a Topology,
    pub igp: Igp,
}

impl<'a> IgpView<'a> {
    pub fn new(t: &'a Topology) -> Self {
        IgpView {
            t,
            igp: igp_tables(t),
        }
    }

    /// `End` from path[i] reaches path[j] along exactly path[i..=j].
    pub fn end_ok(&self, routers: &[RouterIx], links: &[LinkIx], i: usize, j: usize) -> bool {
        let op = self.t.router(routers[i]).operator;
        if routers[i..=j]
            .iter()
            .any(|r| self.t.router(*r).operator != op)
        {
            return false;
        }
        let igp: u64 = links[i..j]
            .iter()
            .map(|&l| u64::from(self.t.link(l).igp))
            .sum();
        let (a, b) = (routers[i].index(), routers[j].index());
        self.igp.dist[a][b] == igp && self.igp.count[a][b] == 1
    }

    /// The fewest segments for a path: breadth-first over positions, then
    /// the endpoint's End.DT6 (which steers like an End), which ends every
    /// list.
    pub fn min_segments(&self, routers: &[RouterIx], links: &[LinkIx]) -> usize {
        let k = routers.len() - 1;
        let mut d = vec![usize::MAX; k + 1];
        d[0] = 0;
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(i) = queue.pop_front() {
            for j in i + 1..=k {
                let by_end = self.end_ok(routers, links, i, j);
                let by_end_x = j - 1 == i || self.end_ok(routers, links, i, j - 1);
                if (by_end || by_end_x) && d[j] == usize::MAX {
                    d[j] = d[i] + 1;
                    queue.push_back(j);
                }
            }
        }
        (0..=k)
            .filter(|&i| d[i] != usize::MAX && (i == k || self.end_ok(routers, links, i, k)))
            .map(|i| d[i] + 1)
            .min()
            .unwrap()
    }

    /// Replays a segment list over the IGP view; the routers and links the
    /// packet visits. The list must end with the endpoint's End.DT6 (a data
    /// center's, or the router's own): anything else delivers nothing.
    pub fn replay(
        &self,
        headend: RouterIx,
        segments: &[Segment],
    ) -> Result<(Vec<RouterIx>, Vec<LinkIx>), String> {
        let t = self.t;
        let mut cur = headend;
        let mut routers = vec![cur];
        let mut links = Vec::new();
        let go = |cur: RouterIx,
                  to: RouterIx,
                  routers: &mut Vec<RouterIx>,
                  links: &mut Vec<LinkIx>|
         -> Result<(), String> {
            if cur == to {
                return Ok(());
            }
            let (c, r) = (cur.index(), to.index());
            if t.router(cur).operator != t.router(to).operator
                || self.igp.dist[c][r] >= INF
                || self.igp.count[c][r] != 1
            {
                return Err(format!(
                    "no unique IGP path {} -> {}",
                    t.router(cur).id,
                    t.router(to).id
                ));
            }
            // Walk back from `to` along the unique shortest path.
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
                            && self.igp.dist[c][u] < INF
                            && self.igp.dist[c][u] + u64::from(l.igp) == self.igp.dist[c][v.index()]
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
        };
        for (i, s) in segments.iter().enumerate() {
            let sid = t.sids().lookup(s.sid).ok_or("unknown SID")?;
            if sid.router != s.router || sid.behavior() != s.behavior {
                return Err("SID meaning differs".into());
            }
            go(cur, s.router, &mut routers, &mut links)?;
            cur = s.router;
            match s.behavior {
                Behavior::End => {}
                Behavior::EndX => {
                    let l = s.link.ok_or("End.X without link")?;
                    let (a, b) = t.link_ends(l);
                    if a != cur && b != cur {
                        return Err("End.X link not at its router".into());
                    }
                    cur = if a == cur { b } else { a };
                    links.push(l);
                    routers.push(cur);
                }
                Behavior::EndDt6 => {
                    if i + 1 != segments.len() {
                        return Err("End.DT6 not last".into());
                    }
                    match s.datacenter {
                        Some(dc) if !t.datacenters_at(cur).contains(&dc) => {
                            return Err("End.DT6 into a data center not behind its router".into());
                        }
                        Some(_) => {}
                        None if s.sid != t.sids().own_dt6(cur) => {
                            return Err(
                                "End.DT6 without a data center is not the router's own".into()
                            );
                        }
                        None => {}
                    }
                }
            }
        }
        if segments.last().map(|s| s.behavior) != Some(Behavior::EndDt6) {
            return Err("the list does not end with the endpoint's End.DT6".into());
        }
        Ok((routers, links))
    }
}
