//! Secret values handed to one invocation, and their redaction.

use std::collections::BTreeMap;
use std::fmt;

/// A secret's value. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; only the host boundary should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

/// The secrets granted to one step, by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(BTreeMap<String, SecretValue>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants `name` with `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: SecretValue) {
        self.0.insert(name.into(), value);
    }

    /// The value of a granted secret.
    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.0.get(name)
    }

    /// Names of the granted secrets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Replaces every occurrence of a granted secret's value in `text` by
    /// `***`, so a plugin that logs or returns a secret does not leak it into
    /// run records. Values shorter than 4 bytes are left alone: masking them
    /// would garble ordinary text and hide nothing.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in self.0.values() {
            let v = value.expose();
            if v.len() >= 4 && out.contains(v) {
                out = out.replace(v, "***");
            }
        }
        out
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Secrets {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(n, v)| (n.into(), SecretValue::new(v)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_values() {
        let s: Secrets = [("stripe_key", "sk_test_123456")].into_iter().collect();
        let shown = format!("{s:?} {:?}", s.get("stripe_key"));
        assert!(!shown.contains("sk_test"), "{shown}");
        assert!(shown.contains("stripe_key"));
    }

    #[test]
    fn redacts_values() {
        let s: Secrets = [("k", "sk_test_123456"), ("short", "ab")]
            .into_iter()
            .collect();
        assert_eq!(
            s.redact("auth sk_test_123456 and ab"),
            "auth *** and ab".to_string()
        );
    }
}
