//! The labels of the constrained search and their dominance: a label is a
//! partial path (sums, and in segment mode the segments it has used); at each
//! router only labels no other dominates are kept (the Pareto set), with up
//! to [`TIE_LABELS`] exact ties so that ties can later be broken by segment
//! count.

use super::search::Sums;

/// No label (end of a chain, or the start's predecessor).
pub(super) const NONE: u32 = u32::MAX;
/// Labels of exactly equal value kept per router, so that ties on the
/// objective and its first tie-break can later be broken by segment count.
const TIE_LABELS: usize = 4;

/// A partial path ending at `node`.
#[derive(Clone, Copy, Debug)]
pub struct Label {
    /// The router it ends at.
    pub node: u32,
    /// The label it extends, or none for the start.
    pub pred: u32,
    /// The link from `pred`'s router.
    pub link: u32,
    /// Sums so far (including the start offset).
    pub sums: Sums,
    pub(super) next_at_node: u32,
    pub(super) alive: bool,
    /// Segment mode: router where the last segment ended.
    pub(super) anchor: u32,
    /// Segment mode: segments so far.
    pub(super) segs: u16,
    /// Segment mode: a stretch after `anchor` still to be closed.
    pub(super) pending: bool,
    /// Segment mode with compression: the block (operator index + 1) of
    /// the open container, 0 when none is open.
    pub(super) block: u16,
}

impl Label {
    /// Segments a path ending at this label needs at least (the final
    /// End.DT6 included).
    pub fn segments_at_least(&self) -> u16 {
        self.segs + 1
    }
}

/// Which dimensions labels compare on besides the key.
pub(super) struct Dims {
    pub(super) latency: bool,
    pub(super) jitter: bool,
    pub(super) loss: bool,
    pub(super) segments: bool,
    /// Segment mode: units per SRH entry (1 uncompressed; with
    /// compression a container's worth, see `search::SegmentLimit`).
    pub(super) entry: u16,
    /// A label may tie exactly with a label of its own path at the same
    /// router: only when some arc weighs nothing in the key, and only
    /// outside segment mode (which extends simple paths alone). When false,
    /// a path that loops is always beaten by its own earlier visit (or by
    /// whatever beat that), so ties need no walk up the path.
    pub(super) loops: bool,
}

/// `segs` rounded up to a whole number of entries of `entry` units.
pub(super) fn whole_entries(segs: u16, entry: u16) -> u16 {
    segs.div_ceil(entry) * entry
}

impl Dims {
    /// True when labels compare by key alone (no bounded resource, no segments).
    pub(super) fn key_only(&self) -> bool {
        !(self.latency || self.jitter || self.loss || self.segments)
    }

    fn resources_le(&self, a: &Label, b: &Label) -> bool {
        (!self.latency || a.sums.latency <= b.sums.latency)
            && (!self.jitter || a.sums.jitter <= b.sums.jitter)
            && (!self.loss || a.sums.loss <= b.sums.loss)
    }

    fn resources_eq(&self, a: &Label, b: &Label) -> bool {
        (!self.latency || a.sums.latency == b.sums.latency)
            && (!self.jitter || a.sums.jitter == b.sums.jitter)
            && (!self.loss || a.sums.loss == b.sums.loss)
    }

    /// Segment state of `a` is at least as good as `b`'s for every future.
    fn segments_le(&self, a: &Label, b: &Label) -> bool {
        if !self.segments {
            return true;
        }
        // `a` can always close its container (and, pending, its stretch
        // with one full SID); within one open block fewer units are better.
        let closed = whole_entries(a.segs, self.entry);
        if !a.pending {
            (a.block == b.block && a.segs <= b.segs) || closed <= b.segs
        } else {
            (b.pending && a.anchor == b.anchor && a.block == b.block && a.segs <= b.segs)
                || closed + self.entry <= b.segs
        }
    }

    fn segments_eq(&self, a: &Label, b: &Label) -> bool {
        !self.segments
            || (a.segs == b.segs
                && a.pending == b.pending
                && a.anchor == b.anchor
                && a.block == b.block)
    }
}

/// True when router `w` is already on the path of label `idx`.
pub(super) fn on_path(labels: &[Label], mut idx: u32, w: u32) -> bool {
    while idx != NONE {
        let l = &labels[idx as usize];
        if l.node == w {
            return true;
        }
        idx = l.pred;
    }
    false
}

/// The Pareto sets when labels compare by key alone: each router's set is
/// its best key's labels (up to [`TIE_LABELS`] ties), so a per-router best
/// key and tie count decide admission without reading any label, and a
/// better key simply starts a new chain. Labels left off a chain are dead:
/// [`KeyOnly::current`] tells from a queued key alone, and the chains (what
/// [`crate::engine::search::SearchResult::at`] walks) hold only live labels.
pub(super) struct KeyOnly {
    best: Vec<(u64, u64)>,
    ties: Vec<u8>,
}

impl KeyOnly {
    /// No label yet at any of `n` routers.
    pub(super) fn new(n: usize) -> KeyOnly {
        KeyOnly {
            best: vec![(u64::MAX, u64::MAX); n],
            ties: vec![0; n],
        }
    }

    /// True when a label of key `k` at `node` cannot be admitted (a better
    /// key is there already).
    #[inline]
    pub(super) fn beaten(&self, node: usize, k: (u64, u64)) -> bool {
        k > self.best[node]
    }

    /// True when a queued label of key `k` at `node` is still alive.
    #[inline]
    pub(super) fn current(&self, node: usize, k: (u64, u64)) -> bool {
        k == self.best[node]
    }

    /// Adds `candidate` (of key `k`) unless its router has a better key or
    /// [`TIE_LABELS`] ties already (or, when paths can loop back at no
    /// cost, it is such a loop). Same admissions as [`try_insert`].
    #[inline]
    pub(super) fn admit(
        &mut self,
        labels: &mut Vec<Label>,
        head: &mut [u32],
        loops: bool,
        k: (u64, u64),
        mut candidate: Label,
    ) -> bool {
        let w = candidate.node as usize;
        if k < self.best[w] {
            self.best[w] = k;
            self.ties[w] = 1;
            candidate.next_at_node = NONE;
        } else if k == self.best[w] {
            if usize::from(self.ties[w]) >= TIE_LABELS
                || (loops && on_path(labels, candidate.pred, candidate.node))
            {
                return false;
            }
            self.ties[w] += 1;
            candidate.next_at_node = head[w];
        } else {
            return false;
        }
        head[w] = labels.len() as u32;
        labels.push(candidate);
        true
    }
}

/// Adds `candidate` unless a label at its router dominates it; kills the
/// labels it dominates (and takes them off the router's chain, so that the
/// chains hold live labels only). Returns whether it was added.
#[inline]
pub(super) fn try_insert(
    labels: &mut Vec<Label>,
    head: &mut [u32],
    dims: &Dims,
    key: &dyn Fn(&Label) -> (u64, u64),
    mut candidate: Label,
) -> bool {
    let w = candidate.node as usize;
    let ck = key(&candidate);
    let mut ties = 0;
    let mut i = head[w];
    while i != NONE {
        let e = &labels[i as usize];
        if e.alive {
            let ek = key(e);
            if ek <= ck && dims.resources_le(e, &candidate) && dims.segments_le(e, &candidate) {
                let equal =
                    ek == ck && dims.resources_eq(e, &candidate) && dims.segments_eq(e, &candidate);
                if !equal {
                    return false;
                }
                ties += 1;
                // An exact tie may be a zero-weight loop back to this router.
                if ties >= TIE_LABELS
                    || (dims.loops && on_path(labels, candidate.pred, candidate.node))
                {
                    return false;
                }
            }
        }
        i = e.next_at_node;
    }
    // Segment mode extends simple paths only: a candidate back at a router
    // of its own path is refused. Checked after dominance, which refuses
    // most candidates for less than this walk up a long path costs.
    if dims.segments && on_path(labels, candidate.pred, candidate.node) {
        return false;
    }
    // Kill what the candidate strictly dominates, and take it off the
    // chain, which later candidates walk.
    let (mut prev, mut i) = (NONE, head[w]);
    while i != NONE {
        let e = labels[i as usize];
        if e.alive
            && ck <= key(&e)
            && dims.resources_le(&candidate, &e)
            && dims.segments_le(&candidate, &e)
            && !(ck == key(&e)
                && dims.resources_eq(&candidate, &e)
                && dims.segments_eq(&candidate, &e))
        {
            labels[i as usize].alive = false;
            match prev {
                NONE => head[w] = e.next_at_node,
                p => labels[p as usize].next_at_node = e.next_at_node,
            }
        } else {
            prev = i;
        }
        i = e.next_at_node;
    }
    candidate.next_at_node = head[w];
    head[w] = labels.len() as u32;
    labels.push(candidate);
    true
}
