//! Secret values handed to one invocation, and their redaction.

mod encode;

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

    /// Replaces every granted secret's value in `text` by `***`, so a
    /// plugin that logs or returns a secret does not leak it into run
    /// records. Each value is masked as it is and in every encoding a
    /// plugin or the host commonly writes it in: JSON-escaped (as is, and
    /// with non-ASCII as `\uXXXX`), percent-encoded (either case of hex,
    /// and form-encoded), and base64 (standard and URL-safe, with or
    /// without padding). A base64 word that decodes to bytes containing a
    /// value is masked whole, which covers `Basic base64(user:secret)`
    /// and a value at any offset of an encoded blob. Every value is masked
    /// whatever its length (`relais secret set` refuses values under
    /// [`MIN_SECRET_BYTES`]); an empty value masks nothing.
    pub fn redact(&self, text: &str) -> String {
        let values: Vec<&str> = self
            .0
            .values()
            .map(SecretValue::expose)
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return text.to_string();
        }
        // Whole base64 words first: a value inside an encoded blob may also
        // be aligned there, and the blob must not be left half masked.
        let mut out = encode::mask_base64_words(text, &values);
        for value in &values {
            for form in encode::forms(value) {
                if out.contains(form.as_str()) {
                    out = out.replace(form.as_str(), MASK);
                }
            }
        }
        out
    }
}

/// What a masked value is replaced by.
const MASK: &str = "***";

/// The shortest secret value `relais secret set` accepts: shorter values
/// would mask ordinary text wherever they occur (they are still masked
/// when granted some other way).
pub const MIN_SECRET_BYTES: usize = 4;

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
    fn redacts_values_of_any_length() {
        let s: Secrets = [("k", "sk_test_123456"), ("short", "ab"), ("empty", "")]
            .into_iter()
            .collect();
        assert_eq!(s.redact("auth sk_test_123456 and ab"), "auth *** and ***");
    }
}
