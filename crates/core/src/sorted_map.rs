//! An ordered map stored as a vector sorted by key.
//!
//! It has the part of `BTreeMap`'s interface this workspace uses, and iterates in
//! the same key order. Lookups are binary searches, and an insert or removal moves
//! the entries after it, which is cheap for maps of a few thousand entries that are
//! read far more often than changed.
//!
//! The reason it exists is code size in WebAssembly. Each key and value type of a
//! `BTreeMap` compiles its own node, search, insert and rebalancing code. In the
//! Envoy filter module built at opt-level "z", twiggy counted 45 KB of such code for
//! six map types, and replacing them with this map saved 34 KB after
//! `wasm-opt -Oz`.

use std::borrow::Borrow;

/// An ordered map stored as a vector of `(key, value)` pairs sorted by key, with
/// each key at most once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// Creates an empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Reports whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the position of `key`, or the position where it would be inserted.
    fn search<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries
            .binary_search_by(|(probe, _)| probe.borrow().cmp(key))
    }

    /// Returns the value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        self.entries.get(index).map(|(_, value)| value)
    }

    /// Returns the value of `key` for changing.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        self.entries.get_mut(index).map(|(_, value)| value)
    }

    /// Reports whether the map has `key`.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).is_ok()
    }

    /// Sets the value of `key`, and returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.search(&key) {
            Ok(index) => self
                .entries
                .get_mut(index)
                .map(|(_, slot)| std::mem::replace(slot, value)),
            Err(index) => {
                self.entries.insert(index, (key, value));
                None
            }
        }
    }

    /// Returns the value of `key`, inserting `V::default()` first if it is missing.
    pub fn get_or_insert_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        match self.search(&key) {
            // The search found `index`, so it is in bounds.
            #[allow(clippy::indexing_slicing)]
            Ok(index) => &mut self.entries[index].1,
            Err(index) => &mut self.entries.insert_mut(index, (key, V::default())).1,
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        Some(self.entries.remove(index).1)
    }

    /// Iterates over the entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.into_iter()
    }

    /// Iterates over the keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.entries.iter().map(|(key, _)| key)
    }

    /// Iterates over the values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }

    /// Iterates over the values in key order, for changing.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, value)| value)
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    /// Iterates over the entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(key, value)| (key, value))
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// Moves the entries out in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Collects pairs as repeated [`SortedMap::insert`] calls would, so a repeated key
/// keeps its last value.
impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut map = SortedMap::new();
        for (key, value) in pairs {
            map.insert(key, value);
        }
        map
    }
}

/// Serialises as a map in key order, as serde serialises a `BTreeMap`.
impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for SortedMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(key, value)| (key, value)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Applies the same pseudo-random inserts and removals to a `SortedMap` and a
    /// `BTreeMap` and checks that they agree after every step.
    #[test]
    fn agrees_with_btree_map() {
        let mut sorted = SortedMap::new();
        let mut reference = BTreeMap::new();
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for step in 0..5_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = (state % 97) as u32;
            if state.is_multiple_of(3) {
                assert_eq!(sorted.remove(&key), reference.remove(&key), "step {step}");
            } else {
                assert_eq!(
                    sorted.insert(key, step),
                    reference.insert(key, step),
                    "step {step}"
                );
            }
            assert_eq!(sorted.len(), reference.len());
            assert_eq!(sorted.get(&key), reference.get(&key));
            assert_eq!(sorted.contains_key(&key), reference.contains_key(&key));
        }
        let pairs: Vec<(&u32, &u32)> = sorted.iter().collect();
        let expected: Vec<(&u32, &u32)> = reference.iter().collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn string_keys_look_up_by_str() {
        let mut map = SortedMap::new();
        map.insert("payerfsp".to_owned(), 1);
        map.insert("__proto__".to_owned(), 2);
        assert_eq!(map.get("payerfsp"), Some(&1));
        assert_eq!(map.get("PayerFSP"), None);
        let keys: Vec<&String> = map.keys().collect();
        assert_eq!(keys, ["__proto__", "payerfsp"]);
    }

    #[test]
    fn get_or_insert_default_inserts_once() {
        let mut map: SortedMap<&str, Vec<u32>> = SortedMap::new();
        map.get_or_insert_default("b").push(1);
        map.get_or_insert_default("a").push(2);
        map.get_or_insert_default("b").push(3);
        assert_eq!(map.get("b"), Some(&vec![1, 3]));
        assert_eq!(map.len(), 2);
        for values in map.values_mut() {
            values.clear();
        }
        assert!(map.values().all(Vec::is_empty));
    }
}
