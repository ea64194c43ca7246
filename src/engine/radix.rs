//! The search's priority queue: a radix heap over its (objective, first
//! tie-break) keys. Label-setting only ever queues keys at least as large
//! as the last one taken (link weights are not negative), and for such
//! monotone queues a radix heap keeps entries in buckets by the highest bit
//! in which they differ from that last key: a push is an append, and a pop
//! re-buckets the few entries of one bucket now and then instead of sifting
//! through a binary heap's levels (cache misses on every one).
//!
//! Entries of equal key leave in the order of their label index, exactly
//! as `(key, index)` pairs leave a binary heap, so the search makes the same
//! labels in the same order with either.

/// Buckets: one per bit of a 128-bit key, and one for keys equal to the last.
const BUCKETS: usize = 129;

/// One queued label.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: (u64, u64),
    index: u32,
    node: u32,
}

/// A monotone priority queue of labels (index, router) by key.
pub(super) struct RadixHeap {
    /// The last key taken: every queued key is at least this.
    last: u128,
    /// Bucket `b > 0` holds keys whose highest bit differing from `last` is
    /// bit `b - 1`; bucket 0 holds keys equal to `last`, in index order,
    /// read from `front`.
    buckets: Vec<Vec<Entry>>,
    front: usize,
    len: usize,
}

fn wide(key: (u64, u64)) -> u128 {
    (u128::from(key.0) << 64) | u128::from(key.1)
}

impl RadixHeap {
    /// An empty queue.
    pub(super) fn new() -> RadixHeap {
        RadixHeap {
            last: 0,
            buckets: vec![Vec::new(); BUCKETS],
            front: 0,
            len: 0,
        }
    }

    fn bucket(&self, key: u128) -> usize {
        (128 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Queues a label. Its key must not be below the last key taken.
    #[inline]
    pub(super) fn push(&mut self, key: (u64, u64), index: u32, node: u32) {
        let w = wide(key);
        debug_assert!(w >= self.last, "radix heap keys must not decrease");
        let b = self.bucket(w);
        self.buckets[b].push(Entry { key, index, node });
        self.len += 1;
    }

    /// Takes the label of least key (of least index among equal keys):
    /// `(key, index, router)`.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<((u64, u64), u32, u32)> {
        if self.front == self.buckets[0].len() {
            self.refill()?;
        }
        let e = self.buckets[0][self.front];
        self.front += 1;
        self.len -= 1;
        Some((e.key, e.index, e.node))
    }

    /// Moves the least non-empty bucket's entries down around its least
    /// key (which becomes the last key); `None` when the queue is empty.
    #[cold]
    fn refill(&mut self) -> Option<()> {
        self.buckets[0].clear();
        self.front = 0;
        let b = (1..BUCKETS).find(|&b| !self.buckets[b].is_empty())?;
        let moving = std::mem::take(&mut self.buckets[b]);
        self.last = moving.iter().map(|e| wide(e.key)).min()?;
        for e in &moving {
            let to = self.bucket(wide(e.key));
            self.buckets[to].push(*e);
        }
        // Hand the emptied bucket's memory back for reuse.
        let mut moving = moving;
        moving.clear();
        self.buckets[b] = moving;
        self.buckets[0].sort_unstable_by_key(|e| e.index);
        Some(())
    }

    /// Entries still queued.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Drops every entry.
    pub(super) fn clear(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.front = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// A small deterministic generator (xorshift), so the test needs no
    /// dependency and always runs the same sequences.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn it_takes_labels_in_the_order_a_binary_heap_of_key_and_index_does() {
        for seed in 1..40u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut radix = RadixHeap::new();
            let mut binary = BinaryHeap::new();
            let mut next_index = 0u32;
            let mut last = (0u64, 0u64);
            let (mut taken_radix, mut taken_binary) = (Vec::new(), Vec::new());
            // Narrow weights make many equal keys; a few huge ones reach
            // the high buckets and the first half of the key.
            let weight = |rng: &mut Rng| match rng.next() % 10 {
                0 => rng.next() % (1 << 40),
                1..=4 => 0,
                _ => rng.next() % 4,
            };
            for _ in 0..3000 {
                if !rng.next().is_multiple_of(3) || binary.is_empty() {
                    for _ in 0..(rng.next() % 4) {
                        let key = if rng.next().is_multiple_of(50) {
                            (last.0 + 1 + weight(&mut rng), weight(&mut rng))
                        } else {
                            (last.0 + weight(&mut rng), last.1 + weight(&mut rng))
                        };
                        let node = (rng.next() % 100) as u32;
                        radix.push(key, next_index, node);
                        binary.push(Reverse((key, next_index, node)));
                        next_index += 1;
                    }
                }
                if let Some(Reverse(b)) = binary.pop() {
                    let r = radix.pop().expect("the radix heap holds as many");
                    last = b.0;
                    taken_binary.push(b);
                    taken_radix.push(r);
                }
                assert_eq!(radix.len(), binary.len());
            }
            while let Some(Reverse(b)) = binary.pop() {
                taken_binary.push(b);
                taken_radix.push(radix.pop().expect("the radix heap holds as many"));
            }
            assert_eq!(radix.pop(), None);
            assert_eq!(taken_radix, taken_binary, "seed {seed}");
        }
    }

    #[test]
    fn a_cleared_queue_is_empty_and_usable() {
        let mut q = RadixHeap::new();
        q.push((5, 1), 0, 0);
        q.push((7, 0), 1, 0);
        assert_eq!(q.pop(), Some(((5, 1), 0, 0)));
        q.clear();
        assert_eq!(q.len(), 0);
        assert_eq!(q.pop(), None);
        q.push((9, 9), 2, 3);
        assert_eq!(q.pop(), Some(((9, 9), 2, 3)));
    }
}
