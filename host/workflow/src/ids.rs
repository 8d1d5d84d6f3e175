//! Validated names: workflow ids, step ids, plugin references, secret names.

use std::fmt;

use serde::Serialize;

use crate::error::WorkflowError;

/// A workflow id: lowercase letters, digits, `-` and `_`, starting with a
/// letter or digit, at most 64 characters. Unique among the loaded workflows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct WorkflowId(String);

/// A step id: lowercase letters, digits and `_`, starting with a letter, at
/// most 64 characters, unique in its workflow. No `-`: ids are read in
/// expressions (`steps.get_customer.output`), where `-` would be a minus.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct StepId(String);

/// The name of a secret granted to a step (or used to verify a webhook):
/// letters, digits, `_`, `-` and `.`, at most 128 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SecretName(String);

/// The name of a value computed by a `set` step: same rule as a step id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ValueName(String);

const WORKFLOW_ID: &str =
    "lowercase letters, digits, - or _ (starting with a letter or digit, at most 64)";
const STEP_ID: &str = "lowercase letters, digits or _ (starting with a letter, at most 64; no -, it reads as a minus in expressions)";
const SECRET: &str = "letters, digits, _, - or . (at most 128)";
const VALUE: &str = "lowercase letters, digits or _ (starting with a letter, at most 64)";

fn lower_ident(s: &str, dash: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = match chars.next() {
        Some(c) => c.is_ascii_lowercase() || (dash && c.is_ascii_digit()),
        None => false,
    };
    first_ok
        && s.len() <= 64
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || (dash && c == '-'))
}

impl WorkflowId {
    /// Checks and wraps a workflow id.
    pub fn parse(s: &str) -> Result<Self, WorkflowError> {
        if lower_ident(s, true) {
            Ok(Self(s.to_owned()))
        } else {
            Err(WorkflowError::InvalidId {
                what: "workflow id",
                value: s.to_owned(),
                expected: WORKFLOW_ID,
            })
        }
    }
}

impl StepId {
    /// Checks and wraps a step id.
    pub fn parse(s: &str) -> Result<Self, WorkflowError> {
        if lower_ident(s, false) {
            Ok(Self(s.to_owned()))
        } else {
            Err(WorkflowError::InvalidId {
                what: "step id",
                value: s.to_owned(),
                expected: STEP_ID,
            })
        }
    }
}

impl SecretName {
    /// Checks and wraps a secret name.
    pub fn parse(s: &str) -> Result<Self, WorkflowError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(WorkflowError::InvalidId {
                what: "secret name",
                value: s.to_owned(),
                expected: SECRET,
            })
        }
    }
}

impl ValueName {
    /// Checks and wraps the name of a `set` value.
    pub fn parse(s: &str) -> Result<Self, WorkflowError> {
        if lower_ident(s, false) {
            Ok(Self(s.to_owned()))
        } else {
            Err(WorkflowError::InvalidId {
                what: "value name",
                value: s.to_owned(),
                expected: VALUE,
            })
        }
    }
}

macro_rules! str_newtype {
    ($($t:ty),*) => {$(
        impl $t {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::borrow::Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    )*};
}
str_newtype!(WorkflowId, StepId, SecretName, ValueName);

/// `uses: PLUGIN/STEP`: which plugin and which of its steps to call.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginRef {
    /// The plugin's name, as the operator loads it (its file stem or configured name).
    pub plugin: String,
    /// The step, one of those the plugin describes.
    pub step: String,
}

impl PluginRef {
    /// Splits `PLUGIN/STEP`; both parts non-empty, no spaces, one `/`.
    pub fn parse(s: &str) -> Result<Self, WorkflowError> {
        let bad = || WorkflowError::InvalidUses {
            value: s.to_owned(),
        };
        let (plugin, step) = s.split_once('/').ok_or_else(bad)?;
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if part_ok(plugin) && part_ok(step) {
            Ok(Self {
                plugin: plugin.to_owned(),
                step: step.to_owned(),
            })
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.plugin, self.step)
    }
}

impl Serialize for PluginRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_ids() {
        for ok in ["dunning", "ssl-expiry", "a_1", "9lives"] {
            assert!(WorkflowId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Dunning", "-x", "a b", "é", &"a".repeat(65)] {
            assert!(WorkflowId::parse(bad).is_err(), "{bad}");
        }
        assert!(WorkflowId::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn step_ids_refuse_dashes_and_leading_digits() {
        assert!(StepId::parse("get_customer").is_ok());
        for bad in ["get-customer", "1st", "_x", "Email", ""] {
            assert!(StepId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plugin_refs() {
        let r = PluginRef::parse("stripe/get-customer").unwrap();
        assert_eq!(
            (r.plugin.as_str(), r.step.as_str()),
            ("stripe", "get-customer")
        );
        for bad in ["stripe", "/x", "x/", "a/b/c", "a b/c"] {
            assert!(PluginRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_names() {
        assert!(SecretName::parse("STRIPE_API_KEY").is_ok());
        assert!(SecretName::parse("smtp.password").is_ok());
        assert!(SecretName::parse("a b").is_err());
        assert!(SecretName::parse("").is_err());
    }
}
