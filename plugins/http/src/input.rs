//! The input of `http/request` and its checks.

use std::collections::BTreeMap;
use std::fmt;

use relais_plugin_sdk::prelude::*;
use serde_json::Value;

/// Input of `request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestIn {
    /// HTTP method, any case (default `GET`).
    #[serde(default = "default_method")]
    pub method: String,
    /// Absolute `http` or `https` URL, already percent-encoded.
    pub url: String,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Scalar>,
    /// A JSON body (sent with `content-type: application/json`).
    #[serde(default)]
    pub json: Option<Value>,
    /// A form body (sent form-encoded).
    #[serde(default)]
    pub form: Option<BTreeMap<String, Scalar>>,
    /// A text body (sent as `text/plain; charset=utf-8`).
    #[serde(default)]
    pub text: Option<String>,
    /// Statuses that count as success: codes (`204`), classes (`"2xx"`) or
    /// ranges (`"200-299"`). Default: `["2xx"]`.
    #[serde(default)]
    pub expected_status: Option<Vec<StatusSpec>>,
    /// How to read the body (default `auto`).
    #[serde(default)]
    pub output: OutputMode,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// A header or form value: text, a number or a boolean.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    /// Text, sent as is.
    Text(String),
    /// A number, sent as written in JSON.
    Number(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => f.write_str(text),
            Self::Number(number) => write!(f, "{number}"),
            Self::Bool(flag) => write!(f, "{flag}"),
        }
    }
}

/// One entry of `expected_status`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusSpec {
    /// A status code.
    Code(u16),
    /// `"204"`, `"2xx"` or `"200-299"`.
    Pattern(String),
}

/// How to read the answer's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// Parse it as JSON (an empty body is `null`).
    Json,
    /// Keep it as text.
    Text,
    /// JSON when the content type says so, text otherwise.
    #[default]
    Auto,
}

/// An inclusive range of status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatusRange {
    low: u16,
    high: u16,
}

impl StatusRange {
    pub(crate) fn contains(self, status: u16) -> bool {
        (self.low..=self.high).contains(&status)
    }

    /// The ranges of `expected_status`; `None` means 2xx.
    pub(crate) fn parse_all(specs: Option<&[StatusSpec]>) -> Result<Vec<Self>, StepError> {
        let Some(specs) = specs else {
            return Ok(vec![Self {
                low: 200,
                high: 299,
            }]);
        };
        if specs.is_empty() {
            return Err(StepError::invalid_input(
                "expected_status is empty: leave it out for 2xx",
            ));
        }
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                Self::parse(spec).map_err(|reason| {
                    StepError::invalid_input(format!("expected_status[{i}]: {reason}"))
                })
            })
            .collect()
    }

    fn parse(spec: &StatusSpec) -> Result<Self, String> {
        let text = match spec {
            StatusSpec::Code(code) => return Self::code(*code),
            StatusSpec::Pattern(text) => text.trim(),
        };
        let bad = || {
            format!(
                "{text:?} is not a status code (204), a class (\"2xx\") or a range (\"200-299\")"
            )
        };
        if let Some(class) = text.strip_suffix("xx").or_else(|| text.strip_suffix("XX")) {
            let digit = match class.as_bytes() {
                [d @ b'1'..=b'5'] => u16::from(d - b'0'),
                _ => return Err(bad()),
            };
            return Ok(Self {
                low: digit * 100,
                high: digit * 100 + 99,
            });
        }
        if let Some((low, high)) = text.split_once('-') {
            let low = parse_code(low.trim()).ok_or_else(bad)?;
            let high = parse_code(high.trim()).ok_or_else(bad)?;
            if low > high {
                return Err(format!("range {text:?} runs backwards"));
            }
            return Ok(Self { low, high });
        }
        Self::code(parse_code(text).ok_or_else(bad)?)
    }

    fn code(code: u16) -> Result<Self, String> {
        if (100..=599).contains(&code) {
            Ok(Self {
                low: code,
                high: code,
            })
        } else {
            Err(format!("{code} is not a status code (100-599)"))
        }
    }
}

fn parse_code(text: &str) -> Option<u16> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|code| (100..=599).contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(specs: serde_json::Value) -> Result<Vec<(u16, u16)>, String> {
        let specs: Vec<StatusSpec> = serde_json::from_value(specs).map_err(|e| e.to_string())?;
        StatusRange::parse_all(Some(&specs))
            .map(|r| r.into_iter().map(|r| (r.low, r.high)).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn status_specs() {
        use serde_json::json;
        assert_eq!(
            StatusRange::parse_all(None)
                .map_err(|e| e.to_string())
                .map(|r| r[0]),
            Ok(StatusRange {
                low: 200,
                high: 299
            })
        );
        assert_eq!(
            ranges(json!([204, "3xx", "4XX", " 200 - 202 ", "599", "100"])),
            Ok(vec![
                (204, 204),
                (300, 399),
                (400, 499),
                (200, 202),
                (599, 599),
                (100, 100)
            ])
        );
        for (spec, why) in [
            (json!([]), "expected_status is empty"),
            (json!([99]), "expected_status[0]: 99 is not a status code"),
            (
                json!([200, 600]),
                "expected_status[1]: 600 is not a status code",
            ),
            (json!(["6xx"]), "\"6xx\" is not a status code"),
            (json!(["0xx"]), "\"0xx\" is not a status code"),
            (json!(["2x"]), "\"2x\" is not a status code"),
            (json!(["22xx"]), "\"22xx\" is not a status code"),
            (json!(["abc"]), "\"abc\" is not a status code"),
            (json!(["2000"]), "\"2000\" is not a status code"),
            (json!(["300-200"]), "range \"300-200\" runs backwards"),
            (json!(["200-"]), "\"200-\" is not a status code"),
            (json!(["200-700"]), "\"200-700\" is not a status code"),
        ] {
            let err = ranges(spec.clone()).unwrap_err();
            assert!(err.contains(why), "{spec}: {err}");
        }
    }

    #[test]
    fn ranges_are_inclusive() {
        let r = StatusRange {
            low: 200,
            high: 299,
        };
        assert!(r.contains(200) && r.contains(299));
        assert!(!r.contains(199) && !r.contains(300));
    }
}
