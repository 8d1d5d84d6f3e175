//! Checks of values a step takes from its input, shared by plugins.

use crate::StepError;

/// Longest domain name, in bytes (RFC 1035, without the final dot).
pub const MAX_DOMAIN_BYTES: usize = 253;
/// Longest label of a domain name, in bytes.
pub const MAX_LABEL_BYTES: usize = 63;

/// Checks a domain name and returns it lowercased, without spaces around
/// it or a final dot. It needs two labels or more, each of letters, digits
/// and `-` (not first or last), at most [`MAX_LABEL_BYTES`], and at most
/// [`MAX_DOMAIN_BYTES`] in all. Internationalised names go in their
/// `xn--` form. Anything else is `invalid-input` naming `field`.
///
/// ```
/// use relais_plugin_sdk::input::domain_name;
///
/// assert_eq!(domain_name("domain", " Shop.Example. "), Ok("shop.example".to_owned()));
/// let err = domain_name("domain", "bücher.de").unwrap_err();
/// assert_eq!(err.kind(), "invalid-input");
/// assert_eq!(
///     err.message(),
///     "domain \"bücher.de\" is not a domain name (write internationalised names in their xn-- form)"
/// );
/// ```
pub fn domain_name(field: &str, domain: &str) -> Result<String, StepError> {
    let lower = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = lower.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_BYTES
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if lower.len() <= MAX_DOMAIN_BYTES && lower.contains('.') && labels_ok {
        Ok(lower)
    } else {
        Err(StepError::invalid_input(format!(
            "{field} {domain:?} is not a domain name (write internationalised names in their \
             xn-- form)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_come_back_lowercased() {
        for (written, name) in [
            ("Example.COM.", "example.com"),
            ("  shop.example ", "shop.example"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("a-b.c1.example", "a-b.c1.example"),
            ("1.2", "1.2"),
        ] {
            assert_eq!(domain_name("domain", written), Ok(name.to_owned()));
        }
    }

    #[test]
    fn bad_names_are_invalid_input_naming_the_field() {
        for bad in [
            "",
            ".",
            "localhost",
            "bücher.de",
            "a..b",
            ".a.com",
            "-a.com",
            "a-.com",
            "a b.com",
            "a_b.com",
        ] {
            assert_eq!(
                domain_name("domains[2]", bad),
                Err(StepError::invalid_input(format!(
                    "domains[2] {bad:?} is not a domain name (write internationalised names in \
                     their xn-- form)"
                ))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn label_and_name_lengths_both_sides() {
        let label = |n: usize| "a".repeat(n);
        assert!(domain_name("d", &format!("{}.com", label(MAX_LABEL_BYTES))).is_ok());
        assert!(domain_name("d", &format!("{}.com", label(MAX_LABEL_BYTES + 1))).is_err());
        // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes.
        let longest = [label(63), label(63), label(63), label(61)].join(".");
        assert_eq!(longest.len(), MAX_DOMAIN_BYTES);
        assert_eq!(domain_name("d", &longest), Ok(longest.clone()));
        let too_long = format!("{longest}a");
        assert!(domain_name("d", &too_long).is_err());
        assert_eq!(domain_name("d", &format!("{longest}.")), Ok(longest));
    }
}
