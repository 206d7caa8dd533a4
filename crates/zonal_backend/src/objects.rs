//! The object book: the named objects a target declares (addresses,
//! address groups), deduplicated by content.
//!
//! An object is looked up by its content (the key: a prefix, a member
//! list); the first use declares it, with a name chosen by the target's
//! naming policy (a closure that usually reserves the name in the target's
//! `Namer` and ends group names in a hash of their content, so that an
//! object whose content changes gets a new name). Later uses get the same
//! name. The book hands its objects back in first-use order or in key
//! order, whichever the target's output uses; both are deterministic.

use std::collections::BTreeMap;

/// Named objects keyed by content.
#[derive(Debug)]
pub(crate) struct ObjectBook<K, V> {
    index: BTreeMap<K, usize>,
    objects: Vec<Named<V>>,
}

/// One object: its name and what the target declares about it.
#[derive(Clone, Debug)]
pub(crate) struct Named<V> {
    /// Its identifier (safe for the target).
    pub(crate) name: String,
    /// Its declaration.
    pub(crate) value: V,
}

impl<K: Ord, V> Default for ObjectBook<K, V> {
    fn default() -> Self {
        ObjectBook {
            index: BTreeMap::new(),
            objects: Vec::new(),
        }
    }
}

impl<K: Ord, V> ObjectBook<K, V> {
    /// The name of the object with content `key`; on first use `declare`
    /// names it and gives its declaration (the target's naming policy).
    pub(crate) fn intern(&mut self, key: K, declare: impl FnOnce(&K) -> (String, V)) -> String {
        if let Some(o) = self.index.get(&key).and_then(|&i| self.objects.get(i)) {
            return o.name.clone();
        }
        let (name, value) = declare(&key);
        self.index.insert(key, self.objects.len());
        self.objects.push(Named {
            name: name.clone(),
            value,
        });
        name
    }

    /// The name of the object with content `key`, if it was declared
    /// (a lookup that needs no owned key).
    pub(crate) fn get(&self, key: &K) -> Option<&str> {
        self.index
            .get(key)
            .and_then(|&i| self.objects.get(i))
            .map(|o| o.name.as_str())
    }

    /// The objects in order of first use.
    pub(crate) fn in_first_use_order(self) -> Vec<Named<V>> {
        self.objects
    }

    /// The objects in key order.
    pub(crate) fn in_key_order(self) -> Vec<Named<V>> {
        let mut slots: Vec<Option<Named<V>>> = self.objects.into_iter().map(Some).collect();
        self.index
            .values()
            .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_name_and_both_orders() {
        let mut book: ObjectBook<&str, u32> = ObjectBook::default();
        assert_eq!(book.intern("b", |_| ("first".into(), 1)), "first");
        assert_eq!(book.intern("a", |_| ("second".into(), 2)), "second");
        assert_eq!(book.intern("b", |_| ("never".into(), 3)), "first");
        assert_eq!((book.get(&"a"), book.get(&"c")), (Some("second"), None));
        let names = |v: Vec<Named<u32>>| v.into_iter().map(|o| o.name).collect::<Vec<_>>();
        let mut again: ObjectBook<&str, u32> = ObjectBook::default();
        again.intern("b", |_| ("first".into(), 1));
        again.intern("a", |_| ("second".into(), 2));
        assert_eq!(names(book.in_first_use_order()), ["first", "second"]);
        assert_eq!(names(again.in_key_order()), ["second", "first"]);
    }
}
