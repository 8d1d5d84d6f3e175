//! A bound on the operators of one tag.
//!
//! The template engine reads a chain of operators (`a.b.c`, `x | f | g`,
//! `1 + 2 + 3`, `- - 1`) into a tree as deep as the chain is long, then
//! compiles and drops that tree recursively: a chain of a few thousand
//! operators overflows the stack and kills the process instead of failing
//! to compile. Tags holding more operators than any workflow needs are
//! refused before the engine sees them.

/// The most operators one `{{ }}` or `{% %}` tag may hold.
pub(crate) const MAX_OPERATORS: usize = 256;

/// Words that are operators in expressions.
const WORD_OPERATORS: [&[u8]; 6] = [b"and", b"or", b"not", b"in", b"is", b"if"];

/// The most operators any tag of `text` holds (an upper bound: a `.` in a
/// number or a `-` in `{%-` counts too).
pub(crate) fn max_operators(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    let mut max = 0;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'{', b'{' | b'%') => {
                let (n, end) = tag(b, i + 2);
                max = max.max(n);
                i = end;
            }
            (b'{', b'#') => {
                i = b[i + 2..]
                    .windows(2)
                    .position(|w| w == b"#}")
                    .map_or(b.len(), |at| i + 2 + at + 2);
            }
            _ => i += 1,
        }
    }
    max
}

/// Counts the operators of the tag whose content starts at `i`: the count
/// and where the tag ends.
fn tag(b: &[u8], mut i: usize) -> (usize, usize) {
    let mut n = 0;
    let mut braces = 0usize;
    while i < b.len() {
        match b[i] {
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != quote {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'}' | b'%' if braces == 0 && b.get(i + 1) == Some(&b'}') => return (n, i + 2),
            b'{' => braces += 1,
            b'}' => braces = braces.saturating_sub(1),
            b'.' | b'|' | b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'=' | b'!' | b'<' | b'>'
            | b'[' | b'(' => n += 1,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                n += usize::from(WORD_OPERATORS.contains(&&b[start..i]));
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (n, i)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{MAX_OPERATORS, max_operators};
    use crate::{ExprError, Template};

    /// Chains of each kind the engine nests, `n` operators long.
    fn chains(n: usize) -> Vec<String> {
        vec![
            format!("{{{{ {}b }}}}", "a.".repeat(n)),
            format!("{{{{ 1 {}}}}}", "| abs ".repeat(n)),
            format!("{{{{ {}1 }}}}", "-".repeat(n)),
            format!("{{{{ {}1 }}}}", "1 + ".repeat(n)),
            format!("{{{{ {}true }}}}", "not ".repeat(n)),
            format!("{{% if {}1 %}}x{{% endif %}}", "1 ~ ".repeat(n)),
        ]
    }

    #[test]
    fn operators_are_counted_per_tag_outside_strings_and_comments() {
        assert_eq!(max_operators("{{ a.b | upper }} and {{ c }}"), 2);
        assert_eq!(max_operators("{{ 'a.b.c' ~ \"-\\\"-\" }}"), 1);
        assert_eq!(max_operators("{# a.b.c.d #}{% if x and not y %}"), 3);
        assert_eq!(max_operators("{{ {'a': {'b': 1}} ~ x.y }}"), 2);
        assert_eq!(max_operators("a.b.c - d"), 0);
        for chain in chains(10) {
            assert!(max_operators(&chain) >= 10, "{chain}");
        }
    }

    #[test]
    fn the_longest_chains_allowed_compile_and_render() {
        // On a test thread's stack, in a debug build.
        let ctx = json!({ "a": { "a": {} } });
        for chain in chains(MAX_OPERATORS - 4) {
            let t = Template::parse(&chain).unwrap_or_else(|e| panic!("{chain}: {e}"));
            let _ = t.render(&ctx);
        }
    }

    #[test]
    fn chains_that_would_overflow_the_stack_are_refused() {
        for chain in chains(100_000) {
            let err = Template::parse(&chain).unwrap_err();
            assert_eq!(
                err,
                ExprError::Syntax {
                    message: format!("a tag holds more than {MAX_OPERATORS} operators"),
                }
            );
        }
        let bare = format!("{}x", "- ".repeat(100_000));
        assert!(Template::parse_expression(&bare).is_err());
    }
}
