//! Interval sets: the building block of address and service sets.

use std::fmt::Debug;
use std::sync::Arc;

/// An unsigned integer type usable as an interval bound.
pub trait Bound: Copy + Ord + Debug {
    /// The smallest value.
    const MIN: Self;
    /// The largest value.
    const MAX: Self;
    /// `self + 1`, or `None` at `MAX`.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, or `None` at `MIN`.
    fn pred(self) -> Option<Self>;
}

macro_rules! impl_bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> { self.checked_add(1) }
            fn pred(self) -> Option<Self> { self.checked_sub(1) }
        }
    )*};
}
impl_bound!(u8, u16, u32, u128);

/// A set of integers stored as sorted, disjoint, non-adjacent closed
/// intervals `[lo, hi]`.
///
/// The intervals are shared, never changed once built: a clone costs a
/// reference count, not a copy. Every rule toward a zone holds that zone's
/// addresses, and a catch-all external zone (everything no other zone
/// holds) has one interval per gap between the others: tens of kilobytes,
/// which thousands of rules and invariants would otherwise each copy.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IntervalSet<T: Bound> {
    ranges: Arc<[(T, T)]>,
}

impl<T: Bound> Debug for IntervalSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.ranges.iter()).finish()
    }
}

impl<T: Bound> IntervalSet<T> {
    /// The empty set.
    pub fn empty() -> Self {
        IntervalSet {
            ranges: Arc::from([]),
        }
    }

    /// Every value of `T`.
    pub fn full() -> Self {
        IntervalSet {
            ranges: Arc::from([(T::MIN, T::MAX)]),
        }
    }

    /// The closed interval `[lo, hi]` (empty if `lo > hi`).
    pub fn range(lo: T, hi: T) -> Self {
        if lo > hi {
            Self::empty()
        } else {
            IntervalSet {
                ranges: Arc::from([(lo, hi)]),
            }
        }
    }

    /// A single value.
    pub fn single(v: T) -> Self {
        Self::range(v, v)
    }

    /// Builds a set from arbitrary (possibly overlapping) intervals.
    pub fn from_ranges(iter: impl IntoIterator<Item = (T, T)>) -> Self {
        let mut v: Vec<(T, T)> = iter.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort();
        let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            if let Some(last) = out.last_mut() {
                let adjacent = last.1.succ().is_none_or(|n| lo <= n);
                if adjacent {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                    continue;
                }
            }
            out.push((lo, hi));
        }
        IntervalSet {
            ranges: Arc::from(out),
        }
    }

    /// The intervals, sorted and disjoint.
    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether the set holds every value.
    pub fn is_full(&self) -> bool {
        self.ranges.len() == 1 && self.ranges[0] == (T::MIN, T::MAX)
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: T) -> bool {
        self.ranges
            .binary_search_by(|&(lo, hi)| {
                if hi < v {
                    std::cmp::Ordering::Less
                } else if lo > v {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Union.
    #[must_use]
    pub fn union(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        Self::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    /// Intersection.
    #[must_use]
    pub fn intersect(&self, other: &Self) -> Self {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let lo = a0.max(b0);
            let hi = a1.min(b1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet {
            ranges: Arc::from(out),
        }
    }

    /// The complement.
    #[must_use]
    pub fn complement(&self) -> Self {
        let mut out = Vec::new();
        let mut next = Some(T::MIN);
        for &(lo, hi) in self.ranges.iter() {
            if let (Some(n), Some(p)) = (next, lo.pred())
                && n < lo
            {
                out.push((n, p));
            }
            next = hi.succ();
        }
        if let Some(n) = next {
            out.push((n, T::MAX));
        }
        IntervalSet {
            ranges: Arc::from(out),
        }
    }

    /// `self` minus `other`.
    #[must_use]
    pub fn subtract(&self, other: &Self) -> Self {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.intersect(&other.complement())
    }

    /// Whether every value of `self` is in `other`. One merge walk without
    /// building a set: as `other`'s intervals are disjoint and never
    /// adjacent, each interval of `self` must lie within a single one.
    pub fn is_subset(&self, other: &Self) -> bool {
        let mut j = 0;
        for &(lo, hi) in self.ranges.iter() {
            while j < other.ranges.len() && other.ranges[j].1 < lo {
                j += 1;
            }
            match other.ranges.get(j) {
                Some(&(o0, o1)) if o0 <= lo && hi <= o1 => {}
                _ => return false,
            }
        }
        true
    }

    /// Whether the two sets share a value (a merge walk, no set built).
    pub fn overlaps(&self, other: &Self) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            if a0.max(b0) <= a1.min(b1) {
                return true;
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }

    /// The smallest value, if any.
    pub fn first(&self) -> Option<T> {
        self.ranges.first().map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_adjacent() {
        let a = IntervalSet::<u16>::from_ranges([(1, 5), (6, 9), (20, 30)]);
        assert_eq!(a.ranges(), &[(1, 9), (20, 30)]);
        let c = a.complement();
        assert_eq!(c.ranges(), &[(0, 0), (10, 19), (31, u16::MAX)]);
        assert!(a.union(&c).is_full());
        assert!(a.intersect(&c).is_empty());
        assert!(IntervalSet::range(2, 3).is_subset(&a));
        assert!(!IntervalSet::range(9, 10).is_subset(&a));
        assert!(a.contains(25) && !a.contains(15));
    }

    /// The merge walks of `is_subset` and `overlaps` agree with their
    /// definitions (`subtract` empty, `intersect` not empty) and with a
    /// value-by-value check, on 5,000 seeded random pairs of small sets.
    #[test]
    fn subset_and_overlap_walks_match_their_definitions() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let random = |next: &mut dyn FnMut(u64) -> u64| {
            let k = next(4);
            IntervalSet::<u8>::from_ranges((0..k).map(|_| {
                let a = next(40) as u8;
                (a, a + next(8) as u8)
            }))
        };
        let (mut subsets, mut overlapping) = (0, 0);
        for _ in 0..5_000 {
            let a = random(&mut next);
            let b = random(&mut next);
            let sub = a.is_subset(&b);
            let ov = a.overlaps(&b);
            assert_eq!(sub, a.subtract(&b).is_empty(), "{a:?} {b:?}");
            assert_eq!(ov, !a.intersect(&b).is_empty(), "{a:?} {b:?}");
            let vals = 0..=u8::MAX;
            assert_eq!(
                sub,
                vals.clone().all(|v| !a.contains(v) || b.contains(v)),
                "{a:?} {b:?}"
            );
            assert_eq!(ov, vals.into_iter().any(|v| a.contains(v) && b.contains(v)));
            subsets += usize::from(sub);
            overlapping += usize::from(ov);
        }
        assert!(
            subsets > 500 && overlapping > 500,
            "{subsets} {overlapping}"
        );
    }
}
