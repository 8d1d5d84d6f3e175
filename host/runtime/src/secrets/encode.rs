//! The encoded forms of a secret value that redaction looks for.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::MASK;

/// `value` as it is and in each encoding, longest first, without repeats.
pub(super) fn forms(value: &str) -> Vec<String> {
    let mut forms = vec![
        value.to_owned(),
        json_escaped(value, false),
        json_escaped(value, true),
        percent(value, b"0123456789ABCDEF", false),
        percent(value, b"0123456789abcdef", false),
        percent(value, b"0123456789ABCDEF", true),
        STANDARD.encode(value),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE.encode(value),
        URL_SAFE_NO_PAD.encode(value),
    ];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// The inside of the JSON string of `value`, as `serde_json` writes it, or
/// with every non-ASCII character as `\uXXXX`.
fn json_escaped(value: &str, ascii: bool) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default();
    if !ascii {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(inner.len());
    for c in inner.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Percent-encoding of every byte but the unreserved ones (RFC 3986), with
/// the given hex digits; `form` writes a space as `+`.
fn percent(value: &str, hex: &[u8; 16], form: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if form => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(hex[usize::from(b >> 4)]));
                out.push(char::from(hex[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

fn lenient(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Replaces each base64 word of `text` (a run of base64 characters and up
/// to two `=`) that decodes to bytes containing one of `values`.
pub(super) fn mask_base64_words(text: &str, values: &[&str]) -> String {
    let engines = [lenient(&alphabet::STANDARD), lenient(&alphabet::URL_SAFE)];
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        if !is_base64_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_base64_char(bytes[i]) {
            i += 1;
        }
        let mut end = i;
        while end < bytes.len() && end - i < 2 && bytes[end] == b'=' {
            end += 1;
        }
        i = end;
        let word = &text[start..end];
        // Two characters encode one byte: shorter words hide nothing.
        if word.len() < 2 {
            continue;
        }
        let hides = engines.iter().any(|engine| {
            engine
                .decode(word)
                .is_ok_and(|decoded| values.iter().any(|v| contains(&decoded, v.as_bytes())))
        });
        if hides {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::super::Secrets;
    use super::*;

    const VALUE: &str = "pa\"ss/wörd+1 ok";

    fn secrets() -> Secrets {
        [("k", VALUE)].into_iter().collect()
    }

    fn masked(text: &str) {
        let out = secrets().redact(text);
        assert!(
            !out.contains(text) || text.is_empty(),
            "{text:?} -> {out:?}"
        );
        assert!(out.contains(MASK), "{text:?} not masked: {out:?}");
    }

    #[test]
    fn json_escaped_forms_are_masked() {
        let json = serde_json::json!({ "password": VALUE }).to_string();
        let out = secrets().redact(&json);
        assert_eq!(out, r#"{"password":"***"}"#);
        masked(&json_escaped(VALUE, true));
        assert_eq!(json_escaped("é😀", true), "\\u00e9\\ud83d\\ude00");
    }

    #[test]
    fn percent_encoded_forms_are_masked() {
        let upper = percent(VALUE, b"0123456789ABCDEF", false);
        assert_eq!(upper, "pa%22ss%2Fw%C3%B6rd%2B1%20ok");
        assert_eq!(
            secrets().redact(&format!("GET /login?pw={upper}&x=1")),
            "GET /login?pw=***&x=1"
        );
        masked(&percent(VALUE, b"0123456789abcdef", false));
        masked(&format!("pw={}", percent(VALUE, b"0123456789ABCDEF", true)));
    }

    #[test]
    fn base64_forms_are_masked() {
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let encoded = engine.encode(VALUE);
            assert_eq!(secrets().redact(&format!("token {encoded}.")), "token ***.");
        }
    }

    #[test]
    fn basic_auth_and_offset_base64_are_masked() {
        let basic = STANDARD.encode(format!("admin:{VALUE}"));
        assert_eq!(
            secrets().redact(&format!("authorization: Basic {basic}")),
            "authorization: Basic ***"
        );
        let blob = URL_SAFE_NO_PAD.encode(format!("xy{VALUE}z"));
        assert_eq!(secrets().redact(&format!("d={blob}")), "d=***");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "Basic YWRtaW46b3RoZXI= sent to https://example.com/a%20b ok";
        assert_eq!(secrets().redact(text), text);
    }
}
