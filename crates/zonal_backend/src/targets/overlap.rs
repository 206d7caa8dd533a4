//! Which of many address sets meet a given one, without testing every set.
//!
//! The renderers compare entries with entries (IOS subtracts every deny from
//! every permit, and fixes up every complement-written permit against every
//! earlier one). Done pair by pair that is quadratic in the rules; an
//! [`OverlapIndex`] of one side's ranges answers "which sets can meet this
//! one" in time that follows the ranges met, so only those pairs are
//! compared. The index is a filter: it returns every set that meets the
//! query (never fewer), ascending, and the caller does the exact work on
//! those only, so output is unchanged.
//!
//! Layout: the ranges are kept in buckets by the bit length of their span
//! (so every range in bucket `c` spans fewer than `2^c` addresses), each
//! sorted by start. A range meets `[a, b]` exactly when it starts at or
//! before `b` and ends at or after `a`; in bucket `c` that start is at least
//! `a - 2^c + 1`, so one binary search per bucket finds the candidates.

use zonal_model::AddrSet;

/// An index of address sets (given in order, numbered from 0) by their
/// ranges of both families.
#[derive(Debug, Default)]
pub(crate) struct OverlapIndex {
    v4: Buckets<u32>,
    v6: Buckets<u128>,
}

impl OverlapIndex {
    /// Indexes `sets`; the position of each set is its number.
    pub(crate) fn new<'a>(sets: impl IntoIterator<Item = &'a AddrSet>) -> Self {
        let mut index = OverlapIndex::default();
        for (i, s) in sets.into_iter().enumerate() {
            for &(lo, hi) in s.v4_ranges() {
                index.v4.push(lo, hi, i);
            }
            for &(lo, hi) in s.v6_ranges() {
                index.v6.push(lo, hi, i);
            }
        }
        index.v4.sort();
        index.v6.sort();
        index
    }

    /// The numbers of the indexed sets that meet `set`, ascending, each once.
    pub(crate) fn meeting(&self, set: &AddrSet) -> Vec<usize> {
        let mut out = Vec::new();
        for &(lo, hi) in set.v4_ranges() {
            self.v4.meeting(lo, hi, &mut out);
        }
        for &(lo, hi) in set.v6_ranges() {
            self.v6.meeting(lo, hi, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// An address type of one family.
trait Addr: Copy + Ord + Default {
    /// The number of bits needed for `hi - lo` (0 for a single address).
    fn span_bits(lo: Self, hi: Self) -> usize;
    /// `self - (2^bits - 1)`, saturating at zero.
    fn back(self, bits: usize) -> Self;
}

impl Addr for u32 {
    fn span_bits(lo: u32, hi: u32) -> usize {
        (u32::BITS - (hi - lo).leading_zeros()) as usize
    }
    fn back(self, bits: usize) -> u32 {
        let span = if bits >= 32 {
            u32::MAX
        } else {
            (1u32 << bits) - 1
        };
        self.saturating_sub(span)
    }
}

impl Addr for u128 {
    fn span_bits(lo: u128, hi: u128) -> usize {
        (u128::BITS - (hi - lo).leading_zeros()) as usize
    }
    fn back(self, bits: usize) -> u128 {
        let span = if bits >= 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        self.saturating_sub(span)
    }
}

/// Ranges `(start, end, set number)` by span class, each class sorted.
#[derive(Debug)]
struct Buckets<T> {
    by_bits: Vec<Vec<(T, T, usize)>>,
}

impl<T> Default for Buckets<T> {
    fn default() -> Self {
        Buckets {
            by_bits: Vec::new(),
        }
    }
}

impl<T: Addr> Buckets<T> {
    fn push(&mut self, lo: T, hi: T, i: usize) {
        let c = T::span_bits(lo, hi);
        if self.by_bits.len() <= c {
            self.by_bits.resize_with(c + 1, Vec::new);
        }
        self.by_bits[c].push((lo, hi, i));
    }

    fn sort(&mut self) {
        for b in &mut self.by_bits {
            b.sort_unstable();
        }
    }

    fn meeting(&self, a: T, b: T, out: &mut Vec<usize>) {
        for (c, bucket) in self.by_bits.iter().enumerate() {
            if bucket.is_empty() {
                continue;
            }
            let from = a.back(c);
            let first = bucket.partition_point(|&(lo, _, _)| lo < from);
            for &(lo, hi, i) in &bucket[first..] {
                if lo > b {
                    break;
                }
                if hi >= a {
                    out.push(i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small seeded generator (xorshift), enough to spread test cases.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn set(v4: &[(u32, u32)], v6: &[(u128, u128)]) -> AddrSet {
        AddrSet::from_ranges(v4.to_vec(), v6.to_vec())
    }

    /// The slow twin: every set tested.
    fn slow(sets: &[AddrSet], q: &AddrSet) -> Vec<usize> {
        (0..sets.len()).filter(|&i| sets[i].overlaps(q)).collect()
    }

    fn random_set(rng: &mut Rng) -> AddrSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for _ in 0..rng.below(4) {
            // Mostly small ranges near each other, sometimes a huge one.
            let lo = u32::try_from(rng.below(5_000)).unwrap_or(0);
            let len = match rng.below(10) {
                0 => u32::MAX - lo,
                1 => u32::try_from(rng.below(4_000)).unwrap_or(0),
                _ => u32::try_from(rng.below(40)).unwrap_or(0),
            };
            v4.push((lo, lo.saturating_add(len)));
        }
        for _ in 0..rng.below(3) {
            let lo = u128::from(u32::try_from(rng.below(5_000)).unwrap_or(0)) << 64;
            let len = if rng.below(8) == 0 {
                u128::MAX - lo
            } else {
                (u128::from(u32::try_from(rng.below(3)).unwrap_or(0)) << 64) + 17
            };
            v6.push((lo, lo.saturating_add(len)));
        }
        AddrSet::from_ranges(v4, v6)
    }

    #[test]
    fn meets_exactly_the_sets_a_full_scan_finds() {
        let mut disagreements = 0;
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let n = 1 + usize::try_from(rng.below(60)).unwrap_or(0);
            let sets: Vec<AddrSet> = (0..n).map(|_| random_set(&mut rng)).collect();
            let index = OverlapIndex::new(&sets);
            for _ in 0..40 {
                let q = random_set(&mut rng);
                if index.meeting(&q) != slow(&sets, &q) {
                    disagreements += 1;
                }
            }
        }
        assert_eq!(disagreements, 0);
    }

    #[test]
    fn edges_single_addresses_and_the_full_space() {
        let sets = vec![
            set(&[(10, 10)], &[]),
            set(&[(0, u32::MAX)], &[]),
            set(&[(11, 20)], &[(5, 5)]),
            set(&[], &[(0, u128::MAX)]),
            AddrSet::empty(),
        ];
        let index = OverlapIndex::new(&sets);
        assert_eq!(index.meeting(&set(&[(10, 10)], &[])), vec![0, 1]);
        assert_eq!(index.meeting(&set(&[(20, 30)], &[])), vec![1, 2]);
        assert_eq!(index.meeting(&set(&[], &[(5, 5)])), vec![2, 3]);
        assert_eq!(index.meeting(&set(&[], &[(u128::MAX, u128::MAX)])), vec![3]);
        assert_eq!(index.meeting(&AddrSet::empty()), Vec::<usize>::new());
        assert_eq!(index.meeting(&AddrSet::full()), vec![0, 1, 2, 3]);
    }
}
