//! The request context: condition keys and their values.
//!
//! Keys are case-insensitive (AWS documents `aws:SourceIp` and `AWS:SourceIP` as the same
//! key); values are kept as strings (AWS compares numbers, dates and booleans from their
//! text). A key may have several values (a multi-valued key such as `aws:TagKeys`). A key
//! present with no value behaves as an absent key.

use crate::hash::fnv1a;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    hash: u64,
    key_lower: String,
    key: String,
    values: Vec<String>,
}

/// Condition keys and values of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Sorted by (hash, lowercased key).
    entries: Vec<Entry>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a single-valued key, replacing any previous values of that key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert_multi(key, [value.into()]);
    }

    /// Sets a multi-valued key, replacing any previous values of that key.
    pub fn insert_multi<I, V>(&mut self, key: impl Into<String>, values: I)
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        let key = key.into();
        let key_lower = key.to_lowercase();
        let hash = fnv1a(&key_lower);
        let values = values.into_iter().map(Into::into).collect();
        let entry = Entry {
            hash,
            key_lower,
            key,
            values,
        };
        match self.position(hash, &entry.key_lower) {
            Ok(i) => self.entries[i] = entry,
            Err(i) => self.entries.insert(i, entry),
        }
    }

    fn position(&self, hash: u64, key_lower: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| (e.hash, e.key_lower.as_str()).cmp(&(hash, key_lower)))
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Context {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::insert_multi`].
    pub fn with_multi<I, V>(mut self, key: impl Into<String>, values: I) -> Context
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.insert_multi(key, values);
        self
    }

    /// Values of a key (case-insensitive). `None` when absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lower(&key.to_lowercase())
    }

    /// Values of a key already lowercased.
    pub(crate) fn get_lower(&self, key_lower: &str) -> Option<&[String]> {
        self.get_hashed(fnv1a(key_lower), key_lower)
    }

    /// Values of a key already lowercased and hashed with [`fnv1a`].
    pub(crate) fn get_hashed(&self, hash: u64, key_lower: &str) -> Option<&[String]> {
        self.position(hash, key_lower)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|e| e.values.as_slice())
    }

    /// Removes a key; returns whether it was present.
    pub fn remove(&mut self, key: &str) -> bool {
        let key_lower = key.to_lowercase();
        match self.position(fnv1a(&key_lower), &key_lower) {
            Ok(i) => {
                self.entries.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys (as first written) and values, ordered by lowercased key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        let mut sorted: Vec<&Entry> = self.entries.iter().collect();
        sorted.sort_by(|a, b| a.key_lower.cmp(&b.key_lower));
        sorted
            .into_iter()
            .map(|e| (e.key.as_str(), e.values.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_keys() {
        let c = Context::new()
            .with("aws:SourceIp", "203.0.113.7")
            .with_multi("aws:TagKeys", ["a", "b"]);
        assert_eq!(c.get("AWS:SOURCEIP"), Some(&["203.0.113.7".to_owned()][..]));
        assert_eq!(c.get("aws:tagkeys").map(<[String]>::len), Some(2));
        assert_eq!(c.get("aws:username"), None);
        assert_eq!(c.len(), 2);
        let keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["aws:SourceIp", "aws:TagKeys"]);
    }

    #[test]
    fn replace_and_remove() {
        let mut c = Context::new().with("k", "1");
        c.insert("K", "2");
        assert_eq!(c.get("k"), Some(&["2".to_owned()][..]));
        assert_eq!(c.len(), 1);
        assert!(c.remove("K"));
        assert!(!c.remove("K"));
        assert!(c.is_empty());
    }

    #[test]
    fn equality_ignores_insertion_order() {
        let a = Context::new().with("x", "1").with("y", "2");
        let b = Context::new().with("y", "2").with("x", "1");
        assert_eq!(a, b);
    }
}
